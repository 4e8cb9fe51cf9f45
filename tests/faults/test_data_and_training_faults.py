"""Issue 12, items 5 and 12: what a killed or interrupted `mysfits train` leaves, and hostile data files."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

import pytest

from mysfits import files
from mysfits.model import dataset as ds
from tests.integration.test_endpoint_lifecycle import SRC

ENV = {**os.environ, "PYTHONPATH": str(SRC)}


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf1,2,3,4,5,0\n8,8,8,8,8,11\n")
    data = ds.load_csv(path)
    assert data.X.tolist() == [[1, 2, 3, 4, 5], [8, 8, 8, 8, 8]]
    assert data.y.tolist() == [0, 11]


def test_a_gzip_bomb_stops_with_a_size_error_and_the_flag_raises_the_limit(tmp_path):
    path = tmp_path / "bomb.csv.gz"
    row = b"1,2,3,4,5,0\n"
    path.write_bytes(gzip.compress(row * (3 * 1024 * 1024 // len(row))))  # 3 MB of rows, a few KB compressed
    with pytest.raises(ds.DataError, match=r"expands to more than 1 MB of data, the limit; pass a larger --max-data"):
        ds.load_csv(path, max_bytes=1024 * 1024)
    assert len(ds.load_csv(path, max_bytes=4 * 1024 * 1024).y) == 3 * 1024 * 1024 // len(row)
    done = subprocess.run(
        [sys.executable, "-m", "mysfits", "data", "check", str(path), "--max-data-mb", "1"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"mysfits data: error: {path}: it expands to more than 1 MB of data, the limit; pass a larger "
        "--max-data-mb if the file is really meant to be this big"
    ]


def test_a_plain_file_over_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"1,2,3,4,5,0\n" * 200_000)
    with pytest.raises(ds.DataError, match="it holds more than 1 MB"):
        ds.load_csv(path, max_bytes=1024 * 1024)


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path):
    target = tmp_path / "model.json"
    stale = tmp_path / ".model.json.abc123.tmp"
    stale.write_bytes(b"half a model")
    os.chmod(stale, 0o600)
    files.write_bytes_atomic(target, b"{}")
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_a_live_writers_temporary_file_is_left_alone(tmp_path):
    import fcntl

    target = tmp_path / "model.json"
    busy = tmp_path / ".model.json.live.tmp"
    with busy.open("wb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        files.write_bytes_atomic(target, b"{}")
        assert busy.exists()


_WRITER = """
import os, sys, time
from mysfits import files
os.fsync = lambda fd: time.sleep(3600)  # hold the write open, as a long one would be, until the process is killed
files.write_bytes_atomic(sys.argv[1], b"x" * 1000)
"""


def test_a_writer_killed_mid_write_leaves_a_temporary_file_that_the_next_write_removes(tmp_path):
    target = tmp_path / "m.json"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], env=ENV)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".m.json.*.tmp")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the writer exited early"
            time.sleep(0.01)
        time.sleep(0.2)  # it is now inside fsync, lock held
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    (left,) = tmp_path.glob(".m.json.*.tmp")
    assert oct(left.stat().st_mode & 0o777) == "0o600"  # what issue 12 found beside the model
    files.write_bytes_atomic(target, b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_ctrl_c_while_starting_is_one_line(tmp_path):
    """SIGINT while the command is still importing its modules."""
    # (Before the interpreter runs our first line, about 50 ms, Python itself prints the traceback.)
    for delay in (0.2, 0.4, 0.8):
        proc = subprocess.Popen(
            [sys.executable, "-m", "mysfits", "train", "--data", str(tmp_path / "none.csv"), "--model", "x"],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err
        if proc.returncode == 130:
            assert err.strip().splitlines() == ["mysfits train: interrupted"] or err.strip() == "mysfits: interrupted"
