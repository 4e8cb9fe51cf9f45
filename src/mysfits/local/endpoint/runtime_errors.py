"""Error responses in the shape the SageMaker Runtime service sends them, so botocore raises the same ``ClientError``.

botocore's rest-json parser takes the error code from the ``x-amzn-ErrorType`` header (or, failing that, the HTTP
status) and the message from the body's ``message``/``Message``; for ``ModelError`` it also reads the modeled
members ``OriginalStatusCode``, ``OriginalMessage`` and ``LogStreamArn``. A body over the payload limit is refused
by the service itself, with HTTP 413 and no error type, so clients see the code ``"413"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mysfits.local.endpoint.protocol import MAX_PAYLOAD_BYTES

JSON_HEADERS = ((b"content-type", b"application/json"),)
# Accounts are 12 digits; this one marks the local stand-in (it appears in messages and ARNs only).
LOCAL_ACCOUNT = "000000000000"
LOCAL_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    status: int
    code: str | None
    message: str
    body: bytes

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = list(JSON_HEADERS)
        if self.code:
            headers.append((b"x-amzn-errortype", self.code.encode()))
        return headers


def _json(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def validation_error(message: str) -> ErrorResponse:
    return ErrorResponse(400, "ValidationError", message, _json({"message": message}))


def endpoint_not_found(requested: str, served: str) -> ErrorResponse:
    return validation_error(
        f"Endpoint {requested} of account {LOCAL_ACCOUNT} not found. "
        f"This local endpoint serves {served!r}; invoke that name or restart with --name {requested}."
    )


def model_error(endpoint: str, original_status: int, original_message: str) -> ErrorResponse:
    """A model container refused the request (any 4xx/5xx): SageMaker answers 424 and quotes the container."""
    kind = "client" if original_status < 500 else "server"
    message = (
        f'Received {kind} error ({original_status}) from primary with message "{original_message}". '
        f"See the log of the local endpoint {endpoint!r} (stderr of `mysfits endpoint`) for more information."
    )
    log_stream = (
        f"arn:aws:logs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{endpoint}"
        ":log-stream:AllTraffic/local"
    )
    body = {
        "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
        "LogStreamArn": log_stream,
        "Message": message,
        "OriginalMessage": original_message,
        "OriginalStatusCode": original_status,
    }
    return ErrorResponse(424, "ModelError", message, _json(body))


def payload_too_large() -> ErrorResponse:
    message = f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes."
    return ErrorResponse(413, None, message, _json({"message": message}))


def body_timeout(seconds: float) -> ErrorResponse:
    message = f"The request body did not arrive within {seconds:g} s."
    return ErrorResponse(408, None, message, _json({"message": message}))


def unknown_operation(method: str, path: str) -> ErrorResponse:
    message = (
        f"No operation at {method} {path}. This server answers POST /endpoints/{{name}}/invocations "
        "(SageMaker Runtime), POST /invocations and GET /ping (container contract)."
    )
    return ErrorResponse(404, "UnknownOperationException", message, _json({"message": message}))
