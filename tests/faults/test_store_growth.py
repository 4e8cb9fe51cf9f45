"""Issue 30, item 4: the local store no longer grows without bound, and `mysfits choices stats` reads it in bounded
memory.

- `mysfits serve` deletes recommendations nobody adopted within the retention (7 days, as on AWS) on its own, a
  small batch at a time, and keeps every adopted one;
- `stats` over 100,000 recommendations allocates a few MB at most (it read every row into memory first).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api.catalog import label_ids
from tests.e2e.conftest import free_port, running
from tests.endpoint_artifacts import write_artifact
from tests.integration.test_endpoint_lifecycle import SRC

pytestmark = pytest.mark.slow

IDS = label_ids()
DAY = 24 * 3600
ENV = {**os.environ, "PYTHONPATH": str(SRC)}


def fill(path: Path, rows: list[tuple[str, float, str | None]]) -> None:
    """``(id, created_at, chosen)`` rows written straight into a store, as months of traffic would have left them."""
    SqliteChoiceStore(path)
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO recommendations (id, answers, recommended, runner_up, model_version, created_at, choice_id, "
            "chosen, chosen_at) VALUES (?, '1,2,3,4,5', ?, NULL, 'ordinal-0123456789ab', ?, ?, ?, ?)",
            [
                (rec_id, IDS[0], created, None if chosen is None else str(uuid.uuid4()), chosen,
                 None if chosen is None else created + 60)
                for rec_id, created, chosen in rows
            ],
        )  # fmt: skip
    sqlite3.connect(path).close()


def count(path: Path, where: str) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT count(*) FROM recommendations WHERE {where}").fetchone()[0]


def test_serve_deletes_unchosen_recommendations_past_the_retention_and_keeps_adopted_ones(tmp_path):
    choices, model = tmp_path / "choices.sqlite3", tmp_path / "model.json"
    write_artifact(model, rows=2000, seed=5)
    old = time.time() - 8 * DAY
    expired = [(str(uuid.uuid4()), old, None) for _ in range(1_100)]  # more than two delete batches
    adopted = [(str(uuid.uuid4()), old, IDS[3]) for _ in range(5)]
    recent = [(str(uuid.uuid4()), time.time() - 6 * DAY, None) for _ in range(5)]
    fill(choices, expired + adopted + recent)
    port = free_port()
    args = ["serve", "--model", str(model), "--choices", str(choices), "--port", str(port),
            "--endpoint-port", str(free_port()), "--quiet"]  # fmt: skip
    with running(args, tmp_path / "serve.log", port) as process:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 60
            while count(choices, f"chosen IS NULL AND created_at < {time.time() - 7 * DAY}"):
                assert time.monotonic() < deadline, process.output()[-2000:]
                assert client.post("/recommendations", json={"entry": [1, 2, 3, 4, 5]}).status_code == 200
                time.sleep(0.2)
    assert count(choices, "chosen IS NOT NULL") == len(adopted)
    assert count(choices, f"created_at > {time.time() - 7 * DAY}") >= len(recent)


MEASURE = """
import json, sys, tracemalloc
from mysfits.choices.stats import collect, format_stats
from mysfits.local.choices_store import SqliteChoiceStore
tracemalloc.start()
stats = collect(SqliteChoiceStore(sys.argv[1], read_only=True))
format_stats(stats)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"recommendations": stats.total.recommendations, "choices": stats.total.choices,
                  "peak_mb": peak / 2**20}))
"""
"""Python's own allocations while ``stats`` runs (SQLite's page cache and sorter are bounded by SQLite's settings).
The process's peak resident size would not do: a first import that compiles the package can peak higher."""


def test_stats_reads_a_big_store_in_bounded_memory(tmp_path):
    choices = tmp_path / "choices.sqlite3"
    now = time.time()
    fill(choices, [(str(uuid.uuid4()), now - i, IDS[i % 12] if i % 10 == 0 else None) for i in range(100_000)])
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(choices)], capture_output=True, text=True, env=ENV, timeout=300, check=True
    )
    result = json.loads(done.stdout)
    assert (result["recommendations"], result["choices"]) == (100_000, 10_000)
    # Reading every row into memory first took about 200 MB for 300,000 rows here (so some 65 MB for these).
    assert result["peak_mb"] < 20, result
    cli = subprocess.run(
        [sys.executable, "-m", "mysfits", "choices", "stats", "--choices", str(choices)],
        capture_output=True, text=True, env=ENV, timeout=300, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "100,000 recommendations" in cli.stdout
