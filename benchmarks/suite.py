"""How long `make test` takes, and where the time goes: serial against parallel, in the same run.

`python -m benchmarks suite` runs the Python 3.11 suite twice, first in one process (the old way) and then as
`make test` runs it (pytest-xdist), and prints the wall times, their ratio, and a per-directory breakdown of test time
from pytest's JUnit report. `python -m benchmarks.suite REPORT.xml ...` prints the breakdown of reports you already
have (for example the Python 3.10 step's).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOWEST = 15


def breakdown(report: Path) -> tuple[dict[str, tuple[int, float]], list[tuple[float, str]]]:
    """Tests and summed seconds per test directory, and every test's own time, from a JUnit XML report."""
    per_dir: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    tests = []
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - a report pytest wrote here
        module = case.get("classname", "")
        parts = module.split(".")
        directory = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
        seconds = float(case.get("time", 0))
        per_dir[directory][0] += 1
        per_dir[directory][1] += seconds
        tests.append((seconds, f"{module}::{case.get('name')}"))
    return {d: (int(n), s) for d, (n, s) in per_dir.items()}, sorted(tests, reverse=True)


def breakdown_table(report: Path) -> str:
    per_dir, tests = breakdown(report)
    total = sum(seconds for _, seconds in per_dir.values())
    lines = ["| directory | tests | test time, s | share |", "|---|---:|---:|---:|"]
    for directory, (count, seconds) in sorted(per_dir.items(), key=lambda item: -item[1][1]):
        lines.append(f"| `{directory}` | {count} | {seconds:.1f} | {seconds / total:.0%} |")
    lines.append(f"| all | {sum(n for n, _ in per_dir.values())} | {total:.1f} | |")
    lines += ["", f"Slowest {SLOWEST} tests:", "", "| test | s |", "|---|---:|"]
    lines += [f"| `{name}` | {seconds:.1f} |" for seconds, name in tests[:SLOWEST]]
    return "\n".join(lines)


def _timed_pytest(args: list[str], report: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own fixed argv
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"pytest {' '.join(args)} failed:\n{result.stdout[-3000:]}")
    return elapsed


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        serial_report, parallel_report = Path(tmp) / "serial.xml", Path(tmp) / "parallel.xml"
        serial = _timed_pytest(["-n", "0"], serial_report)  # pytest-xdist loaded, no workers: one process
        workers = os.environ.get("PYTEST_WORKERS", "3")  # the Makefile's default
        parallel = _timed_pytest(["-n", workers, "--dist", "loadgroup"], parallel_report)  # as make test runs it
        return (
            "## The test suite (`benchmarks/suite.py`)\n\n"
            "Python 3.11 suite, wall time, same machine, same run:\n\n"
            "| run | wall, s |\n|---|---:|\n"
            f"| one process (`-n 0`) | {serial:.0f} |\n"
            f"| as `make test` runs it (`-n {workers} --dist loadgroup`) | {parallel:.0f} |\n"
            f"| ratio | {parallel / serial:.2f}x |\n\n"
            "Where the time goes (serial run):\n\n" + breakdown_table(serial_report)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite", description=__doc__)
    parser.add_argument("reports", nargs="+", type=Path, help="pytest --junitxml reports")
    for report in parser.parse_args(argv).reports:
        print(f"### {report}\n\n{breakdown_table(report)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
