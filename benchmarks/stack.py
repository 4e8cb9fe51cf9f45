"""The local stack end to end: API round trip latency and throughput, and `make run` time to ready.

Everything runs as `make run` runs it (`mysfits serve` in a child process: gateway, the real
Lambda handler, boto3, and the endpoint process), on loopback. The client shares the
machine's cores with the servers, so the throughput figures are a floor, not a ceiling.
The endpoint-only figures are measured in the same run against the same endpoint process,
so the ratio is the cost of the API layer (gateway + handler + boto3).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEQUENTIAL_REQUESTS = 400
WARMUP_REQUESTS = 50
CONCURRENCY = 8
LOAD_SECONDS = 3.0
ENDPOINT_NAME = "mysfits-knn"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _wait_ready(proc: subprocess.Popen, port: int, timeout: float = 300.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"mysfits serve exited with {proc.returncode} before it was ready")
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"mysfits serve was not ready within {timeout} s")


@contextlib.contextmanager
def _running(command: list[str], log: Path, port: int) -> Iterator[None]:
    """`mysfits serve` as ``command`` with its output in ``log``, ready on ``port``; Ctrl-C on leaving, then kill."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, cwd=REPO, env=_env(), stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        _wait_ready(proc, port)
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def serve_with_limits(work: Path, model: Path, limit: str) -> Iterator[int]:
    """`mysfits serve --workers 2` on a free port with ``--client-limit limit``; its store is
    ``work/choices-{limit}.sqlite3`` and its log ``work/serve-{limit}.log``. Yields the port."""
    port, endpoint_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "mysfits", "serve", "--model", str(model), "--quiet", "--workers", "2"]
    command += ["--port", str(port), "--endpoint-port", str(endpoint_port), "--client-limit", limit]
    command += ["--choices", str(work / f"choices-{limit}.sqlite3")]
    with _running(command, work / f"serve-{limit}.log", port):
        yield port


@contextlib.contextmanager
def _serve(model: Path, data: Path, trains: bool) -> Iterator[tuple[int, int, float]]:
    """Start `mysfits serve`; yields (gateway port, endpoint port, seconds until the page answered)."""
    port, endpoint_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "mysfits", "serve", "--model", str(model), "--data", str(data), "--quiet"]
    command += ["--client-limit", "off"]  # a load test from one address: the limits per client would refuse it
    command += ["--port", str(port), "--endpoint-port", str(endpoint_port)]
    command += ["--choices", str(model.parent.parent / f"choices-{port}.sqlite3")]
    log = model.parent.parent / f"serve-{port}.log"
    started = time.monotonic()
    with _running(command, log, port):
        ready = time.monotonic() - started
        if trains != ("no model at" in log.read_text()):
            raise RuntimeError(f"expected this run {'' if trains else 'not '}to train; see {log}")
        yield port, endpoint_port, ready


def _api_call(port: int) -> Callable[[], None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    rng = random.Random(port)

    def call() -> None:
        body = json.dumps({"entry": [rng.randint(1, 8) for _ in range(5)]})
        connection.request("POST", "/recommendations", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"POST /recommendations answered {response.status}")

    return call


def _endpoint_call(port: int) -> Callable[[], None]:
    """What the handler sends, minus the handler: a CSV row to SageMaker Runtime's path, over raw HTTP."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    rng = random.Random(port)
    path = f"/endpoints/{ENDPOINT_NAME}/invocations"

    def call() -> None:
        row = ",".join(str(rng.randint(1, 8)) for _ in range(5))
        connection.request("POST", path, row, {"Content-Type": "text/csv", "Accept": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"the endpoint answered {response.status}")

    return call


def _boto3_call(port: int) -> Callable[[], None]:
    import boto3

    client = boto3.client(
        "sagemaker-runtime",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - the local endpoint checks nothing
    )
    rng = random.Random(port)

    def call() -> None:
        row = ",".join(str(rng.randint(1, 8)) for _ in range(5))
        client.invoke_endpoint(EndpointName=ENDPOINT_NAME, ContentType="text/csv", Body=row)["Body"].read()

    return call


def _latencies_ms(call: Callable[[], None]) -> list[float]:
    for _ in range(WARMUP_REQUESTS):
        call()
    samples = []
    for _ in range(SEQUENTIAL_REQUESTS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _throughput(make_call: Callable[[], Callable[[], None]]) -> float:
    calls = [make_call() for _ in range(CONCURRENCY)]
    for call in calls:
        call()
    counts = [0] * CONCURRENCY
    errors: list[BaseException] = []
    deadline = time.perf_counter() + LOAD_SECONDS

    def worker(index: int) -> None:
        try:
            while time.perf_counter() < deadline:
                calls[index]()
                counts[index] += 1
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts) / (time.perf_counter() - started)


def _pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def run() -> str:
    workdir = Path(tempfile.mkdtemp(prefix="mysfits-bench-stack-"))
    model, data = workdir / "models" / "mysfits-knn.json", workdir / "data" / "answers.csv"
    try:
        model.parent.mkdir(parents=True)
        with _serve(model, data, trains=True) as (_, _, first_ready):
            pass
        with _serve(model, data, trains=False) as (port, endpoint_port, second_ready):
            api = _latencies_ms(_api_call(port))
            raw = _latencies_ms(_endpoint_call(endpoint_port))
            boto = _latencies_ms(_boto3_call(endpoint_port))
            api_rps = _throughput(lambda: _api_call(port))
            raw_rps = _throughput(lambda: _endpoint_call(endpoint_port))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = [
        ("API round trip: page → gateway → handler → boto3 → endpoint", api),
        ("endpoint only, boto3 `invoke_endpoint` (baseline)", boto),
        ("endpoint only, raw HTTP", raw),
    ]
    lines = [
        "## Local stack (`make run`)",
        "",
        "Command: `python -m benchmarks stack`. `mysfits serve` runs as `make run` starts it; "
        f"one keep-alive client sends {SEQUENTIAL_REQUESTS} `POST /recommendations` after {WARMUP_REQUESTS} warm-up "
        f"requests, then {CONCURRENCY} clients for {LOAD_SECONDS:.0f} s. The load generator shares the cores.",
        "",
        "| path | p50 ms | p90 ms | p99 ms | p50 vs boto3 baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    base = statistics.median(boto)
    for name, samples in rows:
        p50 = statistics.median(samples)
        lines.append(f"| {name} | {p50:.2f} | {_pct(samples, 90):.2f} | {_pct(samples, 99):.2f} | {p50 / base:.2f}× |")
    lines += [
        "",
        f"Goal for the API round trip: p50 ≤ 5 ms; measured {statistics.median(api):.2f} ms.",
        "",
        f"| throughput at c={CONCURRENCY} | requests/s | vs endpoint only |",
        "|---|---:|---:|",
        f"| API round trip | {api_rps:,.0f} | {api_rps / raw_rps:.2f}× |",
        f"| endpoint only, raw HTTP (baseline) | {raw_rps:,.0f} | 1.00× |",
        "",
        "| `make run` time to ready (page answers) | seconds |",
        "|---|---:|",
        f"| first run: no data, no model (generate 1M rows, train, start) | {first_ready:.1f} |",
        f"| second run: model present | {second_ready:.1f} |",
        f"| ratio | {first_ready / second_ready:.1f}× |",
        "",
        "Both exclude creating `.venv` and `pip install`, which `make run` does once on a fresh clone.",
    ]
    return "\n".join(lines)
