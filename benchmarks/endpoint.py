"""Local endpoint vs the common bring-your-own baseline (Flask + scikit-learn), one-row requests at concurrency 8.

Both servers run as their own processes and serve the same 100,000-row training sample (k=10); the load comes from a
third process on loopback: Debian's ``wrk`` (installed with apt-get when missing), or, when it cannot be had, a
small asyncio HTTP/1.1 client (which saturates sooner, so the table says which one ran). Each measurement is a short
warm-up and an ~8 s run; requests rotate through 256 different answer vectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from mysfits.model import dataset
from mysfits.model.artifact import save_model
from mysfits.model.training import train_model

CONNECTIONS = 8
SECONDS = 8
WARMUP_SECONDS = 2
SAMPLE_SIZE = 100_000
K = 10
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def run() -> str:
    client, load = _load_generator()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-endpoint-") as tmp:
        model_path = Path(tmp) / "model.json"
        model = train_model(dataset.generate(rows=120_000, seed=0), k=K, sample_size=SAMPLE_SIZE, seed=0)
        save_model(model, model_path)
        rows = [",".join(map(str, row)) + "\n" for row in np.random.default_rng(1).integers(1, 9, size=(256, 5))]

        ours_cmd = [sys.executable, "-m", "mysfits", "endpoint", "--model", str(model_path), "--name", "mysfits-knn"]
        with _server(ours_cmd, Path(tmp) / "ours.log") as url:
            _check(url + "/endpoints/mysfits-knn/invocations", rows[0])
            load(url + "/endpoints/mysfits-knn/invocations", rows, WARMUP_SECONDS)
            ours = load(url + "/endpoints/mysfits-knn/invocations", rows, SECONDS)

        flask_cmd = [sys.executable, "-m", "benchmarks._flask_knn", "--model", str(model_path)]
        with _server(flask_cmd, Path(tmp) / "flask.log") as url:
            _check(url + "/invocations", rows[0])
            load(url + "/invocations", rows, WARMUP_SECONDS)
            flask = load(url + "/invocations", rows, SECONDS)

    ratio = ours.rps / flask.rps
    busy = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
    p99_goal = "met" if ours.p99_ms <= 5 else "**not met**"
    return (
        "## Local endpoint vs Flask + scikit-learn (one-row requests, concurrency 8)\n\n"
        f"Produced by `python -m benchmarks endpoint`. Load: {client}, {CONNECTIONS} keep-alive connections, "
        f"{SECONDS} s after a {WARMUP_SECONDS} s warm-up, each `POST` one `text/csv` row (256 different rows in "
        "turn), from a separate process on loopback. Each server is its own process, with its per-request log "
        f"going to a file. Model: k={K} over a {model.sample_size:,}-row training sample "
        f"(version `{model.version}`).\n\n"
        "| server | requests/s | p50 ms | p99 ms | errors |\n"
        "|---|---:|---:|---:|---:|\n"
        "| `mysfits endpoint` (uvicorn with httptools and uvloop, plain ASGI app, table look-up), "
        "`POST /endpoints/NAME/invocations` "
        f"| {ours.rps:,.0f} | {ours.p50_ms:.2f} | {ours.p99_ms:.2f} | {ours.errors} |\n"
        f"| baseline: Flask threaded dev server + `KNeighborsClassifier(n_neighbors={K}).predict`, "
        f"`POST /invocations` | {flask.rps:,.0f} | {flask.p50_ms:.2f} | {flask.p99_ms:.2f} | {flask.errors} |\n\n"
        f"Throughput ratio: **{ratio:.1f}x** the baseline (target: at least 10x). "
        f"p99 of the local endpoint: {ours.p99_ms:.2f} ms (goal: at most 5 ms at concurrency 8: {p99_goal}). "
        f"Machine load average during the run: {busy}; tail latency on a shared machine mostly measures the other "
        "processes' share of the CPU, so compare p99 figures only between runs at similar load."
    )


# -- servers -------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _server(command: list[str], log_path: Path, timeout: float = 60) -> Iterator[str]:
    """Start a server process on a free port, wait for ``GET /ping``, and stop it (SIGTERM, then kill) afterwards."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own fixed argv
            [*command, "--port", str(port)], stdout=log, stderr=log, env=env, cwd=ROOT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url, log_path, timeout)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait_ready(proc: subprocess.Popen, url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[2]} exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/ping", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.args} did not answer /ping within {timeout} s")


def _check(url: str, row: str) -> None:
    response = httpx.post(url, content=row, headers={"content-type": "text/csv"}, timeout=10)
    response.raise_for_status()
    assert "predicted_label" in response.json()["predictions"][0], response.text


# -- load generators ------------------------------------------------------------------------------------------------


def _load_generator():
    wrk = shutil.which("wrk") or _install_wrk()
    if wrk:
        banner = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout  # noqa: S603
        version = banner.split("[")[0].strip()
        return f"`{version or 'wrk'}` (`-t1 -c{CONNECTIONS}`, Lua script for the POST bodies)", _wrk_load(wrk)
    return "an asyncio HTTP/1.1 client (wrk was not available)", _asyncio_load


def _install_wrk() -> str | None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        if subprocess.run(step, capture_output=True, env=env, timeout=300).returncode != 0:  # noqa: S603
            return None
    return shutil.which("wrk")


_WRK_SCRIPT = """
local bodies = {%s}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/csv"
request = function()
  n = n %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[n])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%%d,"duration_us":%%d,"errors":%%d,"p50_us":%%d,"p99_us":%%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk_load(wrk: str):
    def load(url: str, rows: list[str], seconds: float) -> Load:
        bodies = ", ".join(json.dumps(row) for row in rows)  # JSON string literals are valid Lua strings here
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(_WRK_SCRIPT % bodies)
        try:
            command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", script.name, url]
            run = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)  # noqa: S603
            out = run.stdout
        finally:
            os.unlink(script.name)
        stats = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
        return Load(
            stats["requests"],
            stats["duration_us"] / 1e6,
            stats["p50_us"] / 1000,
            stats["p99_us"] / 1000,
            stats["errors"],
        )

    return load


def _asyncio_load(url: str, rows: list[str], seconds: float) -> Load:
    return asyncio.run(_asyncio_run(url, rows, seconds))


async def _asyncio_run(url: str, rows: list[str], seconds: float) -> Load:
    """Keep-alive HTTP/1.1 over raw streams: one coroutine per connection, each timing its own requests."""
    target = httpx.URL(url)
    requests = [
        (
            f"POST {target.raw_path.decode()} HTTP/1.1\r\nHost: {target.host}\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {len(row)}\r\n\r\n{row}"
        ).encode()
        for row in rows
    ]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def connection(offset: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(target.host, target.port)
        n = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(requests[n % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += not head.startswith(b"HTTP/1.1 200")
            n += 1
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection(i * 31) for i in range(CONNECTIONS)))
    elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return Load(len(latencies), elapsed, cuts[49] * 1000, cuts[98] * 1000, errors)
