"""What the endpoint's per-request JSON log costs: the same server, model and load with the log on and with --quiet.

Rounds alternate (logged, quiet, logged, quiet, ...) so that a change in the machine's other load hits both sides
alike. Two ratios come from the medians of one run: requests/s, and the server process's own CPU time per request
(from /proc), which other processes on a shared machine disturb far less; the cost is the CPU ratio minus one. The
logged server writes its lines to a file, as a deployment's log collector would read them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.endpoint import CONNECTIONS, ROOT, _check, _free_port, _load_generator, _wait_ready
from mysfits.model import dataset
from mysfits.model.artifact import save_model
from mysfits.model.training import train_model

ROUNDS = 3
SECONDS = 5
WARMUP_SECONDS = 1
GOAL = 0.10


def run() -> str:
    client, load = _load_generator()
    rates: dict[str, list[float]] = {"logged": [], "quiet": []}
    cpu_us: dict[str, list[float]] = {"logged": [], "quiet": []}
    lines = 0
    with tempfile.TemporaryDirectory(prefix="bench-logging-") as tmp:
        model_path = Path(tmp) / "model.json"
        model = train_model(dataset.generate(rows=20_000, seed=0), k=10, sample_size=10_000, seed=0)
        save_model(model, model_path)
        rows = [",".join(map(str, row)) + "\n" for row in np.random.default_rng(1).integers(1, 9, size=(256, 5))]
        base = [sys.executable, "-m", "mysfits", "endpoint", "--model", str(model_path), "--name", "mysfits-knn"]
        for round_ in range(ROUNDS):
            for mode in ("logged", "quiet"):
                log_path = Path(tmp) / f"{mode}-{round_}.log"
                command = base + (["--quiet"] if mode == "quiet" else [])
                with _server(command, log_path) as (url, pid):
                    target = url + "/endpoints/mysfits-knn/invocations"
                    _check(target, rows[0])
                    load(target, rows, WARMUP_SECONDS)
                    before = _cpu_seconds(pid)
                    measured = load(target, rows, SECONDS)
                    used = _cpu_seconds(pid) - before
                rates[mode].append(measured.rps)
                cpu_us[mode].append(used / max(1, measured.requests) * 1e6)
                if mode == "logged":
                    lines = max(lines, sum(1 for line in log_path.open() if '"event":"request"' in line))
    logged, quiet = statistics.median(rates["logged"]), statistics.median(rates["quiet"])
    cpu_logged, cpu_quiet = statistics.median(cpu_us["logged"]), statistics.median(cpu_us["quiet"])
    cost = cpu_logged / cpu_quiet - 1
    verdict = "met" if cost < GOAL else "**not met**"
    return (
        "## Cost of the endpoint's request log\n\n"
        f"Produced by `python -m benchmarks endpoint_logging`. Load: {client}, {CONNECTIONS} keep-alive connections, "
        f"one-row `text/csv` requests, {ROUNDS} alternating rounds of {SECONDS} s each (after {WARMUP_SECONDS} s "
        "warm-up) per mode; the same model and server, once logging every request to a file and once with "
        "`--quiet`.\n\n"
        "| mode | requests/s (median) | server CPU µs per request (median) | requests/s by round |\n"
        "|---|---:|---:|---|\n"
        f"| request log on | {logged:,.0f} | {cpu_logged:.1f} | {', '.join(f'{r:,.0f}' for r in rates['logged'])} |\n"
        f"| `--quiet` | {quiet:,.0f} | {cpu_quiet:.1f} | {', '.join(f'{r:,.0f}' for r in rates['quiet'])} |\n\n"
        f"Server CPU per request, logged/quiet: **{cpu_logged / cpu_quiet:.3f}**, a logging cost of **{cost:.1%}** "
        f"(goal: under {GOAL:.0%}: {verdict}). Throughput ratio logged/quiet: {logged / quiet:.3f} (on a shared "
        f"machine this one moves with the other processes' load). The busiest logged round wrote {lines:,} request "
        "lines."
    )


@contextlib.contextmanager
def _server(command: list[str], log_path: Path) -> Iterator[tuple[str, int]]:
    """The endpoint on a free port, its log to ``log_path``; yields its URL and process id."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=log, env=env, cwd=ROOT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url, log_path, 60)
        yield url, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
