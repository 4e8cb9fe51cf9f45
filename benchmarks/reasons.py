"""What the ``why`` field costs: verbose kNN answers against plain ones, straight to the endpoint and through the API.

A plain answer is a look-up in the model's compiled table; a verbose one runs the kNN over the
training sample to find the neighbours. The endpoint runs in its own process (``mysfits endpoint``)
with k=10 over a 100,000-row sample, like the default model. Straight to the endpoint, a real boto3
sagemaker-runtime client asks with ``Accept: application/json`` and with ``application/json;
verbose=true``. Through the API, two gateways run as `mysfits serve --endpoint-url` runs (own
process, real handler, boto3), one as shipped (verbose) and one whose ``predict`` is swapped for the
plain call, which is the handler as it was before the ``why`` field. Variants alternate in small
blocks so that load from other processes falls on both alike.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3

from mysfits.model import dataset
from mysfits.model.artifact import save_model
from mysfits.model.training import train_model

REPO = Path(__file__).resolve().parent.parent
K = 10
SAMPLE_SIZE = 100_000
BLOCKS = 20
PER_BLOCK = 25
ENDPOINT_NAME = "mysfits-knn"


def run() -> str:
    rng = random.Random(11)
    rows = [[rng.randint(1, 8) for _ in range(5)] for _ in range(256)]
    with tempfile.TemporaryDirectory(prefix="bench-reasons-") as scratch:
        model = train_model(dataset.generate(rows=120_000, seed=0), k=K, sample_size=SAMPLE_SIZE, seed=0)
        path = save_model(model, Path(scratch) / "model.json")
        port = _free_port()
        endpoint = ["endpoint", "--model", str(path), "--port", str(port), "--quiet"]
        with _STACK, _child(endpoint, port, "/ping", Path(scratch) / "endpoint.log"):
            endpoint_url = f"http://127.0.0.1:{port}"
            direct = _interleaved(_direct_calls(endpoint_url, rows))
            through_api = _interleaved(_api_calls(endpoint_url, rows, Path(scratch)))
    return _report(direct, through_api)


def _direct_calls(endpoint_url: str, rows: list[list[int]]) -> dict[str, Callable[[int], None]]:
    client = boto3.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - the local endpoint checks no signature
    )

    def call(accept: str) -> Callable[[int], None]:
        def once(i: int) -> None:
            body = ",".join(map(str, rows[i % len(rows)]))
            answer = client.invoke_endpoint(
                EndpointName=ENDPOINT_NAME, ContentType="text/csv", Accept=accept, Body=body
            )
            json.loads(answer["Body"].read())

        return once

    return {"plain": call("application/json"), "verbose": call("application/json; verbose=true")}


# The gateway as `mysfits serve --endpoint-url` runs it, in its own process. For the plain variant the child
# first replaces recommend.predict (which the handler imports) with the plain call: the handler before `why`.
GATEWAY = """
import sys
from mysfits_api import recommend
if sys.argv[1] == "plain":
    recommend.predict = lambda client, name, answers: recommend.Prediction(
        recommend.predict_label(client, name, answers))
from mysfits.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _api_calls(endpoint_url: str, rows: list[list[int]], scratch: Path) -> dict[str, Callable[[int], None]]:
    calls = {}
    for variant in ("plain", "verbose"):
        port = _free_port()
        serve = ["serve", "--endpoint-url", endpoint_url, "--port", str(port), "--quiet", "--client-limit", "off"]
        serve += ["--choices", str(scratch / f"choices-{variant}.sqlite3")]
        _STACK.enter_context(_child([variant, *serve], port, "/", scratch / f"gateway-{variant}.log", GATEWAY))
        calls[variant] = _poster(port, rows, with_why=variant == "verbose")
    return calls


def _poster(port: int, rows: list[list[int]], with_why: bool) -> Callable[[int], None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def once(i: int) -> None:
        body = json.dumps({"entry": rows[i % len(rows)]})
        connection.request("POST", "/recommendations", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        assert ("why" in answer) == with_why, answer

    return once


def _interleaved(calls: dict[str, Callable[[int], None]]) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for once in calls.values():  # warm-up: connections, caches, the handler's first call
        for i in range(20):
            once(i)
    for block in range(BLOCKS):
        for name, once in calls.items():
            for i in range(PER_BLOCK):
                started = time.perf_counter()
                once(block * PER_BLOCK + i)
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def _report(direct: dict[str, list[float]], through_api: dict[str, list[float]]) -> str:
    def row(path: str, name: str, samples: list[float], base: list[float]) -> str:
        ordered = sorted(samples)
        p95 = ordered[int(len(ordered) * 0.95)]
        extra = statistics.median(samples) - statistics.median(base)
        return f"| {path} | {name} | {statistics.median(samples):.2f} | {p95:.2f} | {extra:+.2f} |"

    n = BLOCKS * PER_BLOCK
    return "\n".join(
        [
            "## The `why` field: verbose kNN answers (`benchmarks/reasons.py`)",
            "",
            f"Command: `python -m benchmarks reasons`. {n} sequential one-row requests per variant, alternating in",
            f"blocks of {PER_BLOCK}; endpoint process with k={K} over a {SAMPLE_SIZE:,}-row sample, on loopback.",
            '"plain" is `Accept: application/json` (a table look-up); "verbose" adds `; verbose=true`',
            "(the kNN over the sample, which is what the `why` field needs).",
            "",
            "| path | request | median ms | p95 ms | median vs plain |",
            "|---|---|---:|---:|---:|",
            row("straight to the endpoint (boto3)", "plain", direct["plain"], direct["plain"]),
            row("straight to the endpoint (boto3)", "verbose", direct["verbose"], direct["plain"]),
            row(
                "through the local API (gateway + handler + boto3)", "plain", through_api["plain"], through_api["plain"]
            ),
            row(
                "through the local API (gateway + handler + boto3)",
                "verbose",
                through_api["verbose"],
                through_api["plain"],
            ),
        ]
    )


_STACK = contextlib.ExitStack()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _child(args: list[str], port: int, ready_path: str, log: Path, code: str | None = None) -> Iterator[None]:
    """A `mysfits` child process (or ``code`` run with ``args``), stopped on exit; ready once ready_path answers 200."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, *(["-c", code] if code else ["-m", "mysfits"]), *args]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{args} exited with {proc.returncode}: {log.read_text()}")
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", ready_path)
                if connection.getresponse().status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args} did not answer {ready_path} within 120 s")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(30)
