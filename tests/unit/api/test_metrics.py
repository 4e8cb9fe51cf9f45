"""Issue 33: the function's metrics, read back from its log output as CloudWatch would read them (embedded metric
format). The requests are the committed API Gateway events (events/*.json); the store is a real SQLite file and the
endpoint a Stubber on the real sagemaker-runtime client."""

from __future__ import annotations

import base64
import json
import time

import pytest

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api import metrics
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Recommendation, StoreUnavailable
from tests.api_support import LambdaContext, load_event
from tests.unit.api.test_choices_api import VARIANT, verbose_body

IDS = label_ids()


@pytest.fixture(autouse=True)
def environment_as_on_aws(monkeypatch):
    """On AWS nothing turns the metrics off. A gateway started in-process by another test on the same worker sets
    POWERTOOLS_METRICS_DISABLED in this process's environment (lambda_runtime.local_aws_environment), so clear it."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)


RECOMMENDATION_ID = "0d9b6a57-3c51-4f44-9b7e-2f1c1a6e8a11"
"""The id events/post-choice.json adopts for."""


def emf_lines(text: str) -> list[dict]:
    """Every stdout line CloudWatch would take as EMF: a JSON object with an ``_aws`` metadata block."""
    found = []
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            found.append(document)
    return found


def published(document: dict) -> dict[tuple[str, ...], dict[str, float]]:
    """What CloudWatch makes of one EMF document: for each dimension set (as ``name=value`` pairs), each metric's
    value, after checking the document against the EMF specification's required fields."""
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == metrics.NAMESPACE
    assert isinstance(document["_aws"]["Timestamp"], int)
    names = [definition["Name"] for definition in directive["Metrics"]]
    assert all(definition["Unit"] == "Count" for definition in directive["Metrics"])
    out = {}
    for dimension_set in directive["Dimensions"]:
        assert all(isinstance(document[name], str) for name in dimension_set)
        key = tuple(f"{name}={document[name]}" for name in dimension_set)
        # A value may be one number or an array of samples (Powertools writes arrays); CloudWatch takes each sample.
        out[key] = {name: _samples(document[name]) for name in names}
    return out


def _samples(value) -> list[float]:
    values = value if isinstance(value, list) else [value]
    assert all(isinstance(v, int | float) for v in values)
    return [float(v) for v in values]


def one(**counts: int) -> dict[str, list[float]]:
    return {name: [float(value)] for name, value in counts.items()}


@pytest.fixture
def store(handler, tmp_path, monkeypatch):
    sqlite = SqliteChoiceStore(tmp_path / "choices.sqlite3", save_wait_s=30)
    monkeypatch.setattr(handler, "choice_store", sqlite)
    return sqlite


def _stored(store, *, shown: str, randomized: bool) -> None:
    store.save_recommendation(
        Recommendation(
            RECOMMENDATION_ID,
            (3, 1, 4, 1, 5),
            IDS[3],
            IDS[7],
            VARIANT,
            time.time(),
            shown_mysfit_id=shown,
            propensity=0.5,
            exploration_rate=0.1,
            randomized=randomized,
        )
    )


def _adopt(handler, mysfit_id: str) -> dict:
    event = load_event("post-choice.json")
    body = json.dumps({"recommendationId": RECOMMENDATION_ID, "mysfitId": mysfit_id}).encode()
    event["body"] = base64.b64encode(body).decode()
    return handler.lambda_handler(event, LambdaContext())


SERVICE = ("service=mysfits-recommendations",)
BY_VERSION = (*SERVICE, f"ModelVersion={VARIANT}")


def test_a_recommendation_counts_once_overall_and_once_for_its_model_version(handler, stub, store, capsys):
    capsys.readouterr()
    stub.add_response("invoke_endpoint", verbose_body(3, [3, 3, 7]))
    response = handler.lambda_handler(load_event("post-recommendation.json"), LambdaContext())
    assert response["statusCode"] == 200
    (document,) = emf_lines(capsys.readouterr().out)
    assert published(document) == {SERVICE: one(Recommendations=1), BY_VERSION: one(Recommendations=1)}


@pytest.mark.parametrize(
    ("shown", "randomized", "adopted", "expected"),
    [
        (3, False, 3, one(Adoptions=1, Accepted=1, ModelPickAccepted=1)),
        (3, False, 5, one(Adoptions=1, Accepted=0, ModelPickAccepted=0)),
        # A drawn Mysfit adopted: accepted, but not evidence about the model's own pick.
        (5, True, 5, one(Adoptions=1, Accepted=1)),
        (5, True, 3, one(Adoptions=1, Accepted=0)),
    ],
)
def test_an_adoption_says_whether_the_shown_mysfit_was_taken(
    handler, store, capsys, shown, randomized, adopted, expected
):
    _stored(store, shown=IDS[shown], randomized=randomized)
    capsys.readouterr()
    response = _adopt(handler, IDS[adopted])
    assert response["statusCode"] == 201, response["body"]
    (document,) = emf_lines(capsys.readouterr().out)
    assert published(document) == {SERVICE: expected, BY_VERSION: expected}


class RefusingStore:
    def save_recommendation(self, recommendation):
        raise StoreUnavailable("ProvisionedThroughputExceededException")

    def record_choice(self, *args, **kwargs):
        raise StoreUnavailable("ProvisionedThroughputExceededException")


def test_the_stores_refusals_are_counted_without_a_model_version(handler, stub, monkeypatch, capsys):
    monkeypatch.setattr(handler, "choice_store", RefusingStore())
    capsys.readouterr()
    stub.add_response("invoke_endpoint", verbose_body(3, [3, 3, 7]))
    assert handler.lambda_handler(load_event("post-recommendation.json"), LambdaContext())["statusCode"] == 200
    assert _adopt(handler, IDS[3])["statusCode"] == 503
    documents = emf_lines(capsys.readouterr().out)
    refusals = [published(d) for d in documents if "StoreRefusals" in d]
    assert refusals == [{SERVICE: one(StoreRefusals=1)}] * 2
    assert [d["operation"] for d in documents if "StoreRefusals" in d] == ["save recommendation", "record choice"]
    # The recommendation itself was still answered, and counted.
    assert [published(d) for d in documents if "Recommendations" in d] == [
        {SERVICE: one(Recommendations=1), BY_VERSION: one(Recommendations=1)}
    ]


@pytest.mark.parametrize(
    "event", ["get-questionnaire.json", "post-recommendation-out-of-range.json", "post-choice-unknown-mysfit.json"]
)
def test_requests_that_recommend_or_adopt_nothing_publish_nothing(handler, store, capsys, event):
    capsys.readouterr()
    handler.lambda_handler(load_event(event), LambdaContext())
    assert emf_lines(capsys.readouterr().out) == []


def test_an_endpoint_failure_leaves_no_dimension_behind_for_the_next_request(handler, stub, store, capsys):
    stub.add_client_error("invoke_endpoint", "ModelError", "boom", http_status_code=424)
    assert handler.lambda_handler(load_event("post-recommendation.json"), LambdaContext())["statusCode"] >= 500
    stub.add_response("invoke_endpoint", verbose_body(3, [3, 3, 7]))
    capsys.readouterr()
    handler.lambda_handler(load_event("post-recommendation.json"), LambdaContext())
    (document,) = emf_lines(capsys.readouterr().out)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["service", "ModelVersion"]]


def test_the_local_stack_writes_no_emf_lines(stub, store, handler, monkeypatch, capsys):
    """`mysfits serve` has no CloudWatch to read them; its gateway turns Powertools Metrics off."""
    from mysfits.local.gateway.lambda_runtime import local_aws_environment

    monkeypatch.setenv(
        "POWERTOOLS_METRICS_DISABLED", local_aws_environment("http://127.0.0.1:1")["POWERTOOLS_METRICS_DISABLED"]
    )
    capsys.readouterr()
    stub.add_response("invoke_endpoint", verbose_body(3, [3, 3, 7]))
    assert handler.lambda_handler(load_event("post-recommendation.json"), LambdaContext())["statusCode"] == 200
    assert emf_lines(capsys.readouterr().out) == []


def test_requests_served_with_metrics_off_leave_nothing_behind(stub, store, handler, monkeypatch, capsys):
    """The local gateway turns metrics off, and Powertools then keeps what it does not write: without clearing, a
    long-running `mysfits serve` would hold every request's metrics, and the first request after metrics came back
    on would publish them all."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for _ in range(3):
        stub.add_response("invoke_endpoint", verbose_body(3, [3, 3, 7]))
        assert handler.lambda_handler(load_event("post-recommendation.json"), LambdaContext())["statusCode"] == 200
    assert not metrics.metrics.metric_set
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    capsys.readouterr()
    stub.add_response("invoke_endpoint", verbose_body(3, [3, 3, 7]))
    assert handler.lambda_handler(load_event("post-recommendation.json"), LambdaContext())["statusCode"] == 200
    (document,) = emf_lines(capsys.readouterr().out)
    assert published(document) == {SERVICE: one(Recommendations=1), BY_VERSION: one(Recommendations=1)}
