"""Issue 17's reliability promise: no acknowledged choice is ever lost.

`mysfits serve` is killed with SIGKILL (no clean-up of any kind) while clients adopt Mysfits at a bounded rate; after a
restart on the same store, every choice that got a 201 is in the store and in `mysfits choices export`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api.catalog import label_ids
from tests.e2e.conftest import REPO, child_env, free_port, running
from tests.endpoint_artifacts import write_artifact

pytestmark = pytest.mark.slow

IDS = label_ids()


def serve_args(model, choices, port, endpoint_port, workers=1):
    return [
        "serve", "--model", str(model), "--choices", str(choices), "--port", str(port),
        "--endpoint-port", str(endpoint_port), "--quiet", "--workers", str(workers),
    ]  # fmt: skip


def adopt_until(url: str, stop: threading.Event, acknowledged: list[str], index: int) -> None:
    """One visitor after another: recommend, then adopt; records each choice id that came back with a 201."""
    with httpx.Client(base_url=url, timeout=5) as client:
        n = 0
        while not stop.is_set():
            n += 1
            entry = [(index + n + q) % 8 + 1 for q in range(5)]
            try:
                rec = client.post("/recommendations", json={"entry": entry})
                rec_id = rec.json().get("recommendationId")
                if rec_id is None:
                    continue
                chosen = client.post("/choices", json={"recommendationId": rec_id, "mysfitId": IDS[n % 12]})
                if chosen.status_code == 201:
                    acknowledged.append(chosen.json()["choiceId"])
            except (httpx.HTTPError, ValueError):
                time.sleep(0.05)  # the server is gone: keep trying until told to stop
            time.sleep(0.01)  # bounded load: about one adoption per 10-20 ms per client


@pytest.mark.parametrize("workers", [1, 2])
def test_every_acknowledged_choice_survives_sigkill(tmp_path, workers):
    model, choices = tmp_path / "model.json", tmp_path / "choices.sqlite3"
    write_artifact(model, rows=2000, seed=5)
    port, endpoint_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    stop = threading.Event()
    with running(serve_args(model, choices, port, endpoint_port, workers), tmp_path / "serve.log", port) as process:
        with ThreadPoolExecutor(4) as pool:
            for index in range(4):
                pool.submit(adopt_until, url, stop, acknowledged, index)
            deadline = time.monotonic() + 20
            while len(acknowledged) < 40 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(process.proc.pid, signal.SIGKILL)  # mid-load: requests are in flight
            process.proc.wait()
            time.sleep(0.3)
            stop.set()
    assert len(acknowledged) >= 40, process.output()[-3000:]
    # The endpoint child dies with its parent (PDEATHSIG); wait for its port before starting again.
    with running(serve_args(model, choices, port, endpoint_port, workers), tmp_path / "again.log", port):
        stored = {choice.choice_id for choice in SqliteChoiceStore(choices, read_only=True).choices()}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged choices were lost"
    exported = tmp_path / "choices.csv"
    done = subprocess.run(
        [sys.executable, "-m", "mysfits", "choices", "export", "--choices", str(choices), "--out", str(exported)],
        cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(exported.read_text().splitlines()) == len(stored) >= len(acknowledged)
