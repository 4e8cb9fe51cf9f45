"""The choices store on one machine: a SQLite file that every `mysfits serve` worker and `mysfits retrain` share.

WAL mode lets readers (export, stats, retrain) run beside the writers, and the busy timeout makes a writer wait for
another's lock instead of failing at once. ``synchronous=FULL`` makes every commit durable before the API answers
201, so a killed server loses no acknowledged choice. Every SQLite failure (locked past the timeout, a full disk, a
read-only or damaged file) becomes :class:`StoreUnavailable`: the API answers 503, never 500.
A recommendation is adopted at most once: the choice is one UPDATE guarded by ``chosen IS NULL``, which SQLite
applies atomically whichever worker gets there first.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from mysfits_api.choices import (
    CHOICE_WINDOW_SECONDS,
    AlreadyChosen,
    Choice,
    Recommendation,
    StoreUnavailable,
    UnknownRecommendation,
)

DEFAULT_PATH = Path("data/choices.sqlite3")
BUSY_TIMEOUT_MS = 2_000
"""How long a writer waits for another's lock: far above a commit's few milliseconds, well under the API's 26 s."""

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

    def __init__(self, path: str | Path = DEFAULT_PATH, *, read_only: bool = False):
        """``read_only`` is for readers (export, stats, retrain): they must never create or change the file."""
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()
        self._exposure = ", ".join(_EXPOSURE_COLUMNS)
        if read_only:
            with self._guard("open"):
                connection = self._connection()
                connection.execute("SELECT count(*) FROM recommendations").fetchone()
                # A reader never changes the file: columns a file from before exploration lacks read as defaults.
                missing = _missing_exposure_columns(connection)
            self._exposure = ", ".join(
                f"{_EXPOSURE_DEFAULTS[name]} AS {name}" if name in missing else name for name in _EXPOSURE_COLUMNS
            )
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"{self.path}: cannot create its folder: {exc.strerror}") from exc
        with self._guard("open"):
            connection = self._connection()
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
            _add_exposure_columns(connection)
        # A connection must not cross a fork, and `mysfits serve --workers N` forks after this: each thread that
        # uses the store opens its own.
        self.close()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            target = f"file:{self.path.resolve()}?mode=ro" if self.read_only else str(self.path)
            connection = sqlite3.connect(
                target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, uri=self.read_only
            )
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA synchronous=FULL")
            self._local.connection = connection
        return connection

    def _guard(self, action: str):
        return _Guard(self.path, action)

    # -- writes (the API) -------------------------------------------------------------------------------------------

    def save_recommendation(self, recommendation: Recommendation) -> None:
        with self._guard("save a recommendation"):
            self._connection().execute(
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

    def record_choice(self, recommendation_id: str, mysfit_id: str, *, choice_id: str, now: float) -> Choice:
        with self._guard("record a choice"):
            connection = self._connection()
            updated = connection.execute(
                "UPDATE recommendations SET choice_id = ?, chosen = ?, chosen_at = ? "
                "WHERE id = ? AND chosen IS NULL AND created_at >= ?",
                (choice_id, mysfit_id, now, recommendation_id, now - CHOICE_WINDOW_SECONDS),
            ).rowcount
            row = connection.execute(_SELECT_ONE.format(exposure=self._exposure), (recommendation_id,)).fetchone()
        if updated:
            return _choice(row)
        if row is None:
            raise UnknownRecommendation(f"no recommendation {recommendation_id}")
        if row[7] is not None:
            raise AlreadyChosen(f"recommendation {recommendation_id} was adopted already")
        raise UnknownRecommendation(f"recommendation {recommendation_id} is older than the choice window")

    # -- reads (export, stats, retrain) -----------------------------------------------------------------------------

    def recommendations(self) -> Iterator[Recommendation]:
        with self._guard("read recommendations"):
            rows = self._connection().execute(_SELECT_ALL.format(exposure=self._exposure)).fetchall()
        return iter([_recommendation(row) for row in rows])

    def choices(self) -> Iterator[Choice]:
        with self._guard("read choices"):
            rows = self._connection().execute(_SELECT_CHOSEN.format(exposure=self._exposure)).fetchall()
        return iter([_choice(row) for row in rows])

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


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
