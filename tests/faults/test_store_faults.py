"""Issue 30: what `mysfits serve` promises when its choices store fails (docs/reliability.md, "The choices store").

- another process holds the store's write lock: every recommendation is still answered 200, without a
  recommendationId while the lock is held, and with one again once it is released;
- the store is deleted under load: every choice answered 201 is in the store at the path (a new one is started);
- the store is moved away and a directory put in its place: choices get 503, none is acknowledged, and the moved
  store is used again once it is put back;
- a damaged store at start-up (a corrupt header, a text file, a directory): serve starts, recommendations are
  answered without an id, choices get 503 with Retry-After, one log line says why, and the store comes back as soon
  as the path is cleared.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api.catalog import label_ids
from tests.e2e.conftest import free_port, running
from tests.endpoint_artifacts import write_artifact

pytestmark = pytest.mark.slow

IDS = label_ids()
DAMAGE_LINE = "choices store unusable"


def serve_args(model: Path, choices: Path, port: int, endpoint_port: int) -> list[str]:
    return [
        "serve", "--model", str(model), "--choices", str(choices), "--port", str(port),
        "--endpoint-port", str(endpoint_port), "--quiet",
    ]  # fmt: skip


@pytest.fixture
def model(tmp_path) -> Path:
    path = tmp_path / "model.json"
    write_artifact(path, rows=2000, seed=5)
    return path


def recommend(client: httpx.Client, n: int = 0) -> httpx.Response:
    return client.post("/recommendations", json={"entry": [(n + q) % 8 + 1 for q in range(5)]})


def adopt(client: httpx.Client, recommendation_id: str, n: int = 0) -> httpx.Response:
    return client.post("/choices", json={"recommendationId": recommendation_id, "mysfitId": IDS[n % 12]})


def stored_choice_ids(path: Path) -> set[str]:
    return {choice.choice_id for choice in SqliteChoiceStore(path, read_only=True).choices()}


def test_a_held_write_lock_never_takes_recommendations_down(tmp_path, model):
    choices = tmp_path / "choices.sqlite3"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(serve_args(model, choices, port, free_port()), tmp_path / "serve.log", port) as process:
        with httpx.Client(base_url=url, timeout=10) as client:
            assert "recommendationId" in recommend(client).json()
        holder = sqlite3.connect(choices, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # what a long DELETE in another process holds
        answers: list[tuple[int, bool]] = []
        stop = threading.Event()

        def visitor(index: int) -> None:
            with httpx.Client(base_url=url, timeout=10) as client:
                n = 0
                while not stop.is_set():
                    n += 1
                    response = recommend(client, index * 7 + n)
                    answers.append((response.status_code, "recommendationId" in response.text))

        with ThreadPoolExecutor(4) as pool:
            for index in range(4):
                pool.submit(visitor, index)
            time.sleep(4)  # twice the choices' busy timeout: each visitor's requests queue behind it on old code
            stop.set()
        holder.execute("ROLLBACK")
        with httpx.Client(base_url=url, timeout=10) as client:
            deadline = time.monotonic() + 10
            while "recommendationId" not in recommend(client).json():
                assert time.monotonic() < deadline, "recommendations never got an id again after the lock went"
                time.sleep(0.1)
    statuses = sorted({status for status, _ in answers})
    assert statuses == [200], f"{len(answers)} answers with statuses {statuses}: {process.output()[-2000:]}"
    assert len(answers) >= 8
    assert not any(with_id for _, with_id in answers), "a recommendation got an id while the store was locked"


def test_store_wait_lets_a_recommendation_wait_out_a_short_lock_and_keep_its_id(tmp_path, model):
    """`serve --store-wait`: for a slow disk, a recommendation may wait longer than 0.2 s for the store."""
    choices = tmp_path / "choices.sqlite3"
    port = free_port()
    args = [*serve_args(model, choices, port, free_port()), "--store-wait", "4"]
    with running(args, tmp_path / "serve.log", port):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert "recommendationId" in recommend(client).json()
            holder = sqlite3.connect(choices, isolation_level=None, check_same_thread=False)
            holder.execute("BEGIN IMMEDIATE")
            release = threading.Timer(1.0, lambda: holder.execute("ROLLBACK"))
            release.start()
            started = time.monotonic()
            body = recommend(client, 1).json()
            waited = time.monotonic() - started
            release.join()
    assert "recommendationId" in body, f"answered without an id after {waited:.2f} s"
    assert waited >= 0.9, f"the lock was held for 1 s, yet the answer came after {waited:.2f} s"


def test_every_choice_acknowledged_after_the_store_is_deleted_is_in_the_store_at_its_path(tmp_path, model):
    choices = tmp_path / "choices.sqlite3"
    port = free_port()
    acknowledged: list[str] = []
    with running(serve_args(model, choices, port, free_port()), tmp_path / "serve.log", port):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for n in range(5):
                assert adopt(client, recommend(client, n).json()["recommendationId"], n).status_code == 201
            for name in ("choices.sqlite3", "choices.sqlite3-wal", "choices.sqlite3-shm"):
                (tmp_path / name).unlink(missing_ok=True)  # `rm data/choices.sqlite3*` under a running server
            for n in range(20):
                rec_id = recommend(client, n).json().get("recommendationId")
                if rec_id is None:
                    continue
                chosen = adopt(client, rec_id, n)
                assert chosen.status_code in (201, 503), chosen.text
                if chosen.status_code == 201:
                    acknowledged.append(chosen.json()["choiceId"])
        assert acknowledged, "no choice was acknowledged after the deletion: the store was never started again"
        assert set(acknowledged) <= stored_choice_ids(choices)


def test_a_store_moved_away_gets_choices_refused_until_it_is_put_back(tmp_path, model):
    choices, moved = tmp_path / "choices.sqlite3", tmp_path / "moved.sqlite3"
    port = free_port()
    with running(serve_args(model, choices, port, free_port()), tmp_path / "serve.log", port):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            waiting = [recommend(client, n).json()["recommendationId"] for n in range(3)]
            choices.rename(moved)
            choices.mkdir()
            refused = adopt(client, waiting[0])
            assert refused.status_code == 503, refused.text
            assert refused.headers.get("Retry-After")
            assert recommend(client).status_code == 200
            choices.rmdir()
            moved.rename(choices)
            kept = adopt(client, waiting[1], 1)
            assert kept.status_code == 201, kept.text
        assert stored_choice_ids(choices) == {kept.json()["choiceId"]}


def _damage(path: Path, kind: str) -> None:
    if kind == "directory":
        path.mkdir()
    elif kind == "text file":
        path.write_text("notes: remember to back up the store\n" * 40)
    else:
        store = SqliteChoiceStore(path)
        store.close()
        with open(path, "r+b") as fh:
            fh.write(b"\xff" * 100)  # the header, overwritten


@pytest.mark.parametrize("kind", ["corrupt header", "text file", "directory"])
def test_a_damaged_store_at_start_costs_only_the_choices_and_recovers_with_the_file(tmp_path, model, kind):
    choices = tmp_path / "choices.sqlite3"
    _damage(choices, kind)
    port = free_port()
    with running(serve_args(model, choices, port, free_port()), tmp_path / "serve.log", port) as process:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            answer = recommend(client)
            assert answer.status_code == 200
            assert answer.json()["recommendedMysfit"] in IDS
            assert "recommendationId" not in answer.json()
            refused = adopt(client, "0b5a1b8e-6a3f-4a55-9d86-2f1c5f0f6d2e")
            assert refused.status_code == 503, refused.text
            assert refused.headers.get("Retry-After")
            assert refused.headers.get("Access-Control-Allow-Origin")
            if kind == "directory":
                choices.rmdir()
            else:
                choices.unlink()
            recovered = recommend(client)
            rec_id = recovered.json().get("recommendationId")
            assert rec_id, recovered.text
            assert adopt(client, rec_id).status_code == 201
        lines = [line for line in process.output().splitlines() if DAMAGE_LINE in line]
        assert len(lines) == 1, process.output()[-3000:]
        assert str(choices) in lines[0]
