"""From a request body to a recommended Mysfit, as pure functions over an injected sagemaker-runtime client.

Nothing here reads the environment or creates a client: the handler does that once per
container, and tests hand in a stubbed or a real client pointed at the local endpoint.
Standard library and botocore only, so the Lambda package needs neither numpy nor the SageMaker SDK.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore import exceptions as boto_errors

from mysfits_api import encoding as encodings
from mysfits_api.catalog import N_MYSFITS, mysfit_for_label
from mysfits_api.errors import (
    EndpointError,
    MalformedPrediction,
    ModelBusy,
    ModelFailed,
    ModelTimeout,
    ModelUnavailable,
    PayloadTooLarge,
    RequestError,
)
from mysfits_api.questionnaire import N_QUESTIONS, OPTION_MAX, OPTION_MIN, InvalidAnswers, validate_answers

MAX_BODY_BYTES = 1024
"""A valid body is about 30 bytes. The cap keeps hostile input cheap, and bounds JSON nesting
(at most 512 levels), so parsing it or echoing part of it back can never hit Python's recursion limit."""

_MAX_BASE64_CHARS = 4 * ((MAX_BODY_BYTES + 2) // 3)
_ALLOWED_BODY = f'a JSON object such as {{"entry": [{", ".join(map(str, range(1, N_QUESTIONS + 1)))}]}}'
_ALLOWED_ENTRY = f"a list of {N_QUESTIONS} integers from {OPTION_MIN} to {OPTION_MAX}"

# SageMaker Runtime's error codes for InvokeEndpoint, by what they mean for our caller.
_ERROR_BY_CODE: dict[str, type[EndpointError]] = {
    "ValidationError": ModelUnavailable,  # no such endpoint, or it is not InService
    "AccessDeniedException": ModelUnavailable,
    "UnrecognizedClientException": ModelUnavailable,
    "ModelError": ModelFailed,
    "InternalFailure": ModelFailed,
    "InternalDependencyException": ModelFailed,
    "ServiceUnavailable": ModelBusy,
    "ModelNotReadyException": ModelBusy,
    "ThrottlingException": ModelBusy,
}
_BUSY_STATUSES = frozenset({429, 503})

PLAIN_JSON = "application/json"
VERBOSE_JSON = "application/json; verbose=true"
"""SageMaker's built-in kNN reads ``verbose=true`` as a parameter of the Accept type and then adds each row's
neighbour ``distances`` and ``labels`` to the prediction; ``predicted_label`` stays where plain JSON puts it."""

MAX_NEIGHBOURS = 1024
"""The built-in kNN's largest ``k``; a longer label list is not a neighbourhood but a broken answer."""


@dataclass(frozen=True)
class Prediction:
    """The endpoint's label, and, when its verbose answer held them, the labels of the neighbours that voted.

    ``neighbours`` is ``None`` when the reasons are missing or unusable; ``why_missing`` then says what was
    wrong, for the log. The label alone is still a full answer: reasons are an extra, never a condition.
    """

    label: int
    neighbours: tuple[int, ...] | None = None
    why_missing: str | None = None
    model_version: str = ""
    """The production variant that answered (``InvokedProductionVariant``). The endpoint names its variant after
    the model it serves, so this is the version the data loop records with each recommendation."""


def parse_answers(body: str | None, *, is_base64: bool = False) -> tuple[int, ...]:
    """The five answers in an API Gateway proxy body, or a :class:`RequestError` naming what is wrong."""
    document = json_body(body, _ALLOWED_BODY, is_base64=is_base64)
    if "entry" not in document:
        raise RequestError('the body has no "entry"', "entry", _ALLOWED_ENTRY, None)
    try:
        return validate_answers(document["entry"])
    except InvalidAnswers as exc:
        raise RequestError(str(exc), exc.field, exc.allowed, exc.received) from exc


def json_body(body: str | None, allowed: str, *, is_base64: bool = False) -> dict:
    """A proxy event's body as a JSON object, or a :class:`RequestError` naming what is wrong (``allowed`` describes
    a good body). Every route reads its body through here, so every route has the same size cap and rules.

    ``sam local generate-event`` and binary-media settings deliver the body base64-encoded, so
    ``is_base64`` (the event's ``isBase64Encoded``) is honoured rather than assumed false.
    """
    if not body:
        raise RequestError("the request has no body", "body", allowed, body)
    if is_base64:
        if len(body) > _MAX_BASE64_CHARS:
            raise _too_large(len(body) * 3 // 4)
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RequestError(
                "the body is marked isBase64Encoded but is not base64", "body", "base64 text", _preview(body)
            ) from exc
        if len(raw) > MAX_BODY_BYTES:
            raise _too_large(len(raw))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RequestError("the body is not UTF-8 text", "body", allowed, _preview(raw)) from exc
    else:
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > MAX_BODY_BYTES:
            raise _too_large(size)
        text = body
    # Some clients (PowerShell, Windows editors) start UTF-8 text with a byte-order mark; it carries no content.
    text = text.removeprefix("\ufeff")
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise RequestError("the body is not valid JSON", "body", allowed, _preview(text)) from exc
    if not isinstance(document, dict):
        raise RequestError("the body must be a JSON object", "body", allowed, _preview(text))
    return document


def predict(client: Any, endpoint_name: str, answers: Sequence[int], encoding: str = encodings.ORDINAL) -> Prediction:
    """Ask the endpoint for a label and the neighbours behind it: a CSV row in, verbose JSON out.

    The row is the answers encoded as the model was trained (``encoding``); the neighbours' labels mean the same
    whatever the encoding. The label is checked as strictly as :func:`predict_label` checks it; the neighbours are
    not allowed to fail the request (a model that cannot explain itself still recommends).
    """
    payload, variant = _invoke(client, endpoint_name, encodings.encode(answers, encoding), VERBOSE_JSON)
    prediction = _single_prediction(payload)
    label = _label_of(prediction)
    try:
        neighbours = neighbour_labels(prediction, label)
    except ValueError as exc:
        return Prediction(label, None, str(exc), variant)
    return Prediction(label, neighbours, None, variant)


def predict_label(client: Any, endpoint_name: str, answers: Sequence[int]) -> int:
    """Ask the endpoint for one label, as the original workshop's Lambda did: a CSV row in, plain JSON out."""
    return parse_prediction(_invoke(client, endpoint_name, answers, PLAIN_JSON)[0])


def _invoke(client: Any, endpoint_name: str, features: Sequence[int], accept: str) -> tuple[bytes, str]:
    """One InvokeEndpoint call: the body and the variant that answered. Every failure becomes an
    :class:`EndpointError` chosen by its cause, with the original exception chained for the log."""
    row = ",".join(str(feature) for feature in features)
    try:
        response = client.invoke_endpoint(
            EndpointName=endpoint_name, ContentType="text/csv", Accept=accept, Body=row.encode("ascii")
        )
        return response["Body"].read(), str(response.get("InvokedProductionVariant", ""))
    except boto_errors.ClientError as exc:
        raise _from_client_error(exc, endpoint_name) from exc
    except (boto_errors.ReadTimeoutError, boto_errors.ConnectTimeoutError) as exc:
        raise ModelTimeout(f"endpoint {endpoint_name!r} timed out: {exc}") from exc
    except (boto_errors.ConnectionError, boto_errors.HTTPClientError) as exc:
        raise ModelBusy(f"endpoint {endpoint_name!r} unreachable: {exc}") from exc
    except boto_errors.BotoCoreError as exc:
        raise ModelUnavailable(f"cannot call endpoint {endpoint_name!r}: {exc}") from exc


def parse_prediction(payload: bytes) -> int:
    """The label in a kNN JSON response ``{"predictions": [{"predicted_label": 3.0}]}``, checked against the catalog."""
    return _label_of(_single_prediction(payload))


def _single_prediction(payload: bytes) -> dict:
    try:
        document = json.loads(payload)
        (prediction,) = document["predictions"]
        prediction["predicted_label"]
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise MalformedPrediction(f"expected one prediction with a predicted_label, got {payload[:200]!r}") from exc
    return prediction


def _label_of(prediction: dict) -> int:
    value = prediction["predicted_label"]
    label = _whole_label(value)
    if label is None:
        raise MalformedPrediction(f"predicted_label must be a whole number, got {value!r}")
    if not 0 <= label < N_MYSFITS:
        raise MalformedPrediction(f"predicted_label must be from 0 to {N_MYSFITS - 1}, got {label}")
    return label


def _whole_label(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def neighbour_labels(prediction: object, label: int) -> tuple[int, ...]:
    """The neighbours' labels in a verbose prediction, nearest first, or ``ValueError`` saying why they are unusable.

    They must be Mysfit labels and must have voted for ``label`` (the most votes); anything else would
    give the visitor a reason that contradicts the recommendation.
    """
    if not isinstance(prediction, dict) or "labels" not in prediction:
        raise ValueError("the endpoint's answer has no neighbour labels (was verbose=true ignored?)")
    raw = prediction["labels"]
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_NEIGHBOURS:
        raise ValueError(f"neighbour labels must be a list of 1 to {MAX_NEIGHBOURS} labels, got {_short(raw)}")
    labels = []
    for index, value in enumerate(raw):
        whole = _whole_label(value)
        if whole is None or not 0 <= whole < N_MYSFITS:
            raise ValueError(f"neighbour label {index} must be a whole number from 0 to {N_MYSFITS - 1}, got {value!r}")
        labels.append(whole)
    distances = prediction.get("distances")
    if distances is not None and (not isinstance(distances, list) or len(distances) != len(labels)):
        raise ValueError(f"{len(labels)} neighbour labels but distances {_short(distances)}")
    votes = Counter(labels)
    if votes[label] < max(votes.values()):
        raise ValueError(f"the neighbours' votes {dict(votes)} do not elect the predicted label {label}")
    return tuple(labels)


def runner_up(label: int, neighbours: Sequence[int] | None) -> str | None:
    """The Mysfit the page offers second: the best of the others in :func:`explain`'s order, if any voted."""
    if not neighbours:
        return None
    votes = explain(label, neighbours)["votes"]
    return votes[1]["mysfitId"] if len(votes) > 1 else None


def explain(label: int, neighbours: Sequence[int]) -> dict:
    """How the neighbours voted: the recommended Mysfit first, then the rest by votes, then by nearest neighbour.

    That order makes ``votes[1]`` the runner-up the page offers as a second suggestion.
    """
    votes = Counter(neighbours)
    first_seen = {lab: index for index, lab in reversed(list(enumerate(neighbours)))}
    order = sorted(votes, key=lambda lab: (lab != label, -votes[lab], first_seen[lab]))
    return {
        "neighbours": len(neighbours),
        "votes": [{"mysfitId": mysfit_for_label(lab).id, "count": votes[lab]} for lab in order],
    }


# An answer "points to" a Mysfit when it is that Mysfit's fans' favourite option or one step from it.
CLOSE_TO_FAVOURITE = 1


def answers_pointing_to(label: int, answers: Sequence[int]) -> list[int]:
    """The questions (0-based) whose answer is within one step of the Mysfit's favourite: the visitor's own reasons.

    The favourites stay in the package; only which of the visitor's answers are near them is said, so the page can
    tell the visitor about their answers rather than about other people.
    """
    favourites = mysfit_for_label(label).favourites
    pairs = enumerate(zip(answers, favourites, strict=True))
    return [i for i, (given, liked) in pairs if abs(given - liked) <= CLOSE_TO_FAVOURITE]


def recommendation_for(
    label: int,
    neighbours: Sequence[int] | None = None,
    answers: Sequence[int] | None = None,
    shown: int | None = None,
) -> dict:
    """The 200 body. ``recommendedMysfit`` keeps the original site's key and names the Mysfit the page shows first
    (``shown``, the model's pick unless exploration drew another); ``mysfit`` is its profile, saving the page a
    second call. ``modelPick`` is always the model's own pick and ``explored`` says whether the two differ, so the
    page never claims the model chose what it did not. ``why`` (only when the neighbours are known) describes the
    model's pick: how the nearest earlier visitors voted and, given the answers, which of them point to it
    (``answersPointing``)."""
    shown = label if shown is None else shown
    mysfit = mysfit_for_label(shown)
    body = {
        "recommendedMysfit": mysfit.id,
        "mysfit": mysfit.profile(),
        "modelPick": mysfit_for_label(label).id,
        "explored": shown != label,
    }
    if neighbours is not None:
        body["why"] = explain(label, neighbours)
        if answers is not None:
            body["why"]["answersPointing"] = answers_pointing_to(label, answers)
    return body


def _from_client_error(exc: boto_errors.ClientError, endpoint_name: str) -> EndpointError:
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    detail = f"endpoint {endpoint_name!r} answered {status} {code}: {error.get('Message', '')}"
    kind = _ERROR_BY_CODE.get(code) or _error_by_status(status)
    return kind(detail)


def _error_by_status(status: int) -> type[EndpointError]:
    """For codes SageMaker may add later: judge by the HTTP status instead."""
    if status in _BUSY_STATUSES:
        return ModelBusy
    return ModelFailed if status >= 500 else ModelUnavailable


def _too_large(size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the body is {size} bytes; the limit is {MAX_BODY_BYTES}", "body", f"at most {MAX_BODY_BYTES} bytes", size
    )


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _preview(text: str | bytes) -> str:
    """Enough of what the client sent to recognise it, without echoing a whole kilobyte back."""
    shown = text if isinstance(text, str) else text.decode("utf-8", "backslashreplace")
    return shown if len(shown) <= 60 else shown[:57] + "..."
