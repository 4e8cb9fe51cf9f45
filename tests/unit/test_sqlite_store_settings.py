"""The SQLite store's settings and exact edges: what makes a 201 durable, what the schema refuses, where a default
store goes, which failures become a 503, and the second at which a recommendation stops being adoptable or kept.

The contract tests (test_choice_stores) check both stores a second either side of each edge; these check the edge
itself, and read the settings back from SQLite rather than from our constants.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid

import pytest

from mysfits.local import choices_store
from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Recommendation, StoreUnavailable, UnknownRecommendation
from tests.store_support import settled
from tests.templates.sam_template import sam_template

IDS = label_ids()
NOW = 1_800_000_000.0
DAY = 24 * 3600


def made(created_at: float = NOW, **exposure) -> Recommendation:
    return Recommendation(str(uuid.uuid4()), (3, 1, 4, 1, 5), IDS[1], IDS[2], "v", created_at, **exposure)


@pytest.fixture
def store(tmp_path):
    sqlite = SqliteChoiceStore(tmp_path / "choices.sqlite3", save_wait_s=30)
    yield sqlite
    sqlite.close()


def test_a_choice_is_committed_with_a_full_fsync_under_wal(store, tmp_path):
    """synchronous=FULL on the connection that records choices: in WAL mode, NORMAL would let a power cut take
    back a choice the API already answered 201 for. 2 is FULL in SQLite's numbering (0 OFF, 1 NORMAL)."""
    kept = made()
    store.save_recommendation(kept)
    store.record_choice(kept.recommendation_id, IDS[0], choice_id="c-1", now=NOW)
    connection = store._connection()
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 2_000
    other = sqlite3.connect(tmp_path / "choices.sqlite3")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # readers run beside writers
    other.close()


def test_a_read_only_store_sets_the_same_busy_timeout(store, tmp_path):
    reader = SqliteChoiceStore(tmp_path / "choices.sqlite3", read_only=True)
    assert reader._connection().execute("PRAGMA busy_timeout").fetchone()[0] == 2_000
    assert reader._connection().execute("PRAGMA synchronous").fetchone()[0] == 2


def test_pinned_timings():
    """Each bounds what a visitor waits: 2 s for another writer's lock (far under the API's 26 s), 0.2 s for a
    recommendation's save before it is answered without an id, then 1 s of not trying; housekeeping every 2 s and
    retention in batches of 500 (a few milliseconds of lock each), resting 10 minutes once nothing is expired."""
    assert choices_store.BUSY_TIMEOUT_MS == 2_000
    assert choices_store.RECOMMENDATION_WAIT_S == 0.2
    assert choices_store.BUSY_PAUSE_S == 1.0
    assert (choices_store.HOUSEKEEPING_S, choices_store.RETENTION_BATCH) == (2.0, 500)
    assert choices_store.RETENTION_PAUSE_S == 600.0
    assert choices_store.DEFAULT_PATH.as_posix() == "data/choices.sqlite3"


def test_the_local_retention_is_the_templates_default():
    default = sam_template()["Parameters"]["UnchosenRecommendationRetentionDays"]["Default"]
    assert choices_store.RETENTION_DAYS == int(default) == 7


def test_a_choice_id_is_unique_across_recommendations(store):
    """Two recommendations adopted under one choice id would be one training row counted twice, and the
    held-out side (a hash of the id) would put both on the same side."""
    first, second = made(), made()
    store.save_recommendation(first)
    store.save_recommendation(second)
    store.record_choice(first.recommendation_id, IDS[0], choice_id="same", now=NOW)
    with pytest.raises(StoreUnavailable, match="UNIQUE"):
        store.record_choice(second.recommendation_id, IDS[0], choice_id="same", now=NOW)
    assert [c.recommendation.recommendation_id for c in store.choices()] == [first.recommendation_id]


def test_the_default_store_creates_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = SqliteChoiceStore(save_wait_s=30)
    kept = made()
    store.save_recommendation(kept)
    assert (tmp_path / "data" / "choices.sqlite3").is_file()
    assert [r.recommendation_id for r in SqliteChoiceStore(read_only=True).recommendations()] == [
        kept.recommendation_id
    ]
    nested = SqliteChoiceStore(tmp_path / "a" / "b" / "c.sqlite3", save_wait_s=30)
    nested.save_recommendation(made())
    assert (tmp_path / "a" / "b" / "c.sqlite3").is_file()


def test_a_folder_that_cannot_be_made_is_store_unavailable(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreUnavailable, match="cannot create its folder"):
        SqliteChoiceStore(tmp_path / "file" / "choices.sqlite3")


def test_only_sqlite_and_file_failures_become_store_unavailable(store):
    """A 503 tells the client to retry; a bug of ours (a TypeError, say) retried forever would hide. So only what
    SQLite or the file system raise is turned into StoreUnavailable; the rest stays a bug, a 500 with a log line."""
    with pytest.raises(StoreUnavailable, match=r"choices\.sqlite3: cannot do this: disk I/O error"):
        with store._guard("do this"):
            raise sqlite3.OperationalError("disk I/O error")
    with pytest.raises(StoreUnavailable, match="cannot do that"):
        with store._guard("do that"):
            raise PermissionError("read-only file system")
    for bug in (TypeError("a bug"), KeyError("a bug"), ValueError("a bug")):
        with pytest.raises(type(bug)):
            with store._guard("do this"):
                raise bug
    with store._guard("do nothing"):
        pass


def test_the_window_s_exact_edges(store):
    """Adoptable from the second it was made until exactly 24 hours later, and up to 5 s ahead of this clock."""
    edge = made(created_at=NOW - DAY)
    past = made(created_at=NOW - DAY - 1)
    ahead = made(created_at=NOW + 5)
    beyond = made(created_at=NOW + 6)
    for kept in (edge, past, ahead, beyond):
        store.save_recommendation(kept)
    assert store.record_choice(edge.recommendation_id, IDS[0], choice_id="c-edge", now=NOW).chosen_at == NOW
    assert store.record_choice(ahead.recommendation_id, IDS[0], choice_id="c-ahead", now=NOW).chosen_at == NOW
    with pytest.raises(UnknownRecommendation, match="older than the choice window"):
        store.record_choice(past.recommendation_id, IDS[0], choice_id="c-past", now=NOW)
    with pytest.raises(UnknownRecommendation, match="dated in the future"):
        store.record_choice(beyond.recommendation_id, IDS[0], choice_id="c-beyond", now=NOW)
    with pytest.raises(UnknownRecommendation, match=r"^no recommendation"):
        store.record_choice(str(uuid.uuid4()), IDS[0], choice_id="c-none", now=NOW)


def test_retention_keeps_a_recommendation_exactly_as_old_as_the_retention(tmp_path):
    store = SqliteChoiceStore(tmp_path / "choices.sqlite3", retention_days=2, save_wait_s=30)
    at_edge, older = made(created_at=NOW - 2 * DAY), made(created_at=NOW - 2 * DAY - 1)
    for kept in (at_edge, older):
        store.save_recommendation(kept)
    assert store.expire_unchosen(NOW) == 1
    assert [r.recommendation_id for r in store.recommendations()] == [at_edge.recommendation_id]
    assert store.expire_unchosen(NOW + 1) == 1
    assert store.expire_unchosen(NOW + 1) == 0


def test_every_field_of_a_drawn_recommendation_reads_back(store):
    drawn = made(shown_mysfit_id=IDS[9], propensity=0.0125, exploration_rate=0.15, randomized=True)
    plain = made(created_at=NOW + 1)
    store.save_recommendation(drawn)
    store.save_recommendation(plain)
    assert list(store.recommendations()) == [drawn, plain]
    choice = store.record_choice(drawn.recommendation_id, IDS[9], choice_id="c", now=NOW)
    assert choice.recommendation == drawn and choice.accepted and not choice.agrees_with_model


def test_reads_stream_page_after_page(tmp_path, monkeypatch):
    monkeypatch.setattr(choices_store, "_PAGE_ROWS", 2)
    store = SqliteChoiceStore(tmp_path / "choices.sqlite3", save_wait_s=30)
    kept = [made(created_at=NOW + i) for i in range(5)]
    for rec in kept:
        store.save_recommendation(rec)
    assert [r.recommendation_id for r in store.recommendations()] == [r.recommendation_id for r in kept]
    for i, rec in enumerate(kept):
        store.record_choice(rec.recommendation_id, IDS[i], choice_id=f"c{i}", now=NOW + 10 - i)
    assert [c.choice_id for c in store.choices()] == ["c4", "c3", "c2", "c1", "c0"]  # oldest choice first


OLD_SCHEMA = (
    "CREATE TABLE recommendations (id TEXT PRIMARY KEY, answers TEXT NOT NULL, recommended TEXT NOT NULL, "
    "runner_up TEXT, model_version TEXT NOT NULL, created_at REAL NOT NULL, choice_id TEXT UNIQUE, "
    "chosen TEXT, chosen_at REAL);"
)


def old_store(path) -> None:
    """A file written before exploration: no shown, propensity, exploration_rate or randomized columns."""
    with sqlite3.connect(path) as old:
        old.executescript(
            OLD_SCHEMA + f"INSERT INTO recommendations VALUES ('r1', '8,7,6,5,4', '{IDS[4]}', '{IDS[5]}', 'v', "
            f"{NOW}, 'c1', '{IDS[3]}', {NOW + 5});"
        )
    old.close()


def test_a_file_from_before_exploration_reads_as_the_pick_shown_for_sure(tmp_path):
    path = tmp_path / "old.sqlite3"
    old_store(path)
    (choice,) = SqliteChoiceStore(path, read_only=True).choices()
    rec = choice.recommendation
    assert (rec.recommendation_id, rec.answers, rec.recommended_mysfit_id, rec.runner_up_mysfit_id) == (
        "r1",
        (8, 7, 6, 5, 4),
        IDS[4],
        IDS[5],
    )
    assert (rec.model_version, rec.created_at, choice.choice_id, choice.chosen_mysfit_id, choice.chosen_at) == (
        "v",
        NOW,
        "c1",
        IDS[3],
        NOW + 5,
    )
    assert (rec.shown, rec.propensity, rec.exploration_rate, rec.randomized) == (IDS[4], 1.0, 0.0, False)


def test_a_writer_adds_the_exposure_columns_to_an_old_file_and_its_rows_keep_their_meaning(tmp_path):
    path = tmp_path / "old.sqlite3"
    old_store(path)
    SqliteChoiceStore(path)  # what `mysfits serve` does at start
    with sqlite3.connect(path) as upgraded:
        columns = {row[1]: row[2] for row in upgraded.execute("PRAGMA table_info(recommendations)")}
    upgraded.close()
    assert {k: columns[k] for k in ("shown", "propensity", "exploration_rate", "randomized")} == {
        "shown": "TEXT",
        "propensity": "REAL",
        "exploration_rate": "REAL",
        "randomized": "INTEGER",
    }
    (choice,) = SqliteChoiceStore(path, read_only=True).choices()
    assert (choice.recommendation.shown, choice.recommendation.propensity) == (IDS[4], 1.0)


def test_a_column_another_worker_added_first_is_no_error_but_any_other_failure_is(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite3"
    old_store(path)
    SqliteChoiceStore(path)
    connection = sqlite3.connect(path)
    # As if another worker added them between our look and our ALTER: every ALTER now meets "duplicate column".
    monkeypatch.setattr(choices_store, "_missing_exposure_columns", lambda _: list(choices_store._EXPOSURE_COLUMNS))
    choices_store._add_exposure_columns(connection)
    connection.close()
    other = tmp_path / "other.sqlite3"
    old_store(other)
    read_only = sqlite3.connect(f"file:{other}?mode=ro", uri=True)
    monkeypatch.undo()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        choices_store._add_exposure_columns(read_only)
    read_only.close()


def test_a_store_opens_its_file_at_once_and_keeps_no_connection_for_a_fork(tmp_path):
    """`mysfits serve` opens the store before it forks its workers, so a bad path fails the start, not the first
    visitor; and no connection is left open to cross the fork (each worker's threads open their own)."""
    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path)
    assert path.is_file() and store._local.connection is None
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreUnavailable, match=r"damaged\.sqlite3: cannot open"):
        SqliteChoiceStore(damaged)
    later = SqliteChoiceStore(damaged, open_now=False)  # a server that must start anyway tries again on each write
    assert getattr(later._local, "connection", None) is None
    with pytest.raises(StoreUnavailable, match=r"damaged\.sqlite3: cannot open: file is not a database"):
        later.record_choice(str(uuid.uuid4()), IDS[0], choice_id="c", now=NOW)


def test_retention_runs_again_at_once_while_full_batches_go_then_rests(tmp_path):
    """A housekeeping round that deleted a full batch leaves the next round due at once; a round that deleted less
    rests RETENTION_PAUSE_S, so a row that expires meanwhile waits for it."""
    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path, retention_days=1, save_wait_s=30)
    writer = sqlite3.connect(path, isolation_level=None)

    def expired(count: int) -> None:
        writer.executemany(
            "INSERT INTO recommendations (id, answers, recommended, runner_up, model_version, created_at) "
            "VALUES (?, '1,2,3,4,5', ?, NULL, 'v', 0)",
            [(str(uuid.uuid4()), IDS[0]) for _ in range(count)],
        )

    def left() -> int:
        return writer.execute("SELECT count(*) FROM recommendations").fetchone()[0]

    expired(501)
    store._housekeep()
    assert left() == 1  # a full batch of 500 went
    store._housekeep()
    assert left() == 0  # due again at once
    expired(1)
    store._housekeep()
    assert left() == 1  # resting: the last round deleted less than a batch
    store._next_expiry -= choices_store.RETENTION_PAUSE_S
    store._housekeep()
    assert left() == 0
    writer.close()


def test_a_reader_of_a_damaged_file_is_told_it_cannot_open_it(tmp_path):
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreUnavailable, match=r"damaged\.sqlite3: cannot open: file is not a database"):
        SqliteChoiceStore(damaged, read_only=True)


def test_retention_and_the_choice_export_find_their_rows_by_index(store, tmp_path):
    """A store of millions of unchosen rows must not be scanned whole under the write lock each retention batch,
    nor by each export: both queries use a partial index."""
    store.save_recommendation(made())
    reader = sqlite3.connect(tmp_path / "choices.sqlite3")
    expire = " ".join(row[3] for row in reader.execute("EXPLAIN QUERY PLAN " + choices_store._EXPIRE, (NOW, 500)))
    chosen = " ".join(
        row[3]
        for row in reader.execute(
            "EXPLAIN QUERY PLAN " + choices_store._SELECT_CHOSEN.format(exposure="shown, propensity, 1, 2")
        )
    )
    reader.close()
    assert "USING INDEX unchosen_rows" in expire
    assert "USING INDEX chosen_rows" in chosen


def test_a_stuck_save_is_given_up_on_then_the_next_are_refused_at_once_until_the_pause_ends(store):
    """The saver is held up (as by a hung disk): the visitor's save is given up on after 0.2 s, the next one while
    it is still stuck is refused without waiting, and once it finishes the store rests a second before trying."""
    store.save_wait_s = 0.2
    gate = threading.Event()
    store._saving_thread().submit(gate.wait)  # the saver thread is busy until the gate opens
    stuck = made()
    with pytest.raises(StoreUnavailable, match=r"did not take it within 0\.2 s"):
        store.save_recommendation(stuck)
    with pytest.raises(StoreUnavailable, match="has not finished the last one yet"):
        store.save_recommendation(made())
    gate.set()
    store._last_save.result(timeout=30)  # the stuck save lands after all: an unchosen row, as the docstring says
    with pytest.raises(StoreUnavailable, match="was busy less than 1 s ago"):
        store.save_recommendation(made())
    time.sleep(choices_store.BUSY_PAUSE_S)
    store.save_wait_s = 30
    kept = made()
    store.save_recommendation(kept)
    assert {r.recommendation_id for r in store.recommendations()} == {stuck.recommendation_id, kept.recommendation_id}


def test_a_lock_held_past_the_busy_timeout_also_pauses_saves(store, tmp_path):
    """Another process holds the write lock: the save waits out its busy timeout (three quarters of its wait, so
    it is SQLite, not the caller, that gives up), and the next save is refused at once rather than waiting again."""
    store.save_wait_s = 4.0  # a busy timeout of 3 s: a second of margin before the caller's own wait ends
    holder = sqlite3.connect(tmp_path / "choices.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            store.save_recommendation(made())
        with pytest.raises(StoreUnavailable, match="was busy less than 1 s ago"):
            store.save_recommendation(made())
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_reader_of_a_current_file_reads_what_was_shown(store, tmp_path):
    drawn = made(shown_mysfit_id=IDS[9], propensity=0.0125, exploration_rate=0.15, randomized=True)
    store.save_recommendation(drawn)
    assert list(SqliteChoiceStore(tmp_path / "choices.sqlite3", read_only=True).recommendations()) == [drawn]


def test_a_file_replaced_while_a_choice_is_written_is_store_unavailable_not_201(store, tmp_path):
    """The store's file is swapped for another at the moment the UPDATE runs (as a restore or an operator's `mv`
    might): the choice went into a file nobody will read, so the visitor must not be told it was recorded."""
    path = tmp_path / "choices.sqlite3"
    kept = made()
    store.save_recommendation(kept)
    settled(store)
    connection = store._connection()

    def swap_during_the_update(statement: str) -> None:
        if statement.lstrip().upper().startswith("UPDATE RECOMMENDATIONS SET CHOICE_ID"):
            path.rename(tmp_path / "moved-away.sqlite3")
            path.write_bytes(b"")

    connection.set_trace_callback(swap_during_the_update)
    try:
        with pytest.raises(
            StoreUnavailable, match=r"cannot record a choice: the file was replaced or deleted meanwhile"
        ):
            store.record_choice(kept.recommendation_id, IDS[0], choice_id="c-swap", now=NOW)
    finally:
        connection.set_trace_callback(None)


def test_a_recommendation_is_saved_without_an_fsync_and_without_a_checkpoint_in_the_visitors_path(tmp_path):
    """The saver's connection, read back from SQLite: synchronous NORMAL (1; no fsync per recommendation),
    automatic checkpoints off (housekeeping runs them on its own thread), and a busy timeout of three quarters of
    the caller's wait, so SQLite gives up before the caller stops waiting (750 ms of a 1 s wait)."""
    store = SqliteChoiceStore(tmp_path / "choices.sqlite3", save_wait_s=1.0)
    store.save_recommendation(made())

    def settings() -> tuple:
        connection = store._connection()  # on the saver's thread: the connection the save used
        return tuple(
            connection.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("synchronous", "wal_autocheckpoint", "busy_timeout")
        )

    assert store._saving_thread().submit(settings).result(timeout=30) == (1, 0, 750)
    store.close()


def test_the_stores_threads_are_named_for_a_thread_dump(store):
    """An operator reading `py-spy dump` or a faulthandler traceback of a stuck server sees which thread is the
    store's saver and which its housekeeping."""
    store.save_recommendation(made())
    settled(store)
    names = {thread.name for thread in threading.enumerate()}
    assert {"choices-saver", "choices-housekeeping"} <= names


def test_housekeeping_runs_once_however_many_saves_come_within_its_interval(store, monkeypatch):
    """A checkpoint per save would put the log's fsync back in the visitors' path; one round in HOUSEKEEPING_S
    (2 s) is enough for the log and the retention batches."""
    rounds = []
    monkeypatch.setattr(store, "_housekeep", lambda: rounds.append(time.monotonic()))
    started = time.monotonic()
    for _ in range(5):
        store.save_recommendation(made())
    settled(store)
    elapsed = time.monotonic() - started  # a few milliseconds; a loaded machine may let a second round fall due
    assert 1 <= len(rounds) <= 1 + elapsed // choices_store.HOUSEKEEPING_S


def test_a_reader_is_told_when_the_store_file_is_missing(tmp_path):
    """A reader never creates the file: a mistyped --store path is an error that names it, not a new empty store."""
    missing = tmp_path / "typo.sqlite3"
    with pytest.raises(StoreUnavailable, match=r"typo\.sqlite3: cannot open: unable to open database file"):
        SqliteChoiceStore(missing, read_only=True)
    assert not missing.exists()


def test_a_reader_of_another_programs_sqlite_file_is_told_it_holds_no_store(tmp_path):
    """A valid SQLite file without the recommendations table (another program's database) fails at once, with
    the table named, not at the first read."""
    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()
    with pytest.raises(StoreUnavailable, match=r"other\.sqlite3: cannot open: no such table: recommendations"):
        SqliteChoiceStore(other, read_only=True)


def test_reads_come_a_thousand_rows_at_a_time():
    """What bounds a reader's memory however many millions of rows the store holds (a page of 1,000 rows is a few
    hundred kilobytes); test_reads_stream_page_after_page checks the paging itself with pages of 2."""
    assert choices_store._PAGE_ROWS == 1_000
