"""Arbitrary JSON, text and bytes at lambda_handler: never a 5xx, never an exception, always strict JSON with CORS."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mysfits_api.catalog import N_MYSFITS, label_ids
from tests.api_support import ALLOWED_ORIGIN, LambdaContext, answering_client, event_with, response_headers

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)
entries = st.lists(st.integers(min_value=-2, max_value=10) | json_values, max_size=7)
json_bodies = st.one_of(
    json_values.map(json.dumps),
    entries.map(lambda entry: json.dumps({"entry": entry})),
    st.dictionaries(st.text(max_size=8), json_values, max_size=4).map(json.dumps),
)
bodies = st.one_of(
    st.tuples(json_bodies, st.booleans()),
    st.tuples(st.text(), st.booleans()),
    st.tuples(st.binary(max_size=2048), st.just(None)),
    st.tuples(st.none(), st.booleans()),
)
IDS = label_ids()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def label_for(answers: tuple[int, ...]) -> int:
    return sum(answers) % N_MYSFITS


@pytest.fixture(scope="module")
def instant_client():
    return answering_client(label_for)


@pytest.fixture
def instant(handler, instant_client, monkeypatch):
    """The handler, answering from a client that is created once: a new client per example would dominate."""
    monkeypatch.setattr(handler, "runtime", instant_client)
    return handler


@FUZZ
@given(body_and_flag=bodies)
def test_any_body_gets_a_clean_answer(instant, body_and_flag):
    body, is_base64 = body_and_flag
    event = event_with(body) if is_base64 is None else event_with(body, is_base64=is_base64)
    response = instant.lambda_handler(event, LambdaContext())
    assert response["statusCode"] in {200, 400, 413}
    document = json.loads(response["body"], parse_constant=_reject)
    assert response_headers(response)["access-control-allow-origin"] == ALLOWED_ORIGIN
    if response["statusCode"] == 200:
        # No "why" (the client is not verbose) and no "recommendationId" (no store): the rest of the 200 body.
        assert set(document) == {"recommendedMysfit", "mysfit", "modelPick", "explored"}
    else:
        assert set(document) == {"message", "field", "allowed", "received"}


@FUZZ
@given(entry=st.lists(st.integers(min_value=1, max_value=8), min_size=5, max_size=5), encode=st.booleans())
def test_every_valid_entry_is_recommended(instant, entry, encode):
    body = json.dumps({"entry": entry})
    response = instant.lambda_handler(event_with(body.encode() if encode else body), LambdaContext())
    assert response["statusCode"] == 200
    answer = json.loads(response["body"])
    picked = IDS[label_for(tuple(entry))]  # the label as the catalog's position, not through recommendation_for
    assert (answer["recommendedMysfit"], answer["modelPick"], answer["explored"]) == (picked, picked, False)
    assert answer["mysfit"]["id"] == picked and "why" not in answer


def _reject(name: str):
    raise AssertionError(f"response body contains {name}, which is not JSON")
