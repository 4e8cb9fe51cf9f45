"""Issue 22, items 8 and 11 (first point): only regular model files of bounded size are read, and a file made
readable again is picked up without SIGHUP.

A FIFO renamed into place used to hang the reloader for good, and ``/dev/zero`` at start-up raised MemoryError.
Each is now refused at once with one line naming the file and what it is, and a valid model after it still loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mysfits.local.endpoint.server import serve_in_thread
from mysfits.model.artifact import MAX_MODEL_BYTES, ArtifactError, load_model, save_model
from tests.endpoint_artifacts import make_artifact, write_artifact
from tests.integration.test_endpoint_lifecycle import SRC, wait_until


def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    with pytest.raises(ArtifactError, match=r"not a regular file \(a FIFO\)"):
        load_model(fifo)


def test_a_device_and_a_directory_are_refused_by_type(tmp_path):
    with pytest.raises(ArtifactError, match=r"/dev/zero: not a regular file \(a character device\)"):
        load_model("/dev/zero")
    with pytest.raises(ArtifactError, match=r"not a regular file \(a directory\)"):
        load_model(tmp_path)


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "model.json"
    with path.open("wb") as sparse:  # a hole: no disk used, but st_size says 1 byte too many
        sparse.truncate(MAX_MODEL_BYTES + 1)
    with pytest.raises(ArtifactError, match="larger than a model file can be"):
        load_model(path)


def test_start_up_on_dev_zero_is_one_line_and_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "mysfits", "endpoint", "--model", "/dev/zero", "--port", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mysfits endpoint: error: cannot serve the model: /dev/zero: not a regular file (a character device); "
        "a model is a JSON file"
    ]


def _failures(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if '"model_reload_failed"' in r.getMessage()]


def test_the_reloader_refuses_a_fifo_and_still_loads_the_next_model(tmp_path, caplog):
    caplog.set_level("INFO", logger="mysfits.local.endpoint")
    path = tmp_path / "model.json"
    old = write_artifact(path, rows=400, seed=1)
    with serve_in_thread(str(path), "fifo", refresh_interval=0.02) as endpoint:
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        fifo.replace(path)
        wait_until(lambda: _failures(caplog), what="the FIFO's reload failure", timeout=5)
        assert "a FIFO" in _failures(caplog)[-1]["error"]
        assert endpoint.model.version == old.version
        fresh = make_artifact(seed=3, rows=400)
        staged = tmp_path / "staged.json"
        save_model(fresh, staged)
        staged.replace(path)
        wait_until(lambda: endpoint.model.version == fresh.version, what="the model after the FIFO", timeout=5)


def test_a_model_made_readable_again_is_loaded_without_sighup(tmp_path, caplog):
    if os.geteuid() == 0:
        pytest.skip("root reads a mode-000 file")
    caplog.set_level("INFO", logger="mysfits.local.endpoint")
    path = tmp_path / "model.json"
    write_artifact(path, rows=400, seed=1)
    with serve_in_thread(str(path), "chmod", refresh_interval=0.02) as endpoint:
        fresh = make_artifact(seed=4, rows=400)
        staged = tmp_path / "staged.json"
        save_model(fresh, staged)
        staged.chmod(0)
        staged.replace(path)
        wait_until(lambda: _failures(caplog), what="the unreadable file's failure", timeout=5)
        path.chmod(0o644)
        wait_until(lambda: endpoint.model.version == fresh.version, what="the file made readable", timeout=5)
