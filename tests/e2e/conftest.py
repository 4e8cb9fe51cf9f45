"""The real local stack for end-to-end tests: `mysfits serve` processes, a small trained model, Chromium.

Everything here is real: the servers are the same commands `make run` uses, the model is
trained by the project's trainer (on a small data set, to keep the run short), and the
browser is Debian's chromium driven by Playwright.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict[str, str]:
    """Children import this checkout's package (not whichever one the virtualenv was installed from)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Process:
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def interrupt(self, timeout: float = 20.0) -> int:
        """Ctrl-C, as a terminal would send it, then wait for a clean exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> Process:
    """``python -m mysfits ARGS`` with its output in ``log``; ``env`` adds to (or replaces in) this checkout's."""
    if args[:1] == ["serve"] and "--choices" not in args:
        # Each test's stack keeps its choices beside its log, never in the checkout's data/ folder.
        args = [*args, "--choices", str(log.with_suffix(".choices.sqlite3"))]
    if args[:1] == ["serve"]:
        args = without_exploration(args)
    if args[:1] == ["serve"] and "--client-limit" not in args:
        # These tests (and the browser) call from 127.0.0.1 many times a minute: a load test from one address, which
        # the limits per client would refuse. tests/e2e/test_client_limits.py turns them on explicitly.
        args = [*args, "--client-limit", "off"]
    handle = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mysfits", *args],
        cwd=REPO,
        env={**child_env(), **(env or {})},
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    return Process(proc, log)


def without_exploration(args: list[str]) -> list[str]:
    """The same arguments with ExplorationRate=0 unless they set it: one recommendation in ten would otherwise show a
    drawn Mysfit (the page then says "Meet X"), and a test that expects the model's pick on the page would fail by
    chance. Exploration itself is tested at the handler (tests/unit/api/test_exploration_api.py) and on the page
    with crafted answers (tests/e2e/test_page_third_pass.py). A test's own template is left alone."""
    if "--template" in args:
        return args
    if "--parameter-overrides" not in args:
        return [*args, "--parameter-overrides", "ExplorationRate=0"]
    at = args.index("--parameter-overrides") + 1
    if "ExplorationRate=" in args[at]:
        return args
    return [*args[:at], f"{args[at]} ExplorationRate=0", *args[at + 1 :]]


def wait_for_http(process: Process, port: int, path: str = "/", timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise AssertionError(f"process exited with {process.proc.returncode}:\n{process.output()}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"nothing answered on port {port} within {timeout} s:\n{process.output()}")


def wait_for_output(process: Process, text: str, timeout: float = START_TIMEOUT_S) -> None:
    """Until ``text`` is in the process's output. `mysfits serve --workers N` prints its banner once every worker is
    ready, which can be after the first one already answers."""
    deadline = time.monotonic() + timeout
    while text not in process.output():
        assert process.proc.poll() is None, f"exited before printing {text!r}:\n{process.output()[-3000:]}"
        assert time.monotonic() < deadline, f"no {text!r} within {timeout:g} s:\n{process.output()[-3000:]}"
        time.sleep(0.05)


@contextlib.contextmanager
def running(args: list[str], log: Path, port: int, ready_path: str = "/") -> Iterator[Process]:
    process = start(args, log)
    try:
        wait_for_http(process, port, ready_path)
        yield process
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.interrupt()
        process.kill()


@dataclass
class Stack:
    url: str
    port: int
    endpoint_port: int
    model: Path
    data: Path
    process: Process
    choices: Path


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> Path:
    """20,000 generated visitors: enough for a sensible model, quick to train."""
    path = tmp_path_factory.mktemp("data") / "answers.csv"
    done = subprocess.run(
        [sys.executable, "-m", "mysfits", "data", "generate", "--rows", "20000", "--out", str(path)],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="session")
def stack(tmp_path_factory, small_data) -> Iterator[Stack]:
    """`mysfits serve` from a state with no model: it trains, starts the endpoint and the gateway."""
    workdir = tmp_path_factory.mktemp("stack")
    model = workdir / "models" / "mysfits-knn.json"
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(model), "--data", str(small_data), "--port", str(port)]
    args += ["--endpoint-port", str(endpoint_port)]
    choices = workdir / "choices.sqlite3"
    # The page's tests adopt what they are shown: on a loaded machine the store's 0.2 s bound would answer some
    # recommendations without an id (no Adopt button). That bound is tested in tests/faults/test_store_faults.py.
    args += ["--choices", str(choices), "--store-wait", "10"]
    with running(args, workdir / "serve.log", port) as process:
        yield Stack(f"http://127.0.0.1:{port}", port, endpoint_port, model, small_data, process, choices)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; `make browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
