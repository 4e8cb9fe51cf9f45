"""The one way both local servers (the endpoint and the gateway) bind, read bodies, start, stop and scale.

Why one place:

* ``bind`` creates the socket with ``IPPROTO_TCP``: only then does asyncio set TCP_NODELAY on accepted connections.
  Without it a response's header and body writes meet Nagle's algorithm and the client's delayed ACK, and every
  keep-alive answer waits ~40 ms. Binding before uvicorn also makes a busy port one clear :class:`PortInUse`, and
  port 0 a known free port.
* ``read_body`` refuses a body as soon as its declared or received length passes the server's limit, before the
  rest of it is buffered, and one that takes longer than ``BODY_TIMEOUT_S`` to arrive.
* ``uvicorn_server`` serves with :class:`mysfits.local.guard.GuardedHttpProtocol`: limits on request heads (size,
  time) and on open connections that uvicorn itself does not enforce.
* ``lifespan`` runs an app's start-up and shut-down hooks; uvicorn drains in-flight requests on SIGINT/SIGTERM for
  at most ``SHUTDOWN_GRACE_SECONDS``.
* ``BackgroundServer`` (tests, in-process use) returns only once the server accepts requests; ``serve_workers`` runs
  one app in several processes on one socket and returns only once every process has started.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib.util
import ipaddress
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from mysfits import stopping
from mysfits.local.guard import MAX_HEAD_BYTES, GuardedHttpProtocol
from mysfits.local.lifetime import die_with_parent

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SHUTDOWN_GRACE_SECONDS = 5
STARTUP_TIMEOUT_SECONDS = 10.0


class PortInUse(OSError):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        super().__init__(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))

    def __str__(self) -> str:
        return f"{self.host}:{self.port} is already in use"


class BodyTooLarge(Exception):
    """The request body passed the server's limit; raised before the rest of it is buffered."""


class BodyIncomplete(Exception):
    """The client closed the connection before its body arrived in full: the request is dropped unanswered, and
    never handed to the application (a truncated upload must not run the function on part of its body)."""


class BodyTimeout(Exception):
    """The request body did not arrive in full within ``BODY_TIMEOUT_S``: a slow or stalled sender."""


BODY_TIMEOUT_S = 30.0
"""How long a whole request body may take to arrive. A 10 MB body on a slow link needs seconds, not half a minute;
a sender that stalls half-way would otherwise hold its connection (and a task) for ever."""


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach an address (a name such as ``localhost`` counts when it resolves so)."""

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def exposure_warning(what: str, host: str, port: int) -> str | None:
    """One line for a server that other machines can reach: nothing on it asks who is calling."""
    if is_loopback(host):
        return None
    return (
        f"warning: {what} listens on {host}:{port}, reachable from other machines, and asks nobody who they are; "
        "use 127.0.0.1 unless you mean to share it on a network you trust"
    )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from exc
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def read_body(receive: Receive, limit: int, declared: int | None = None) -> bytes:
    """The whole request body, or :class:`BodyTooLarge` once its declared or received length passes ``limit``."""
    if declared is not None and declared > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    deadline = time.monotonic() + BODY_TIMEOUT_S
    while True:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:  # not yet the builtin TimeoutError on 3.10
            raise BodyTimeout from None
        if message["type"] == "http.disconnect":
            raise BodyIncomplete
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def lifespan(
    receive: Receive,
    send: Send,
    startup: Callable[[], Awaitable[None] | None] | None = None,
    shutdown: Callable[[], Awaitable[None] | None] | None = None,
) -> None:
    """ASGI's lifespan protocol: call ``startup`` before the first request and ``shutdown`` after the last."""
    while True:
        message = await receive()
        kind = message["type"].rpartition(".")[2]
        hook = startup if kind == "startup" else shutdown
        if hook is not None and asyncio.iscoroutine(result := hook()):
            await result
        await send({"type": f"lifespan.{kind}.complete"})
        if kind == "shutdown":
            return


def _fast_parts() -> dict[str, str]:
    """httptools and uvloop when installed (they are dependencies): most of a small request's CPU is HTTP parsing."""
    return {
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
    }


def uvicorn_server(
    app,
    log_level: str = "warning",
    keep_alive_s: float = 5,
    error_headers: tuple[tuple[str, str], ...] = (),
    max_connections: int | None = None,
) -> uvicorn.Server:
    """``error_headers`` go on the answers the HTTP layer makes itself (400, 431), e.g. the gateway's CORS header;
    ``max_connections`` overrides :func:`mysfits.local.guard.default_max_connections` (tests use a small cap)."""
    parts = _fast_parts()
    if parts["http"] == "httptools":
        parts["http"] = GuardedHttpProtocol.configured(error_headers=error_headers, max_connections=max_connections)
    config = uvicorn.Config(
        app,
        **parts,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,  # only when h11 parses: the guard covers httptools
        lifespan="auto",  # an app without lifespan support (a test stand-in) still serves
        access_log=False,  # each app logs its own line per request
        log_level=log_level,
        server_header=False,
        timeout_keep_alive=keep_alive_s,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    return uvicorn.Server(config)


def describe() -> dict[str, str]:
    """What serves the requests, for start-up log lines."""
    return _fast_parts()


class BackgroundServer:
    """An ASGI app served by uvicorn on a daemon thread; ``start`` returns once it accepts requests."""

    def __init__(
        self,
        app,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        max_connections: int | None = None,
    ):
        self.socket = bind(host, port)
        self.url = url_of(self.socket)
        self.server = uvicorn_server(app, log_level=log_level, max_connections=max_connections)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{self.url}", daemon=True)
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread by start()
            self._error = exc

    def start(self, timeout_s: float = STARTUP_TIMEOUT_SECONDS) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive():
                self.socket.close()
                raise RuntimeError(f"server on {self.url} stopped while starting: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server on {self.url} did not start within {timeout_s} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = SHUTDOWN_GRACE_SECONDS + 5) -> None:
        """Drain and stop; raises if the thread outlives ``timeout_s``."""
        self.server.should_exit = True
        self._thread.join(timeout_s)
        self.socket.close()
        if self._thread.is_alive():
            raise RuntimeError(f"server on {self.url} did not stop within {timeout_s} s")

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_forever(
    app,
    sock: socket.socket,
    on_ready: Callable[[], None] | None = None,
    keep_alive_s: float = 5,
    error_headers: tuple[tuple[str, str], ...] = (),
) -> str | None:
    """Serve in the foreground until SIGINT or SIGTERM, drain, and return the signal's name (None if none came).

    uvicorn drains on those signals, restores the handlers it found and raises the signal again. Handlers of our own
    turn that second delivery into a normal return, and a signal that arrives before uvicorn took over still stops it.
    ``on_ready`` is called (on another thread) once the server accepts requests.
    """
    server = uvicorn_server(app, keep_alive_s=keep_alive_s, error_headers=error_headers)
    if on_ready is not None:
        threading.Thread(target=_when_started, args=(server, on_ready), daemon=True).start()
    received: list[str] = []

    def stop(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return received[0] if received else None


def serve_workers(
    app,
    sock: socket.socket,
    workers: int,
    on_ready: Callable[[], None] | None = None,
    keep_alive_s: float = 5,
    error_headers: tuple[tuple[str, str], ...] = (),
) -> None:
    """Serve ``app`` from ``workers`` processes sharing ``sock`` until SIGINT or SIGTERM, then stop them all.

    Each process is forked from this one after the app was built, so it starts with the app's imports and settings
    but keeps its own copy of their state, and the kernel hands each new connection to one of them. ``on_ready`` runs
    once every process accepts requests. With one worker the app is served in this process.
    """
    if workers == 1:
        serve_forever(app, sock, on_ready, keep_alive_s, error_headers)
        return
    context = multiprocessing.get_context("fork")
    ready = context.SimpleQueue()

    def new_worker(n: int):
        args = (app, sock, ready, keep_alive_s, error_headers, os.getpid())
        return context.Process(target=_worker, args=args, name=f"worker-{n + 1}")

    children = [new_worker(n) for n in range(workers)]
    previous = {sig: signal.signal(sig, stopping.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for child in children:
            child.start()
        _wait_ready(children, ready)
        if on_ready is not None:
            on_ready()
        _supervise(children, new_worker)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


WORKER_CHECK_S = 0.1
"""How often the parent looks for a dead worker: a replacement starts within this plus the pause below."""
WORKER_PAUSE_S = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
"""The pause before replacing a worker, by how many replacements in a row died within ``WORKER_STABLE_S``: the
first is immediate, a crash loop backs off to 8 s, as the endpoint's supervisor does."""
WORKER_STABLE_S = 10.0


def _supervise(children: list, new_worker: Callable[[int], multiprocessing.Process]) -> None:
    """Replace each worker that exits on its own (a crash, the OOM killer, a stray SIGKILL) until interrupted.

    The other workers keep accepting on the shared socket meanwhile; only the dead worker's in-flight requests are
    lost. One line on stderr per replacement."""
    failures = [0] * len(children)
    started = [time.monotonic()] * len(children)
    while True:
        time.sleep(WORKER_CHECK_S)
        for n, child in enumerate(children):
            if child.is_alive():
                continue
            quick = time.monotonic() - started[n] < WORKER_STABLE_S
            failures[n] = failures[n] + 1 if quick else 1
            pause = WORKER_PAUSE_S[min(failures[n] - 1, len(WORKER_PAUSE_S) - 1)]
            print(
                f"gateway: worker {n + 1} (pid {child.pid}) exited with code {child.exitcode}; "
                f"starting a new one in {pause:g} s",
                file=sys.stderr,
                flush=True,
            )
            child.close()
            time.sleep(pause)
            children[n] = new_worker(n)
            children[n].start()
            started[n] = time.monotonic()


def _when_started(server: uvicorn.Server, callback: Callable[[], None]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.01)
    callback()


def _worker(
    app, sock: socket.socket, ready, keep_alive_s: float, error_headers: tuple[tuple[str, str], ...], parent: int
) -> None:
    """One worker process: SIGINT (Ctrl-C reaches the whole process group) or SIGTERM (from the parent, or from the
    kernel when the parent dies) drain it."""
    die_with_parent(parent)
    server = uvicorn_server(app, keep_alive_s=keep_alive_s, error_headers=error_headers)
    threading.Thread(target=_when_started, args=(server, lambda: ready.put(os.getpid())), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])


def _wait_ready(children, ready) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS * 6
    started = 0
    while started < len(children):
        if any(child.exitcode is not None for child in children):
            raise RuntimeError("a worker process stopped while starting; see its message above")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(children) - started} worker processes did not start in time")
        if ready.empty():
            time.sleep(0.02)
        else:
            ready.get()
            started += 1


def _stop(children) -> None:
    for child in children:
        if child.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS + 3
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join()
