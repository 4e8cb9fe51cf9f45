"""Issue 12, items 2 and 4: the endpoint is killed under load behind `mysfits serve`.

Three things are checked on one run: while the endpoint is down every API answer is a quick JSON 503 with
Retry-After and the CORS header (never a hang, never the gateway's own bare 502); the endpoint comes back without
anyone restarting anything; and nothing is lost (every request sent got exactly one answer, the gateway logged
each one, and every 200 names the Mysfit the model's table holds for those answers).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mysfits_api.catalog import mysfit_for_label
from mysfits_api.questionnaire import cell_index
from tests.e2e.conftest import free_port, running
from tests.e2e.test_serve_cli import alive, wait_gone
from tests.endpoint_artifacts import write_artifact

pytestmark = pytest.mark.slow

ORIGIN = "http://page.example"
FAST_S = 1.0  # issue 12: "every API response arrives within 1 s"
RATE_PER_S = 10


@dataclass
class Answer:
    sent_at: float
    elapsed: float
    entry: tuple[int, ...]
    status: int | None = None
    headers: httpx.Headers | None = None
    body: object = None
    failure: str | None = None


class Load:
    """POST /recommendations at a steady rate from two keep-alive clients until stopped."""

    def __init__(self, url: str):
        self.url = url
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._entries = itertools.cycle(itertools.product(range(1, 9), repeat=5))
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30, headers={"Origin": ORIGIN}) as client:
            while not self._stop.wait(2 / RATE_PER_S):
                with self._lock:
                    entry = next(self._entries)[::-1]
                started = time.monotonic()
                answer = Answer(started, 0.0, entry)
                try:
                    response = client.post("/recommendations", json={"entry": list(entry)})
                    answer.status, answer.headers = response.status_code, response.headers
                    answer.body = response.json()
                except (httpx.HTTPError, ValueError) as exc:
                    answer.failure = repr(exc)
                answer.elapsed = time.monotonic() - started
                with self._lock:
                    self.answers.append(answer)

    def since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.sent_at >= moment]


def serve_args(model_path: Path, port: int, endpoint_port: int) -> list[str]:
    """`mysfits serve` of one model file, with the origin the ``Load`` clients send allowed by CORS."""
    args = ["serve", "--model", str(model_path), "--port", str(port), "--endpoint-port", str(endpoint_port)]
    return [*args, "--parameter-overrides", f"AllowedOrigin={ORIGIN}"]


def children_of(pid: int) -> list[int]:
    """Children of every thread of ``pid``: the supervisor thread, not the main one, starts a restarted endpoint."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(child) for child in children.read_text().split()]
    return sorted(found)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout} s")


def test_killing_the_endpoint_under_load_costs_only_quick_cors_503s_and_heals_itself(tmp_path):
    model_path = tmp_path / "model.json"
    model = write_artifact(model_path, rows=2000, seed=11)
    port, endpoint_port = free_port(), free_port()
    args = serve_args(model_path, port, endpoint_port)
    with running(args, tmp_path / "serve.log", port) as serve:
        (first_endpoint,) = children_of(serve.proc.pid)
        with Load(f"http://127.0.0.1:{port}") as load:
            wait_for(lambda: [a for a in load.answers if a.status == 200], 20, "first 200")
            killed_at = time.monotonic()
            os.kill(first_endpoint, signal.SIGKILL)
            wait_for(lambda: [a for a in load.since(killed_at) if a.status == 503], 10, "503 after the kill")
            recovered = wait_for(
                lambda: [a for a in load.since(killed_at) if a.status == 200], 30, "a 200 from a restarted endpoint"
            )
            time.sleep(1)  # a little load on the healed stack too
        endpoints_now = children_of(serve.proc.pid)
        log = serve.output()

    answers = load.answers
    assert not [a for a in answers if a.failure], "requests without an answer"
    during = [a for a in answers if killed_at <= a.sent_at < recovered[0].sent_at]
    assert during and all(a.status in (200, 503) for a in during), {a.status for a in during}
    for answer in answers:
        assert answer.headers is not None and answer.headers["access-control-allow-origin"] == ORIGIN
        assert answer.headers["content-type"].startswith("application/json")
        assert isinstance(answer.body, dict)
        assert answer.elapsed < FAST_S, f"{answer.status} took {answer.elapsed:.2f} s"
        if answer.status == 503:
            assert int(answer.headers["retry-after"]) > 0
            assert answer.body == {"message": "the model is busy; retry shortly"}
        else:
            assert answer.status == 200, (answer.status, answer.body)
            expected = mysfit_for_label(model.table[cell_index(answer.entry)]).id
            assert answer.body["modelPick"] == expected

    # Healed by itself: a new endpoint process, announced on stderr.
    assert endpoints_now and endpoints_now != [first_endpoint] and not alive(first_endpoint)
    assert "endpoint: exited with code -9; restarting in" in log
    assert "endpoint: restarted (pid" in log
    # Nothing lost: the gateway logged one line for each request the clients sent.
    assert log.count("POST /recommendations ") == len(answers)
    assert all(wait_gone(pid) for pid in endpoints_now)


def test_sigterm_stops_serve_like_ctrl_c_at_any_stage(tmp_path):
    """Item 4: during start-up (training) and while serving, SIGTERM cleans up and exits as Ctrl-C does."""
    from tests.e2e.conftest import start, wait_for_http

    model_path = tmp_path / "model.json"
    write_artifact(model_path, rows=500, seed=2)
    port, endpoint_port = free_port(), free_port()
    serving = start(
        ["serve", "--model", str(model_path), "--port", str(port), "--endpoint-port", str(endpoint_port)],
        tmp_path / "serving.log",
    )
    try:
        wait_for_http(serving, port)
        (endpoint,) = children_of(serving.proc.pid)
        serving.proc.send_signal(signal.SIGTERM)
        assert serving.proc.wait(20) == 0
    finally:
        serving.kill()
    assert "stopped" in serving.output() and wait_gone(endpoint)

    # Before anything is served: the data set is being generated and a model trained.
    fresh = ["serve", "--model", str(tmp_path / "new.json"), "--data", str(tmp_path / "d.csv")]
    fresh += ["--port", str(free_port()), "--endpoint-port", str(free_port())]
    starting = start(fresh, tmp_path / "starting.log")
    try:
        wait_for(lambda: "training" in starting.output() or "generat" in starting.output(), 60, "start-up output")
        starting.proc.send_signal(signal.SIGTERM)
        sent_after = starting.output()
        try:
            code = starting.proc.wait(30)
        except subprocess.TimeoutExpired:
            # Start-up went on to serve as if no signal had come when the signal's KeyboardInterrupt was raised inside
            # numpy's lazy import of numpy.random (see mysfits.stopping). Keep what it printed, to tell a new cause.
            code = None
    finally:
        starting.kill()
    assert code == 130, f"printed when SIGTERM was sent:\n{sent_after}\nin all:\n{starting.output()}"
    assert starting.output().strip().splitlines()[-1] == "mysfits serve: interrupted"
    assert "Traceback" not in starting.output()
    assert not list(tmp_path.glob(".new.json.*")) and not (tmp_path / "new.json").exists()


HUNG_IN_FLIGHT_S = 6.0
"""Issue 22, item 9: three missed pings, one a second with a 1 s timeout, then the hung endpoint is killed at once."""


def test_a_hung_endpoint_costs_the_request_it_holds_a_few_seconds_and_every_other_one_a_quick_503(tmp_path):
    """SIGSTOP leaves the endpoint's port open and silent. The request already sent to it waits until the
    supervisor gives up on the pings and kills the process (it held one for 10-12 s while a SIGTERM that a
    stopped process cannot act on was given 8 s); every other request meanwhile is a quick 503."""
    model_path = tmp_path / "model.json"
    write_artifact(model_path, rows=2000, seed=12)
    port, endpoint_port = free_port(), free_port()
    args = serve_args(model_path, port, endpoint_port)
    with running(args, tmp_path / "serve.log", port) as serve:
        (endpoint,) = children_of(serve.proc.pid)
        with Load(f"http://127.0.0.1:{port}") as load:
            wait_for(lambda: [a for a in load.answers if a.status == 200], 20, "first 200")
            stopped_at = time.monotonic()
            os.kill(endpoint, signal.SIGSTOP)
            recovered = wait_for(
                lambda: [a for a in load.since(stopped_at + HUNG_IN_FLIGHT_S) if a.status == 200],
                30,
                "a 200 from the endpoint that replaced the hung one",
            )
        log = serve.output()

    assert not [a for a in load.answers if a.failure], "requests without an answer"
    during = [a for a in load.answers if stopped_at - 1 <= a.sent_at < recovered[0].sent_at]
    slow = [a for a in during if a.elapsed >= FAST_S]
    assert len(slow) <= 2, [(a.status, round(a.elapsed, 2)) for a in slow]  # one in flight per client at most
    for answer in during:
        assert answer.status in (200, 503), (answer.status, answer.body)
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert answer.elapsed < HUNG_IN_FLIGHT_S, f"{answer.status} took {answer.elapsed:.2f} s"
    assert [a for a in during if a.status == 503]
    assert "endpoint: no answer to 3 pings in a row; killing it to start a new one" in log
    assert not alive(endpoint)
