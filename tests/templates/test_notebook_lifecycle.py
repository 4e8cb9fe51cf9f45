"""The notebook's on-start script, really executed by bash against stand-ins for the notebook instance.

A syntax check cannot catch a script that is valid bash but aborts at run time, which is what `source activate`
does under `set -u`: conda's activation scripts read variables that a non-interactive shell leaves unset (PS1 in
conda's own activate, conda/conda#3200; package hooks such as conda/conda#9966). So the script runs here, with
/home/ec2-user moved into a temporary directory and fake `sudo`, `git`, `chown` and conda environment that behave
like the real ones in the ways the script depends on, and record what they were asked to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.templates.test_notebook_template import rendered_lifecycle_script

NOTEBOOK_HOME = "/home/ec2-user"
GITHUB_URL = "https://github.com/example/mysfits.git"
CODECOMMIT_URL = "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/mysfits-recommendations"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("nohup") is None, reason="needs bash")

FAKE_SUDO = """#!/bin/bash
# sudo -u USER -i CMD...: a login-like run as USER, with the environment reset and the cwd at USER's home.
[ "$1" = -u ] && [ "$3" = -i ] || { echo "fake sudo: expected -u USER -i CMD, got $*" >&2; exit 2; }
user=$2
shift 3
echo "$user" >> "$FAKE_LOG/sudo-users"
cd "$FAKE_HOME" || exit 2
env -i HOME="$FAKE_HOME" USER="$user" LOGNAME="$user" PATH="$FAKE_PATH" FAKE_LOG="$FAKE_LOG" \\
  "$BASH" --noprofile --norc -c '"$@"' sudo "$@"
echo $? > "$FAKE_LOG/sudo-exit.tmp"
mv "$FAKE_LOG/sudo-exit.tmp" "$FAKE_LOG/sudo-exit"
"""

FAKE_GIT = """#!/bin/bash
echo "$*" >> "$FAKE_LOG/git"
case "$1" in
  clone) mkdir -p "$3/.git" && printf '[project]\\nname = "mysfits"\\n' > "$3/pyproject.toml" ;;
  config|-C) ;;
  *) echo "fake git: unexpected $*" >&2; exit 2 ;;
esac
"""

FAKE_CHOWN = """#!/bin/bash
echo "$*" >> "$FAKE_LOG/chown"
"""

# Like conda's bin/activate in a non-interactive shell: it reads PS1, then puts the environment first on PATH.
FAKE_ACTIVATE = """_old_ps1="$PS1"
export PATH="$HOME/anaconda3/envs/$1/bin:$PATH"
"""

# The environment's interpreter and pip: record each call, from where, and take a second over an install so
# that the test can tell the install ran in the background.
FAKE_PYTHON = """#!/bin/bash
echo "$PWD|$*" >> "$FAKE_LOG/python"
case "$*" in
  --version) echo "Python 3.10.14" ;;
  "-m pip install "*) sleep 1; if [ -f "$FAKE_LOG/pip-fails" ]; then echo "fake pip: no network" >&2; exit 1; fi ;;
  *) echo "fake python: unexpected $*" >&2; exit 2 ;;
esac
"""

FAKE_PIP = """#!/bin/bash
echo "$PWD|-m pip $*" >> "$FAKE_LOG/python"
sleep 1
"""


@dataclass
class NotebookRun:
    outer: subprocess.CompletedProcess
    finished_in_background: bool
    home: Path
    log: Path

    def recorded(self, name: str) -> list[str]:
        path = self.log / name
        return path.read_text().splitlines() if path.exists() else []

    @property
    def setup_log(self) -> str:
        return (self.home / "SageMaker" / "mysfits-setup.log").read_text()


def write_executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def run_on_start(tmp_path: Path, clone_url: str, *, pip_fails: bool = False) -> NotebookRun:
    home, log, bin_dir = tmp_path / "ec2-user", tmp_path / "log", tmp_path / "bin"
    (home / "SageMaker").mkdir(parents=True)
    log.mkdir()
    if pip_fails:
        (log / "pip-fails").touch()
    for name, text in {"sudo": FAKE_SUDO, "git": FAKE_GIT, "chown": FAKE_CHOWN}.items():
        write_executable(bin_dir / name, text)
    conda = home / "anaconda3"
    write_executable(conda / "bin" / "activate", FAKE_ACTIVATE)
    write_executable(conda / "envs" / "python3" / "bin" / "python", FAKE_PYTHON)
    write_executable(conda / "envs" / "python3" / "bin" / "pip", FAKE_PIP)

    script = rendered_lifecycle_script(clone_url).replace(NOTEBOOK_HOME, str(home))
    assert NOTEBOOK_HOME not in script and "~" not in script, "the script would reach outside the temporary home"
    on_start = tmp_path / "on-start.sh"
    on_start.write_text(script)

    # The PATH SageMaker documents for lifecycle scripts, with the fakes in front.
    path = f"{bin_dir}:/sbin:/bin:/usr/sbin:/usr/bin"
    env = {"PATH": path, "FAKE_PATH": path, "FAKE_HOME": str(home), "FAKE_LOG": str(log), "HOME": str(tmp_path)}
    outer = subprocess.run(
        ["bash", str(on_start)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    finished_early = (log / "sudo-exit").exists()
    deadline = time.monotonic() + 60
    while not (log / "sudo-exit").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (log / "sudo-exit").exists(), "the background setup did not finish within a minute"
    return NotebookRun(outer, not finished_early, home, log)


def test_the_on_start_script_installs_the_package_into_the_conda_python3_kernel(tmp_path):
    run = run_on_start(tmp_path, GITHUB_URL)
    assert run.outer.returncode == 0, run.outer.stderr
    assert "unbound variable" not in run.setup_log, run.setup_log
    assert run.recorded("sudo-exit") == ["0"], run.setup_log
    assert run.recorded("sudo-users") == ["ec2-user"]
    chowns = run.recorded("chown")
    assert any(f"{run.home}/mysfits-setup.sh" in line.split() for line in chowns), chowns
    assert all(line.startswith("ec2-user:ec2-user ") for line in chowns), chowns
    assert f"clone {GITHUB_URL} mysfits" in run.recorded("git")
    installs = [line for line in run.recorded("python") if "-m pip install" in line]
    assert installs == [f"{run.home}/SageMaker|-m pip install --quiet -e mysfits[aws]"], run.setup_log
    assert "installed the mysfits package" in run.setup_log
    # The notebook's first cell waits on this file (issue 18, item 6).
    assert (run.home / "SageMaker" / "mysfits-setup.status").read_text() == "installed\n"


def test_a_failed_install_is_written_to_the_status_file_the_notebook_waits_on(tmp_path):
    run = run_on_start(tmp_path, GITHUB_URL, pip_fails=True)
    assert run.outer.returncode == 0, run.outer.stderr
    assert run.recorded("sudo-exit") == ["1"], run.setup_log
    assert (run.home / "SageMaker" / "mysfits-setup.status").read_text() == "failed (exit 1)\n", run.setup_log


def test_the_slow_part_runs_in_the_background_so_the_five_minute_limit_does_not_apply(tmp_path):
    run = run_on_start(tmp_path, GITHUB_URL)
    assert run.outer.returncode == 0, run.outer.stderr
    assert run.finished_in_background, "the on-start script waited for the clone and the install"


def test_the_codecommit_credential_helper_is_only_set_for_a_codecommit_clone(tmp_path):
    github = run_on_start(tmp_path / "github", GITHUB_URL)
    assert not [line for line in github.recorded("git") if line.startswith("config")]
    codecommit = run_on_start(tmp_path / "codecommit", CODECOMMIT_URL)
    configured = [line for line in codecommit.recorded("git") if line.startswith("config")]
    assert any("codecommit credential-helper" in line for line in configured), configured
    assert codecommit.recorded("sudo-exit") == ["0"], codecommit.setup_log


def test_the_fake_activate_aborts_like_conda_under_set_u(tmp_path):
    """Guards the stand-in: sourcing it under `set -u` in a non-interactive shell must fail as conda's does."""
    activate = tmp_path / "activate"
    activate.write_text(FAKE_ACTIVATE)
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {activate} python3; echo reached"],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "PS1: unbound variable" in result.stderr
    assert "reached" not in result.stdout
