"""Issue 22, item 7: reading training data costs memory bounded by the limit, whatever the input is, and every bad
input or failed write is one line naming the file (and the line), never a traceback.

Memory is measured in a fresh interpreter: its peak resident size (``ru_maxrss``) after importing the loader, then
after the load, so the growth is the loader's own.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

from mysfits.model import dataset as ds
from tests.integration.test_endpoint_lifecycle import SRC

ENV = {**os.environ, "PYTHONPATH": str(SRC)}
MB = 1024 * 1024

MEASURE = """
import json, resource, sys
from mysfits.model import dataset as ds
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    rows, error = ds.load_csv(sys.argv[1], int(sys.argv[2]) * 1024 * 1024).rows, None
except ds.DataError as exc:
    rows, error = None, str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "error": error, "growth_mb": (after - before) / 1024}))
"""


def load_in_child(path, limit_mb: int = 512, stdin=None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(limit_mb)],
        capture_output=True,
        text=True,
        env=ENV,
        stdin=stdin,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def mysfits(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mysfits", *args], capture_output=True, text=True, env=ENV, timeout=120, **kwargs
    )


def test_an_endless_device_stops_at_its_first_line():
    """`--data /dev/zero` read until MemoryError; then it stopped at the data limit; now at its first piece, one
    line of zeros longer than any row (issue 30)."""
    result = load_in_child("/dev/zero", limit_mb=8)
    assert result["error"].startswith("/dev/zero:1: the line is more than 1,048,576 bytes long and goes on")
    assert result["growth_mb"] < 24
    done = mysfits("data", "check", "/dev/zero", "--max-data-mb", "8")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_pipe_is_read_whole_when_it_fits_and_refused_when_it_does_not(tmp_path):
    rows = ds.generate(2_000, seed=3)
    path = ds.write_csv(rows, tmp_path / "rows.csv")
    with path.open("rb") as source:
        feeder = subprocess.Popen(["cat"], stdin=source, stdout=subprocess.PIPE)
        assert load_in_child("/dev/stdin", stdin=feeder.stdout)["rows"] == 2_000
        feeder.wait()
    big = subprocess.Popen(["yes", "1,2,3,4,5,0"], stdout=subprocess.PIPE)
    try:
        result = load_in_child("/dev/stdin", limit_mb=4, stdin=big.stdout)
    finally:
        big.kill()
        big.wait()
    assert result["error"].startswith("/dev/stdin: it holds more than 4 MB of data")
    assert result["growth_mb"] < 4 + 24


def test_a_huge_single_line_is_refused_at_line_one_without_splitting_it(tmp_path):
    """A 40 MB line peaked at 1.26 GB before its line-1 error."""
    path = tmp_path / "one-line.csv"
    path.write_bytes(b"1" * (40 * MB) + b"\n")
    result = load_in_child(path)
    assert result["error"] == (
        f"{path}:1: the line is 41,943,040 bytes long; a row is 5 answers and a label, comma separated "
        "(at most 256 bytes)"
    )
    assert result["growth_mb"] < 40 + 40


def test_valid_data_costs_little_more_than_its_size(tmp_path):
    """97 MB of valid rows took 722 MB (7.4x); the parse now works chunk by chunk."""
    data = ds.generate(4_000_000, seed=4)
    path = ds.write_csv(data, tmp_path / "big.csv")
    size_mb = path.stat().st_size / MB
    result = load_in_child(path)
    assert result["rows"] == 4_000_000
    assert result["growth_mb"] < 2 * size_mb + 100, (size_mb, result)


def test_valid_data_with_crlf_and_a_bad_row_far_in_is_still_named(tmp_path):
    """The line-by-line path too stays near the file's size, and still names the first bad line."""
    path = tmp_path / "crlf.csv"
    path.write_bytes(b"1,2,3,4,5,0\r\n" * 2_000_000 + b"1,2,3,4,9,0\r\n")
    result = load_in_child(path)
    assert result["error"] == f"{path}:2000001: answer 5 must be 1..8, found 9"
    assert result["growth_mb"] < 3 * path.stat().st_size / MB + 100


def test_a_5000_digit_field_is_one_line(tmp_path):
    """Python refuses int() of more than 4,300 digits with a traceback; the line's length stops it first."""
    path = tmp_path / "digits.csv"
    path.write_text("1,2,3,4,5,0\n1,2,3,4,5," + "7" * 5_000 + "\n")
    done = mysfits("data", "check", str(path))
    assert done.returncode == 2
    assert done.stderr == (
        f"mysfits data: error: {path}:2: the line is 5,010 bytes long; a row is 5 answers and a label, comma "
        "separated (at most 256 bytes)\n"
    )


def _small_files() -> None:
    """In the child: a 1 MB file-size limit stands in for a full disk (the write fails the same way), and the
    signal that would otherwise kill the process at the limit is ignored, as a full disk sends none."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (MB, MB))


def test_a_write_that_fails_half_way_is_one_line_and_leaves_nothing(tmp_path):
    out = tmp_path / "answers.csv"
    done = subprocess.run(
        [sys.executable, "-m", "mysfits", "data", "generate", "--rows", "300000", "--out", str(out)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        preexec_fn=_small_files,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == f"mysfits data: error: {out}: cannot write: File too large"
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_huge_single_line_through_a_pipe_is_refused_without_reading_it_whole():
    """Issue 30: a 400 MB line through a pipe peaked at 804 MB before it was refused. The stream is refused once its
    unfinished line is longer than any row, so 400 MB of it are never read."""
    endless = subprocess.Popen(["yes", "1" * 4096], stdout=subprocess.PIPE)  # lines of 4 KB, without end
    try:
        result = load_in_child("/dev/stdin", stdin=endless.stdout)
    finally:
        endless.kill()
        endless.wait()
    assert result["error"] == (
        "/dev/stdin:1: the line is 4,096 bytes long; a row is 5 answers and a label, comma separated (at most 256 "
        "bytes)"
    )
    assert result["growth_mb"] < 24
    head = subprocess.Popen(["head", "-c", str(400 * MB), "/dev/zero"], stdout=subprocess.PIPE)
    try:
        result = load_in_child("/dev/stdin", stdin=head.stdout)
    finally:
        head.kill()
        head.wait()
    assert result["error"].startswith("/dev/stdin:1: the line is more than ")
    assert result["growth_mb"] < 24
