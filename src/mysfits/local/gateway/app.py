"""The local API Gateway as an ASGI application.

Each request is matched against the template's routes. A match becomes a REST proxy
event and runs the handler in a worker thread: handlers are synchronous and block on
boto3, and the endpoint may share this event loop, so running them inline would stall
(or deadlock) the server. Each function gets exactly one thread, like one warm Lambda
instance: Lambda never runs two invocations in one process at once, and handlers rely on
that (Powertools keeps the current event and the log keys on module-level objects).

Everything else follows API Gateway's own answers: SAM's CORS
preflight for OPTIONS, ``403 Missing Authentication Token`` for an unknown route, ``502``
when the handler fails or returns something malformed, ``504`` past the 29-second
integration limit. Requests that match no route may be static files of the page.

In front of the routes sits what a WAF web ACL does on AWS: limits per source address
(:mod:`mysfits.local.gateway.client_limits`), answered 429 before the function runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import sys
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from mysfits.local import http_server
from mysfits.local.gateway.client_limits import WINDOW_S, ClientLimits, Rate, refusal_body
from mysfits.local.gateway.events import (
    HttpRequest,
    HttpResponse,
    InvalidProxyResult,
    build_event,
    json_response,
    response_from_result,
)
from mysfits.local.gateway.lambda_runtime import Handler, LambdaContext
from mysfits.local.gateway.static import READ_WHOLE_BYTES, StaticSite
from mysfits.local.gateway.template import ApiDefinition, RestApi, Route

log = logging.getLogger("mysfits.local.gateway")

API_GATEWAY_TIMEOUT_S = 29.0
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
STALL_LIMIT_S = 0.5
"""How long one invocation may hold the function's one local instance while other requests wait for it. Lambda
would start another instance; here, once the instance is stuck (an endpoint that hangs holds it for the whole read
timeout), the waiting requests are answered at once (503, Retry-After) rather than queue
until every later answer is late. A queue that moves (a burst of quick invocations) is served in order, and the
invocation in flight keeps the function's full timeout."""


class Gateway:
    def __init__(
        self,
        api: ApiDefinition,
        handlers: Mapping[str, Handler],
        static: StaticSite | None = None,
        limits: ClientLimits | None = None,
    ):
        self.api = api
        self.handlers = dict(handlers)
        self.static = static
        self.limits = limits
        self._sweeper: asyncio.Task | None = None
        self._instances: dict[str, ThreadPoolExecutor] = {}
        self._running_since: dict[str, float | None] = {}  # when each instance's current invocation started
        self._body_limits = {function_id: _body_limit(handler) for function_id, handler in self.handlers.items()}

    def instance(self, function_id: str) -> ThreadPoolExecutor:
        """The single thread that runs one function's invocations, one at a time, in arrival order."""
        if function_id not in self._instances:
            self._instances[function_id] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=function_id)
            self._running_since[function_id] = None
        return self._instances[function_id]

    def _stalled(self, function_id: str) -> bool:
        since = self._running_since.get(function_id)
        return since is not None and time.monotonic() - since > STALL_LIMIT_S

    def _retire(self, function_id: str) -> None:
        """Lambda discards an instance whose invocation timed out; the next request gets a fresh thread, while the
        stuck one (a thread cannot be stopped) finishes on its own and is not reused."""
        executor = self._instances.pop(function_id, None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=False)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for executor in self._instances.values():
            executor.shutdown(wait=False, cancel_futures=True)
        self._instances.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        declared = _declared_length(scope["headers"])
        route, limit = self._route_limit(scope["method"], scope["path"])
        try:
            body = await http_server.read_body(receive, limit, declared)
        except http_server.BodyIncomplete:
            return  # the client is gone; nothing to answer and nothing to run
        except http_server.BodyTooLarge:
            if route is None or (declared is not None and declared > MAX_PAYLOAD_BYTES):
                # Past 10 MB API Gateway answers itself; below, the function does (in its own shape).
                response = self._gateway_error(413, "Request Too Long", "REQUEST_TOO_LARGE", str(uuid.uuid4()))
            else:
                response = self._route_too_large(route, limit, declared)
        except http_server.BodyTimeout:
            response = self._gateway_error(408, "Request Timeout", "DEFAULT_4XX", str(uuid.uuid4()))
        else:
            request = HttpRequest(
                method=scope["method"],
                path=scope["path"],
                query_string=scope.get("query_string", b""),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                body=body,
                source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
                protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            )
            response = await self.handle(request)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if not any(name.lower() == b"content-length" for name, _ in headers):
            # Without it uvicorn frames the body in chunks, which an HTTP/1.0 client reads as part of the body.
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.stream is None:
            await send({"type": "http.response.body", "body": response.body})
            return
        with response.stream as stream:
            await _send_in_pieces(send, stream, int(dict(response.headers)["Content-Length"]))

    def _route_limit(self, method: str, path: str) -> tuple[Route | None, int]:
        """The most a request's body may hold: its route's function's own limit where the function declares one,
        else API Gateway's 10 MB. The function would refuse a bigger body anyway; refusing it here, as soon as its
        declared or received length passes the limit, saves buffering up to 10 MB per request first."""
        found = self.api.find(method, path)
        if found is None or method not in _BODY_METHODS:
            # A GET's body reaches the function on AWS, which never reads it: refusing it here would differ.
            return None, MAX_PAYLOAD_BYTES
        route = found[0]
        limit = self._body_limits.get(route.function.logical_id)
        return (route, limit) if limit is not None and limit < MAX_PAYLOAD_BYTES else (None, MAX_PAYLOAD_BYTES)

    def _route_too_large(self, route: Route, limit: int, declared: int | None) -> HttpResponse:
        """413 in the function's own shape (what it answers on AWS for the same body), with the CORS headers API
        Gateway adds to a 4XX."""
        received = declared if declared is not None else f"more than {limit}"
        body = {
            "message": f"the body is {received} bytes; the limit is {limit}",
            "field": "body",
            "allowed": f"at most {limit} bytes",
            "received": received,
        }
        log.info("%s %s: a body of %s bytes refused; the route takes %d", route.method, route.resource, received, limit)
        headers = [("Content-Type", "application/json"), *route.api.gateway_response_headers("DEFAULT_4XX", 413)]
        return HttpResponse(413, headers, json.dumps(body).encode())

    async def _lifespan(self, receive, send) -> None:
        await http_server.lifespan(receive, send, startup=self._start_sweeping, shutdown=self.close)

    def _start_sweeping(self) -> None:
        """Forget idle clients on time even when no request comes to do it (see client_limits)."""
        if self.limits is not None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(WINDOW_S / 12)
            self.limits.buckets.sweep()

    async def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        found = self.api.find(request.method, request.path)
        if found is not None:
            route, path_parameters = found
            refused = self.limits.refusal(route.method, route.resource, request.source_ip) if self.limits else None
            if refused is not None:
                response = self._too_many(route, *refused)
            else:
                response = await self._invoke(request, route, path_parameters, request_id)
        elif request.method == "OPTIONS":
            response = self._preflight(request.path, request_id)
        elif self.static is not None and request.method in ("GET", "HEAD") and not self.api.methods_on(request.path)[0]:
            response = self.static.response(request.path, head=request.method == "HEAD") or self._gateway_error(
                404, "Not Found", "RESOURCE_NOT_FOUND", request_id
            )
        else:
            response = self._gateway_error(
                403, "Missing Authentication Token", "MISSING_AUTHENTICATION_TOKEN", request_id
            )
        response.headers.append(("x-amzn-RequestId", request_id))
        if log.isEnabledFor(logging.INFO):
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1f ms", request.method, request.path, response.status, elapsed_ms)
        return response

    def error_headers(self) -> list[tuple[str, str]]:
        """What API Gateway adds to its own 4XX answers here (the template's DEFAULT_4XX), for the HTTP layer's."""
        api = self.api.routes[0].api if self.api.routes else None
        return api.gateway_response_headers("DEFAULT_4XX", 400) if api else []

    def _too_many(self, route: Route, rate: Rate, wait_s: float) -> HttpResponse:
        """429 before the function runs, as the template's WAF rule answers on AWS: the limit in the body, when to
        come back in Retry-After (exposed, so that a page on another origin can read it), and the API's CORS origin."""
        headers = [
            ("Content-Type", "application/json"),
            ("Retry-After", str(max(1, math.ceil(wait_s)))),
            ("Access-Control-Expose-Headers", "Retry-After"),
            *route.api.gateway_response_headers("DEFAULT_4XX", 429),
        ]
        return HttpResponse(429, headers, refusal_body(route.method, route.resource, rate))

    def _preflight(self, path: str, request_id: str) -> HttpResponse:
        methods, api = self.api.methods_on(path)
        if api is None or api.cors is None:
            return self._gateway_error(403, "Missing Authentication Token", "MISSING_AUTHENTICATION_TOKEN", request_id)
        return HttpResponse(200, [("Content-Type", "application/json"), *api.cors.preflight_headers(methods)], b"")

    def _gateway_error(
        self, status: int, message: str, response_type: str, request_id: str, api: RestApi | None = None
    ) -> HttpResponse:
        api = api or (self.api.routes[0].api if self.api.routes else None)
        extra = api.gateway_response_headers(response_type, status) if api else []
        return json_response(status, message, [("x-amzn-ErrorType", response_type), *extra])

    async def _invoke(
        self, request: HttpRequest, route: Route, path_parameters: Mapping[str, str], request_id: str
    ) -> HttpResponse:
        function = route.function
        event = build_event(request, route, path_parameters, request_id)
        context = LambdaContext(function.logical_id, function.memory_mb, request_id, function.timeout_s)
        handler = self.handlers[function.logical_id]
        limit = min(function.timeout_s, API_GATEWAY_TIMEOUT_S)
        loop = asyncio.get_running_loop()
        started = loop.create_future()

        running_since = self._running_since
        function_id = function.logical_id

        def invoke() -> object:
            running_since[function_id] = time.monotonic()
            loop.call_soon_threadsafe(_set_once, started)
            try:
                return handler(event, context)
            finally:
                running_since[function_id] = None

        try:
            submitted = self.instance(function_id).submit(invoke)
            invocation = asyncio.wrap_future(submitted)
            while not started.done():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(started), STALL_LIMIT_S / 4)
                if not started.done() and self._stalled(function_id) and submitted.cancel():
                    log.warning(
                        "%s %s: %s stuck for over %.1f s; answered 503",
                        request_id,
                        route.resource,
                        function_id,
                        STALL_LIMIT_S,
                    )
                    busy = self._gateway_error(
                        503, "the function is busy; retry shortly", "DEFAULT_5XX", request_id, route.api
                    )
                    if not any(name.lower() == "retry-after" for name, _ in busy.headers):
                        busy.headers.append(("Retry-After", "1"))
                    return busy
            result = await asyncio.wait_for(invocation, limit)
            return response_from_result(result)
        except asyncio.TimeoutError:  # not yet the builtin TimeoutError on 3.10 (a notebook instance's Python)
            self._retire(function.logical_id)
            log.error("%s %s: %s did not answer within %.0f s", request_id, route.resource, function.logical_id, limit)
            if function.timeout_s < API_GATEWAY_TIMEOUT_S:
                return self._gateway_error(502, "Internal server error", "DEFAULT_5XX", request_id, route.api)
            return self._gateway_error(504, "Endpoint request timed out", "INTEGRATION_TIMEOUT", request_id, route.api)
        except InvalidProxyResult as exc:
            log.error("%s %s: malformed Lambda proxy response: %s", request_id, route.resource, exc)
            return self._gateway_error(502, "Internal server error", "DEFAULT_5XX", request_id, route.api)
        except Exception:
            # The handler raised: Lambda reports a function error and API Gateway answers 502.
            log.exception("%s %s: %s raised", request_id, route.resource, function.logical_id)
            return self._gateway_error(502, "Internal server error", "DEFAULT_5XX", request_id, route.api)


def _set_once(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _body_limit(handler: Handler) -> int | None:
    """The ``MAX_BODY_BYTES`` a handler's module declares, if it declares one."""
    limit = getattr(sys.modules.get(getattr(handler, "__module__", ""), None), "MAX_BODY_BYTES", None)
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else None


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


async def _send_in_pieces(send, stream, length: int) -> None:
    """``length`` bytes of ``stream``, a piece at a time (read off the event loop), so memory stays one piece.

    A file that shrank meanwhile ends the body short of its Content-Length, and the server closes the connection:
    the client sees an incomplete answer rather than a wrong one.
    """
    left = length
    while left > 0:
        piece = await asyncio.to_thread(stream.read, min(READ_WHOLE_BYTES, left))
        if not piece:
            return
        left -= len(piece)
        await send({"type": "http.response.body", "body": piece, "more_body": left > 0})
