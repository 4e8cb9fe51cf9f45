"""`mysfits serve` as `make run` uses it: busy ports, Ctrl-C, restarts, no orphans."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, child_env, free_port, running, start, wait_for_http

pytestmark = pytest.mark.slow


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`mysfits serve` run to completion (these tests expect it to stop); its store goes to a fresh temp dir."""
    store = Path(tempfile.mkdtemp(prefix="mysfits-choices-")) / "choices.sqlite3"
    return subprocess.run(
        [sys.executable, "-m", "mysfits", "serve", "--choices", str(store), *args],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(("flag", "variable"), [("--port", "PORT"), ("--endpoint-port", "ENDPOINT_PORT")])
def test_a_busy_port_is_one_clear_line_and_nothing_is_written(tmp_path, flag, variable):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        ports = {"--port": str(free_port()), "--endpoint-port": str(free_port()), flag: str(taken)}
        model, data = tmp_path / "m.json", tmp_path / "d.csv"
        done = serve("--model", str(model), "--data", str(data), *[x for kv in ports.items() for x in kv])
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {taken} on 127.0.0.1" in lines[0]
    assert f"make run {variable}={taken + 1}" in lines[0]
    assert f"mysfits serve {flag} {taken + 1}" in lines[0]
    assert not model.exists() and not data.exists()


def test_ctrl_c_stops_everything_and_a_second_run_reuses_the_model(stack, tmp_path):
    model = tmp_path / "model.json"
    shutil.copy(stack.model, model)
    before = model.read_bytes()
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(model), "--port", str(port), "--endpoint-port", str(endpoint_port)]
    started = time.monotonic()
    process = start(args, tmp_path / "serve.log")
    try:
        wait_for_http(process, port)
        ready_s = time.monotonic() - started
        (endpoint_pid,) = children_of(process.proc.pid)
        assert alive(endpoint_pid)
        code = process.interrupt()
    finally:
        process.kill()
    output = process.output()
    assert code == 0, output
    assert "training" not in output and "no model" not in output
    assert wait_gone(endpoint_pid), "the endpoint process outlived mysfits serve"
    assert port_free(port) and port_free(endpoint_port)
    assert model.read_bytes() == before
    assert ready_s < 30, f"a run with a model took {ready_s:.1f} s to be ready"
    assert list(tmp_path.glob(".model.json.*")) == []


def test_the_endpoint_dies_with_a_killed_parent(stack, tmp_path):
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(stack.model), "--port", str(port), "--endpoint-port", str(endpoint_port)]
    with running(args, tmp_path / "serve.log", port) as process:
        (endpoint_pid,) = children_of(process.proc.pid)
        process.proc.send_signal(signal.SIGKILL)  # no chance to clean up
        process.proc.wait()
        gone = wait_gone(endpoint_pid)
        if not gone:
            os.kill(endpoint_pid, signal.SIGKILL)  # do not leave it behind for the next test
        assert gone, "the endpoint was orphaned"


def test_a_damaged_model_is_reported_and_kept(tmp_path):
    model = tmp_path / "model.json"
    model.write_text('{"format": "something else"}')
    done = serve("--model", str(model), "--port", str(free_port()), "--endpoint-port", str(free_port()))
    assert done.returncode == 2
    assert "not a mysfits-knn-model file" in done.stderr
    assert "Delete it to retrain" in done.stderr
    assert model.read_text() == '{"format": "something else"}'


def test_bad_parameter_overrides_name_the_parameter(tmp_path):
    done = serve("--parameter-overrides", "AllowedOrigin=not-a-url", "--port", str(free_port()))
    assert done.returncode == 2
    assert "AllowedOrigin='not-a-url'" in done.stderr


FIXTURE_TEMPLATE = REPO / "tests" / "fixtures" / "gateway" / "template.yaml"


def answers_in_parallel(port: int, count: int) -> list[tuple[str, dict]]:
    """``count`` requests at once, each on its own connection, each with its own query: (what was sent, answer)."""
    import concurrent.futures
    import http.client
    import json

    def one(number: int) -> tuple[str, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", f"/fail/nap?n={number}")
            return str(number), json.loads(connection.getresponse().read())
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_are_processes_that_each_answer_their_own_requests(tmp_path, workers):
    port = free_port()
    args = ["serve", "--template", str(FIXTURE_TEMPLATE), "--endpoint-url", "http://127.0.0.1:9"]
    args += ["--port", str(port), "--workers", str(workers), "--quiet"]
    with running(args, tmp_path / "serve.log", port, ready_path="/items/latest") as process:
        workers_now = children_of(process.proc.pid) if workers > 1 else [process.proc.pid]
        assert len(workers_now) == workers
        seen: set[int] = set()
        for _ in range(10):  # the kernel picks the process for each connection; give it a few rounds to spread
            for sent, answer in answers_in_parallel(port, 24):
                assert answer["event"]["queryStringParameters"] == {"n": sent}
                seen.add(answer["pid"])
            if len(seen) == workers:
                break
        assert seen == set(workers_now)
        output = process.output()
        assert "3 gateway processes" in output if workers == 3 else "gateway processes" not in output
        assert process.interrupt() == 0
    assert all(wait_gone(pid) for pid in workers_now), "a worker outlived mysfits serve"
    assert "Traceback" not in process.output()


def test_workers_must_be_a_positive_number(tmp_path):
    done = serve("--workers", "0", "--port", str(free_port()))
    assert done.returncode == 2
    assert "--workers: expected a number of at least 1, got 0" in done.stderr


def test_the_local_stack_serves_a_one_hot_model_end_to_end(tmp_path):
    """`mysfits serve` with a one-hot model: the handler is told the served model's encoding, not samconfig's."""
    import json
    import urllib.request

    from mysfits.model import dataset as ds
    from mysfits.model import training
    from mysfits.model.artifact import save_model
    from mysfits_api.questionnaire import cell_index

    data = ds.generate(30_000, seed=9, preferences="categorical")
    model = training.train_model(data, k=10, sample_size=20_000, seed=3, encoding="one-hot")
    path = save_model(model, tmp_path / "one-hot.json")
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(path), "--port", str(port), "--endpoint-port", str(endpoint_port)]
    with running(args, tmp_path / "serve.log", port):
        for answers in [(1, 1, 1, 1, 1), (3, 7, 1, 5, 8)]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/recommendations",
                data=json.dumps({"entry": list(answers)}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                body = json.loads(response.read())
            assert body["modelPick"] == model.labels[model.table[cell_index(answers)]]["id"]
            assert body["why"]["neighbours"] == 10
