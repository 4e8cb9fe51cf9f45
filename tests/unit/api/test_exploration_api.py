"""POST /recommendations under exploration: what the visitor is told, and what the store keeps of it.

The handler in-process under template.yaml's environment with EXPLORATION_RATE set, a Stubber on the real
sagemaker-runtime client, and a real SQLite store. The draws are seeded so that both kinds of answer appear.
"""

from __future__ import annotations

import json
import random

import pytest
from botocore.stub import Stubber

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api.catalog import label_ids
from tests.api_support import LambdaContext, event_with, imported_handler, runtime_client
from tests.unit.api.test_choices_api import verbose_body

IDS = label_ids()


@pytest.fixture
def exploring(tmp_path):
    with imported_handler(EXPLORATION_RATE="0.5") as handler:
        client = runtime_client()
        handler.runtime = client
        handler._draws = random.Random(3)
        handler.use_choice_store(SqliteChoiceStore(tmp_path / "choices.sqlite3"))
        with Stubber(client) as stub:
            yield handler, stub


def test_an_explored_answer_never_claims_the_model_picked_it_and_the_store_records_the_draw(exploring):
    handler, stub = exploring
    answers = []
    for _ in range(40):
        stub.add_response("invoke_endpoint", verbose_body(3, [3, 3, 3, 7, 7, 3, 1, 3, 3, 3]))
        response = handler.lambda_handler(event_with('{"entry": [3, 1, 4, 1, 5]}'), LambdaContext())
        assert response["statusCode"] == 200
        answers.append(json.loads(response["body"]))
    explored = [a for a in answers if a["explored"]]
    plain = [a for a in answers if not a["explored"]]
    assert explored and plain
    for answer in answers:
        assert answer["modelPick"] == IDS[3]  # the model's own pick, always
        assert answer["mysfit"]["id"] == answer["recommendedMysfit"]  # the profile is of what is shown
        assert answer["why"]["votes"][0] == {"mysfitId": IDS[3], "count": 7}  # the reasons are the model's
        assert answer["explored"] == (answer["recommendedMysfit"] != IDS[3])
    kept = {r.recommendation_id: r for r in handler.choice_store.recommendations()}
    assert len(kept) == 40
    for answer in answers:
        rec = kept[answer["recommendationId"]]
        assert rec.recommended_mysfit_id == IDS[3] and rec.shown == answer["recommendedMysfit"]
        assert rec.exploration_rate == 0.5
        expected = (0.5 if rec.shown == IDS[3] else 0.0) + 0.5 / 12
        assert rec.propensity == pytest.approx(expected)
    assert all(kept[a["recommendationId"]].randomized for a in explored)


def test_without_the_variable_nothing_is_explored(tmp_path):
    with imported_handler() as handler:
        assert handler.EXPLORATION_RATE == 0.0


@pytest.mark.parametrize(("value", "message"), [("0.9", "from 0 to 0.5"), ("lots", "must be a number")])
def test_a_bad_rate_stops_the_function_at_import_naming_the_variable(value, message):
    with pytest.raises(RuntimeError, match=rf"EXPLORATION_RATE.*{message}"), imported_handler(EXPLORATION_RATE=value):
        pass
