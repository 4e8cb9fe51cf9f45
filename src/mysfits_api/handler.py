"""The Lambda behind API Gateway: ``POST /recommendations``, ``POST /choices`` and ``GET /questionnaire``.

A thin layer over :mod:`mysfits_api.recommend` and :mod:`mysfits_api.adopt`. Everything that should happen once per
container happens at import: reading the environment ``template.yaml`` sets, and creating the sagemaker-runtime and
DynamoDB clients, so warm requests pay for neither. Importing this module therefore needs
``SAGEMAKER_ENDPOINT_NAME``, ``MODEL_ENCODING``, ``ALLOWED_ORIGIN`` and ``ENDPOINT_READ_TIMEOUT_S`` to be set (and a
region, as on Lambda); ``CHOICES_TABLE_NAME`` names the choices table (without it, choices are not recorded until
:func:`use_choice_store` gives the function a store, which is what the local gateway does with its SQLite file).
"""

from __future__ import annotations

import os
import random
import time
import uuid

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from botocore.config import Config

from mysfits_api import adopt, exploration, recommend
from mysfits_api import encoding as encodings
from mysfits_api import metrics as visitor_metrics
from mysfits_api.choices import ChoiceStore, Recommendation, StoreUnavailable
from mysfits_api.cors import ensure_cors_headers
from mysfits_api.dynamodb_store import DynamoDbChoiceStore
from mysfits_api.encoding_follow import EncodingFollower
from mysfits_api.errors import ApiError, ChoiceError, EndpointError, RequestError
from mysfits_api.questionnaire import load_questionnaire
from mysfits_api.recommend import parse_answers, recommendation_for, runner_up


def _required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set; template.yaml sets it from a stack parameter")
    return value


def _positive_seconds(name: str) -> float:
    text = _required_env(name)
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 29:
        raise RuntimeError(
            f"environment variable {name} must be a number of seconds above 0 and below 29, got {text!r}"
        )
    return seconds


CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = _positive_seconds("ENDPOINT_READ_TIMEOUT_S")
MAX_ATTEMPTS = 1
"""One attempt: the read timeout is long enough for a serverless endpoint's cold start (template.yaml's
EndpointReadTimeoutSeconds), and a retry after such a wait would run past API Gateway's 29 s. The worst case is the
connect plus the read timeout, which the function's Timeout covers, so we answer 504 ourselves. A throttled call is
not retried here either: the client gets 503 with Retry-After at once."""

CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_S,
    read_timeout=READ_TIMEOUT_S,
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
)


def _encoding(name: str) -> str:
    text = _required_env(name)
    try:
        return encodings.check(text, f"environment variable {name}")
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None


ENDPOINT_NAME = _required_env("SAGEMAKER_ENDPOINT_NAME")
MODEL_ENCODING = _encoding("MODEL_ENCODING")
"""How the endpoint's model was trained: the answers are encoded so before every call (template.yaml's
ModelEncoding, which train_and_deploy.py writes next to the endpoint name)."""
ALLOWED_ORIGIN = _required_env("ALLOWED_ORIGIN")
MAX_BODY_BYTES = recommend.MAX_BODY_BYTES
"""The most any route's body may hold (every route reads it through ``json_body``). The local gateway reads it from
here and refuses a bigger body before buffering it; API Gateway passes up to 10 MB on, and the function refuses."""


def _exploration_rate(name: str) -> float:
    text = os.environ.get(name, "") or "0"
    try:
        rate = float(text)
    except ValueError:
        raise RuntimeError(
            f"environment variable {name} must be a number from 0 to {exploration.MAX_RATE}, got {text!r}"
        ) from None
    try:
        return exploration.check_rate(rate, f"environment variable {name}")
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None


EXPLORATION_RATE = _exploration_rate("EXPLORATION_RATE")
"""How often a recommendation shows a Mysfit drawn at random first (template.yaml's ExplorationRate; unset is 0)."""
_draws = random.SystemRandom()
"""Unpredictable draws: a client must not be able to tell which recommendation will explore."""

STORE_CONNECT_TIMEOUT_S = 1
STORE_READ_TIMEOUT_S = 2
STORE_MAX_ATTEMPTS = 1
STORE_CLIENT_CONFIG = Config(
    connect_timeout=STORE_CONNECT_TIMEOUT_S,
    read_timeout=STORE_READ_TIMEOUT_S,
    retries={"mode": "standard", "total_max_attempts": STORE_MAX_ATTEMPTS},
)
"""A choice store that is down must cost a visitor seconds at most: the recommendation is answered without it. One
attempt, because the write comes after the endpoint's answer, which may itself have taken 22 s: a retry would run
past the function's Timeout and turn an answered recommendation into the gateway's bare 5xx (template.yaml)."""

DEFAULT_RETENTION_DAYS = 7


def _choice_store_from_environment() -> ChoiceStore | None:
    table = os.environ.get("CHOICES_TABLE_NAME", "")
    if not table:
        return None
    days = os.environ.get("CHOICES_RETENTION_DAYS", "") or str(DEFAULT_RETENTION_DAYS)
    if not days.isdigit() or int(days) < 1:
        raise RuntimeError(f"environment variable CHOICES_RETENTION_DAYS must be a whole number of days, got {days!r}")
    client = boto3.client("dynamodb", config=STORE_CLIENT_CONFIG)
    return DynamoDbChoiceStore(client, table, int(days) * 24 * 3600)


choice_store: ChoiceStore | None = _choice_store_from_environment()


def use_choice_store(store: ChoiceStore | None) -> None:
    """Give the function the store it records recommendations and choices in (the local stack's SQLite file)."""
    global choice_store
    choice_store = store


logger = Logger(service="mysfits-recommendations")
# Retry-After is exposed so that the page, on another origin (CloudFront), can honour it on a 503.
app = APIGatewayRestResolver(cors=CORSConfig(allow_origin=ALLOWED_ORIGIN, max_age=600, expose_headers=["Retry-After"]))
# Honours AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, which is how the local gateway reaches the local endpoint.
runtime = boto3.client("sagemaker-runtime", config=CLIENT_CONFIG)


def _log_switch(previous: str, current: str, refusal: str) -> None:
    logger.warning("model encoding changed", extra={"previous": previous, "current": current, "refusal": refusal})


# Starts at MODEL_ENCODING; follows a retrained model of the other encoding without a failed request.
encoding = EncodingFollower(MODEL_ENCODING, _log_switch)


@app.post("/recommendations")
def post_recommendation() -> dict:
    event = app.current_event
    answers = parse_answers(event.body, is_base64=event.is_base64_encoded)
    prediction = encoding.predict(runtime, ENDPOINT_NAME, answers)
    if prediction.why_missing:
        # The recommendation stands on its own; a model that cannot say why is worth a warning, not a failure.
        logger.warning("recommendation without reasons", extra={"cause": prediction.why_missing})
    exposure = exploration.choose(prediction.label, EXPLORATION_RATE, _draws)
    body = recommendation_for(prediction.label, prediction.neighbours, answers, shown=exposure.shown)
    recommendation = Recommendation(
        recommendation_id=str(uuid.uuid4()),
        answers=answers,
        recommended_mysfit_id=body["modelPick"],
        runner_up_mysfit_id=runner_up(prediction.label, prediction.neighbours),
        model_version=prediction.model_version,
        created_at=time.time(),
        shown_mysfit_id=body["recommendedMysfit"],
        propensity=exposure.propensity,
        exploration_rate=exposure.rate,
        randomized=exposure.randomized,
    )
    if _kept(recommendation):
        body["recommendationId"] = recommendation.recommendation_id
    visitor_metrics.recommended(prediction.model_version)
    return body


def _kept(recommendation: Recommendation) -> bool:
    """Whether the recommendation is stored, so that it can be adopted. A store that is down costs the visitor
    only the Adopt button, never the recommendation."""
    if choice_store is None:
        logger.warning("recommendation not kept", extra={"cause": "no choices store is configured"})
        return False
    try:
        adopt.keep_recommendation(choice_store, recommendation)
    except StoreUnavailable as exc:
        logger.warning("recommendation not kept", extra={"cause": str(exc)})
        visitor_metrics.store_refused("save recommendation")
        return False
    return True


@app.post("/choices")
def post_choice() -> Response:
    event = app.current_event
    recommendation_id, mysfit_id = adopt.parse_choice(event.body, is_base64=event.is_base64_encoded)
    if choice_store is None:
        raise adopt.StoreDown("choices cannot be recorded right now; retry shortly", "no choices store is configured")
    choice = adopt.record_choice(choice_store, recommendation_id, mysfit_id, time.time())
    logger.info("choice recorded", extra={"choiceId": choice.choice_id, "accepted": choice.accepted})
    visitor_metrics.adopted(choice)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body={"choiceId": choice.choice_id})


# It changes only with a deployment; five minutes of browser caching spares repeat visitors a round trip.
@app.get("/questionnaire", cache_control="public, max-age=300")
def get_questionnaire() -> dict:
    return load_questionnaire().to_dict()


@app.exception_handler(RequestError)
def reject_request(error: RequestError) -> Response:
    logger.info("rejected request", extra={"status": error.status, "field": error.field, "reason": error.message})
    return _error_response(error)


@app.exception_handler(ChoiceError)
def report_choice_refusal(error: ChoiceError) -> Response:
    logger.info("choice refused", extra={"status": error.status, "cause": error.detail})
    if isinstance(error, adopt.StoreDown):
        visitor_metrics.store_refused("record choice")
    return _error_response(error)


@app.exception_handler(EndpointError)
def report_endpoint_failure(error: EndpointError) -> Response:
    # One line, no traceback: an outage fails every request the same way, and the cause (status, SageMaker's error
    # code and message) is all an operator needs; a traceback per request buried the log in 9.5 KB entries.
    logger.error(
        "endpoint call failed", extra={"status": error.status, "error": type(error).__name__, "cause": error.detail}
    )
    return _error_response(error)


@app.not_found
def no_such_route(_error: Exception) -> Response:
    event = app.current_event
    return Response(
        status_code=404,
        content_type=content_types.APPLICATION_JSON,
        body={"message": f"no route for {event.http_method} {event.path}"},
    )


@app.exception_handler(Exception)
def report_bug(_error: Exception) -> Response:
    """A bug of ours: log it in full, answer a JSON 500 that still carries CORS headers and reveals nothing."""
    logger.exception("unhandled error")
    return Response(status_code=500, content_type=content_types.APPLICATION_JSON, body={"message": "internal error"})


def _error_response(error: ApiError) -> Response:
    # Built through the resolver, so Powertools adds the CORS headers to errors as to any response.
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=error.body(),
        headers=error.headers(),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: object) -> dict:
    try:
        return ensure_cors_headers(app.resolve(event, context), ALLOWED_ORIGIN)
    finally:
        visitor_metrics.flush()
