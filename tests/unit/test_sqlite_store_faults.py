"""The SQLite choices store under faults a running server meets (issue 30): a write lock held elsewhere, the file
deleted or replaced under it, a damaged file at start-up, and years of unchosen recommendations.

What `mysfits serve` answers in each case is tested end to end in tests/faults/test_store_faults.py; these tests
hold the store's own side of it.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import time
import uuid

import pytest

from mysfits.local.choices_store import RETENTION_BATCH, SqliteChoiceStore
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Recommendation, StoreUnavailable
from tests.store_support import settled

IDS = label_ids()
DAY = 24 * 3600


def recommendation(created_at: float | None = None) -> Recommendation:
    return Recommendation(
        recommendation_id=str(uuid.uuid4()),
        answers=(1, 2, 3, 4, 5),
        recommended_mysfit_id=IDS[0],
        runner_up_mysfit_id=IDS[1],
        model_version="ordinal-0123456789ab",
        created_at=time.time() if created_at is None else created_at,
    )


def stored_ids(path) -> set[str]:
    return {r.recommendation_id for r in SqliteChoiceStore(path, read_only=True).recommendations()}


def test_a_held_write_lock_refuses_a_recommendation_with_the_bound_and_the_store_recovers_after(tmp_path):
    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a long DELETE in another process holds it
    for _ in range(3):
        with pytest.raises(StoreUnavailable, match=r"within 0\.2 s|locked|not finished|was busy"):
            store.save_recommendation(recommendation())
    holder.execute("ROLLBACK")
    # A save given up on may still be finishing; the store takes the next ones once it has. Each try is a new
    # recommendation, as each visitor's is: a try given up on after 0.2 s may land later, and its id with it.
    deadline = time.monotonic() + 5
    while True:
        kept = recommendation()
        try:
            store.save_recommendation(kept)
            break
        except StoreUnavailable:
            assert time.monotonic() < deadline, "the store never took a recommendation again"
            time.sleep(0.05)
    assert kept.recommendation_id in stored_ids(path)


def test_a_deleted_store_is_reopened_at_its_path_so_an_acknowledged_choice_is_where_readers_look(tmp_path):
    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path, save_wait_s=30)
    store.save_recommendation(recommendation())
    for name in ("choices.sqlite3", "choices.sqlite3-wal", "choices.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    kept = recommendation()
    store.save_recommendation(kept)
    choice = store.record_choice(kept.recommendation_id, IDS[4], choice_id="c-after", now=time.time())
    assert path.is_file()
    assert {c.choice_id for c in SqliteChoiceStore(path, read_only=True).choices()} == {choice.choice_id}


def test_a_store_replaced_under_its_log_refuses_writes_until_the_old_log_is_gone_then_starts_on_the_new_file(tmp_path):
    """Renaming another store over the open one leaves the old file's write-ahead log at the path: reopening then
    would write the old pages into the new file. Writes are refused instead, and resume on the new file once the old
    log and index are removed."""
    path, other = tmp_path / "choices.sqlite3", tmp_path / "other.sqlite3"
    store = SqliteChoiceStore(path, save_wait_s=30)
    before = recommendation()
    store.save_recommendation(before)
    store.record_choice(before.recommendation_id, IDS[1], choice_id="c-old", now=time.time())
    settled(store)
    SqliteChoiceStore(other)  # the schema, its connection closed
    restored = recommendation()
    with contextlib.closing(sqlite3.connect(other, isolation_level=None)) as backup:  # another process's, closed
        backup.execute(
            "INSERT INTO recommendations (id, answers, recommended, model_version, created_at) "
            "VALUES (?, '1,2,3,4,5', ?, 'v', ?)",
            (restored.recommendation_id, IDS[0], restored.created_at),
        )
    shutil.move(other, path)  # rename over the open file, as a restore from a backup might
    with pytest.raises(StoreUnavailable, match="no longer the file this server opened"):
        store.save_recommendation(recommendation())
    with pytest.raises(StoreUnavailable, match="no longer the file this server opened"):
        store.record_choice(restored.recommendation_id, IDS[1], choice_id="c-refused", now=time.time())
    for name in ("choices.sqlite3-wal", "choices.sqlite3-shm"):
        (tmp_path / name).unlink()
    store.record_choice(restored.recommendation_id, IDS[4], choice_id="c-new", now=time.time())
    assert stored_ids(path) == {restored.recommendation_id}
    assert [c.choice_id for c in SqliteChoiceStore(path, read_only=True).choices()] == ["c-new"]


def test_a_store_moved_away_refuses_choices_and_is_used_again_when_it_is_put_back(tmp_path):
    """The probe's case: the store renamed and a directory made at its path. Old code went on writing (and
    acknowledging) into the moved file."""
    path, moved = tmp_path / "choices.sqlite3", tmp_path / "moved.sqlite3"
    store = SqliteChoiceStore(path, save_wait_s=30)
    kept = recommendation()
    store.save_recommendation(kept)
    settled(store)
    path.rename(moved)
    path.mkdir()
    with pytest.raises(StoreUnavailable, match=r"choices\.sqlite3"):
        store.record_choice(kept.recommendation_id, IDS[3], choice_id="c-refused", now=time.time())
    path.rmdir()
    moved.rename(path)
    store.record_choice(kept.recommendation_id, IDS[3], choice_id="c-kept", now=time.time())
    assert [c.choice_id for c in SqliteChoiceStore(path, read_only=True).choices()] == ["c-kept"]


@pytest.mark.parametrize("damage", ["corrupt header", "text file", "directory"])
def test_a_store_damaged_at_start_refuses_writes_and_recovers_when_the_path_does(tmp_path, damage):
    path = tmp_path / "choices.sqlite3"
    if damage == "directory":
        path.mkdir()
    elif damage == "text file":
        path.write_text("these are my notes, not a database\n" * 50)
    else:
        SqliteChoiceStore(path)  # a store, closed: no log beside it
        with open(path, "r+b") as fh:
            fh.write(b"\x00" * 100)  # the 100-byte header, zeroed
    with pytest.raises(StoreUnavailable):
        SqliteChoiceStore(path)
    store = SqliteChoiceStore(path, open_now=False, save_wait_s=30)
    with pytest.raises(StoreUnavailable, match=r"choices\.sqlite3"):
        store.save_recommendation(recommendation())
    if damage == "directory":
        path.rmdir()
    else:
        path.unlink()
    kept = recommendation()
    store.save_recommendation(kept)
    store.record_choice(kept.recommendation_id, IDS[2], choice_id="c-1", now=time.time())
    assert stored_ids(path) == {kept.recommendation_id}


def test_retention_deletes_only_old_unchosen_recommendations_a_small_batch_at_a_time(tmp_path):
    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path, retention_days=7, save_wait_s=30)
    now = time.time()
    old = [recommendation(now - 8 * DAY) for _ in range(RETENTION_BATCH + 20)]
    adopted = recommendation(now - 8 * DAY)
    recent = recommendation(now - 6 * DAY)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.executemany(
        "INSERT INTO recommendations (id, answers, recommended, runner_up, model_version, created_at) "
        "VALUES (?, '1,2,3,4,5', ?, NULL, 'v', ?)",
        [(r.recommendation_id, IDS[0], r.created_at) for r in [*old, adopted, recent]],
    )
    writer.execute(
        "UPDATE recommendations SET choice_id = 'c', chosen = ?, chosen_at = ? WHERE id = ?",
        (IDS[1], now - 8 * DAY + 60, adopted.recommendation_id),
    )
    assert store.expire_unchosen(now) == RETENTION_BATCH
    assert store.expire_unchosen(now) == 20
    assert store.expire_unchosen(now) == 0
    assert stored_ids(path) == {adopted.recommendation_id, recent.recommendation_id}


def test_saving_recommendations_runs_retention_by_itself(tmp_path):
    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path, retention_days=7, save_wait_s=30)
    expired = recommendation(time.time() - 30 * DAY)
    store.save_recommendation(expired)
    store.save_recommendation(recommendation())
    deadline = time.monotonic() + 5
    while expired.recommendation_id in stored_ids(path):
        assert time.monotonic() < deadline, "a recommendation past the retention was never deleted"
        time.sleep(0.05)


def test_a_store_deleted_without_its_log_refuses_writes_rather_than_replay_the_log_into_a_new_file(tmp_path):
    """`rm choices.sqlite3` alone leaves the -wal: a database created at the path would take in the old file's
    pages. Writes are refused with what to do, and a new store starts once the log is removed too."""
    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path, save_wait_s=30)
    store.save_recommendation(recommendation())
    path.unlink()
    with pytest.raises(StoreUnavailable, match="remove its -wal"):
        store.record_choice(str(uuid.uuid4()), IDS[1], choice_id="c-refused", now=time.time())
    assert not path.exists()
    for name in ("choices.sqlite3-wal", "choices.sqlite3-shm"):
        (tmp_path / name).unlink()
    kept = recommendation()
    store.save_recommendation(kept)
    store.record_choice(kept.recommendation_id, IDS[1], choice_id="c-new", now=time.time())
    assert stored_ids(path) == {kept.recommendation_id}
