"""The handler's own boto3 client, configured only through AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, against the local
endpoint serving a trained model over real HTTP on loopback."""

from __future__ import annotations

import json
import random

import pytest

from mysfits.local.endpoint.server import serve_in_thread
from mysfits.model.artifact import load_model
from mysfits_api.questionnaire import cell_index
from mysfits_api.recommend import recommendation_for
from tests.api_support import (
    ENDPOINT_NAME,
    LambdaContext,
    event_with,
    imported_handler,
    load_event,
    response_headers,
    runtime_client,
)

CORNERS = [(1, 1, 1, 1, 1), (8, 8, 8, 8, 8), (1, 8, 1, 8, 1), (3, 1, 4, 1, 5)]


@pytest.fixture(scope="module")
def endpoint(model_path):
    with serve_in_thread(str(model_path), ENDPOINT_NAME) as handle:
        yield handle


@pytest.fixture(scope="module")
def table(model_path):
    return load_model(model_path).table


@pytest.fixture(scope="module")
def handler(endpoint):
    dummy_credentials = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    with imported_handler(AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=endpoint.url, **dummy_credentials) as module:
        yield module


def recommend(handler, answers, **event_options):
    response = handler.lambda_handler(
        event_with(json.dumps({"entry": list(answers)}), **event_options), LambdaContext()
    )
    return response, json.loads(response["body"])


def test_the_handler_client_points_at_the_local_endpoint(handler, endpoint):
    assert handler.runtime.meta.endpoint_url == endpoint.url


def test_recommendations_are_the_model_table_s_answers(handler, table):
    rng = random.Random(4)
    sample = CORNERS + [tuple(rng.randint(1, 8) for _ in range(5)) for _ in range(200)]
    for answers in sample:
        response, body = recommend(handler, answers)
        assert response["statusCode"] == 200, body
        expected = recommendation_for(table[cell_index(answers)])
        assert (body["recommendedMysfit"], body["mysfit"]) == (expected["recommendedMysfit"], expected["mysfit"])


def test_the_why_is_the_endpoint_s_own_neighbourhood(handler, endpoint, table):
    """The reasons come from the model's verbose answer, read here straight from the endpoint with a plain client."""
    client = runtime_client(endpoint.url)
    for answers in CORNERS:
        _, body = recommend(handler, answers)
        raw = client.invoke_endpoint(
            EndpointName=ENDPOINT_NAME,
            ContentType="text/csv",
            Accept="application/json; verbose=true",
            Body=",".join(map(str, answers)),
        )
        (prediction,) = json.loads(raw["Body"].read())["predictions"]
        label = table[cell_index(answers)]
        assert prediction["predicted_label"] == label
        assert body == recommendation_for(label, [int(lab) for lab in prediction["labels"]], answers)
        votes = body["why"]["votes"]
        assert body["why"]["neighbours"] == len(prediction["labels"]) == sum(v["count"] for v in votes)
        assert votes[0]["mysfitId"] == body["recommendedMysfit"]


def test_the_generated_event_round_trips(handler, table):
    response = handler.lambda_handler(load_event("post-recommendation.json"), LambdaContext())
    assert response["statusCode"] == 200
    assert (
        json.loads(response["body"])["recommendedMysfit"]
        == recommendation_for(table[cell_index((3, 1, 4, 1, 5))])["recommendedMysfit"]
    )


def test_an_endpoint_name_the_server_does_not_serve_is_model_unavailable(handler, monkeypatch):
    monkeypatch.setattr(handler, "ENDPOINT_NAME", "no-such-endpoint")
    response, body = recommend(handler, (3, 1, 4, 1, 5))
    assert (response["statusCode"], body) == (502, {"message": "model unavailable"})


def test_a_stopped_endpoint_is_503_with_retry_after(handler, model_path, monkeypatch):
    with serve_in_thread(str(model_path), ENDPOINT_NAME) as doomed:
        url = doomed.url
    monkeypatch.setattr(handler, "runtime", runtime_client(url, **_client_settings(handler)))
    response, body = recommend(handler, (3, 1, 4, 1, 5))
    assert (response["statusCode"], body) == (503, {"message": "the model is busy; retry shortly"})
    assert response_headers(response)["retry-after"] == "5"


def _client_settings(handler) -> dict:
    config = handler.CLIENT_CONFIG
    return {"connect_timeout": config.connect_timeout, "read_timeout": config.read_timeout, "retries": config.retries}
