"""POST /recommendations keeps each recommendation, POST /choices records an adoption: the handler in-process,
with a real SQLite store or DynamoDB under moto, and a Stubber on the real sagemaker-runtime client."""

from __future__ import annotations

import base64
import importlib
import json
import sys
import uuid

import pytest

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api.catalog import label_ids
from tests.api_support import (
    ALLOWED_ORIGIN,
    HANDLER_ENV,
    LambdaContext,
    event_with,
    imported_handler,
    load_event,
    response_headers,
)
from tests.unit.test_choice_stores import _table_from_template

IDS = label_ids()
VARIANT = "ordinal-0123456789ab"


def verbose_body(label: int, labels: list[int]) -> dict:
    import io

    from botocore.response import StreamingBody

    payload = json.dumps({"predictions": [{"predicted_label": float(label), "labels": labels}]}).encode()
    return {
        "Body": StreamingBody(io.BytesIO(payload), len(payload)),
        "ContentType": "application/json",
        "InvokedProductionVariant": VARIANT,
    }


@pytest.fixture
def store(handler, tmp_path, monkeypatch):
    sqlite = SqliteChoiceStore(tmp_path / "choices.sqlite3", save_wait_s=30)
    monkeypatch.setattr(handler, "choice_store", sqlite)
    return sqlite


def call(handler, event):
    response = handler.lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"]), response_headers(response)


def recommend(handler, stub, label=3, labels=(3, 3, 7, 3, 7)):
    stub.add_response("invoke_endpoint", verbose_body(label, list(labels)))
    return call(handler, event_with('{"entry": [3, 1, 4, 1, 5]}'))


def choose(handler, recommendation_id, mysfit_id):
    body = json.dumps({"recommendationId": recommendation_id, "mysfitId": mysfit_id})
    return call(handler, event_with(body, path="/choices"))


def test_a_recommendation_is_kept_with_its_answers_runner_up_and_model_version(handler, stub, store):
    status, body, _ = recommend(handler, stub)
    assert status == 200
    (kept,) = store.recommendations()
    assert body["recommendationId"] == kept.recommendation_id
    assert uuid.UUID(kept.recommendation_id).version == 4
    assert kept.answers == (3, 1, 4, 1, 5)
    assert (kept.recommended_mysfit_id, kept.runner_up_mysfit_id) == (IDS[3], IDS[7])
    assert kept.model_version == VARIANT


def test_adopting_records_a_choice_from_the_stored_answers(handler, stub, store):
    _, body, _ = recommend(handler, stub)
    status, answer, headers = choose(handler, body["recommendationId"], IDS[7])
    assert status == 201
    (choice,) = store.choices()
    assert answer == {"choiceId": choice.choice_id}
    assert choice.recommendation.answers == (3, 1, 4, 1, 5) and choice.chosen_mysfit_id == IDS[7]
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_a_second_choice_is_409_and_changes_nothing(handler, stub, store):
    _, body, _ = recommend(handler, stub)
    choose(handler, body["recommendationId"], IDS[3])
    status, answer, headers = choose(handler, body["recommendationId"], IDS[0])
    assert status == 409 and "already adopted" in answer["message"]
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert [c.chosen_mysfit_id for c in store.choices()] == [IDS[3]]


def test_an_unknown_recommendation_is_404(handler, store):
    status, answer, headers = choose(handler, str(uuid.uuid4()), IDS[0])
    assert status == 404 and "24 hours" in answer["message"]
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN


@pytest.mark.parametrize(
    ("body", "field", "received"),
    [
        ({"recommendationId": "not-a-uuid", "mysfitId": IDS[0]}, "recommendationId", "not-a-uuid"),
        ({"recommendationId": 7, "mysfitId": IDS[0]}, "recommendationId", 7),
        ({"mysfitId": IDS[0]}, "recommendationId", None),
        ({"recommendationId": str(uuid.uuid4()), "mysfitId": "nope"}, "mysfitId", "nope"),
        ({"recommendationId": str(uuid.uuid4())}, "mysfitId", None),
        ({"recommendationId": str(uuid.uuid4()), "mysfitId": {"id": IDS[0]}}, "mysfitId", {"id": IDS[0]}),
        ({"recommendationId": str(uuid.uuid4()), "mysfitId": [IDS[0]]}, "mysfitId", [IDS[0]]),
        ({"recommendationId": str(uuid.uuid4()), "mysfitId": IDS[0].upper()}, "mysfitId", IDS[0].upper()),
    ],
)
def test_a_malformed_choice_is_400_naming_the_field(handler, store, body, field, received):
    status, answer, headers = call(handler, event_with(json.dumps(body), path="/choices"))
    assert status == 400
    assert (answer["field"], answer["received"]) == (field, received)
    assert answer["allowed"] and answer["message"]
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert list(store.choices()) == []


@pytest.mark.parametrize("raw", ["", "[]", "{", '"x"', "x" * 2000])
def test_a_body_that_is_no_choice_is_4xx_json(handler, store, raw):
    status, answer, _ = call(handler, event_with(raw, path="/choices"))
    assert status in (400, 413) and answer["field"] == "body"


def test_the_committed_events_are_a_valid_and_an_invalid_choice(handler, stub, store):
    event = load_event("post-choice.json")
    wanted = json.loads(base64.b64decode(event["body"]))
    status, _, _ = call(handler, event)
    assert status == 404  # well-formed, but no such recommendation was made in this store
    assert wanted["mysfitId"] in IDS
    status, answer, _ = call(handler, load_event("post-choice-unknown-mysfit.json"))
    assert (status, answer["field"]) == (400, "mysfitId")


def test_without_a_store_the_visitor_still_gets_a_recommendation_but_no_id_and_choices_are_503(handler, stub):
    status, body, _ = recommend(handler, stub)
    assert status == 200 and "recommendationId" not in body and body["recommendedMysfit"] == IDS[3]
    status, answer, headers = choose(handler, str(uuid.uuid4()), IDS[0])
    assert status == 503 and headers["retry-after"].isdigit() and "retry" in answer["message"]
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_a_broken_store_costs_the_id_not_the_recommendation_and_choices_get_503(handler, stub, tmp_path, monkeypatch):
    path = tmp_path / "choices.sqlite3"
    sqlite = SqliteChoiceStore(path, save_wait_s=30)
    monkeypatch.setattr(handler, "choice_store", sqlite)
    path.unlink()
    (tmp_path / "choices.sqlite3-wal").unlink(missing_ok=True)
    path.mkdir()  # the file is gone and nothing can replace it: every write fails
    status, body, _ = recommend(handler, stub)
    assert status == 200 and "recommendationId" not in body
    status, answer, headers = choose(handler, str(uuid.uuid4()), IDS[0])
    assert status == 503 and "retry" in answer["message"] and headers["retry-after"].isdigit()
    assert "sqlite" not in json.dumps(answer).lower()  # the cause is for the log only


def test_on_aws_the_handler_writes_the_table_named_by_its_environment(moto_session, stub_runtime_factory):
    client = moto_session.client("dynamodb", region_name="us-east-1")  # the handler's region (HANDLER_ENV)
    _table_from_template(client, "mysfits-choices")
    with imported_handler(CHOICES_TABLE_NAME="mysfits-choices", CHOICES_RETENTION_DAYS="3") as module:
        stub = stub_runtime_factory(module)
        stub.add_response("invoke_endpoint", verbose_body(3, [3, 3, 1]))
        status, body, _ = call(module, event_with('{"entry": [3, 1, 4, 1, 5]}'))
        assert status == 200
        status, answer, _ = choose(module, body["recommendationId"], IDS[1])
        assert status == 201
    item = client.get_item(TableName="mysfits-choices", Key={"recommendationId": {"S": body["recommendationId"]}})
    assert item["Item"]["chosenMysfitId"] == {"S": IDS[1]} and item["Item"]["choiceId"] == {"S": answer["choiceId"]}
    assert item["Item"]["answers"] == {"S": "3,1,4,1,5"}


def test_a_bad_retention_setting_fails_at_import_naming_the_variable(handler, monkeypatch):
    for name, value in {**HANDLER_ENV, "CHOICES_TABLE_NAME": "t", "CHOICES_RETENTION_DAYS": "a week"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "mysfits_api.handler")
    with pytest.raises(RuntimeError, match="CHOICES_RETENTION_DAYS"):
        importlib.import_module("mysfits_api.handler")
