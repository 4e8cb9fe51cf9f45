"""REST API (payload 1.0) proxy events in, Lambda proxy results out.

The event has the shape API Gateway hands a Lambda proxy integration, so the handler
cannot tell the local gateway from the real one: single- and multi-value headers and
query strings (the single-value maps keep the last value, as API Gateway does), path
parameters, a ``requestContext`` with a fresh request id, and a base64 body when the
payload is binary. Header names arrive lower-cased from the HTTP server; they are put in
canonical ``Title-Case``, which is what HTTP/1.1 clients send and API Gateway forwards.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import BinaryIO
from urllib.parse import parse_qsl

from mysfits.local.gateway.intrinsics import LOCAL_PSEUDO_PARAMETERS
from mysfits.local.gateway.template import Route

LOCAL_API_ID = "localapi01"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query_string: bytes
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        values = [value for key, value in self.headers if key.lower() == wanted]
        return values[-1] if values else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    # A big static file is sent from its open handle in pieces (its Content-Length is in ``headers``), never read
    # whole: four downloads of a 200 MB file took the gateway from 85 to 904 MB when it was.
    stream: BinaryIO | None = None


class InvalidProxyResult(ValueError):
    """A handler result API Gateway would reject ("Malformed Lambda proxy response")."""


def canonical_header(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def build_event(
    request: HttpRequest, route: Route, path_parameters: Mapping[str, str], request_id: str, now: float | None = None
) -> dict:
    now = time.time() if now is None else now
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi_headers.setdefault(canonical_header(name), []).append(value)
    multi_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True):
        multi_query.setdefault(key, []).append(value)
    body, is_base64 = _event_body(request, route.api.binary_media_types)
    stage = route.api.stage
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": route.function.logical_id.lower()[:6],
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{request.path}",
            "accountId": LOCAL_PSEUDO_PARAMETERS["AWS::AccountId"],
            "protocol": request.protocol,
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.header("user-agent"),
                "user": None,
            },
            "domainName": request.header("host") or "localhost",
            "apiId": LOCAL_API_ID,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _event_body(request: HttpRequest, binary_media_types: tuple[str, ...]) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    content_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type and any(fnmatch.fnmatch(content_type, pattern.lower()) for pattern in binary_media_types):
        return base64.b64encode(request.body).decode("ascii"), True
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        # A JSON string cannot carry arbitrary bytes, so the payload goes as base64 and says so.
        return base64.b64encode(request.body).decode("ascii"), True


def response_from_result(result: object) -> HttpResponse:
    """Map a Lambda proxy result to HTTP; raises :class:`InvalidProxyResult` where API Gateway would 502."""
    if not isinstance(result, dict):
        raise InvalidProxyResult(f"the handler returned {type(result).__name__}, not a dict with statusCode")
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidProxyResult(f"statusCode must be an integer from 100 to 599, got {status!r}")
    merged: dict[str, list[str]] = {}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if not isinstance(values, list):
            raise InvalidProxyResult(f"multiValueHeaders[{name!r}] must be a list, got {values!r}")
        merged[name] = [_header_value(name, v) for v in values]
    for name, value in (result.get("headers") or {}).items():
        # API Gateway merges both maps; a header also in multiValueHeaders keeps only those values.
        merged.setdefault(name, [_header_value(name, value)])
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise InvalidProxyResult(f"body must be a string, got {type(body).__name__}")
    payload = (body or "").encode("utf-8")
    if result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body or "", validate=True)
        except binascii.Error as exc:
            raise InvalidProxyResult(f"isBase64Encoded is true but body is not base64: {exc}") from exc
    headers = [(name, value) for name, values in merged.items() for value in values]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status, headers, payload)


def _header_value(name: str, value: object) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise InvalidProxyResult(f"header {name!r} must be a string, got {value!r}")
    return str(value).lower() if isinstance(value, bool) else str(value)


def json_response(status: int, message: str, extra_headers: list[tuple[str, str]] = ()) -> HttpResponse:
    """A response API Gateway itself produces (no handler involved), e.g. a missing route."""
    body = json.dumps({"message": message}).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), *extra_headers], body)
