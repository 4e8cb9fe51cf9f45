"""The notebook's first cell waits for the lifecycle script's background install (issue 18, item 6): a notebook
instance is InService before the install ends, and a kernel that starts first must neither fail on an ImportError
nor wait forever. The cell runs here in a fresh virtualenv's interpreter, where the package is not importable until
an install writes a .pth file into its site directory, as ``pip install -e`` does while a kernel that started first
waits."""

from __future__ import annotations

import os
import subprocess
import time
import venv
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "mysfit_recommendations_knn.ipynb"
SRC = ROOT / "src"


def _cell() -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in nb.cells if "wait-for-setup" in c.metadata.get("tags", [])]
    before = [c for c in nb.cells if c.cell_type == "code"]
    assert before.index(cell) < next(i for i, c in enumerate(before) if "from mysfits" in c.source)
    return cell.source


def _venv(home: Path) -> tuple[Path, Path]:
    """(python, site-packages) of a new virtualenv without the package."""
    venv.create(home / "venv", with_pip=False, symlinks=True)
    python = home / "venv" / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return python, Path(purelib)


def _command(home: Path, wait_s: float) -> tuple[list, dict]:
    python = home / "venv" / "bin" / "python"
    if not python.exists():
        python, _ = _venv(home)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HOME": str(home), "PYTHONUNBUFFERED": "1"}
    code = f"SETUP_WAIT_S = {wait_s}\n{_cell()}\nimport mysfits\nprint('imported', mysfits.__name__)\n"
    return [python, "-c", code], env


def _run(home: Path, wait_s: float, timeout: float = 60) -> subprocess.CompletedProcess:
    args, env = _command(home, wait_s)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _status(home: Path, text: str) -> Path:
    path = home / "SageMaker" / "mysfits-setup.status"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return path


def test_the_notebook_asks_for_the_instances_kernel():
    assert nbformat.read(NOTEBOOK, as_version=4).metadata["kernelspec"]["name"] == "conda_python3"


def test_without_a_setup_it_says_how_to_install_not_an_import_error(tmp_path):
    result = _run(tmp_path, 1)
    assert result.returncode != 0
    assert "RuntimeError: the mysfits package is not installed in this kernel" in result.stderr
    assert "ModuleNotFoundError" not in result.stderr


def test_a_failed_setup_is_named_with_its_log(tmp_path):
    _status(tmp_path, "failed (exit 1)")
    result = _run(tmp_path, 30)
    assert "ended with 'failed (exit 1)'" in result.stderr and "mysfits-setup.log" in result.stderr


def test_a_setup_still_running_is_waited_for_within_the_bound(tmp_path):
    _status(tmp_path, "running")
    started = time.monotonic()
    result = _run(tmp_path, 1.5)
    assert "TimeoutError: the setup is still installing mysfits after 1.5 s" in result.stderr
    assert "waiting for the notebook instance's setup" in result.stdout
    assert time.monotonic() - started < 30


def test_an_install_that_ends_while_the_cell_waits_is_picked_up(tmp_path):
    status = _status(tmp_path, "running")
    _, purelib = _venv(tmp_path)

    def install() -> None:  # what pip install -e leaves behind: a .pth naming the source tree
        (purelib / "mysfits-editable.pth").write_text(str(SRC) + "\n")
        status.write_text("installed\n")

    # The install ends once the cell says it is waiting (not after a fixed delay, which a loaded machine's slow
    # interpreter start can outlast, so that the cell never waits at all).
    args, env = _command(tmp_path, 30)
    cell = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in cell.stdout:
            seen.append(line)
            if "waiting for the notebook instance's setup" in line:
                install()
                break
        out, err = cell.communicate(timeout=60)
    finally:
        if cell.poll() is None:
            cell.kill()
    assert cell.returncode == 0, err
    assert any("waiting for the notebook instance's setup" in line for line in seen), seen
    assert "imported mysfits" in out
