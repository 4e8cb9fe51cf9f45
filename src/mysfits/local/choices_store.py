"""The choices store on one machine: a SQLite file that every `mysfits serve` worker and `mysfits retrain` share.

WAL mode lets readers (export, stats, retrain) run beside the writers, and the busy timeout makes a writer wait for
another's lock instead of failing at once. ``synchronous=FULL`` makes every choice durable before the API answers
201, so a killed server loses no acknowledged choice. Recommendations are committed without an fsync of their own
(``synchronous=NORMAL`` on the saving connection): a killed server keeps them, and they reach the disk with the next
choice or checkpoint; a power cut before that costs only their Adopt buttons. Every SQLite failure (locked past
the timeout, a full disk, a read-only or damaged file) becomes :class:`StoreUnavailable`: the API answers 503, never
500.
A recommendation is adopted at most once: the choice is one UPDATE guarded by ``chosen IS NULL``, which SQLite
applies atomically whichever worker gets there first.

A recommendation is worth answering without its id, a choice is not worth acknowledging if it may be lost; so the
two writes are guarded differently. Saving a recommendation runs on a thread of its own and is given up after
:data:`RECOMMENDATION_WAIT_S`, whatever holds it up (another process's long write lock, a hung disk). Every write
first checks that the file at the path is still the one this connection has open (device and inode): a store deleted
or replaced under a running server is reopened at the path, so a 201 always means the choice is in the file that
``export`` and ``retrain`` read. Unchosen recommendations are deleted after the same retention as on AWS, a small
batch at a time on that thread, so no delete holds the write lock for long.
"""

from __future__ import annotations

import math
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from mysfits_api.choices import (
    CHOICE_WINDOW_SECONDS,
    CLOCK_SKEW_SECONDS,
    AlreadyChosen,
    Choice,
    Recommendation,
    StoreUnavailable,
    UnknownRecommendation,
)

DEFAULT_PATH = Path("data/choices.sqlite3")
BUSY_TIMEOUT_MS = 2_000
"""How long a writer waits for another's lock: far above a commit's few milliseconds, well under the API's 26 s."""
RECOMMENDATION_WAIT_S = 0.2
"""How long a recommendation waits for the store before it is answered without an id: the function's one local
instance serves the next visitor only after it, and the gateway sheds requests that wait 0.5 s behind it."""
BUSY_PAUSE_S = 1.0
"""After a save gave up on a busy store, the recommendations of the next second are answered without trying: a
lock held for seconds then costs one visitor in a second 0.2 s, not every visitor in the queue 0.2 s each."""
RETENTION_DAYS = 7
"""Unchosen recommendations are kept this long, as template.yaml's UnchosenRecommendationRetentionDays on AWS."""
RETENTION_BATCH = 500
"""Rows one retention delete removes: a few milliseconds of write lock, so visitors never wait on it."""
RETENTION_PAUSE_S = 600.0
"""Time between retention passes once no expired row is left; while some are, a batch runs every housekeeping."""
HOUSEKEEPING_S = 2.0
"""How often (while recommendations come in) a process's housekeeping thread checkpoints the log and, when due,
deletes a retention batch: work that must never sit in front of a visitor's save."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recommendations (
    id TEXT PRIMARY KEY,
    answers TEXT NOT NULL,
    recommended TEXT NOT NULL,
    runner_up TEXT,
    model_version TEXT NOT NULL,
    created_at REAL NOT NULL,
    choice_id TEXT UNIQUE,
    chosen TEXT,
    chosen_at REAL
);
CREATE INDEX IF NOT EXISTS chosen_rows ON recommendations (chosen_at) WHERE chosen IS NOT NULL;
"""
_RETENTION_INDEX = "CREATE INDEX IF NOT EXISTS unchosen_rows ON recommendations (created_at) WHERE chosen IS NULL"
_EXPIRE = (
    "DELETE FROM recommendations WHERE rowid IN "
    "(SELECT rowid FROM recommendations WHERE chosen IS NULL AND created_at < ? LIMIT ?)"
)
_EXPOSURE_COLUMNS = {
    "shown": "TEXT",
    "propensity": "REAL NOT NULL DEFAULT 1.0",
    "exploration_rate": "REAL NOT NULL DEFAULT 0.0",
    "randomized": "INTEGER NOT NULL DEFAULT 0",
}
"""What the page showed and how (mysfits_api.exploration). Added to files made before exploration existed; their
old rows read as "the recommended Mysfit was shown, with certainty", which is what happened."""
_EXPOSURE_DEFAULTS = {"shown": "NULL", "propensity": "1.0", "exploration_rate": "0.0", "randomized": "0"}
_SELECT_ONE = (
    "SELECT id, answers, recommended, runner_up, model_version, created_at, choice_id, chosen, chosen_at, {exposure}"
    " FROM recommendations WHERE id = ?"
)
_SELECT_ALL = (
    "SELECT id, answers, recommended, runner_up, model_version, created_at, choice_id, chosen, chosen_at, {exposure}"
    " FROM recommendations ORDER BY created_at, id"
)
_SELECT_CHOSEN = (
    "SELECT id, answers, recommended, runner_up, model_version, created_at, choice_id, chosen, chosen_at, {exposure}"
    " FROM recommendations WHERE chosen IS NOT NULL ORDER BY chosen_at, id"
)


class SqliteChoiceStore:
    """A :class:`~mysfits_api.choices.ChoiceStore` and ``ChoiceReader`` over one SQLite file.

    One connection per thread: the local gateway runs the handler on a thread pool whose threads come and go.
    """

    def __init__(
        self,
        path: str | Path = DEFAULT_PATH,
        *,
        read_only: bool = False,
        open_now: bool = True,
        retention_days: int = RETENTION_DAYS,
        save_wait_s: float = RECOMMENDATION_WAIT_S,
    ):
        """``read_only`` is for readers (export, stats, retrain): they must never create or change the file.
        ``open_now=False`` defers opening to the first write, for a server that must start while the store is
        damaged: every write then tries again, so the store recovers as soon as the file at the path is usable.
        ``save_wait_s`` is for callers that need every save to land (tests of what is stored, not of when)."""
        self.path = Path(path)
        self.save_wait_s = save_wait_s
        self.read_only = read_only
        self.retention_s = retention_days * 24 * 3600
        self._local = threading.local()
        self._exposure = ", ".join(_EXPOSURE_COLUMNS)
        self._saver: _Saver | None = None
        self._last_save: Future | None = None
        self._keeper: _Saver | None = None
        # Never yet: no pause is running, and housekeeping and retention are due at the first save.
        self._paused_until = -math.inf
        self._next_housekeeping = -math.inf
        self._next_expiry = -math.inf
        if read_only:
            with self._guard("open"):
                connection = self._connection()
                connection.execute("SELECT count(*) FROM recommendations")  # fails here on a file that is no store
                # A reader never changes the file: columns a file from before exploration lacks read as defaults.
                missing = _missing_exposure_columns(connection)
            self._exposure = ", ".join(
                f"{_EXPOSURE_DEFAULTS[name]} AS {name}" if name in missing else name for name in _EXPOSURE_COLUMNS
            )
            return
        if open_now:
            self._connection()
        # A connection must not cross a fork, and `mysfits serve --workers N` forks after this: each thread that
        # uses the store opens its own.
        self.close()

    def _connection(self, busy_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is not None and not self.read_only and _identity(self.path) != self._local.identity:
            # Deleted, renamed away or replaced: writing on would acknowledge what no reader of the path will see.
            self._check_reopenable()
            self.close()
            connection = None
        if connection is None:
            connection = self._open(busy_ms)
            self._local.connection = connection
        return connection

    def _open(self, busy_ms: int) -> sqlite3.Connection:
        if self.read_only:
            target = f"file:{self.path.resolve()}?mode=ro"
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(f"{self.path}: cannot create its folder: {exc.strerror}") from exc
            _refuse_orphan_log(self.path)
            target = str(self.path)
        with self._guard("open"):
            # The busy timeout is set once, by the pragma below (which also reads back as what is in force).
            connection = sqlite3.connect(target, isolation_level=None, uri=self.read_only)
        try:
            with self._guard("open"):
                connection.execute(f"PRAGMA busy_timeout={busy_ms}")
                connection.execute("PRAGMA synchronous=FULL")
                if not self.read_only:
                    connection.execute("PRAGMA journal_mode=WAL")
                    connection.executescript(_SCHEMA)
                    _add_exposure_columns(connection)
                    connection.execute(_RETENTION_INDEX)
                    self._local.identity = _identity(self.path)
                    self._local.wal = _identity(_wal_of(self.path))
        except BaseException:
            connection.close()
            raise
        return connection

    def _check_reopenable(self) -> None:
        """A new connection at the path would replay the write-ahead log beside it, which is still the old file's
        while this one's connection is open (SQLite keeps the log of a moved file): the old file's pages written
        into another. So the path is reopened only once that log is gone too (a new store starts) or another's;
        until then writes are refused, and the old file put back is used again as if nothing happened."""
        if self._local.wal is not None and _identity(_wal_of(self.path)) == self._local.wal:
            raise StoreUnavailable(
                f"{self.path} is no longer the file this server opened (deleted, moved or replaced), and "
                f"{_wal_of(self.path).name} beside it belongs to the old file: writes are refused until the old file "
                "is back, or until it is gone with its -wal and -shm files (a new store then starts)"
            )

    def _guard(self, action: str):
        return _Guard(self.path, action)

    def _wait_ms(self) -> int:
        """The saver's busy timeout: it gives up on a held lock a little before the caller stops waiting for it."""
        return int(self.save_wait_s * 750)

    # -- writes (the API) -------------------------------------------------------------------------------------------

    def save_recommendation(self, recommendation: Recommendation) -> None:
        """Raises StoreUnavailable after :data:`RECOMMENDATION_WAIT_S` at most. A save given up on may still land
        later: an unchosen row, which retention removes like any other."""
        if self._last_save is not None and not self._last_save.done():
            raise StoreUnavailable(
                f"{self.path}: cannot save a recommendation: the store has not finished the last one yet"
            )
        if time.monotonic() < self._paused_until:
            raise StoreUnavailable(
                f"{self.path}: cannot save a recommendation: the store was busy less than {BUSY_PAUSE_S:g} s ago"
            )
        saver = self._saving_thread()
        self._last_save = saved = saver.submit(lambda: self._insert(recommendation))
        try:
            saved.result(timeout=self.save_wait_s)
        except FutureTimeout:
            self._paused_until = time.monotonic() + BUSY_PAUSE_S
            raise StoreUnavailable(
                f"{self.path}: cannot save a recommendation: the store did not take it within {self.save_wait_s:g} s"
            ) from None
        except StoreUnavailable as exc:
            if isinstance(exc.__cause__, sqlite3.OperationalError) and "locked" in str(exc.__cause__):
                self._paused_until = time.monotonic() + BUSY_PAUSE_S
            raise
        now = time.monotonic()
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING_S
            self._keeper.submit(self._housekeep)

    def _insert(self, recommendation: Recommendation) -> None:
        with self._guard("save a recommendation"):
            connection = self._connection(self._wait_ms())
            # The commit that passes the log's checkpoint threshold would run the checkpoint (an fsync of the whole
            # database) inside a visitor's save; housekeeping runs it instead.
            connection.execute("PRAGMA wal_autocheckpoint=0")
            # No fsync per recommendation: it survives a killed server (the kernel has it) and reaches the disk with
            # the next choice's commit (FULL) or checkpoint; a power cut may cost it, and with it an Adopt button.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "INSERT INTO recommendations (id, answers, recommended, runner_up, model_version, created_at, "
                "shown, propensity, exploration_rate, randomized) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    recommendation.recommendation_id,
                    ",".join(map(str, recommendation.answers)),
                    recommendation.recommended_mysfit_id,
                    recommendation.runner_up_mysfit_id,
                    recommendation.model_version,
                    recommendation.created_at,
                    recommendation.shown,
                    recommendation.propensity,
                    recommendation.exploration_rate,
                    int(recommendation.randomized),
                ),
            )

    def _saving_thread(self) -> _Saver:
        """This process's saver, started on first use: a thread must not cross `serve --workers`' fork."""
        if self._saver is None or self._saver.pid != os.getpid():
            self._saver, self._last_save = _Saver("choices-saver"), None
            self._keeper = _Saver("choices-housekeeping")
        return self._saver

    def _housekeep(self) -> None:
        """A passive checkpoint (it waits for no one) and, when due, one retention batch; failures wait for the
        next round."""
        try:
            with self._guard("checkpoint"):
                self._connection(self._wait_ms()).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            now = time.time()
            if now >= self._next_expiry:
                deleted = self.expire_unchosen(now)
                # While expired rows remain, another batch next round; then rest.
                self._next_expiry = -math.inf if deleted == RETENTION_BATCH else now + RETENTION_PAUSE_S
        except StoreUnavailable:
            return

    def expire_unchosen(self, now: float, batch: int = RETENTION_BATCH) -> int:
        """Delete at most ``batch`` recommendations that nobody adopted within the retention; how many went."""
        with self._guard("delete expired recommendations"):
            return self._connection(self._wait_ms()).execute(_EXPIRE, (now - self.retention_s, batch)).rowcount

    def record_choice(self, recommendation_id: str, mysfit_id: str, *, choice_id: str, now: float) -> Choice:
        with self._guard("record a choice"):
            connection = self._connection()
            updated = connection.execute(
                "UPDATE recommendations SET choice_id = ?, chosen = ?, chosen_at = ? "
                "WHERE id = ? AND chosen IS NULL AND created_at >= ? AND created_at <= ?",
                (choice_id, mysfit_id, now, recommendation_id, now - CHOICE_WINDOW_SECONDS, now + CLOCK_SKEW_SECONDS),
            ).rowcount
            row = connection.execute(_SELECT_ONE.format(exposure=self._exposure), (recommendation_id,)).fetchone()
        if _identity(self.path) != self._local.identity:
            # Replaced or deleted while the choice was being written: it went into a file nobody will read.
            raise StoreUnavailable(f"{self.path}: cannot record a choice: the file was replaced or deleted meanwhile")
        if updated:
            return _choice(row)
        if row is None:
            raise UnknownRecommendation(f"no recommendation {recommendation_id}")
        if row[7] is not None:
            raise AlreadyChosen(f"recommendation {recommendation_id} was adopted already")
        if row[5] > now + CLOCK_SKEW_SECONDS:
            raise UnknownRecommendation(f"recommendation {recommendation_id} is dated in the future")
        raise UnknownRecommendation(f"recommendation {recommendation_id} is older than the choice window")

    # -- reads (export, stats, retrain) -----------------------------------------------------------------------------

    def recommendations(self) -> Iterator[Recommendation]:
        return self._stream(_SELECT_ALL.format(exposure=self._exposure), _recommendation, "read recommendations")

    def choices(self) -> Iterator[Choice]:
        return self._stream(_SELECT_CHOSEN.format(exposure=self._exposure), _choice, "read choices")

    def _stream(self, query: str, make: Callable[[tuple], object], action: str) -> Iterator:
        """Rows a page at a time, so a reader's memory stays bounded however many millions the store holds. The
        query runs before the first row is asked for, so a store that cannot be read fails here, not mid-loop."""
        with self._guard(action):
            cursor = self._connection().execute(query)
            first = cursor.fetchmany(_PAGE_ROWS)

        def rows():
            page = first
            while page:
                yield from map(make, page)
                with self._guard(action):
                    page = cursor.fetchmany(_PAGE_ROWS)

        return rows()

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


_PAGE_ROWS = 1_000


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` (device and inode): one stat, a few microseconds per write."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _wal_of(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _refuse_orphan_log(path: Path) -> None:
    """A new database created at ``path`` would replay a log left beside it by the file that was there (moved or
    deleted without its -wal): another database's pages, a damaged store. Refuse instead, and say what to do."""
    if os.path.lexists(path):
        return
    try:
        size = os.stat(_wal_of(path)).st_size
    except OSError:
        return
    if size:
        raise StoreUnavailable(
            f"{path} is missing but {_wal_of(path).name} is still beside it: put the store back, or remove its -wal "
            "and -shm files too to start a new one"
        )


class _Saver:
    """One daemon thread running jobs in order (the store's recommendation saves, or its housekeeping). Daemon, unlike a
    ThreadPoolExecutor's: a save stuck on a hung disk must not keep the server from exiting."""

    def __init__(self, name: str):
        self.pid = os.getpid()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def submit(self, job: Callable[[], object]) -> Future:
        future: Future = Future()
        self._jobs.put((job, future))
        return future

    def _run(self) -> None:
        while True:
            job, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)


class _Guard:
    """Turns any SQLite or file-system failure into StoreUnavailable naming the file and what was being done."""

    def __init__(self, path: Path, action: str):
        self.path, self.action = path, action

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, _traceback) -> bool:
        if exc is not None and isinstance(exc, (sqlite3.Error, OSError)):
            raise StoreUnavailable(f"{self.path}: cannot {self.action}: {exc}") from exc
        return False


def _missing_exposure_columns(connection: sqlite3.Connection) -> list[str]:
    present = {row[1] for row in connection.execute("PRAGMA table_info(recommendations)")}
    return [name for name in _EXPOSURE_COLUMNS if name not in present]


def _add_exposure_columns(connection: sqlite3.Connection) -> None:
    """Bring a file from before exploration up to date; each ALTER is instant (SQLite writes no rows for it)."""
    for name in _missing_exposure_columns(connection):
        try:
            connection.execute(f"ALTER TABLE recommendations ADD COLUMN {name} {_EXPOSURE_COLUMNS[name]}")
        except sqlite3.OperationalError as exc:  # another worker added it first
            if "duplicate column" not in str(exc):
                raise


def _recommendation(row: tuple) -> Recommendation:
    return Recommendation(
        recommendation_id=row[0],
        answers=tuple(int(a) for a in row[1].split(",")),
        recommended_mysfit_id=row[2],
        runner_up_mysfit_id=row[3],
        model_version=row[4],
        created_at=row[5],
        shown_mysfit_id=row[9],
        propensity=row[10],
        exploration_rate=row[11],
        randomized=bool(row[12]),
    )


def _choice(row: tuple) -> Choice:
    return Choice(choice_id=row[6], recommendation=_recommendation(row), chosen_mysfit_id=row[7], chosen_at=row[8])
