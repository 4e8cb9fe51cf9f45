"""One contract, two stores: SQLite (the local stack) and DynamoDB (AWS, through moto with the template's table).

The same tests run against both, so the handler, the export and retrain can never tell them apart.
"""

from __future__ import annotations

import threading
import time
import uuid

import boto3
import pytest

from mysfits.aws.choices_table import DynamoDbChoiceReader
from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api import adopt
from mysfits_api.catalog import label_ids
from mysfits_api.choices import (
    CHOICE_WINDOW_SECONDS,
    CLOCK_SKEW_SECONDS,
    AlreadyChosen,
    Recommendation,
    StoreUnavailable,
    UnknownRecommendation,
)
from mysfits_api.dynamodb_store import DynamoDbChoiceStore
from tests.templates.sam_template import sam_template

IDS = label_ids()
NOW = 1_800_000_000.0


class Pair:
    """A writer and a reader over the same data."""

    def __init__(self, store, reader):
        self.store, self.reader = store, reader


def _table_from_template(client, name: str) -> None:
    """Create the table as template.yaml declares it, so the store is tested against the deployed key schema."""
    table = sam_template()["Resources"]["ChoicesTable"]["Properties"]
    client.create_table(
        TableName=name,
        BillingMode=table["BillingMode"],
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
    )


@pytest.fixture(params=["sqlite", "dynamodb"])
def stores(request, tmp_path, moto_session):
    if request.param == "sqlite":
        store = SqliteChoiceStore(tmp_path / "choices.sqlite3", save_wait_s=30)
        yield Pair(store, store)
        store.close()
        return
    client = moto_session.client("dynamodb")
    _table_from_template(client, "choices")
    yield Pair(DynamoDbChoiceStore(client, "choices", 7 * 24 * 3600), DynamoDbChoiceReader(client, "choices"))


def recommendation(created_at: float = NOW, answers=(3, 1, 4, 1, 5), runner_up: str | None = IDS[2]):
    return Recommendation(
        recommendation_id=str(uuid.uuid4()),
        answers=answers,
        recommended_mysfit_id=IDS[1],
        runner_up_mysfit_id=runner_up,
        model_version="ordinal-0123456789ab",
        created_at=created_at,
    )


def test_a_choice_keeps_the_stored_answers_and_reads_back(stores):
    kept = recommendation()
    stores.store.save_recommendation(kept)
    choice = stores.store.record_choice(kept.recommendation_id, IDS[5], choice_id="c-1", now=NOW + 60)
    assert choice.recommendation == kept
    assert (choice.choice_id, choice.chosen_mysfit_id, choice.chosen_at) == ("c-1", IDS[5], NOW + 60)
    assert not choice.accepted
    assert list(stores.reader.choices()) == [choice]
    assert list(stores.reader.recommendations()) == [kept]


def test_an_unchosen_recommendation_is_not_a_choice_and_a_missing_runner_up_stays_missing(stores):
    kept = recommendation(runner_up=None)
    stores.store.save_recommendation(kept)
    assert list(stores.reader.choices()) == []
    assert list(stores.reader.recommendations()) == [kept]


def test_an_unknown_recommendation_cannot_be_chosen(stores):
    with pytest.raises(UnknownRecommendation):
        stores.store.record_choice(str(uuid.uuid4()), IDS[0], choice_id="c", now=NOW)


def test_a_recommendation_is_adopted_once(stores):
    kept = recommendation()
    stores.store.save_recommendation(kept)
    first = stores.store.record_choice(kept.recommendation_id, IDS[1], choice_id="c-1", now=NOW + 1)
    with pytest.raises(AlreadyChosen):
        stores.store.record_choice(kept.recommendation_id, IDS[3], choice_id="c-2", now=NOW + 2)
    assert list(stores.reader.choices()) == [first]
    assert first.accepted


def test_the_choice_window_closes_after_a_day(stores):
    old = recommendation(created_at=NOW - CHOICE_WINDOW_SECONDS - 1)
    fresh = recommendation(created_at=NOW - CHOICE_WINDOW_SECONDS + 1)
    for kept in (old, fresh):
        stores.store.save_recommendation(kept)
    with pytest.raises(UnknownRecommendation, match="older than the choice window"):
        stores.store.record_choice(old.recommendation_id, IDS[0], choice_id="c-1", now=NOW)
    stores.store.record_choice(fresh.recommendation_id, IDS[0], choice_id="c-2", now=NOW)
    assert [c.choice_id for c in stores.reader.choices()] == ["c-2"]


def test_a_recommendation_dated_in_the_future_cannot_be_adopted(stores):
    """Issue 30: only the window's lower bound was checked, so a row dated a year ahead (written by hand, or by a
    writer with a broken clock) could be adopted for a year. A few seconds of clock skew are allowed."""
    ahead = recommendation(created_at=NOW + 3600)
    skewed = recommendation(created_at=NOW + CLOCK_SKEW_SECONDS)
    for kept in (ahead, skewed):
        stores.store.save_recommendation(kept)
    with pytest.raises(UnknownRecommendation, match="dated in the future"):
        stores.store.record_choice(ahead.recommendation_id, IDS[0], choice_id="c-1", now=NOW)
    stores.store.record_choice(skewed.recommendation_id, IDS[0], choice_id="c-2", now=NOW)
    assert [c.choice_id for c in stores.reader.choices()] == ["c-2"]


def test_the_api_stores_times_to_the_second(stores):
    """Issue 30: times kept to the microsecond could be joined to API Gateway's access log (caller IP, request time)
    row by row. What the API stores goes through adopt, which keeps whole seconds, never later than it happened."""
    made = recommendation(created_at=NOW + 0.987654)
    adopt.keep_recommendation(stores.store, made)
    choice = adopt.record_choice(stores.store, made.recommendation_id, IDS[2], NOW + 60.123456)
    assert (choice.recommendation.created_at, choice.chosen_at) == (NOW, NOW + 60)
    (stored,) = stores.reader.choices()
    assert (stored.recommendation.created_at, stored.chosen_at) == (NOW, NOW + 60)


def test_choices_read_back_oldest_first(stores):
    made = [recommendation() for _ in range(5)]
    for kept in made:
        stores.store.save_recommendation(kept)
    for offset, kept in zip((5, 1, 4, 2, 3), made, strict=True):
        stores.store.record_choice(kept.recommendation_id, IDS[offset], choice_id=f"c-{offset}", now=NOW + offset)
    assert [c.choice_id for c in stores.reader.choices()] == ["c-1", "c-2", "c-3", "c-4", "c-5"]


def test_dynamodb_keeps_chosen_items_and_lets_unchosen_ones_expire(moto_session):
    client = moto_session.client("dynamodb")
    _table_from_template(client, "choices")
    store = DynamoDbChoiceStore(client, "choices", 3600)
    chosen, unchosen = recommendation(), recommendation()
    store.save_recommendation(chosen)
    store.save_recommendation(unchosen)
    store.record_choice(chosen.recommendation_id, IDS[0], choice_id="c", now=NOW)
    items = {i["recommendationId"]["S"]: i for i in client.scan(TableName="choices")["Items"]}
    assert items[unchosen.recommendation_id]["expiresAt"] == {"N": str(int(NOW) + 3600)}
    assert "expiresAt" not in items[chosen.recommendation_id]


def test_dynamodb_outage_is_store_unavailable(moto_session):
    client = moto_session.client("dynamodb")  # no table: ResourceNotFoundException, as when it was deleted
    store = DynamoDbChoiceStore(client, "missing", 3600)
    with pytest.raises(StoreUnavailable, match="missing"):
        store.save_recommendation(recommendation())
    with pytest.raises(StoreUnavailable):
        store.record_choice(str(uuid.uuid4()), IDS[0], choice_id="c", now=NOW)


def test_dynamodb_unreachable_is_store_unavailable():
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=boto3.session.Config(connect_timeout=0.5, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(StoreUnavailable):
        DynamoDbChoiceStore(client, "choices", 3600).save_recommendation(recommendation())


def test_sqlite_racing_workers_adopt_a_recommendation_exactly_once(tmp_path):
    path = tmp_path / "choices.sqlite3"
    kept = recommendation(created_at=time.time())
    SqliteChoiceStore(path, save_wait_s=30).save_recommendation(kept)
    outcomes, barrier = [], threading.Barrier(8)

    def adopt(index: int) -> None:
        store = SqliteChoiceStore(path)  # as separate workers would: their own connections
        barrier.wait()
        try:
            store.record_choice(kept.recommendation_id, IDS[index], choice_id=f"c-{index}", now=time.time())
            outcomes.append("won")
        except AlreadyChosen:
            outcomes.append("409")

    threads = [threading.Thread(target=adopt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["409"] * 7 + ["won"]
    assert len(list(SqliteChoiceStore(path).choices())) == 1


@pytest.mark.parametrize("damage", ["not a database", "a directory"])
def test_sqlite_damaged_or_unopenable_store_is_unavailable_not_a_crash(tmp_path, damage):
    path = tmp_path / "choices.sqlite3"
    if damage == "a directory":
        path.mkdir()
    else:
        path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StoreUnavailable, match=r"choices\.sqlite3"):
        SqliteChoiceStore(path)


def test_a_read_only_sqlite_store_refuses_writes_with_store_unavailable_and_still_reads(tmp_path):
    path = tmp_path / "choices.sqlite3"
    SqliteChoiceStore(path, save_wait_s=30).save_recommendation(recommendation())
    read_only = SqliteChoiceStore(path, read_only=True)  # as a read-only mount would be: root ignores file modes
    with pytest.raises(StoreUnavailable, match="readonly"):
        read_only.save_recommendation(recommendation())
    assert len(list(read_only.recommendations())) == 1


def test_a_read_only_open_never_creates_a_store(tmp_path):
    with pytest.raises(StoreUnavailable):
        SqliteChoiceStore(tmp_path / "absent.sqlite3", read_only=True)
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_full_sqlite_store_is_unavailable_and_keeps_what_it_stored(tmp_path):
    """SQLITE_FULL, as a full disk gives it, made real by capping the file's pages on the connection that saves
    recommendations (the store's saving thread's own)."""
    import dataclasses

    store = SqliteChoiceStore(tmp_path / "choices.sqlite3", save_wait_s=30)
    first = recommendation()
    store.save_recommendation(first)

    def cap_pages() -> None:
        connection = store._connection()
        connection.execute(f"PRAGMA max_page_count = {connection.execute('PRAGMA page_count').fetchone()[0]}")

    store._saving_thread().submit(cap_pages).result()
    with pytest.raises(StoreUnavailable, match="full"):
        for _ in range(1_000):
            big = dataclasses.replace(recommendation(), model_version="x" * 2_000)
            store.save_recommendation(big)
    assert first in list(store.recommendations())


def test_a_long_read_never_blocks_writers_and_a_stuck_writer_costs_others_only_the_busy_timeout(tmp_path):
    """An export or a retrain reads while `mysfits serve` writes: in WAL mode the reader's snapshot holds no lock a
    writer waits on. A writer that holds the write lock (another process, stuck) makes a choice wait the busy
    timeout and then answer StoreUnavailable (a 503), never hang; a recommendation gives up far sooner (its own
    test is in tests/faults/test_store_faults.py)."""
    import sqlite3
    import time

    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path)
    store.save_recommendation(recommendation())
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a read snapshot, held open
    started = time.monotonic()
    for _ in range(20):
        saved = recommendation()
        store.save_recommendation(saved)
        store.record_choice(saved.recommendation_id, IDS[3], choice_id=str(uuid.uuid4()), now=NOW + 1)
    assert time.monotonic() - started < 1.0
    reader.execute("COMMIT")

    stuck = sqlite3.connect(path, isolation_level=None)
    stuck.execute("BEGIN IMMEDIATE")  # the write lock, never released
    with pytest.raises(StoreUnavailable, match=r"within 0\.2 s|locked|not finished|was busy"):
        store.save_recommendation(recommendation())
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="locked"):
        store.record_choice(str(uuid.uuid4()), IDS[3], choice_id=str(uuid.uuid4()), now=NOW + 1)
    waited = time.monotonic() - started
    stuck.execute("ROLLBACK")
    assert 1.5 < waited < 4.0, waited
    assert len(list(SqliteChoiceStore(path, read_only=True).choices())) == 20
