"""What the endpoint's per-request JSON log costs: the same server, model and load with the log on and with --quiet.

Rounds alternate (logged, quiet, logged, quiet, ...) so that a change in the machine's other load hits both sides
alike; the cost is 1 - (logged requests/s) / (quiet requests/s), from the medians of one run. The logged server
writes its lines to a file, as a deployment's log collector would read them.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.endpoint import CONNECTIONS, _check, _load_generator, _server
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
                with _server(command, log_path) as url:
                    target = url + "/endpoints/mysfits-knn/invocations"
                    _check(target, rows[0])
                    load(target, rows, WARMUP_SECONDS)
                    measured = load(target, rows, SECONDS)
                rates[mode].append(measured.rps)
                if mode == "logged":
                    lines = max(lines, sum(1 for line in log_path.open() if '"event":"request"' in line))
    logged, quiet = statistics.median(rates["logged"]), statistics.median(rates["quiet"])
    cost = 1 - logged / quiet
    verdict = "met" if cost < GOAL else "**not met**"
    return (
        "## Cost of the endpoint's request log\n\n"
        f"Produced by `python -m benchmarks endpoint_logging`. Load: {client}, {CONNECTIONS} keep-alive connections, "
        f"one-row `text/csv` requests, {ROUNDS} alternating rounds of {SECONDS} s each (after {WARMUP_SECONDS} s "
        "warm-up) per mode; the same model and server, once logging every request to a file and once with "
        "`--quiet`.\n\n"
        "| mode | requests/s (median) | rounds |\n|---|---:|---|\n"
        f"| request log on | {logged:,.0f} | {', '.join(f'{r:,.0f}' for r in rates['logged'])} |\n"
        f"| `--quiet` | {quiet:,.0f} | {', '.join(f'{r:,.0f}' for r in rates['quiet'])} |\n\n"
        f"Throughput ratio logged/quiet: **{logged / quiet:.3f}**, a logging cost of **{cost:.1%}** "
        f"(goal: under {GOAL:.0%}: {verdict}). The busiest logged round wrote {lines:,} request lines."
    )
