"""Two runs share one dockerd: the second reuses the first's, and only the last to leave stops it.

Real processes, each inside ``engine.engine()`` with the same lock folder, held there until the test lets them go.
In the suite, the sam-local tests share one worker (xdist_group), so nothing else exercises this side by side.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mysfits.local.sam_local import engine
from tests.e2e.conftest import REPO, child_env

pytestmark = [pytest.mark.sam, pytest.mark.slow, pytest.mark.xdist_group("sam_local")]

USER = """
import sys
from pathlib import Path
from mysfits.local.sam_local import engine
with engine.engine(Path(sys.argv[1])) as started:
    print(f"in started={started}", flush=True)
    sys.stdin.readline()
print("out", flush=True)
"""


class User:
    """A process that uses the daemon until told to leave."""

    def __init__(self, log: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", USER, str(log)],
            cwd=REPO,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def entered(self) -> str:
        line = self.proc.stdout.readline().strip()
        assert line.startswith("in "), (line, self.proc.stderr.read() if self.proc.poll() is not None else "")
        return line

    def leave(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        out, err = self.proc.communicate(timeout=engine.STOP_TIMEOUT_S + 30)
        assert self.proc.returncode == 0 and out.strip() == "out", (out, err)


def _kill_left(users, marker: Path) -> None:
    """After a failure: no user process and no daemon of this test outlives it."""
    for user in filter(None, users):
        if user.proc.poll() is None:
            user.proc.kill()
            user.proc.wait()
    engine._stop(marker)  # does nothing once the marker is gone


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_the_second_run_reuses_the_daemon_and_the_last_to_leave_stops_it(tmp_path):
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd missing: `make docker` apt-installs docker.io (as root)")
    if engine.answering():
        pytest.skip("a Docker daemon is already running here, and this test must not stop someone else's")
    log = tmp_path / "dockerd.log"
    first = User(log)
    second = None
    try:
        assert first.entered() == "in started=True"
        second = User(log)  # only now: started together, either could be the one to start the daemon
        assert second.entered() == "in started=False"
        pid = int((tmp_path / "dockerd.pid").read_text())

        first.leave()  # the one that started it leaves first: the other still uses it
        assert engine.answering() and engine._is_dockerd(pid)

        second.leave()  # the last user stops the daemon, though another run started it
        assert _wait(lambda: not engine._is_dockerd(pid), engine.STOP_TIMEOUT_S)
        assert not engine.answering()
        assert not (tmp_path / "dockerd.pid").exists()
    finally:
        _kill_left((first, second), tmp_path / "dockerd.pid")


def test_a_daemon_nobody_here_started_is_left_running(tmp_path):
    """A run that found a daemon already answering never stops it, even as the last to leave."""
    if engine.answering():
        pytest.skip("a Docker daemon is already running here")
    owner_log = tmp_path / "owner" / "dockerd.log"
    owner = User(owner_log)  # someone else's daemon: its locks live in another folder
    guest = None
    try:
        assert owner.entered() == "in started=True"
        pid = int((owner_log.parent / "dockerd.pid").read_text())
        guest = User(tmp_path / "guest" / "dockerd.log")
        assert guest.entered() == "in started=False"
        guest.leave()
        assert engine.answering() and engine._is_dockerd(pid)
        owner.leave()
        assert _wait(lambda: not engine._is_dockerd(pid), engine.STOP_TIMEOUT_S)
    finally:
        _kill_left((owner, guest), owner_log.parent / "dockerd.pid")
