"""The processes behind ``mysfits serve``: a model (trained if missing), the endpoint child, the gateway's port.

The endpoint runs as a child process rather than a thread: the gateway's handler
threads and the endpoint's kNN lookups then run on separate interpreters and cores. The
child is tied to this process three ways so none is ever left behind: it shares the
terminal's process group (Ctrl-C reaches both), it is stopped explicitly on the way
out, and on Linux the kernel sends it SIGTERM if this process dies without cleaning up.
"""

from __future__ import annotations

import contextlib
import http.client
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mysfits.local.http_server import PortInUse, bind
from mysfits.local.lifetime import die_with_parent

ENDPOINT_START_TIMEOUT_S = 60.0
ENDPOINT_STOP_TIMEOUT_S = 8.0


class ServeError(RuntimeError):
    """A step of bringing `mysfits serve` up failed; the message says which and what to do."""


@dataclass(frozen=True)
class PortRole:
    """Which port a message is about, and how the user changes it."""

    what: str
    make_variable: str
    flag: str
    # The commands that start the stack this port belongs to, as the message names them.
    make_target: str = "make run"
    command: str = "mysfits serve"


GATEWAY_PORT = PortRole("the page and API", "PORT", "--port")
ENDPOINT_PORT = PortRole("the model endpoint", "ENDPOINT_PORT", "--endpoint-port")


def port_in_use_message(role: PortRole, host: str, port: int) -> str:
    return (
        f"port {port} on {host} ({role.what}) is already in use; stop what is using it or choose another port: "
        f"{role.make_target} {role.make_variable}={port + 1}  (or {role.command} {role.flag} {port + 1})"
    )


def check_port_free(role: PortRole, host: str, port: int) -> None:
    try:
        bind(host, port).close()
    except PortInUse:
        raise ServeError(port_in_use_message(role, host, port)) from None


def ensure_model(model_path: Path, data_path: Path, progress) -> bool:
    """Train a model if there is none (generating the default data set first if needed); True if it trained.

    Both the data and the model are written atomically by the modules that write them, so
    Ctrl-C during this step leaves either the old state or the complete new file.
    """
    from mysfits.model.artifact import ArtifactError, load_model

    if model_path.exists():
        try:
            load_model(model_path)
        except ArtifactError as exc:
            raise ServeError(f"{exc}. Delete it to retrain on the next start, or pass --model PATH") from exc
        return False
    from mysfits.model import dataset as ds
    from mysfits.model import training

    progress.note(f"no model at {model_path}: training one (this happens once)")
    if not data_path.exists():
        ds.generate_file(data_path, progress=progress)
    try:
        training.run_training(data_path, model_path, progress=progress)
    except (ds.DataError, ValueError) as exc:
        raise ServeError(f"training on {data_path} failed: {exc}") from exc
    return True


@dataclass
class EndpointChild:
    """A started endpoint process; ``wait_ready`` returns once it answers, so callers can work meanwhile."""

    url: str
    process: subprocess.Popen | None
    host: str
    port: int
    supervisor: Supervisor | None = None

    def wait_ready(self) -> None:
        """Return once the child answers; from then on the supervisor (if any) keeps it running."""
        if self.process is not None:
            _wait_until_ready(self.process, self.host, self.port)
        if self.supervisor is not None:
            self.supervisor.start()


def _spawn(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module, arguments from our flags
        command,
        preexec_fn=die_with_parent,
    )


class Supervisor:
    """Restarts the endpoint child when it exits or stops answering ``/ping``, with a growing pause in between.

    Without it a crashed or killed endpoint stays down (a zombie) until someone restarts ``mysfits serve``, and
    every request meanwhile is a 503. The pause doubles from ``BACKOFF_START_S`` up to ``BACKOFF_MAX_S`` while
    restarts keep failing, and starts over once a child has answered for ``STABLE_AFTER_S``.
    """

    CHECK_EVERY_S = 0.2
    PING_EVERY_S = 1.0
    PINGS_MISSED_BEFORE_KILL = 3
    BACKOFF_START_S = 0.5
    BACKOFF_MAX_S = 8.0
    STABLE_AFTER_S = 30.0

    def __init__(self, command: list[str], child: EndpointChild, report=None):
        self.command = command
        self.child = child
        self.restarts = 0
        self._report = report or (lambda line: print(line, file=sys.stderr, flush=True))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="endpoint-supervisor", daemon=True)

    def start(self) -> Supervisor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(ENDPOINT_START_TIMEOUT_S + ENDPOINT_STOP_TIMEOUT_S)

    def _watch(self) -> None:
        backoff = self.BACKOFF_START_S
        healthy_since = time.monotonic()
        missed = 0
        last_ping = time.monotonic()
        while not self._stop.wait(self.CHECK_EVERY_S):
            process = self.child.process
            assert process is not None
            code = process.poll()  # also reaps an exited child, so none is left a zombie
            if code is None and time.monotonic() - last_ping >= self.PING_EVERY_S:
                last_ping = time.monotonic()
                missed = 0 if _pings(self.child.host, self.child.port) else missed + 1
                if missed >= self.PINGS_MISSED_BEFORE_KILL:
                    # Killed at once: a process that answers no ping handles no SIGTERM either (it is stopped or
                    # stuck), and the 8 s grace of a clean stop is 8 more seconds for the request it holds.
                    self._report(f"endpoint: no answer to {missed} pings in a row; killing it to start a new one")
                    process.kill()
                    code = process.wait()
            if code is None:
                if time.monotonic() - healthy_since >= self.STABLE_AFTER_S:
                    backoff = self.BACKOFF_START_S
                continue
            self._report(f"endpoint: exited with code {code}; restarting in {backoff:g} s")
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, self.BACKOFF_MAX_S)
            fresh = None
            try:
                fresh = _spawn(self.command)
                _wait_until_ready(fresh, self.child.host, self.child.port, self._stop)
            except (OSError, ServeError) as exc:
                self._report(f"endpoint: restart failed ({exc})")
                if fresh is not None:
                    stop_process(fresh)
                    self.child.process = fresh  # exited: the next pass reports it and tries again, later
                continue
            self.child.process = fresh
            self.restarts += 1
            healthy_since = time.monotonic()
            missed = 0
            self._report(f"endpoint: restarted (pid {fresh.pid}, restart {self.restarts})")


@contextlib.contextmanager
def endpoint_process(model: Path, name: str, host: str, port: int, supervise: bool = True) -> Iterator[EndpointChild]:
    """Run ``mysfits endpoint`` as a child until the block exits, restarting it whenever it dies.

    The child logs warnings and errors only: the gateway already prints one line per request.
    """
    check_port_free(ENDPOINT_PORT, host, port)
    command = [sys.executable, "-m", "mysfits", "endpoint", "--model", str(model), "--name", name]
    command += ["--host", host, "--port", str(port), "--quiet"]
    endpoint = EndpointChild(f"http://{host}:{port}", _spawn(command), host, port)
    if supervise:
        endpoint.supervisor = Supervisor(command, endpoint)
    try:
        yield endpoint
    finally:
        if endpoint.supervisor is not None:
            endpoint.supervisor.stop()
        assert endpoint.process is not None
        stop_process(endpoint.process)


def _wait_until_ready(child: subprocess.Popen, host: str, port: int, stopping: threading.Event | None = None) -> None:
    deadline = time.monotonic() + ENDPOINT_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if stopping is not None and stopping.is_set():
            raise ServeError("mysfits serve is stopping")
        code = child.poll()
        if code is not None:
            raise ServeError(f"the endpoint process exited with code {code} while starting; see its message above")
        if _pings(host, port):
            return
        time.sleep(0.05)
    raise ServeError(f"the endpoint did not answer GET /ping on {host}:{port} within {ENDPOINT_START_TIMEOUT_S:.0f} s")


def _pings(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=1)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def stop_process(child: subprocess.Popen) -> None:
    """SIGTERM (the endpoint drains in-flight requests), then SIGKILL if it does not exit in time."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        child.wait(ENDPOINT_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
