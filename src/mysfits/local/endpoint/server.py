"""The local SageMaker endpoint: a plain ASGI app served by uvicorn.

Routes:

* ``POST /endpoints/{name}/invocations`` is the SageMaker Runtime REST path that boto3's ``invoke_endpoint`` calls
  (the SigV4 signature is not checked locally). Refusals come back the way the service sends them: ``ModelError``
  (424) quoting what the model said, ``ValidationError`` (400) for an unknown endpoint, 413 for a body over 6 MB.
* ``POST /invocations`` and ``GET /ping`` are the container contract, so the same app could run as a
  bring-your-own SageMaker container; there a refusal is the model's own 400/406/415 with a plain-text reason.

No web framework: one request is a header scan, a table look-up per row and two ``send`` calls, which is what keeps
one-row latency in the sub-millisecond range. Rows off the 1..8 grid and ``verbose=true`` answers go to the direct
kNN in a worker thread, so they never stall the event loop: a request with a few such rows in the quick lane, a bigger
one in the batch lane (see ``lanes``), and no request may ask for more than ``MAX_DIRECT_ROWS`` of them. ``GET /ping``
answers 503 while the quick lane is stalled, so the supervisor of ``mysfits serve`` judges the work visitors wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from mysfits.endpoint_name import DEFAULT as DEFAULT_NAME
from mysfits.local import http_server
from mysfits.local.endpoint.lanes import MAX_DIRECT_ROWS, QUICK_ROWS, STALLED_AFTER_S, Lanes
from mysfits.local.endpoint.logs import LineBatch, log_event, request_ids
from mysfits.local.endpoint.model import InvocationTimeout, ModelHolder, ServedModel
from mysfits.local.endpoint.protocol import MAX_PAYLOAD_BYTES, PayloadError, negotiate, parse_rows, serialize
from mysfits.local.endpoint.runtime_errors import (
    ErrorResponse,
    body_timeout,
    endpoint_not_found,
    model_error,
    payload_too_large,
    unknown_operation,
    validation_error,
)
from mysfits.local.http_server import SHUTDOWN_GRACE_SECONDS, BackgroundServer, BodyTooLarge

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# SageMaker gives a model container 60 s to answer an invocation; the direct kNN stops at the same limit.
MODEL_TIMEOUT_SECONDS = 60.0
GATEWAY_TIMEOUT = 504
# Bodies above this are parsed in a worker thread: a 6 MB CSV takes seconds to parse, and on the event loop every
# other caller would wait that long. Below it (a questionnaire's row is about 10 bytes) the thread hop costs more.
PARSE_INLINE_BYTES = 64 * 1024
# Likewise for the table look-ups and the answer of requests with many rows.
OFF_LOOP_ROWS = 5000

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_VARIANT_HEADER = b"x-amzn-invoked-production-variant"
_TEXT = (b"content-type", b"text/plain; charset=utf-8")


@dataclass(slots=True)
class _Request:
    """The request headers this endpoint reads (ASGI gives names lower-cased; a repeated header's last value wins)."""

    content_type: str | None
    accept: str | None
    content_length: int | None
    custom_attributes: bytes | None
    target_variant: str | None

    @classmethod
    def from_headers(cls, raw: list[tuple[bytes, bytes]]) -> _Request:
        headers = dict(raw)
        length = headers.get(b"content-length", b"")
        return cls(
            content_type=_text(headers.get(b"content-type")),
            accept=_text(headers.get(b"accept")),
            content_length=int(length) if length.isdigit() else None,
            custom_attributes=headers.get(b"x-amzn-sagemaker-custom-attributes"),
            target_variant=_text(headers.get(b"x-amzn-sagemaker-target-variant")),
        )


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


@dataclass(slots=True)
class _Outcome:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    rows: int = 0
    error: str | None = None


class EndpointApp:
    """ASGI application for one named endpoint; ``holder.current`` is the model every request is answered with."""

    def __init__(
        self,
        holder: ModelHolder,
        name: str = DEFAULT_NAME,
        *,
        refresh_interval: float = 1.0,
        model_timeout: float = MODEL_TIMEOUT_SECONDS,
        stalled_after_s: float = STALLED_AFTER_S,
    ):
        self.holder = holder
        self.lanes = Lanes(stalled_after_s=stalled_after_s)
        self.name = name
        self.refresh_interval = refresh_interval
        self.model_timeout = model_timeout
        self._runtime_path = f"/endpoints/{name}/invocations"
        self._request_log = LineBatch()
        self._next_id = request_ids()
        self._wake: asyncio.Event | None = None
        self._refresher: asyncio.Task | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    # -- HTTP ----------------------------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = self._next_id()
        method, path = scope["method"], scope["path"]
        request = _Request.from_headers(scope["headers"])
        runtime = path == self._runtime_path
        try:
            outcome = await self._route(method, path, runtime, request, receive)
        except http_server.BodyIncomplete:
            return  # the client closed before its body arrived: never scored, nothing to answer
        except Exception as exc:  # the last line of defence: a bug must cost one request, never the connection
            logging.getLogger(__name__).exception("request %s failed", request_id)
            outcome = self._refusal(runtime, 500, f"internal error in the local endpoint ({type(exc).__name__})")
        headers = [
            (b"content-length", str(len(outcome.body)).encode()),
            (b"x-amzn-requestid", request_id.encode()),
            *outcome.headers,
        ]
        self._request_log.add_request(
            request_id,
            method,
            path,
            outcome.status,
            outcome.rows,
            request.content_type,
            request.accept,
            request.content_length,
            len(outcome.body),
            round((time.perf_counter() - started) * 1000, 3),
            outcome.error,
        )
        await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
        await send({"type": "http.response.body", "body": outcome.body})

    async def _route(self, method: str, path: str, runtime: bool, request: _Request, receive: Receive) -> _Outcome:
        if method == "POST" and (runtime or path == "/invocations"):
            return await self._invocation(runtime, request, receive)
        if path == "/ping" and method in ("GET", "HEAD"):
            return self._ping()
        if method == "POST" and path.startswith("/endpoints/") and path.endswith("/invocations"):
            requested = path[len("/endpoints/") : -len("/invocations")]
            return _error_outcome(endpoint_not_found(requested, self.name))
        return _error_outcome(unknown_operation(method, path))

    async def _invocation(self, runtime: bool, request: _Request, receive: Receive) -> _Outcome:
        model = self.holder.current
        if runtime and request.target_variant not in (None, model.variant):
            return _error_outcome(
                validation_error(
                    f"Variant {request.target_variant} not found for endpoint {self.name}; "
                    f"its one variant is {model.variant} (<encoding>-<model checksum>)"
                )
            )
        try:
            body = await http_server.read_body(receive, MAX_PAYLOAD_BYTES, request.content_length)
        except BodyTooLarge:
            return _error_outcome(payload_too_large())
        except http_server.BodyTimeout:
            return _error_outcome(body_timeout(http_server.BODY_TIMEOUT_S))
        deadline = time.monotonic() + self.model_timeout
        try:
            fmt = negotiate(request.accept)
            if len(body) > PARSE_INLINE_BYTES:
                rows = await self.lanes.batch(parse_rows, body, request.content_type, model.feature_dim)
            else:
                rows = parse_rows(body, request.content_type, model.feature_dim)
            labels, hoods = await _predict(model, rows, fmt.verbose, deadline, self.lanes)
        except PayloadError as exc:
            return self._refusal(runtime, exc.status, str(exc))
        except InvocationTimeout as exc:
            message = (
                f"the model did not answer within {self.model_timeout:g} s ({exc}); rows that need the direct kNN "
                "(verbose answers, or features off the 1..8 grid) take milliseconds each, so send fewer per request"
            )
            return self._refusal(runtime, GATEWAY_TIMEOUT, message)
        headers = [(b"content-type", fmt.media_type.encode())]
        if runtime:
            headers.append((_VARIANT_HEADER, model.variant.encode()))
        if request.custom_attributes is not None:
            headers.append((b"x-amzn-sagemaker-custom-attributes", request.custom_attributes))
        if len(hoods) > QUICK_ROWS:
            body = await self.lanes.run(len(hoods), serialize, fmt, labels, hoods)
        elif len(rows) > OFF_LOOP_ROWS:
            body = await self.lanes.batch(serialize, fmt, labels, hoods)
        else:
            body = serialize(fmt, labels, hoods)
        return _Outcome(200, body, headers, rows=len(rows))

    def _ping(self) -> _Outcome:
        """200 while visitors' requests are being answered; 503 once one has waited in the quick lane too long."""
        stalled = self.lanes.stalled_for()
        if not stalled:
            return _Outcome(200, b"")
        message = f"a request has waited {stalled:.1f} s for the model (a one-row answer takes milliseconds)"
        return _Outcome(503, message.encode(), [_TEXT], error=message)

    def _refusal(self, runtime: bool, status: int, message: str) -> _Outcome:
        """What the model says (container contract), or SageMaker's ModelError wrapping of it (runtime path)."""
        if runtime:
            return _error_outcome(model_error(self.name, status, message))
        return _Outcome(status, message.encode(), [_TEXT], error=message)

    # -- lifespan: model refresh -----------------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await http_server.lifespan(receive, send, startup=self._start_refresher, shutdown=self._stop)

    async def _stop(self) -> None:
        await self._stop_refresher()
        self.lanes.shutdown()
        self._request_log.flush()

    def request_refresh(self) -> None:
        """Reload the model file now (what SIGHUP does), even if its timestamp did not change."""
        if self._wake is not None:
            self._wake.set()

    def _start_refresher(self) -> None:
        self._wake = asyncio.Event()
        self._refresher = asyncio.create_task(self._refresh_loop(), name=f"refresh-{self.name}")
        self._refresher.add_done_callback(_report_crash)
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.request_refresh)

    async def _stop_refresher(self) -> None:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher

    async def _refresh_loop(self) -> None:
        """Look at the file's stamp at most once per interval; a forced reload (SIGHUP) wakes it at once."""
        assert self._wake is not None
        while True:
            with contextlib.suppress(asyncio.TimeoutError):  # the builtin TimeoutError only from 3.11 on
                await asyncio.wait_for(self._wake.wait(), timeout=self.refresh_interval)
            forced = self._wake.is_set()
            self._wake.clear()
            try:
                await asyncio.to_thread(self.holder.refresh, forced)
            except Exception as exc:  # noqa: BLE001 - one failed look must not end every later reload
                log_event(logging.ERROR, "model_reload_failed", model=str(self.holder.path), error=repr(exc))


def _report_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log_event(logging.CRITICAL, "model_refresh_stopped", error=repr(task.exception()))


def _error_outcome(error: ErrorResponse) -> _Outcome:
    return _Outcome(error.status, error.body, error.headers(), error=error.message)


async def _predict(
    model: ServedModel, rows: list, verbose: bool, deadline: float, lanes: Lanes
) -> tuple[list[int], list]:
    """Table look-ups for grid rows; the direct kNN (in a lane's thread) for verbose answers and off-grid rows."""
    if verbose:
        _check_direct_rows(len(rows), "verbose answers")
        hoods = await lanes.run(len(rows), model.neighbourhoods, rows, deadline)
        return [hood.predicted_label for hood in hoods], hoods
    if len(rows) > OFF_LOOP_ROWS:
        labels, off_grid = await lanes.batch(_table_labels, model.table, model.grid_cell, rows)
    else:
        labels, off_grid = _table_labels(model.table, model.grid_cell, rows)
    if off_grid:
        _check_direct_rows(len(off_grid), "rows off the 1..8 answer grid")
        hoods = await lanes.run(len(off_grid), model.neighbourhoods, [rows[i] for i in off_grid], deadline)
        for index, hood in zip(off_grid, hoods, strict=True):
            labels[index] = hood.predicted_label
    return labels, []


def _check_direct_rows(count: int, what: str) -> None:
    """The bound on one request's work: a row for the direct kNN costs about a millisecond of one core."""
    if count > MAX_DIRECT_ROWS:
        raise PayloadError(
            f"this request needs the direct kNN for {count:,} rows ({what}); one request may ask it for at most "
            f"{MAX_DIRECT_ROWS:,}: send them in several requests (answers on the grid without verbose=true are "
            "table look-ups and have no such limit)"
        )


def _table_labels(table: bytes, grid_cell: Callable, rows: list) -> tuple[list[int], list[int]]:
    """Each grid row's label from the table (0 as a placeholder for off-grid rows), and the off-grid rows' indices.

    ``grid_cell`` maps a row of the model's features to its answer cell, or None off the grid."""
    labels: list[int] = []
    off_grid: list[int] = []
    for index, row in enumerate(rows):
        cell = grid_cell(row)
        if cell is None:
            off_grid.append(index)
            labels.append(0)
        else:
            labels.append(table[cell])
    return labels, off_grid


# -- running it ------------------------------------------------------------------------------------------------------


def run(
    model_path: str,
    name: str = DEFAULT_NAME,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    refresh_interval: float = 1.0,
) -> None:
    """Serve in the foreground until SIGINT/SIGTERM (uvicorn drains in-flight requests); SIGHUP reloads the model.

    Raises :class:`mysfits.model.artifact.ArtifactError` for a bad model and ``OSError`` for a port that cannot be
    bound, both before anything is served.
    """
    holder = ModelHolder(model_path)
    sock = http_server.bind(host, port)
    app = EndpointApp(holder, name, refresh_interval=refresh_interval)
    url = http_server.url_of(sock)
    log_event(
        logging.INFO, "endpoint_started", endpoint=name, url=url, **http_server.describe(), **holder.current.describe()
    )
    # Everything loaded so far (numpy, the model, uvicorn) lives as long as the process: keeping it out of the
    # garbage collector's full passes keeps those passes short, which is what the p99 of one-row requests feels.
    gc.freeze()
    received = None
    try:
        received = http_server.serve_forever(app, sock)
    finally:
        sock.close()
        log_event(logging.INFO, "endpoint_stopped", endpoint=name, signal=received)


@dataclass
class EndpointHandle:
    """A running in-process endpoint: ``url`` to point a client at, ``stop()`` (or ``with``) to end it."""

    name: str
    app: EndpointApp
    _server: BackgroundServer

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def model(self) -> ServedModel:
        return self.app.holder.current

    def refresh(self, force: bool = True) -> bool:
        """Reload the model file now, from the caller's thread; True when a new model is serving."""
        return self.app.holder.refresh(force)

    def stop(self, timeout: float = SHUTDOWN_GRACE_SECONDS + 5) -> None:
        try:
            self._server.stop(timeout)
        except RuntimeError:
            raise RuntimeError(f"the endpoint {self.name!r} at {self.url} did not stop within {timeout} s") from None
        log_event(logging.INFO, "endpoint_stopped", endpoint=self.name, url=self.url)

    def __enter__(self) -> EndpointHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(
    model_path: str,
    name: str = DEFAULT_NAME,
    host: str = DEFAULT_HOST,
    port: int = 0,
    *,
    refresh_interval: float = 1.0,
    model_timeout: float = MODEL_TIMEOUT_SECONDS,
    startup_timeout: float = 10.0,
    stalled_after_s: float = STALLED_AFTER_S,
) -> EndpointHandle:
    """Start the endpoint on a background thread (port 0 picks a free port) and return once it accepts requests.

    For tests and for the local stack (``mysfits serve``). Signals stay with the main thread's owner; use
    ``handle.refresh()`` where the command line would use SIGHUP.
    """
    holder = ModelHolder(model_path)
    app = EndpointApp(
        holder, name, refresh_interval=refresh_interval, model_timeout=model_timeout, stalled_after_s=stalled_after_s
    )
    server = BackgroundServer(app, host, port)
    try:
        server.start(startup_timeout)
    except RuntimeError as exc:
        raise RuntimeError(f"the endpoint {name!r} did not start: {exc}") from None
    handle = EndpointHandle(name, app, server)
    log_event(logging.INFO, "endpoint_started", endpoint=name, url=handle.url, **holder.current.describe())
    return handle
