"""The ``why`` of a recommendation: the kNN's verbose answer through a real sagemaker-runtime client (Stubber),
and the handler's answer when that part of the endpoint's reply is missing or broken."""

from __future__ import annotations

import io
import json

import pytest
from botocore.stub import Stubber

from mysfits_api.catalog import load_catalog
from mysfits_api.errors import MalformedPrediction
from mysfits_api.recommend import VERBOSE_JSON, answers_pointing_to, explain, predict, recommendation_for
from tests.api_support import ENDPOINT_NAME, LambdaContext, event_with, prediction_body, runtime_client

ANSWERS = (3, 1, 4, 1, 5)
VERBOSE_REQUEST = {
    "EndpointName": ENDPOINT_NAME,
    "ContentType": "text/csv",
    "Accept": VERBOSE_JSON,
    "Body": b"3,1,4,1,5",
}
IDS = [m.id for m in load_catalog()]


def verbose_payload(label: float, labels: list, distances: list | None = None) -> bytes:
    """A built-in kNN verbose answer: distances ascending, their labels beside them."""
    distances = distances if distances is not None else [0.5 * i for i in range(len(labels))]
    return json.dumps({"predictions": [{"predicted_label": label, "distances": distances, "labels": labels}]}).encode()


@pytest.fixture
def stubbed():
    client = runtime_client()
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_asks_for_the_verbose_answer_in_the_accept_header_and_keeps_csv(stubbed):
    client, stubber = stubbed
    labels = [2.0, 2.0, 1.0, 2.0, 6.0, 2.0, 1.0, 2.0, 2.0, 2.0]
    stubber.add_response("invoke_endpoint", prediction_body(verbose_payload(2.0, labels)), VERBOSE_REQUEST)
    prediction = predict(client, ENDPOINT_NAME, ANSWERS)
    assert prediction.label == 2
    assert prediction.neighbours == (2, 2, 1, 2, 6, 2, 1, 2, 2, 2)
    assert prediction.why_missing is None


def test_the_why_counts_votes_winner_first_then_by_votes_then_by_nearest():
    # 6 votes for 4; 2 each for 9 and 0, and 9's first neighbour is nearer than 0's; 0 then outranks nothing else.
    neighbours = [4, 9, 4, 0, 4, 4, 9, 0, 4, 4]
    assert explain(4, neighbours) == {
        "neighbours": 10,
        "votes": [
            {"mysfitId": IDS[4], "count": 6},
            {"mysfitId": IDS[9], "count": 2},
            {"mysfitId": IDS[0], "count": 2},
        ],
    }


def test_a_tied_winner_still_comes_first():
    # The kNN broke a 3-3 tie for label 7 (its rule, not ours): the reasons must not contradict it.
    assert [v["mysfitId"] for v in explain(7, [3, 7, 3, 7, 3, 7])["votes"]] == [IDS[7], IDS[3]]


def test_the_body_keeps_the_original_keys_and_adds_why():
    body = recommendation_for(5, [5, 5, 1])
    assert body["recommendedMysfit"] == IDS[5]
    assert body["mysfit"]["id"] == IDS[5]
    assert body["why"] == {
        "neighbours": 3,
        "votes": [{"mysfitId": IDS[5], "count": 2}, {"mysfitId": IDS[1], "count": 1}],
    }
    assert "why" not in recommendation_for(5)


@pytest.mark.parametrize(
    ("prediction", "reason"),
    [
        ({"predicted_label": 2.0}, "no neighbour labels"),
        ({"predicted_label": 2.0, "labels": "2,2"}, "must be a list"),
        ({"predicted_label": 2.0, "labels": []}, "must be a list"),
        ({"predicted_label": 2.0, "labels": [2.0] * 1025}, "must be a list"),
        ({"predicted_label": 2.0, "labels": [2.0, 12.0]}, "neighbour label 1"),
        ({"predicted_label": 2.0, "labels": [2.0, 2.5]}, "neighbour label 1"),
        ({"predicted_label": 2.0, "labels": [2.0, "1"]}, "neighbour label 1"),
        ({"predicted_label": 2.0, "labels": [2.0, True]}, "neighbour label 1"),
        ({"predicted_label": 2.0, "labels": [2.0, None]}, "neighbour label 1"),
        ({"predicted_label": 2.0, "labels": [2.0, 2.0], "distances": [0.1]}, "distances"),
        ({"predicted_label": 2.0, "labels": [1.0, 1.0, 2.0]}, "do not elect"),
    ],
)
def test_unusable_reasons_leave_the_recommendation_standing(stubbed, prediction, reason):
    client, stubber = stubbed
    payload = json.dumps({"predictions": [prediction]}).encode()
    stubber.add_response("invoke_endpoint", prediction_body(payload), VERBOSE_REQUEST)
    result = predict(client, ENDPOINT_NAME, ANSWERS)
    assert (result.label, result.neighbours) == (2, None)
    assert reason in result.why_missing


@pytest.mark.parametrize(
    "payload",
    [
        verbose_payload(12.0, [12.0]),
        verbose_payload(2.5, [2.0]),
        b'{"predictions": [{"labels": [2.0], "distances": [0.0]}]}',
        b"<html>not json</html>",
    ],
)
def test_a_bad_label_is_still_a_502_with_or_without_neighbours(stubbed, payload):
    client, stubber = stubbed
    stubber.add_response("invoke_endpoint", prediction_body(payload), VERBOSE_REQUEST)
    with pytest.raises(MalformedPrediction):
        predict(client, ENDPOINT_NAME, ANSWERS)


def test_the_handler_answers_why(handler, stub):
    stub.add_response("invoke_endpoint", prediction_body(verbose_payload(3.0, [3.0, 3.0, 0.0])), VERBOSE_REQUEST)
    response = handler.lambda_handler(event_with('{"entry": [3, 1, 4, 1, 5]}'), LambdaContext())
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body == recommendation_for(3, [3, 3, 0], (3, 1, 4, 1, 5))
    assert body["why"]["answersPointing"] == answers_pointing_to(3, (3, 1, 4, 1, 5))


def test_the_answers_pointing_to_a_mysfit_are_those_within_one_step_of_its_favourites():
    favourites = load_catalog()[6].favourites
    exact = list(favourites)
    assert answers_pointing_to(6, exact) == [0, 1, 2, 3, 4]
    far = [1 if f >= 5 else 8 for f in favourites]  # at least four steps from each favourite
    assert answers_pointing_to(6, far) == []
    mixed = [favourites[0] + (1 if favourites[0] < 8 else -1), *far[1:4], favourites[4]]
    assert answers_pointing_to(6, mixed) == [0, 4]
    assert "favourites" not in json.dumps(recommendation_for(6, [6], mixed)), "the favourites themselves stay private"


def test_the_handler_degrades_and_logs_when_the_reasons_are_missing(handler, stub, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", stream)
    payload = b'{"predictions": [{"predicted_label": 3.0}]}'
    stub.add_response("invoke_endpoint", prediction_body(payload), VERBOSE_REQUEST)
    response = handler.lambda_handler(event_with('{"entry": [3, 1, 4, 1, 5]}', request_id="req-why"), LambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == recommendation_for(3)
    (record,) = [json.loads(line) for line in stream.getvalue().splitlines() if "without reasons" in line]
    assert record["level"] == "WARNING"
    assert record["correlation_id"] == "req-why"
    assert "no neighbour labels" in record["cause"]
