"""The wire formats of SageMaker's built-in kNN endpoint, as pure functions.

Requests: ``text/csv`` (one row per line), ``application/json`` (``{"instances": [...]}`` whose items are
``{"features": [...]}`` or ``{"data": {"features": {"values": [...]}}}``, or one such item on its own) and
``application/jsonlines`` (one item per line). Responses: ``application/json`` or ``application/jsonlines``, with
``;verbose=true`` in ``Accept`` adding each row's neighbour distances (ascending) and labels. Labels are floats, as
the built-in algorithm writes them. Facts come from AWS's "k-NN Request and Response Formats" and "Common Data
Formats - Inference" pages and from botocore's ``sagemaker-runtime`` service model.

Nothing here does I/O or imports numpy: the server's hot path is parse, look up, serialize, and each step can be
unit-tested on its own. A refused request raises :class:`PayloadError`, which carries the HTTP status a model
container would answer with, so the server can wrap it the way SageMaker does (``ModelError``, HTTP 424).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from mysfits_api.questionnaire import N_OPTIONS, N_QUESTIONS, OPTION_MAX, OPTION_MIN

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
REQUEST_TYPES = (CSV, JSON, JSONLINES)
RESPONSE_TYPES = (JSON, JSONLINES)
N_FEATURES = N_QUESTIONS

# InvokeEndpoint's payload limit for real-time endpoints: botocore's service model caps the Body blob at this size
# and the service answers a bigger one with HTTP 413 before any model sees it.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

# Status codes a model container uses to refuse a request; SageMaker reports them as ModelError.OriginalStatusCode.
BAD_REQUEST = 400
NOT_ACCEPTABLE = 406
UNSUPPORTED_MEDIA_TYPE = 415

Number = int | float
Row = tuple[Number, ...]

MAX_FEATURE_MAGNITUDE = 3.4028234663852886e38
"""The largest 32-bit float. Larger values (a 400-digit integer, 1e200) would overflow the distance arithmetic into
infinity, which is not JSON; they are refused as bad input instead."""

_ROW_SHAPES = '{"features": [...]} or {"data": {"features": {"values": [...]}}}'
_GRID_VALUES = frozenset(range(OPTION_MIN, OPTION_MAX + 1))
# The tokens a questionnaire client sends, parsed without calling int(): most rows are made only of these.
_GRID_TOKENS = {str(value): value for value in _GRID_VALUES}


class PayloadError(ValueError):
    """A request the model refuses, and why.

    ``status`` is what a model container answers (400 bad rows, 406 unsupported ``Accept``, 415 unsupported
    ``Content-Type``); ``row`` is the 0-based index of the offending row, or ``None`` when the whole request is at
    fault. The message names the row and the value and says what is allowed.
    """

    def __init__(self, message: str, *, status: int = BAD_REQUEST, row: int | None = None):
        super().__init__(message)
        self.status = status
        self.row = row


@dataclass(frozen=True, slots=True)
class MediaType:
    essence: str
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str, default: str | None = None) -> str | None:
        return next((value for key, value in self.params if key == name), default)


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    media_type: str
    verbose: bool = False


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """One row's verbose answer: the vote and the neighbours behind it (distances ascending)."""

    predicted_label: int
    distances: Sequence[float]
    labels: Sequence[int]


@lru_cache(maxsize=256)
def parse_media_type(value: str) -> MediaType:
    """Split ``type/subtype; key=value`` into a lower-cased essence and its parameters (cached: clients repeat)."""
    essence, *rest = value.split(";")
    params = []
    for part in rest:
        key, _, param = part.partition("=")
        if key.strip():
            params.append((key.strip().lower(), param.strip().strip('"')))
    return MediaType(essence.strip().lower(), tuple(params))


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> ResponseFormat:
    """Pick the first supported type in ``Accept``; no header, ``*/*`` or ``application/*`` mean JSON."""
    if not accept or not accept.strip():
        return ResponseFormat(JSON)
    for choice in accept.split(","):
        media = parse_media_type(choice)
        essence = JSON if media.essence in ("*/*", "application/*") else media.essence
        if essence in RESPONSE_TYPES:
            return ResponseFormat(essence, _verbose_flag(media))
    raise PayloadError(
        f"Accept {accept!r} is not supported; use {' or '.join(RESPONSE_TYPES)}, optionally with ';verbose=true'",
        status=NOT_ACCEPTABLE,
    )


def _verbose_flag(media: MediaType) -> bool:
    flag = media.param("verbose", "false").lower()
    if flag not in ("true", "false"):
        raise PayloadError(
            f"Accept parameter verbose={flag!r} is not understood; use verbose=true or verbose=false",
            status=NOT_ACCEPTABLE,
        )
    return flag == "true"


@lru_cache(maxsize=256)
def request_media_type(content_type: str | None) -> MediaType:
    """The request's parsed ``Content-Type``, refused (415) unless it is one of :data:`REQUEST_TYPES`."""
    media = parse_media_type(content_type or "")
    if media.essence not in REQUEST_TYPES:
        shown = repr(content_type) if content_type else "missing"
        raise PayloadError(
            f"Content-Type {shown} is not supported; use one of {', '.join(REQUEST_TYPES)}",
            status=UNSUPPORTED_MEDIA_TYPE,
        )
    charset = (media.param("charset") or media.param("encoding") or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise PayloadError(
            f"Content-Type charset {charset!r} is not supported; send UTF-8", status=UNSUPPORTED_MEDIA_TYPE
        )
    return media


def parse_rows(body: bytes, content_type: str | None, n_features: int = N_FEATURES) -> list[Row]:
    """Turn a request body into rows of exactly ``n_features`` finite numbers (the model's ``feature_dim``).

    Like the built-in kNN, a row of any other width is refused (400), naming the width the model was trained on.
    """
    media = request_media_type(content_type)
    if not body.strip():
        raise PayloadError(f"the request body is empty; send at least one row of {n_features} numbers")
    try:
        # "utf-8-sig": a byte-order mark that spreadsheet exports put first is dropped, not read as part of row 1.
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"the request body is not UTF-8 text (invalid byte at offset {exc.start})") from None
    return _PARSERS[media.essence](text, media, n_features)


def grid_cell(row: Row) -> int | None:
    """The answer-space cell of a row of whole numbers 1..8 (``3.0`` counts), else ``None`` (needs real kNN)."""
    index = 0
    for value in row:
        if value not in _GRID_VALUES:
            return None
        index = index * N_OPTIONS + int(value) - OPTION_MIN
    return index


def _csv_rows(text: str, media: MediaType, n_features: int) -> list[Row]:
    label_size = _label_size(media)
    width = n_features + label_size
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    rows: list[Row] = []
    append = rows.append
    tokens = _GRID_TOKENS
    for index, line in enumerate(lines):
        cells = line.split(",")
        if len(cells) == width:
            features = cells[label_size:] if label_size else cells
            row = tuple([tokens.get(cell) or _csv_number(cell, index, column) for column, cell in enumerate(features)])
            append(row)
            continue
        where = f"row {index + 1} (line {index + 1})"
        if not line.strip():
            raise PayloadError(f"{where} is empty; every line must hold {width} comma-separated numbers", row=index)
        expected = f"{n_features} comma-separated numbers (the model's feature_dim)" + (
            f" after {label_size} label column(s)" if label_size else ""
        )
        raise PayloadError(f"{where}: expected {expected}, got {len(cells)} values", row=index)
    return rows


def _label_size(media: MediaType) -> int:
    raw = media.param("label_size", "0")
    if raw not in ("0", "1"):
        raise PayloadError(f"text/csv parameter label_size={raw!r} is not supported; use 0 or 1")
    return int(raw)


def _csv_number(cell: str, row: int, column: int) -> Number:
    token = cell.strip()
    where = f"row {row + 1} (line {row + 1}, column {column + 1})"
    # int()/float() also read '1_000' and non-ASCII digits; a CSV writer never produces those, so refuse them.
    if token.isascii() and "_" not in token:
        try:
            value: Number = int(token)
        except ValueError:
            try:
                value = float(token)
            except ValueError:
                value = None  # type: ignore[assignment]
        if value is not None:
            if _in_range(value):
                return value
            raise PayloadError(f"{where}: {_short(token)} is {_RANGE_TEXT}", row=row)
    shown = repr(token) if token else "an empty value"
    raise PayloadError(f"{where}: {shown} is not a number; features are numbers such as 3 or 2.5", row=row)


_RANGE_TEXT = f"not a finite number within ±{MAX_FEATURE_MAGNITUDE:.4g} (the largest 32-bit float)"


def _in_range(value: Number) -> bool:
    try:
        return math.isfinite(value) and abs(value) <= MAX_FEATURE_MAGNITUDE
    except OverflowError:  # an int too large for a float
        return False


def _short(token: str) -> str:
    return repr(token) if len(token) <= 40 else f"{token[:20]!r}...({len(token)} characters)"


def _json_rows(text: str, media: MediaType, n_features: int) -> list[Row]:
    document = _load_json(text, "the application/json body", None)
    if isinstance(document, dict) and "instances" in document:
        instances = document["instances"]
        if not isinstance(instances, list) or not instances:
            raise PayloadError(f'"instances" must be a non-empty list of rows shaped {_ROW_SHAPES}')
        return [_instance_row(item, index, f"instances[{index}]", n_features) for index, item in enumerate(instances)]
    if isinstance(document, dict) and ("features" in document or "data" in document):
        return [_instance_row(document, 0, "body", n_features)]
    raise PayloadError(
        f'the application/json body must be {{"instances": [...]}} of rows shaped {_ROW_SHAPES}, '
        f"or one such row; got {_describe(document)}"
    )


def _jsonlines_rows(text: str, media: MediaType, n_features: int) -> list[Row]:
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    rows = []
    for index, line in enumerate(lines):
        where = f"line {index + 1}"
        if not line.strip():
            raise PayloadError(f"row {index + 1} ({where}) is empty; every line must hold one row", row=index)
        rows.append(_instance_row(_load_json(line, f"row {index + 1} ({where})", index), index, where, n_features))
    return rows


def _load_json(text: str, what: str, row: int | None) -> object:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", row=row
        ) from None
    except ValueError as exc:
        raise PayloadError(f"{what}: {exc}", row=row) from None
    except RecursionError:
        raise PayloadError(
            f"{what} is nested too deeply to read; a row is an object holding a list of {N_FEATURES} numbers", row=row
        ) from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _instance_row(item: object, row: int, where: str, n_features: int) -> Row:
    label = f"row {row + 1} ({where})"
    if isinstance(item, dict):
        if "features" in item:
            return _vector(item["features"], row, f"{where}.features", n_features)
        data = item.get("data")
        if isinstance(data, dict) and isinstance(data.get("features"), dict):
            return _tensor(data["features"], row, f"{where}.data.features", n_features)
    raise PayloadError(f"{label}: expected {_ROW_SHAPES}, got {_describe(item)}", row=row)


def _vector(values: object, row: int, where: str, n_features: int) -> Row:
    if not isinstance(values, list) or len(values) != n_features:
        raise PayloadError(
            f"row {row + 1} ({where}): expected a list of {n_features} numbers (the model's feature_dim), "
            f"got {_describe(values)}",
            row=row,
        )
    return tuple([_json_number(value, row, f"{where}[{i}]") for i, value in enumerate(values)])


def _tensor(features: dict, row: int, where: str, n_features: int) -> Row:
    """The protobuf-shaped form: dense ``values``, or sparse ``keys`` + ``values`` + ``shape``."""
    if "keys" not in features:
        return _vector(features.get("values"), row, f"{where}.values", n_features)
    keys, values, shape = features.get("keys"), features.get("values"), features.get("shape")
    label = f"row {row + 1} ({where})"
    if shape != [n_features]:
        raise PayloadError(
            f"{label}.shape: expected [{n_features}] (the model's feature_dim), got {_describe(shape)}", row=row
        )
    if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
        raise PayloadError(f"{label}: sparse keys and values must be lists of equal length", row=row)
    dense: list[Number] = [0] * n_features
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < n_features:
            raise PayloadError(
                f"{label}.keys[{i}]: expected an index 0..{n_features - 1}, got {_describe(key)}", row=row
            )
        dense[key] = _json_number(value, row, f"{where}.values[{i}]")
    return tuple(dense)


def _json_number(value: object, row: int, where: str) -> Number:
    if type(value) is int and OPTION_MIN <= value <= OPTION_MAX:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _in_range(value):
            return value
        raise PayloadError(f"row {row + 1} ({where}): {_describe(value)} is {_RANGE_TEXT}", row=row)
    raise PayloadError(f"row {row + 1} ({where}): expected a number such as 3 or 2.5, got {_describe(value)}", row=row)


def _describe(value: object) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = object.__repr__(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
    return f"{text} ({kind})"


_PARSERS = {CSV: _csv_rows, JSON: _json_rows, JSONLINES: _jsonlines_rows}

# Labels 0..255 pre-rendered: a one-row answer is then two string joins.
_LABEL_ITEMS = tuple(json.dumps({"predicted_label": float(label)}, separators=(",", ":")) for label in range(256))


def serialize(fmt: ResponseFormat, labels: Sequence[int], neighbourhoods: Sequence[Neighbourhood] = ()) -> bytes:
    """The response body for ``labels`` (one per row, in request order), verbose when ``fmt`` asks for it."""
    if fmt.verbose:
        if len(neighbourhoods) != len(labels):
            raise ValueError("a verbose response needs one neighbourhood per row")
        items = [_verbose_item(hood) for hood in neighbourhoods]
    else:
        items = [_LABEL_ITEMS[label] for label in labels]
    if fmt.media_type == JSONLINES:
        return ("\n".join(items) + "\n").encode()
    return ('{"predictions":[' + ",".join(items) + "]}").encode()


def _verbose_item(hood: Neighbourhood) -> str:
    record = {
        "predicted_label": float(hood.predicted_label),
        "distances": [float(distance) for distance in hood.distances],
        "labels": [float(label) for label in hood.labels],
    }
    # allow_nan=False: a distance that overflowed must fail here rather than reach a client as "Infinity".
    return json.dumps(record, separators=(",", ":"), allow_nan=False)


def parse_response(body: bytes, media_type: str) -> list[dict]:
    """Read a response body back into one dict per row (for clients and tests of both response types)."""
    text = body.decode("utf-8")
    if parse_media_type(media_type).essence == JSONLINES:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)["predictions"]
