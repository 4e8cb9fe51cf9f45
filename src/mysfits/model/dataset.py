"""Visitor answers: the synthetic generator, the CSV loader and the train/test split.

File format (the seed data's): one visitor per line, five answers (1..8) then the Mysfit
label (0..11), comma separated, no header; ``.gz`` files are read and written gzip-compressed.

How the generator plants its signal
-----------------------------------
A visitor's Mysfit is drawn uniformly from the twelve. Their answer to question ``q`` is
then drawn from ``P(o) ∝ exp(-signal * (o - f[q])**2 / 2)`` over options ``o = 1..8``,
where ``f`` is that Mysfit's list of favourites in ``data/catalog.json``. ``signal = 0``
makes every option equally likely, which is what the original workshop data looked like
(nothing to learn, accuracy ≈ 1/12). Larger values make fans stick closer to their
favourites. Because the distribution is known, the best accuracy any model could reach
(the Bayes-optimal accuracy) is computed exactly by :func:`bayes_accuracy`.

That is the ``ordinal`` preference mode (the default): options form a scale, and a fan's
answers cluster around a favourite. Real questionnaires are often categorical (occupation,
colour, sport), where option 3 is no closer to option 4 than to option 8. The
``categorical`` mode plants that kind of signal: each Mysfit has its own arbitrary
distribution over the options of each question, ``P(o) ∝ exp(signal * 2.4 * z[m, q, o])``,
where ``z`` are standard normal draws from the fixed seed :data:`CATEGORICAL_SEED` (the same
tastes in every data set, whatever the data seed). The factor 2.4 puts its Bayes optimum at
the default signal (74.4 %) near the ordinal mode's (72.6 %), and ``signal = 0`` is uniform
in both modes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mysfits.files import write_bytes_atomic
from mysfits.progress import QUIET, Progress
from mysfits_api.catalog import N_MYSFITS, load_catalog
from mysfits_api.questionnaire import N_CELLS, N_OPTIONS, N_QUESTIONS, OPTION_MAX, OPTION_MIN

DEFAULT_ROWS = 1_000_000
DEFAULT_SIGNAL = 0.5
DEFAULT_SEED = 2018
ORDINAL = "ordinal"
CATEGORICAL = "categorical"
PREFERENCES = (ORDINAL, CATEGORICAL)
DEFAULT_PREFERENCES = ORDINAL
CATEGORICAL_SEED = 13
_CATEGORICAL_SCALE = 2.4
N_COLUMNS = N_QUESTIONS + 1


class DataError(ValueError):
    """A data file that cannot be used; the message starts with ``path:line:`` where a line is at fault."""


@dataclass(frozen=True)
class Dataset:
    X: np.ndarray  # (n, 5) uint8 answers 1..8
    y: np.ndarray  # (n,) uint8 labels 0..11
    path: Path | None = None

    @property
    def rows(self) -> int:
        return len(self.y)

    @property
    def sha256(self) -> str:
        """Hash of the parsed content, so the same answers hash alike whether gzipped, CRLF or spaced."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.X, dtype=np.uint8).tobytes())
        digest.update(np.ascontiguousarray(self.y, dtype=np.uint8).tobytes())
        return digest.hexdigest()


# --- generator -------------------------------------------------------------------------------------------------


def check_preferences(preferences: str) -> str:
    if preferences not in PREFERENCES:
        raise ValueError(f"preferences must be one of {', '.join(PREFERENCES)}; got {preferences!r}")
    return preferences


def preference_matrix(signal: float, preferences: str = DEFAULT_PREFERENCES) -> np.ndarray:
    """``P[m, q, o]``: probability that a fan of Mysfit ``m`` picks option ``o + 1`` for question ``q``."""
    if not np.isfinite(signal) or signal < 0:
        raise ValueError(f"signal must be a finite number >= 0, got {signal!r}")
    if check_preferences(preferences) == CATEGORICAL:
        tastes = np.random.default_rng(CATEGORICAL_SEED).standard_normal((N_MYSFITS, N_QUESTIONS, N_OPTIONS))
        logits = signal * _CATEGORICAL_SCALE * tastes
    else:
        favourites = np.array([m.favourites for m in load_catalog()], dtype=np.float64)  # (12, 5)
        options = np.arange(OPTION_MIN, OPTION_MAX + 1, dtype=np.float64)  # (8,)
        logits = -signal * (options[None, None, :] - favourites[:, :, None]) ** 2 / 2
    weights = np.exp(logits - logits.max(axis=2, keepdims=True))
    return weights / weights.sum(axis=2, keepdims=True)


def answer_space() -> np.ndarray:
    """All 32,768 answer vectors in cell order: row ``i`` has ``cell_index(row) == i``."""
    digits = (np.arange(N_CELLS)[:, None] // (N_OPTIONS ** np.arange(N_QUESTIONS - 1, -1, -1))[None, :]) % N_OPTIONS
    return (digits + OPTION_MIN).astype(np.uint8)


def likelihoods(signal: float, preferences: str = DEFAULT_PREFERENCES) -> np.ndarray:
    """``L[cell, m] = P(answers of cell | Mysfit m)`` for every cell of the answer space."""
    prefs = preference_matrix(signal, preferences)
    cells = answer_space().astype(np.intp) - OPTION_MIN
    result = np.ones((N_CELLS, N_MYSFITS))
    for q in range(N_QUESTIONS):
        result *= prefs[:, q, :].T[cells[:, q]]
    return result


def bayes_accuracy(signal: float, preferences: str = DEFAULT_PREFERENCES) -> float:
    """The best accuracy any classifier can reach on data from :func:`generate` (uniform label prior)."""
    return float(likelihoods(signal, preferences).max(axis=1).sum() / N_MYSFITS)


def expected_accuracy(table: np.ndarray, signal: float, preferences: str = DEFAULT_PREFERENCES) -> float:
    """A prediction table's exact accuracy on the generator's distribution: what an infinite test set would measure."""
    table = np.asarray(table, dtype=np.intp)
    return float(likelihoods(signal, preferences)[np.arange(N_CELLS), table].sum() / N_MYSFITS)


def bayes_table(signal: float, preferences: str = DEFAULT_PREFERENCES) -> np.ndarray:
    """The Bayes-optimal label for every cell (lowest label on exact ties)."""
    return likelihoods(signal, preferences).argmax(axis=1).astype(np.uint8)


def generate(
    rows: int = DEFAULT_ROWS,
    seed: int = DEFAULT_SEED,
    signal: float = DEFAULT_SIGNAL,
    preferences: str = DEFAULT_PREFERENCES,
) -> Dataset:
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_MYSFITS, size=rows, dtype=np.uint8)
    cdf = np.cumsum(preference_matrix(signal, preferences), axis=2)  # (12, 5, 8)
    cdf[:, :, -1] = 1.0
    u = rng.random((rows, N_QUESTIONS))
    X = np.empty((rows, N_QUESTIONS), dtype=np.uint8)
    for q in range(N_QUESTIONS):
        # Inverse-CDF sampling, one question at a time to bound memory.
        X[:, q] = (u[:, q, None] > cdf[y, q, :]).sum(axis=1) + OPTION_MIN
    return Dataset(X, y)


# --- writing ---------------------------------------------------------------------------------------------------


def to_csv_bytes(dataset: Dataset) -> bytes:
    """Render rows as ``a,b,c,d,e,label\\n`` without a Python loop (1M rows in ~50 ms)."""
    n = dataset.rows
    buf = np.zeros((n, 13), dtype=np.uint8)
    buf[:, 0:10:2] = dataset.X + ord("0")
    buf[:, 1:11:2] = ord(",")
    tens, ones = np.divmod(dataset.y, 10)
    buf[:, 10] = np.where(tens > 0, tens + ord("0"), 0)  # 0 marks "no character" and is dropped below
    buf[:, 11] = ones + ord("0")
    buf[:, 12] = ord("\n")
    flat = buf.ravel()
    return flat[flat != 0].tobytes()


def write_csv(dataset: Dataset, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Atomic write (temp file + rename); ``metadata`` goes to ``<path>.meta.json`` beside it."""
    path = Path(path)
    data = to_csv_bytes(dataset)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=1, mtime=0)
    write_bytes_atomic(path, data)
    if metadata is not None:
        write_bytes_atomic(metadata_path(path), json.dumps({**metadata, "sha256": dataset.sha256}, indent=2).encode())
    return path


def generate_file(
    path: str | os.PathLike,
    rows: int = DEFAULT_ROWS,
    seed: int = DEFAULT_SEED,
    signal: float = DEFAULT_SIGNAL,
    progress: Progress = QUIET,
    preferences: str = DEFAULT_PREFERENCES,
) -> dict:
    """Generate a data set and write it with the record of how it was made; returns that record.

    The record (``<path>.meta.json``) is what lets training report the Bayes-optimal accuracy beside its own.
    """
    with progress.step(f"generating {rows:,} visitors (seed {seed}, signal {signal}, {preferences} preferences)"):
        data = generate(rows, seed, signal, preferences)
    meta = {
        "generator": __name__,
        "rows": rows,
        "seed": seed,
        "signal": signal,
        "preferences": preferences,
        "bayes_accuracy": bayes_accuracy(signal, preferences),
    }
    with progress.step(f"writing {path}"):
        write_csv(data, path, metadata=meta)
    return meta


def metadata_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


def read_metadata(dataset: Dataset) -> dict | None:
    """The generator's record for this file, if there is one and it still matches the data."""
    if dataset.path is None:
        return None
    try:
        meta = json.loads(metadata_path(dataset.path).read_text())
    except (OSError, ValueError):
        return None
    return meta if meta.get("sha256") == dataset.sha256 else None


# --- loading ---------------------------------------------------------------------------------------------------

_DIGIT_1_8 = np.zeros(256, dtype=bool)
_DIGIT_1_8[ord("1") : ord("8") + 1] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True


MAX_DATA_BYTES = 512 * 1024 * 1024
"""The most uncompressed data :func:`load_csv` reads (about 40 million rows). A small gzip file can expand to
gigabytes; past this limit loading stops with a clear error instead of running out of memory. ``--max-data-mb``
raises it."""

_BOM = b"\xef\xbb\xbf"


def _too_big(path: Path, limit: int, what: str) -> DataError:
    return DataError(
        f"{path}: {what} more than {limit // (1024 * 1024):,} MB of data, the limit; pass a larger --max-data-mb "
        "if the file is really meant to be this big"
    )


def _gunzip(raw: bytes, path: Path, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes, so a gzip bomb costs a bounded amount of memory."""
    out = bytearray()
    data = raw
    while data:
        stream = zlib.decompressobj(wbits=31)
        try:
            out += stream.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise DataError(f"{path}: damaged gzip data: {exc}") from exc
        if len(out) > limit:
            raise _too_big(path, limit, "it expands to")
        if stream.unconsumed_tail:
            raise _too_big(path, limit, "it expands to")
        if not stream.eof:
            raise DataError(f"{path}: damaged gzip data: the compressed stream ends early")
        data = stream.unused_data  # a file may hold several gzip members one after another
    return bytes(out)


_READ_CHUNK = 1 << 20


def _read_bounded(path: Path, limit: int) -> bytes | bytearray:
    """The file's bytes, never more than ``limit`` of them in memory, whatever it is: a regular file is checked by
    its size first; a pipe, a process substitution or a device (``/dev/zero``) is read in chunks until it ends or
    passes the limit."""
    with open(path, "rb") as fh:
        info = os.fstat(fh.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        if stat.S_ISREG(info.st_mode):
            if info.st_size > limit:
                raise _too_big(path, limit, "it holds")
            return fh.read()
        data = bytearray()
        line_start = 0
        while piece := fh.read(min(_READ_CHUNK, limit + 1 - len(data))):
            data += piece
            if len(data) > limit:
                raise _too_big(path, limit, "it holds")
            line_start = _refuse_long_lines(data, line_start, path)
        return data


def _refuse_long_lines(data: bytearray, start: int, path: Path) -> int:
    """Refuse a stream at its first line longer than any row, as soon as it is read: a stream that never ends (or a
    400 MB single line, which peaked at 804 MB) would otherwise be read to the data limit before its first line is
    looked at. ``start`` is where the last unfinished line began; returns where it begins now. Gzip data is checked
    once decompressed."""
    if data[:2] == b"\x1f\x8b":
        return start
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8, offset=start) == ord("\n")) + start
    starts = np.concatenate(([start], ends + 1))
    too_long = np.flatnonzero(ends - starts[:-1] > MAX_LINE_BYTES + len(_BOM))
    if too_long.size:
        first = int(too_long[0])
        length = f"{int(ends[first] - starts[first]):,} bytes long"
    elif len(data) - starts[-1] > MAX_LINE_BYTES + len(_BOM):
        first = len(starts) - 1
        length = f"more than {len(data) - int(starts[-1]):,} bytes long and goes on"
    else:
        return int(starts[-1])
    number = data.count(b"\n", 0, int(starts[first])) + 1
    raise DataError(
        f"{path}:{number}: the line is {length}; a row is {N_QUESTIONS} answers and a label, comma separated "
        f"(at most {MAX_LINE_BYTES} bytes)"
    )


def load_csv(path: str | os.PathLike, max_bytes: int = MAX_DATA_BYTES) -> Dataset:
    """Read a data file, or raise :class:`DataError` naming the file, the line and what is wrong.

    The common case (our own files, and the seed's) is parsed with vectorised numpy in a
    fraction of a second. Anything that does not fit that exact shape (CRLF, spaces, a bad
    row) is re-read line by line, which either accepts it or finds the first bad line.
    """
    path = Path(path)
    try:
        raw = _read_bounded(path, max_bytes)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory; expected a CSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from exc
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, path, max_bytes)
    if raw.startswith(_BOM):  # spreadsheet programs write one at the start of "UTF-8 CSV" files
        raw = raw[len(_BOM) :]
    if not raw.strip():
        raise DataError(f"{path}: the file is empty; expected rows of {N_QUESTIONS} answers then a label")
    parsed = _parse_fast(raw)
    if parsed is None:
        parsed = _parse_careful(raw, path)
    X, y = parsed
    return Dataset(X, y, path)


_PARSE_CHUNK = 12 << 20
"""Bytes parsed at a time: the vectorised parse needs about 40 bytes of index arrays per row, so whole-file arrays
would take several times the file's size; chunks bound that to a few hundred MB whatever the file."""


def _parse_fast(raw: bytes | bytearray) -> tuple[np.ndarray, np.ndarray] | None:
    """Vectorised parse of the canonical layout, chunk by chunk; ``None`` means 'not canonical, look closer'."""
    if not raw.endswith(b"\n"):
        raw += b"\n"
    answers, labels = [], []
    start = 0
    while start < len(raw):
        end = len(raw)
        if end - start > _PARSE_CHUNK:
            end = raw.rfind(b"\n", start, start + _PARSE_CHUNK) + 1
            if end <= start:
                return None  # a line longer than a chunk is not a canonical row
        parsed = _parse_fast_chunk(np.frombuffer(raw, dtype=np.uint8, count=end - start, offset=start))
        if parsed is None:
            return None
        answers.append(parsed[0])
        labels.append(parsed[1])
        start = end
    return np.concatenate(answers), np.concatenate(labels)


def _parse_fast_chunk(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    ends = np.flatnonzero(buf == ord("\n"))
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts
    one_digit = lengths == 11
    if not np.all(one_digit | (lengths == 12)):
        return None
    answers = buf[starts[:, None] + np.arange(0, 10, 2)]
    commas = buf[starts[:, None] + np.arange(1, 11, 2)]
    if not (_DIGIT_1_8[answers].all() and (commas == ord(",")).all()):
        return None
    first = buf[starts + 10]
    second = buf[np.where(one_digit, starts + 10, starts + 11)]
    if not (_DIGIT[first].all() and _DIGIT[second].all()):
        return None
    labels = np.where(one_digit, first - ord("0"), (first - ord("0")) * 10 + (second - ord("0")))
    if (labels >= N_MYSFITS).any() or (~one_digit & (first == ord("0"))).any():
        return None
    return (answers - ord("0")).astype(np.uint8), labels.astype(np.uint8)


MAX_LINE_BYTES = 256
"""A row is five answers and a label: a longer line is refused at once, before it is split or converted."""


def _parse_careful(raw: bytes | bytearray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Line by line, so memory stays near the file's size; stops at the first bad line with ``path:line``."""
    end = _end_of_content(raw)
    rows = np.empty((raw.count(b"\n", 0, end) + 1, N_COLUMNS), dtype=np.uint8)
    start = number = 0
    while start < end:
        stop = raw.find(b"\n", start, end)
        stop = end if stop < 0 else stop
        number += 1
        if stop - start > MAX_LINE_BYTES:
            raise DataError(
                f"{path}:{number}: the line is {stop - start:,} bytes long; a row is {N_QUESTIONS} answers and a "
                f"label, comma separated (at most {MAX_LINE_BYTES} bytes)"
            )
        try:
            line = bytes(raw[start:stop]).decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path}:{number}: not UTF-8 text") from None
        rows[number - 1] = _parse_row(line.rstrip("\r"), f"{path}:{number}")
        start = stop + 1
    return rows[:number, :N_QUESTIONS].copy(), rows[:number, N_QUESTIONS].copy()


def _end_of_content(raw: bytes | bytearray) -> int:
    """Where trailing blank lines begin, found without copying a large buffer."""
    end = len(raw)
    while end and raw[end - 1] in b" \t\r\n":
        end -= 1
    return end


def _parse_row(line: str, where: str) -> list[int]:
    fields = [f.strip() for f in line.split(",")]
    if len(fields) != N_COLUMNS:
        raise DataError(
            f"{where}: expected {N_COLUMNS} comma-separated values ({N_QUESTIONS} answers then a label), "
            f"found {len(fields)}: {line[:60]!r}"
        )
    values = []
    for column, field in enumerate(fields, start=1):
        if not (field.isascii() and field.isdigit()):
            raise DataError(f"{where}: column {column} must be a whole number, found {field[:20]!r}")
        values.append(int(field))
    for column, value in enumerate(values[:N_QUESTIONS], start=1):
        if not OPTION_MIN <= value <= OPTION_MAX:
            raise DataError(f"{where}: answer {column} must be {OPTION_MIN}..{OPTION_MAX}, found {value}")
    if not 0 <= values[-1] < N_MYSFITS:
        raise DataError(f"{where}: label (column {N_COLUMNS}) must be 0..{N_MYSFITS - 1}, found {values[-1]}")
    return values


# --- split -----------------------------------------------------------------------------------------------------


def split(dataset: Dataset, test_fraction: float = 0.1, seed: int = DEFAULT_SEED) -> tuple[Dataset, Dataset]:
    """Seeded shuffle split; the same data and seed always give the same two halves."""
    train, test = split_positions(dataset.rows, test_fraction, seed, dataset.path or "data")
    return Dataset(dataset.X[train], dataset.y[train], dataset.path), Dataset(
        dataset.X[test], dataset.y[test], dataset.path
    )


def split_positions(
    n: int, test_fraction: float = 0.1, seed: int = DEFAULT_SEED, what: str = "data"
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of :func:`split` go to each half, for callers that must split something beside the rows."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    n_test = round(n * test_fraction)
    if n_test < 1 or n_test >= n:
        raise DataError(f"{what}: {n} rows are too few for a {test_fraction:.0%} test split")
    order = np.random.default_rng(seed).permutation(n)
    return order[n_test:], order[:n_test]
