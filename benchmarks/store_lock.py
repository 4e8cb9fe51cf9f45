"""Recommendations while another process holds the choices store's write lock (issue 30, item 1).

`mysfits serve` runs as `make run` starts it; eight clients send `POST /recommendations` for a few seconds, first with
the store free, then while another connection holds SQLite's write lock (`BEGIN IMMEDIATE`, as a long `DELETE` in
another process does). Before issue 30 each save waited the 2 s busy timeout inside the function's one instance, and
407 of 419 requests got 503.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks.stack import _serve

CLIENTS = 8
SECONDS = 10.0


def _load(port: int, seconds: float) -> list[tuple[int, float, bool]]:
    """(status, seconds, answered with an id) of every request the clients sent."""
    answers: list[tuple[int, float, bool]] = []
    stop = threading.Event()

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while not stop.is_set():
            n += 1
            body = json.dumps({"entry": [(index + n + q) % 8 + 1 for q in range(5)]})
            started = time.perf_counter()
            connection.request("POST", "/recommendations", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            text = response.read()
            answers.append((response.status, time.perf_counter() - started, b"recommendationId" in text))
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return answers


def _row(name: str, answers: list[tuple[int, float, bool]]) -> str:
    statuses = Counter(status for status, _, _ in answers)
    ms = sorted(seconds * 1000 for _, seconds, _ in answers)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    shown = ", ".join(f"{status}: {count:,}" for status, count in sorted(statuses.items()))
    with_id = sum(kept for _, _, kept in answers)
    return (
        f"| {name} | {len(answers):,} | {shown} | {with_id:,} | {statistics.median(ms):.0f} | {p99:.0f} | "
        f"{ms[-1]:.0f} |"
    )


def run() -> str:
    from mysfits.model import dataset as ds
    from mysfits.model import training
    from mysfits.model.artifact import save_model

    workdir = Path(tempfile.mkdtemp(prefix="mysfits-bench-lock-"))
    try:
        model, data = workdir / "models" / "mysfits-knn.json", workdir / "data" / "answers.csv"
        model.parent.mkdir(parents=True)
        data.parent.mkdir(parents=True)
        rows = ds.generate(20_000, seed=1)
        ds.write_csv(rows, data)
        save_model(training.train_model(rows, seed=1), model)
        with _serve(model, data, trains=False) as (port, _, _):
            free = _load(port, SECONDS)
            store = workdir / f"choices-{port}.sqlite3"
            with contextlib.closing(sqlite3.connect(store, isolation_level=None)) as holder:
                holder.execute("BEGIN IMMEDIATE")
                locked = _load(port, SECONDS)
                holder.execute("ROLLBACK")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return "\n".join(
        [
            "## Recommendations while the choices store is locked (`benchmarks/store_lock.py`)",
            "",
            f"Command: `python -m benchmarks store_lock`. {CLIENTS} clients send `POST /recommendations` for "
            f"{SECONDS:.0f} s each way to one `mysfits serve` (one gateway worker); the load generator shares the "
            "cores. Before issue 30, with the lock held, 407 of 419 requests got 503 and the others took 2.1 s.",
            "",
            "| store | requests | statuses | with recommendationId | p50, ms | p99, ms | max, ms |",
            "|---|---:|---|---:|---:|---:|---:|",
            _row("free", free),
            _row("write lock held by another process", locked),
        ]
    )
