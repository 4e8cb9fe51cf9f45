"""Every way a request can fail, as exceptions that know their HTTP status and JSON body.

The handler turns any of these into a response in one place, so a route never builds an
error response by hand and the client always gets the same shape:
``{"message": ..., "field": ..., "allowed": ..., "received": ...}`` for bad input and
``{"message": ...}`` for a failure behind the API. Endpoint errors keep the real cause in
``detail`` for the logs only; the client sees a fixed message that leaks nothing.
"""

from __future__ import annotations

import json
from typing import ClassVar

RETRY_AFTER_SECONDS = 5
"""What a 503 asks the client to wait: long enough for a throttle or a scaling endpoint to recover."""


class ApiError(Exception):
    status: ClassVar[int] = 500

    def body(self) -> dict:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}


class RequestError(ApiError):
    """The caller sent something we cannot score; ``field``, ``allowed`` and ``received`` say what and where."""

    status = 400

    def __init__(self, message: str, field: str, allowed: str, received: object):
        super().__init__(message)
        self.message = message
        self.field = field
        self.allowed = allowed
        self.received = received

    def body(self) -> dict:
        return {
            "message": self.message,
            "field": self.field,
            "allowed": self.allowed,
            "received": _json_safe(self.received),
        }


class PayloadTooLarge(RequestError):
    status = 413


class EndpointError(ApiError):
    """The model endpoint could not give us a usable answer. ``detail`` is for the log, never for the client."""

    status = 502
    public_message: ClassVar[str] = "model unavailable"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail

    def body(self) -> dict:
        return {"message": self.public_message}


class ModelUnavailable(EndpointError):
    """The endpoint is missing, misconfigured or refuses us (wrong name, no permission, no credentials)."""


class ModelFailed(EndpointError):
    public_message = "the model failed to score the answers"


class MalformedPrediction(EndpointError):
    public_message = "the model returned an unusable prediction"


class ModelBusy(EndpointError):
    """Throttled, scaling, or unreachable for now: worth retrying, so the client is told when."""

    status = 503
    public_message = "the model is busy; retry shortly"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


class ModelTimeout(EndpointError):
    status = 504
    public_message = "the model did not answer in time"


class ChoiceError(ApiError):
    """A choice the store refused or could not take; the message is safe to show (it names no internals)."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail or message

    def body(self) -> dict:
        return {"message": self.message}


class RecommendationNotFound(ChoiceError):
    status = 404


class AlreadyAdopted(ChoiceError):
    status = 409


class StoreDown(ChoiceError):
    """The choices store is unavailable; nothing was recorded, and the client may send the same choice again."""

    status = 503

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _json_safe(value: object) -> object:
    """``received`` echoes client input, which may hold things strict JSON cannot carry (inf from 1e400)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:80]
    return value
