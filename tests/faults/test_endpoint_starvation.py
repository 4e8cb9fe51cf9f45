"""Issue 22, item 5: big verbose batches sent straight to the endpoint must not starve the visitors' requests.

Before: six parallel verbose CSV requests of 6,000 rows each took 47 s each, every API request meanwhile got 504
after 20 s, and ``/ping`` kept answering 200, so the supervisor never acted. Now one request's direct-kNN work is
bounded, visitors' one-row requests have a lane of their own, and ``/ping`` reports that lane stalling.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from mysfits.local.endpoint.lanes import MAX_DIRECT_ROWS, QUICK_ROWS
from mysfits.local.endpoint.server import serve_in_thread
from tests.e2e.conftest import free_port, running
from tests.endpoint_artifacts import write_artifact
from tests.faults.test_endpoint_outage import Load, serve_args

pytestmark = pytest.mark.slow

VERBOSE = "application/json; verbose=true"
BESIDE_BATCHES_S = 2.0
"""docs/reliability.md's promise: beside any number of direct-kNN batches, an API answer takes at most this long."""


def _csv(rows: int, row: str = "1,2,3,4,5") -> bytes:
    return (f"{row}\n" * rows).encode()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("starvation") / "model.json"
    write_artifact(path, rows=3000, seed=8)
    with serve_in_thread(str(path), "mysfits-knn") as handle:
        yield handle


def _invoke(endpoint, body: bytes, accept: str, runtime: bool = True) -> httpx.Response:
    path = "/endpoints/mysfits-knn/invocations" if runtime else "/invocations"
    headers = {"Content-Type": "text/csv", "Accept": accept}
    return httpx.post(endpoint.url + path, content=body, headers=headers, timeout=60)


def test_one_request_may_ask_the_direct_knn_for_a_bounded_number_of_rows(endpoint):
    at_limit = _invoke(endpoint, _csv(MAX_DIRECT_ROWS), VERBOSE)
    assert at_limit.status_code == 200 and len(at_limit.json()["predictions"]) == MAX_DIRECT_ROWS

    over = _invoke(endpoint, _csv(MAX_DIRECT_ROWS + 1), VERBOSE)
    assert over.status_code == 424, over.text[:300]  # SageMaker's ModelError, quoting the model's 400
    message = over.json()["OriginalMessage"]
    assert f"{MAX_DIRECT_ROWS + 1:,} rows (verbose answers)" in message and f"at most {MAX_DIRECT_ROWS:,}" in message

    container = _invoke(endpoint, _csv(MAX_DIRECT_ROWS + 1), VERBOSE, runtime=False)
    assert container.status_code == 400 and f"at most {MAX_DIRECT_ROWS:,}" in container.text

    off_grid = _invoke(endpoint, _csv(MAX_DIRECT_ROWS + 1, "1.5,2,3,4,5"), "application/json")
    assert off_grid.status_code == 424 and "rows off the 1..8 answer grid" in off_grid.json()["OriginalMessage"]

    # Rows on the grid without verbose=true are table look-ups: no bound but the 6 MB payload.
    plain = _invoke(endpoint, _csv(50 * MAX_DIRECT_ROWS), "application/json")
    assert plain.status_code == 200 and len(plain.json()["predictions"]) == 50 * MAX_DIRECT_ROWS


def test_ping_answers_503_while_a_visitors_request_is_stalled(tmp_path):
    """The supervisor of ``mysfits serve`` counts anything but 200 as a missed ping and replaces the endpoint."""
    path = tmp_path / "model.json"
    write_artifact(path, rows=500, seed=9)
    with serve_in_thread(str(path), "mysfits-knn", stalled_after_s=0.3) as handle:
        assert httpx.get(handle.url + "/ping").status_code == 200
        release = threading.Event()
        stuck = threading.Thread(target=asyncio.run, args=(handle.app.lanes.run(1, release.wait, 30),))
        stuck.start()
        try:
            time.sleep(0.5)
            ping = httpx.get(handle.url + "/ping")
            assert ping.status_code == 503 and "has waited" in ping.text
        finally:
            release.set()
            stuck.join(5)
        assert httpx.get(handle.url + "/ping").status_code == 200
        # A big batch may take seconds in its own lane without being called a stall.
        batch = threading.Thread(target=asyncio.run, args=(handle.app.lanes.run(QUICK_ROWS + 1, time.sleep, 0.8),))
        batch.start()
        time.sleep(0.5)
        assert httpx.get(handle.url + "/ping").status_code == 200
        batch.join(5)


def test_visitors_are_answered_quickly_beside_big_verbose_batches(tmp_path):
    model = tmp_path / "model.json"
    write_artifact(model, rows=3000, seed=10)
    port, endpoint_port = free_port(), free_port()
    args = [*serve_args(model, port, endpoint_port), "--quiet"]
    with running(args, tmp_path / "serve.log", port) as serve:
        stop = threading.Event()
        batches: list[int] = []

        def flood() -> None:
            with httpx.Client(timeout=120) as client:
                while not stop.is_set():
                    response = client.post(
                        f"http://127.0.0.1:{endpoint_port}/endpoints/mysfits-knn/invocations",
                        content=_csv(MAX_DIRECT_ROWS, "2,7,1,8,2"),
                        headers={"Content-Type": "text/csv", "Accept": VERBOSE},
                    )
                    batches.append(response.status_code)

        # Twice as many batches in flight as asyncio's default pool has threads on two cores: with one shared pool,
        # a visitor's request queued behind six of them.
        flooders = [threading.Thread(target=flood, daemon=True) for _ in range(12)]
        for thread in flooders:
            thread.start()
        try:
            time.sleep(1.0)  # every flooder has a batch in flight or queued
            with Load(f"http://127.0.0.1:{port}") as load:
                time.sleep(8.0)
        finally:
            stop.set()
            for thread in flooders:
                thread.join(120)
        answers = load.answers
        assert len(answers) >= 20, [a.failure for a in answers]
        slow = [(round(a.elapsed, 2), a.status, a.failure) for a in answers if a.elapsed > BESIDE_BATCHES_S]
        assert not slow, slow
        assert {a.status for a in answers} == {200}, [(a.status, a.body) for a in answers if a.status != 200]
        # The batches were answered too, not merely pushed aside.
        assert batches.count(200) >= 12 and set(batches) == {200}, batches
        assert "Traceback" not in serve.output()


def test_visitors_are_answered_beside_big_plain_batches(tmp_path):
    """Issue 30, item 5: six parallel 6 MB batches of plain grid rows (table look-ups, no direct kNN) were parsed,
    looked up and answered on asyncio's shared pool all at once, and 99 of 159 API requests got 503. Every big
    request now does that work in the batch lane, one at a time."""
    model = tmp_path / "model.json"
    write_artifact(model, rows=3000, seed=11)
    port, endpoint_port = free_port(), free_port()
    args = [*serve_args(model, port, endpoint_port), "--quiet"]
    with running(args, tmp_path / "serve.log", port) as serve:
        stop = threading.Event()
        batches: list[int] = []
        body = _csv(580_000, "3,1,4,1,5")  # 5.8 MB, under the 6 MB payload limit

        def flood() -> None:
            with httpx.Client(timeout=120) as client:
                while not stop.is_set():
                    response = client.post(
                        f"http://127.0.0.1:{endpoint_port}/endpoints/mysfits-knn/invocations",
                        content=body,
                        headers={"Content-Type": "text/csv", "Accept": "application/json"},
                    )
                    batches.append(response.status_code)

        flooders = [threading.Thread(target=flood, daemon=True) for _ in range(6)]
        for thread in flooders:
            thread.start()
        try:
            time.sleep(1.0)
            with Load(f"http://127.0.0.1:{port}") as load:
                time.sleep(8.0)
        finally:
            stop.set()
            for thread in flooders:
                thread.join(120)
        answers = load.answers
        assert len(answers) >= 20, [a.failure for a in answers]
        assert {a.status for a in answers} == {200}, [(a.status, a.body) for a in answers if a.status != 200]
        slow = [(round(a.elapsed, 2), a.status) for a in answers if a.elapsed > BESIDE_BATCHES_S]
        assert not slow, slow
        assert batches.count(200) >= 6 and set(batches) == {200}, batches
        assert "Traceback" not in serve.output()
