"""`make sam-local`: the Lambda base image's cold and warm cost, SAM's start-up, and requests through its containers.

Needs root, dockerd and debootstrap (`make docker`). It deletes the cached image and tarball first, so the cold
figure is a real debootstrap; the warm figures then reuse what that built. dockerd is started by each launch (and
stopped at its end) unless one is already running, in which case it is reused as it is.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.stack import REPO, _free_port

WARM_REQUESTS = 100
ENTRY = [1, 2, 3, 4, 5]


def _image_costs(cache: Path) -> dict[str, float]:
    from mysfits.local.sam_local import base_image, engine

    costs = {}
    with engine.engine(cache / "dockerd.log"):
        client = engine.client()
        for tag in base_image.IMAGE_TAGS:
            with contextlib.suppress(Exception):
                client.images.remove(f"{base_image.IMAGE_REPOSITORY}:{tag}", force=True)
        for tarball in cache.glob("rootfs-*.tar"):
            tarball.unlink()
        costs["cold: debootstrap, runtime packages, import"] = base_image.ensure(
            client, cache, log=lambda _: None
        ).seconds
        for tag in base_image.IMAGE_TAGS:
            client.images.remove(f"{base_image.IMAGE_REPOSITORY}:{tag}", force=True)
        costs["tarball cached, image gone (a fresh dockerd): import"] = base_image.ensure(
            client, cache, log=lambda _: None
        ).seconds
        costs["warm: image present, recipe checked"] = base_image.ensure(client, cache, log=lambda _: None).seconds
    return costs


def _post(port: int) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    try:
        connection.request(
            "POST", "/recommendations", json.dumps({"entry": ENTRY}), {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/no-such-route")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def _launch(work: Path, cache: Path) -> dict[str, float]:
    """One `mysfits sam-local` from a state with no model and no dockerd running, to Ctrl-C's way out."""
    port, endpoint_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "mysfits", "sam-local", "--port", str(port), "--endpoint-port", str(endpoint_port)]
    command += ["--page-port", "0", "--model", str(work / "model.json"), "--data", str(work / "answers.csv")]
    command += ["--build-dir", str(work / "build"), "--cache", str(cache)]
    subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "mysfits", "data", "generate", "--rows", "20000", "--out", str(work / "answers.csv")],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    marks: dict[str, float] = {}
    launched = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("sam local start-api on") and "start_api" not in marks:
                marks["start_api"] = time.perf_counter()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while not _answers(port):
            if process.poll() is not None or time.perf_counter() - launched > 600:
                raise RuntimeError("mysfits sam-local did not come up:\n" + "".join(output))
            time.sleep(0.02)
        up = time.perf_counter()
        status, first = _post(port)
        assert status == 200, status
        warm = [_post(port)[1] for _ in range(WARM_REQUESTS)]
    finally:
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(120)
        stopped = time.perf_counter()
        reader.join(5)
    return {
        "launch to API answering (train, dockerd, image check, sam build, SAM start)": up - launched,
        "`sam local start-api` started to API answering": up - marks["start_api"],
        "first request (starts the container)": first,
        f"warm request, median of {WARM_REQUESTS}": statistics.median(warm),
        f"warm request, 90th percentile of {WARM_REQUESTS}": statistics.quantiles(warm, n=10)[-1],
        "SIGTERM to everything stopped": stopped - stopping,
    }


def run() -> str:
    from mysfits.local.sam_local.base_image import DEFAULT_CACHE

    costs = _image_costs(DEFAULT_CACHE)
    with tempfile.TemporaryDirectory() as work:
        launch = _launch(Path(work), DEFAULT_CACHE)
    lines = [
        "## `make sam-local` (`benchmarks/sam_local.py`)",
        "",
        "`python -m benchmarks sam_local`. The Lambda base image (src/mysfits/local/sam_local/base_image.py), each",
        "step timed by its own call:",
        "",
        "| image step | seconds |",
        "|---|---:|",
        *(f"| {name} | {seconds:.1f} |" for name, seconds in costs.items()),
        "",
        "One `mysfits sam-local` (what `make sam-local` runs; 20,000 generated rows, so training is short), with the",
        "image warm and no dockerd running before it:",
        "",
        "| step | time |",
        "|---|---:|",
        *(f"| {name} | {seconds * 1000:.0f} ms |" for name, seconds in launch.items()),
    ]
    return "\n".join(lines)
