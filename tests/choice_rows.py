"""Fill a moto DynamoDB choices table with many adopted recommendations, fast and in the Lambda's own item shape.

The first few rows go through the API's store (PutItem, then the conditional UpdateItem), as the Lambda writes
them; the rest are the same items written 25 at a time (BatchWriteItem), because moto takes about 7 ms a call and
thousands of rows would cost a test tens of seconds. The batch items are checked against a store-written one.
"""

from __future__ import annotations

import uuid

from mysfits.model import dataset as ds
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Recommendation
from mysfits_api.dynamodb_store import KEY, TTL_ATTRIBUTE, DynamoDbChoiceStore, item_of

THROUGH_THE_STORE = 5
CREATED_AT = 1.0e9


def _recommendation(answers) -> Recommendation:
    ids = label_ids()
    return Recommendation(str(uuid.uuid4()), tuple(answers), ids[0], ids[1], "ordinal-0", CREATED_AT)


def _chosen_item(recommendation: Recommendation, mysfit_id: str) -> dict:
    item = item_of(recommendation, 0)
    del item[TTL_ATTRIBUTE]
    item |= {
        "choiceId": {"S": str(uuid.uuid4())},
        "chosenMysfitId": {"S": mysfit_id},
        "chosenAt": {"N": repr(CREATED_AT + 60)},
    }
    return item


def record_exposed(client, table: str, choices) -> None:
    """Choices as tests.loop_support makes them (with what the page showed), written in the Lambda's item shape."""
    items = []
    for choice in choices:
        item = item_of(choice.recommendation, 0)
        del item[TTL_ATTRIBUTE]
        item |= {
            "choiceId": {"S": choice.choice_id},
            "chosenMysfitId": {"S": choice.chosen_mysfit_id},
            "chosenAt": {"N": repr(choice.chosen_at)},
        }
        item[KEY] = {"S": str(uuid.uuid4())}
        items.append(item)
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        assert not client.batch_write_item(RequestItems={table: requests})["UnprocessedItems"]


def record_choices(client, table: str, data: ds.Dataset) -> None:
    """One recommendation and one adoption per row of ``data`` (its label is the adopted Mysfit)."""
    store, ids = DynamoDbChoiceStore(client, table, retention_seconds=86_400), label_ids()
    rows = list(zip(data.X.tolist(), data.y.tolist(), strict=True))
    for answers, label in rows[:THROUGH_THE_STORE]:
        recommendation = _recommendation(answers)
        store.save_recommendation(recommendation)
        chosen_at = CREATED_AT + 60
        store.record_choice(recommendation.recommendation_id, ids[label], choice_id=str(uuid.uuid4()), now=chosen_at)
    if rows[:THROUGH_THE_STORE]:
        written = client.scan(TableName=table, Limit=1)["Items"][0]
        assert set(written) == set(_chosen_item(_recommendation((1,) * 5), ids[0])), "the store's item shape changed"
    pending = [_chosen_item(_recommendation(answers), ids[label]) for answers, label in rows[THROUGH_THE_STORE:]]
    for start in range(0, len(pending), 25):
        requests = [{"PutRequest": {"Item": item}} for item in pending[start : start + 25]]
        unprocessed = client.batch_write_item(RequestItems={table: requests})["UnprocessedItems"]
        assert not unprocessed, unprocessed
    assert all(KEY in item for item in pending)
