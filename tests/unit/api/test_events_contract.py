"""Every committed events/*.json, as `sam local generate-event` wrote it, through the handler."""

from __future__ import annotations

import json

import pytest

from mysfits_api.recommend import recommendation_for
from tests.api_support import (
    ALLOWED_ORIGIN,
    EVENTS_DIR,
    LambdaContext,
    label_payload,
    load_event,
    prediction_body,
    response_headers,
)

# event file -> (status, the error's field, or None for a success)
EXPECTED = {
    "post-recommendation.json": (200, None),
    "post-recommendation-out-of-range.json": (400, "entry[2]"),
    "post-recommendation-wrong-length.json": (400, "entry"),
    "post-recommendation-wrong-type.json": (400, "entry[0]"),
    "post-recommendation-missing-entry.json": (400, "entry"),
    "post-recommendation-not-json.json": (400, "body"),
    "post-recommendation-oversized.json": (413, "body"),
    # This module's handler has no choices store (test_choices_api.py gives it one): a good choice is 503.
    "post-choice.json": (503, None),
    "post-choice-unknown-mysfit.json": (400, "mysfitId"),
    "get-questionnaire.json": (200, None),
    "options-recommendations-preflight.json": (204, None),
}
PREDICTED_LABEL = 7


def test_every_event_file_has_an_expectation():
    assert sorted(path.name for path in EVENTS_DIR.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event(handler, stub, name):
    event = load_event(name)
    status, field = EXPECTED[name]
    if name == "post-recommendation.json":
        stub.add_response("invoke_endpoint", prediction_body(label_payload(PREDICTED_LABEL)))
    response = handler.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == status
    if field is not None:
        assert json.loads(response["body"])["field"] == field
    if name == "post-recommendation.json":
        assert json.loads(response["body"]) == recommendation_for(PREDICTED_LABEL)


def test_the_generated_events_carry_base64_bodies_like_sam_writes_them():
    event = load_event("post-recommendation.json")
    assert event["isBase64Encoded"] is True
    assert event["httpMethod"] == "POST" and event["path"] == "/recommendations"


def test_the_preflight_event_from_the_allowed_origin_is_granted(handler):
    event = load_event("options-recommendations-preflight.json")
    assert event["headers"]["Origin"] == ALLOWED_ORIGIN
    headers = response_headers(handler.lambda_handler(event, LambdaContext()))
    assert headers["access-control-allow-origin"] == event["headers"]["Origin"]
    assert "POST" in headers["access-control-allow-methods"]
