"""What the API tests share: the handler's environment, a Lambda context, proxy events and clients.

Events are built from the committed ``events/post-recommendation.json`` (a real
``sam local generate-event`` output), so every test speaks the shape API Gateway sends.
"""

from __future__ import annotations

import base64
import copy
import importlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.response import StreamingBody

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
ALLOWED_ORIGIN = "https://mysfits.example.com"
ENDPOINT_NAME = "mysfits-knn"
HANDLER_ENV = {
    "SAGEMAKER_ENDPOINT_NAME": ENDPOINT_NAME,
    "MODEL_ENCODING": "ordinal",
    "ALLOWED_ORIGIN": ALLOWED_ORIGIN,
    "ENDPOINT_READ_TIMEOUT_S": "20",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda runtime's context object that Powertools' Logger reads."""

    function_name: str = "mysfits-recommendations-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:mysfits-recommendations-test"
    aws_request_id: str = "5b1b6c0e-0000-4000-8000-000000000000"


@contextmanager
def imported_handler(**extra_env: str) -> Iterator[ModuleType]:
    """A fresh import of the handler module under the environment template.yaml would give it (plus extra_env),
    which stays set until the context ends."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", raising=False)
        for name, value in {**HANDLER_ENV, **extra_env}.items():
            patch.setenv(name, value)
        sys.modules.pop("mysfits_api.handler", None)
        _forget_the_function_logger()
        yield importlib.import_module("mysfits_api.handler")


def _forget_the_function_logger() -> None:
    """Powertools configures a service's logger once per process and keeps the stream it found then; a fresh import
    must log to this test's stdout (capsys), not to whichever test imported the handler first."""
    import logging

    from aws_lambda_powertools.logging.constants import LOGGER_ATTRIBUTE_PRECONFIGURED

    logger = logging.getLogger("mysfits-recommendations")
    for old in list(logger.handlers):
        logger.removeHandler(old)
    for marker in (LOGGER_ATTRIBUTE_PRECONFIGURED, "powertools_handler"):
        if hasattr(logger, marker):
            delattr(logger, marker)


def load_event(name: str) -> dict:
    return json.loads((EVENTS_DIR / name).read_text("utf-8"))


def event_with(
    body: str | bytes | None,
    *,
    method: str = "POST",
    path: str = "/recommendations",
    is_base64: bool = False,
    origin: str | None = ALLOWED_ORIGIN,
    request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
) -> dict:
    """A proxy event like SAM's sample, with this body (bytes are base64-encoded, as API Gateway does)."""
    event = copy.deepcopy(_template_event())
    if isinstance(body, bytes):
        body, is_base64 = base64.b64encode(body).decode("ascii"), True
    event.update(body=body, isBase64Encoded=is_base64, httpMethod=method, path=path, resource=path)
    event["requestContext"].update(httpMethod=method, resourcePath=path, requestId=request_id)
    if origin is not None:
        with_header(event, "Origin", origin)
    return event


def with_header(event: dict, name: str, value: str) -> dict:
    event["headers"][name] = value
    event["multiValueHeaders"][name] = [value]
    return event


def response_headers(response: dict) -> dict[str, str]:
    """Lower-cased header names to values, whether the handler answered in headers or multiValueHeaders."""
    headers = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(values)
    return headers


def runtime_client(endpoint_url: str | None = None, **config: object):
    """A real sagemaker-runtime client with dummy credentials (the local server and Stubber ignore them)."""
    return boto3.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )


def local_runtime_client(endpoint_url: str | None = None):
    """A client for the local endpoint that tries once, so an error test sees the endpoint's own answer."""
    return runtime_client(endpoint_url, retries={"max_attempts": 1})


def answering_client(label_for: Callable[[tuple[int, ...]], float]):
    """A real client whose HTTP send is replaced by an instant answer computed from the CSV row it would send.

    Everything else (parameter validation, serialisation, signing, response parsing) is botocore's own.
    """
    client = runtime_client()

    def answer(request, **_):
        answers = tuple(int(value) for value in request.body.decode().split(","))
        payload = label_payload(label_for(answers))
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, io.BytesIO(payload))

    client.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint", answer)
    return client


def prediction_body(payload: bytes) -> dict:
    """An InvokeEndpoint response for botocore Stubber."""
    return {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": "application/json"}


def label_payload(label: float) -> bytes:
    return json.dumps({"predictions": [{"predicted_label": label}]}).encode()


@cache
def _template_event() -> dict:
    return load_event("post-recommendation.json")
