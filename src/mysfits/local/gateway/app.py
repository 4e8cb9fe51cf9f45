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
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from mysfits.local import http_server
from mysfits.local.gateway.events import (
    HttpRequest,
    HttpResponse,
    InvalidProxyResult,
    build_event,
    json_response,
    response_from_result,
)
from mysfits.local.gateway.lambda_runtime import Handler, LambdaContext
from mysfits.local.gateway.static import StaticSite
from mysfits.local.gateway.template import ApiDefinition, RestApi, Route

log = logging.getLogger("mysfits.local.gateway")

API_GATEWAY_TIMEOUT_S = 29.0
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit


class Gateway:
    def __init__(
        self,
        api: ApiDefinition,
        handlers: Mapping[str, Handler],
        static: StaticSite | None = None,
    ):
        self.api = api
        self.handlers = dict(handlers)
        self.static = static
        self._instances: dict[str, ThreadPoolExecutor] = {}

    def instance(self, function_id: str) -> ThreadPoolExecutor:
        """The single thread that runs one function's invocations, one at a time, in arrival order."""
        if function_id not in self._instances:
            self._instances[function_id] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=function_id)
        return self._instances[function_id]

    def close(self) -> None:
        for executor in self._instances.values():
            executor.shutdown(wait=False, cancel_futures=True)
        self._instances.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            body = await http_server.read_body(receive, MAX_PAYLOAD_BYTES)
        except http_server.BodyTooLarge:
            response = json_response(413, "Request Too Long")
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
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers],
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def _lifespan(self, receive, send) -> None:
        await http_server.lifespan(receive, send, shutdown=self.close)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        found = self.api.find(request.method, request.path)
        if found is not None:
            route, path_parameters = found
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
        try:
            invocation = loop.run_in_executor(self.instance(function.logical_id), handler, event, context)
            result = await asyncio.wait_for(invocation, limit)
            return response_from_result(result)
        except asyncio.TimeoutError:  # not yet the builtin TimeoutError on 3.10 (a notebook instance's Python)
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
