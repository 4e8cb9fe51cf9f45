"""Starting, refusing to start, swapping models while serving, and stopping: in-process and as `mysfits endpoint`."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mysfits.local.endpoint.server import serve_in_thread
from mysfits.model.artifact import ArtifactError, save_model
from mysfits_api.questionnaire import cell_index
from tests.api_support import local_runtime_client
from tests.endpoint_artifacts import make_artifact, write_artifact

SRC = Path(__file__).resolve().parents[2] / "src"


def predict(client, name: str, rows) -> list[int]:
    body = "\n".join(",".join(map(str, row)) for row in rows)
    response = client.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)
    return [int(p["predicted_label"]) for p in json.loads(response["Body"].read())["predictions"]]


def wait_until(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def rows_where_tables_differ(old, new, count=20):
    import itertools

    rows = [row for row in itertools.product(range(1, 9), repeat=5) if old[cell_index(row)] != new[cell_index(row)]]
    assert len(rows) >= count, "the two test models should disagree somewhere"
    return rows[:count]


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# -- in-process ---------------------------------------------------------------------------------------------------


def test_refuses_to_start_without_a_model(tmp_path):
    with pytest.raises(ArtifactError, match="no model file here"):
        serve_in_thread(str(tmp_path / "missing.json"))


def test_refuses_to_start_on_a_corrupt_model(tmp_path):
    path = tmp_path / "model.json"
    write_artifact(path, rows=500)
    path.write_bytes(path.read_bytes()[:-200])  # truncated, as by a crashed copy
    with pytest.raises(ArtifactError, match="truncated"):
        serve_in_thread(str(path))


def test_a_new_artifact_at_the_same_path_is_served_without_restart(tmp_path, caplog):
    caplog.set_level("INFO", logger="mysfits.local.endpoint")
    path = tmp_path / "model.json"
    old = write_artifact(path, seed=1)
    new = make_artifact(seed=2)
    rows = rows_where_tables_differ(old.table, new.table)
    with serve_in_thread(str(path), "swap-test", refresh_interval=0.05) as endpoint:
        client = local_runtime_client(endpoint.url)
        assert predict(client, "swap-test", rows) == [old.table[cell_index(r)] for r in rows]

        save_model(new, path)
        wait_until(lambda: endpoint.model.version == new.version, what="the new model to be picked up")
        assert predict(client, "swap-test", rows) == [new.table[cell_index(r)] for r in rows]

    reloads = [json.loads(r.getMessage()) for r in caplog.records if '"model_reloaded"' in r.getMessage()]
    assert reloads[-1]["previous_version"] == old.version
    assert reloads[-1]["model_version"] == new.version


def test_a_bad_new_file_keeps_the_old_model_serving_and_logs_why(tmp_path, caplog):
    caplog.set_level("INFO", logger="mysfits.local.endpoint")
    path = tmp_path / "model.json"
    old = write_artifact(path, seed=1)
    rows = [(1, 2, 3, 4, 5), (8, 1, 8, 1, 8)]
    with serve_in_thread(str(path), "keep-test", refresh_interval=0.05) as endpoint:
        client = local_runtime_client(endpoint.url)
        write_atomically(path, b'{"format": "mysfits-knn-model", "format_version": 1, "checksum": "sha256:00"}')

        def failure_logged():
            return [json.loads(r.getMessage()) for r in caplog.records if '"model_reload_failed"' in r.getMessage()]

        failures = wait_until(failure_logged, what="the reload failure to be logged")
        assert "checksum mismatch" in failures[0]["error"]
        assert failures[0]["serving_version"] == old.version
        assert endpoint.model.version == old.version
        assert predict(client, "keep-test", rows) == [old.table[cell_index(r)] for r in rows]

        fixed = make_artifact(seed=3)
        save_model(fixed, path)
        wait_until(lambda: endpoint.model.version == fixed.version, what="the fixed model to be picked up")
        assert len(failure_logged()) == 1  # an unchanged bad file is not reloaded (and logged) every interval


def test_refresh_on_request_reloads_even_an_unchanged_file(tmp_path):
    path = tmp_path / "model.json"
    write_artifact(path, seed=1)
    with serve_in_thread(str(path), refresh_interval=60) as endpoint:
        first = endpoint.model
        assert endpoint.refresh() is True
        assert endpoint.model is not first
        assert endpoint.model.version == first.version


def test_two_endpoints_can_run_side_by_side(tmp_path):
    path = tmp_path / "model.json"
    model = write_artifact(path, seed=4)
    with serve_in_thread(str(path), "one") as one, serve_in_thread(str(path), "two") as two:
        assert one.url != two.url
        row = (4, 4, 4, 4, 4)
        assert predict(local_runtime_client(one.url), "one", [row]) == predict(
            local_runtime_client(two.url), "two", [row]
        )
        assert predict(local_runtime_client(two.url), "two", [row]) == [model.table[cell_index(row)]]


# -- the command line ---------------------------------------------------------------------------------------------


class Process:
    """`mysfits endpoint` in a child process, with its stderr log lines collected as they come."""

    def __init__(self, *args: str):
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mysfits", "endpoint", *args],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def event(self, name: str, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if line.startswith("{") and json.loads(line).get("event") == name:
                return json.loads(line)
        raise AssertionError(f"no {name!r} log line within {timeout} s; stderr so far: {''.join(self.seen)}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def test_command_refuses_a_missing_model_with_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "mysfits", "endpoint", "--model", "/nonexistent/model.json", "--port", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mysfits endpoint: error: cannot serve the model: /nonexistent/model.json: no model file here; "
        "train one with `mysfits train`"
    ]


def test_command_refuses_a_port_in_use_with_one_line(tmp_path):
    import socket

    path = tmp_path / "model.json"
    write_artifact(path, rows=500)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mysfits", "endpoint", "--model", str(path), "--port", str(port)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(SRC)},
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"mysfits endpoint: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


@pytest.mark.slow
def test_command_serves_reloads_on_sighup_and_stops_gracefully(tmp_path):
    path = tmp_path / "model.json"
    old = write_artifact(path, seed=1)
    new = make_artifact(seed=2)
    rows = rows_where_tables_differ(old.table, new.table, count=5)
    process = Process("--model", str(path), "--name", "cli-test", "--port", "0", "--refresh-interval", "3600")
    try:
        started = process.event("endpoint_started")
        assert started["model_version"] == old.version
        assert started["k"] == old.k
        assert started["sample_size"] == old.sample_size
        assert started["metrics"] == old.metrics
        client = local_runtime_client(started["url"])
        assert predict(client, "cli-test", rows) == [old.table[cell_index(r)] for r in rows]
        request = process.event("request")
        assert (request["status"], request["rows"], request["content_type"]) == (200, len(rows), "text/csv")

        save_model(new, path)  # the hour-long refresh interval leaves SIGHUP as the only trigger
        process.proc.send_signal(signal.SIGHUP)
        reloaded = process.event("model_reloaded")
        assert reloaded["model_version"] == new.version
        assert predict(client, "cli-test", rows) == [new.table[cell_index(r)] for r in rows]

        process.proc.send_signal(signal.SIGTERM)
        process.event("endpoint_stopped")
        assert process.proc.wait(10) == 0
    finally:
        process.stop()


def test_direct_knn_past_the_model_timeout_is_a_server_model_error(tmp_path):
    path = tmp_path / "model.json"
    model = write_artifact(path, seed=5)
    with serve_in_thread(str(path), "slow-test", model_timeout=0) as endpoint:
        client = local_runtime_client(endpoint.url)
        with pytest.raises(client.exceptions.ModelError) as caught:
            client.invoke_endpoint(
                EndpointName="slow-test",
                ContentType="text/csv",
                Accept="application/json;verbose=true",
                Body="1,2,3,4,5",
            )
        assert caught.value.response["OriginalStatusCode"] == 504
        assert "Received server error (504) from primary" in caught.value.response["Error"]["Message"]
        assert "did not answer within 0 s" in caught.value.response["OriginalMessage"]
        # Table look-ups need no kNN, so they still answer.
        assert predict(client, "slow-test", [(1, 2, 3, 4, 5)]) == [model.table[cell_index((1, 2, 3, 4, 5))]]


def test_keep_alive_round_trips_do_not_stall_on_delayed_acks(tmp_path):
    """Without TCP_NODELAY a response's two writes wait ~40 ms for the client's delayed ACK, on every request."""
    import statistics

    import httpx

    path = tmp_path / "model.json"
    write_artifact(path, rows=500)
    with serve_in_thread(str(path)) as endpoint, httpx.Client(base_url=endpoint.url) as http:
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            http.post("/invocations", content="1,2,3,4,5", headers={"content-type": "text/csv"}).raise_for_status()
            timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.02, f"median round trip {statistics.median(timings) * 1000:.1f} ms"
