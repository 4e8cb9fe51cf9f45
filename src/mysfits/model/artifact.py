"""The model artifact: one self-describing, checksummed JSON file.

Why JSON: it is readable with ``jq``, diffable, and loads without numpy. The prediction
table (one byte per answer vector, 32,768 cells) and the training sample (kept so the
endpoint can answer ``verbose=true`` and off-grid feature values exactly like the
built-in kNN) are stored as base64 of zlib-compressed bytes.

The checksum is SHA-256 over the canonical JSON of every other field, so any edit,
truncation or bit flip is caught on load. Files are written to a temporary file in the
same directory and renamed into place, so a crash never leaves half a model behind.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from mysfits import __version__
from mysfits.files import write_bytes_atomic
from mysfits_api import encoding as encodings
from mysfits_api.catalog import N_MYSFITS, load_catalog
from mysfits_api.questionnaire import N_CELLS, N_QUESTIONS

FORMAT = "mysfits-knn-model"
FORMAT_VERSION = 1


class ArtifactError(Exception):
    """A model file that is missing, corrupt, truncated or from an incompatible version."""


@dataclass(frozen=True)
class ModelArtifact:
    """Everything needed to serve and to explain a trained model.

    ``table[cell]`` is the predicted label for the answer vector whose
    :func:`mysfits_api.questionnaire.cell_index` is ``cell``. ``sample_features`` holds
    ``sample_size * 5`` bytes (row-major answers 1..8) and ``sample_labels`` one label
    byte per row, in the order the kNN tie rule uses.
    """

    hyperparameters: dict
    training_data: dict
    metrics: dict
    table: bytes
    sample_features: bytes
    sample_labels: bytes
    labels: list[dict] = field(
        default_factory=lambda: [{"label": m.label, "id": m.id, "name": m.name} for m in load_catalog()]
    )
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    package_version: str = __version__
    checksum: str = field(default="", compare=False)
    """The ``sha256:...`` the file carried, when loaded from one (a freshly trained model has none until written)."""

    @property
    def version(self) -> str:
        """A short, stable name for this model: the first 12 hex digits of its table and data hash."""
        digest = hashlib.sha256(self.table + self.training_data.get("sha256", "").encode()).hexdigest()
        return digest[:12]

    @property
    def k(self) -> int:
        return int(self.hyperparameters["k"])

    @property
    def encoding(self) -> str:
        """What the features are (:mod:`mysfits_api.encoding`); files from before the field existed are ordinal."""
        return self.hyperparameters.get("encoding", encodings.DEFAULT)

    @property
    def feature_dim(self) -> int:
        """How many features an endpoint serving this model expects per row."""
        return encodings.feature_dim(self.encoding)

    @property
    def sample_size(self) -> int:
        return len(self.sample_labels)

    def predict_label(self, cell: int) -> int:
        return self.table[cell]

    def to_document(self) -> dict:
        body = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "package_version": self.package_version,
            "created_at": self.created_at,
            "hyperparameters": self.hyperparameters,
            "training_data": self.training_data,
            "metrics": self.metrics,
            "labels": self.labels,
            "table": _pack(self.table),
            "sample": {
                "rows": self.sample_size,
                "features": _pack(self.sample_features),
                "labels": _pack(self.sample_labels),
            },
        }
        return {**body, "checksum": "sha256:" + _digest(body)}


def variant_name(model: ModelArtifact) -> str:
    """The id of ``model`` wherever it shows: the production variant an endpoint serving it reports
    (``InvokedProductionVariant``), so the model version the API stores with each recommendation, and what
    ``mysfits retrain`` prints. ``<encoding>-<first 12 hex of the file's checksum>``: the name says which features the
    model wants and which model answered, so a caller can follow an encoding change."""
    digest = (model.checksum or model.to_document()["checksum"]).removeprefix("sha256:")
    return f"{model.encoding}-{digest[:12]}"


def _pack(data: bytes) -> dict:
    return {"encoding": "zlib+base64", "bytes": len(data), "data": base64.b64encode(zlib.compress(data, 6)).decode()}


def _unpack(packed: dict, what: str, expected: int | None = None) -> bytes:
    """The packed bytes, never decompressing more than the header's ``bytes`` (``expected`` when the shape fixes
    it): a few MB of zlib can expand to gigabytes, and the checksum proves only that the writer meant it."""
    declared = packed.get("bytes")
    if isinstance(declared, bool) or not isinstance(declared, int) or not 0 <= declared <= MAX_MODEL_BYTES:
        raise ArtifactError(
            f"{what}: its header must give its size in bytes, a whole number from 0 to {MAX_MODEL_BYTES:,}; "
            f"got {declared!r}"
        )
    if expected is not None and declared != expected:
        raise ArtifactError(f"{what} holds {declared:,} bytes by its header; it must hold {expected:,}")
    try:
        stream = zlib.decompressobj()
        data = stream.decompress(base64.b64decode(packed["data"], validate=True), declared + 1)
    except (KeyError, TypeError, ValueError, zlib.error) as exc:
        raise ArtifactError(f"{what} is not valid zlib+base64 data: {exc}") from exc
    if len(data) > declared or stream.unconsumed_tail:
        raise ArtifactError(f"{what} expands past the {declared:,} bytes its header declares")
    if len(data) != declared or not stream.eof:
        raise ArtifactError(f"{what} holds {len(data)} bytes, the header says {declared}")
    return data


def _digest(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def save_model(model: ModelArtifact, path: str | os.PathLike) -> Path:
    """Write atomically, so a serving endpoint that reloads on change never sees half a model."""
    return write_bytes_atomic(path, json.dumps(model.to_document(), indent=1, sort_keys=True).encode())


MAX_MODEL_BYTES = 128 * 1024 * 1024
"""The largest model file read. A model of 10 million sample rows is well under it; anything bigger is not ours."""


def _read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else :class:`ArtifactError` saying what it is.

    Opened non-blocking, so a FIFO (or a device) renamed into place is refused at once instead of hanging the reader
    until someone writes to it; ``/dev/zero`` is refused by type before a byte is read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactError(f"{path}: not a regular file ({_file_kind(info.st_mode)}); a model is a JSON file")
        if info.st_size > limit:
            raise ArtifactError(
                f"{path}: {info.st_size:,} bytes is larger than a model file can be (at most {limit:,} bytes)"
            )
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            # Sized by the file, not the limit: a buffer of ``limit`` bytes for every small model is 128 MB asked of
            # the allocator each time. A file that grows meanwhile is read on, up to just past the limit.
            raw = stream.read(info.st_size + 1)
            if len(raw) > info.st_size:
                raw += stream.read(max(0, limit + 1 - len(raw)))
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise ArtifactError(f"{path}: grew past {limit:,} bytes while being read; a model file is at most that")
    return raw


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def read_model_bytes(path: Path) -> bytes:
    """A model file's bytes, read as :func:`load_model` reads them (regular files of at most MAX_MODEL_BYTES)."""
    return _read_regular_file(path, MAX_MODEL_BYTES)


def load_model(path: str | os.PathLike) -> ModelArtifact:
    """Read and verify a model file; every failure is an :class:`ArtifactError` naming the file."""
    path = Path(path)
    try:
        raw = read_model_bytes(path)
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no model file here; train one with `mysfits train`") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read the model file: {exc.strerror}") from exc
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: not a model file, or it is truncated ({exc})") from exc
    except RecursionError:
        raise ArtifactError(f"{path}: not a model file: its JSON is nested too deeply to read") from None
    try:
        return _from_document(doc)
    except ArtifactError as exc:
        raise ArtifactError(f"{path}: {exc}") from exc


def _from_document(doc: object) -> ModelArtifact:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ArtifactError(f"not a {FORMAT} file")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"format version {version!r} is not supported; this build reads version {FORMAT_VERSION}. "
            "Retrain with `mysfits train`"
        )
    body = {key: value for key, value in doc.items() if key != "checksum"}
    expected = doc.get("checksum", "")
    if expected != "sha256:" + _digest(body):
        raise ArtifactError("checksum mismatch: the file was modified or damaged after it was written")
    _check_types(doc)
    try:
        table = _unpack(doc["table"], "table", N_CELLS)
        sample = doc["sample"]
        sample_labels = _unpack(sample["labels"], "sample labels")
        features = _unpack(sample["features"], "sample features", N_QUESTIONS * len(sample_labels))
        model = ModelArtifact(
            hyperparameters=doc["hyperparameters"],
            training_data=doc["training_data"],
            metrics=doc["metrics"],
            table=table,
            sample_features=features,
            sample_labels=sample_labels,
            labels=doc["labels"],
            created_at=doc["created_at"],
            package_version=doc["package_version"],
            checksum=expected,
        )
    except KeyError as exc:
        raise ArtifactError(f"missing field {exc}") from exc
    _check_shapes(model)
    return model


_FIELD_TYPES = {
    "hyperparameters": dict,
    "training_data": dict,
    "metrics": dict,
    "labels": list,
    "created_at": str,
    "package_version": str,
    "table": dict,
    "sample": dict,
}


def _check_types(doc: dict) -> None:
    """A checksum only proves the file is what its writer wrote; a hand-edited or foreign writer's file can hold
    anything, and the server must refuse it here rather than fail later on a request or in its reload task."""
    for name, kind in _FIELD_TYPES.items():
        if name in doc and not isinstance(doc[name], kind):
            raise ArtifactError(f"field {name!r} must be a JSON {_JSON_NAMES[kind]}, got {_kind(doc[name])}")
    sample = doc.get("sample", {})
    for name in ("features", "labels"):
        if name in sample and not isinstance(sample[name], dict):
            raise ArtifactError(f"field 'sample.{name}' must be a JSON object, got {_kind(sample[name])}")


_JSON_NAMES = {dict: "object", list: "list", str: "string"}


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), f"the number {value!r}" if isinstance(value, int | float) else type(value).__name__
    )


def _check_k(model: ModelArtifact) -> None:
    k = model.hyperparameters.get("k")
    if isinstance(k, bool) or not isinstance(k, int):
        shown = "missing" if "k" not in model.hyperparameters else _kind(k)
        raise ArtifactError(f"hyperparameter k must be a whole number from 1 to the sample size, got {shown}")
    if not 1 <= k <= model.sample_size:
        raise ArtifactError(f"hyperparameter k must be from 1 to the sample size ({model.sample_size}), got {k}")


def _check_labels(model: ModelArtifact) -> None:
    catalog = load_catalog()
    if len(model.labels) != len(catalog):
        raise ArtifactError(
            f"the label -> Mysfit map has {len(model.labels)} entries, this build's catalog {len(catalog)}"
        )
    for index, (entry, mysfit) in enumerate(zip(model.labels, catalog, strict=True)):
        if not isinstance(entry, dict):
            raise ArtifactError(f"labels[{index}] must be an object with label and id, got {_kind(entry)}")
        label = entry.get("label")
        if isinstance(label, bool) or not isinstance(label, int) or label != index:
            raise ArtifactError(f"labels[{index}].label must be the whole number {index}, got {label!r}")
        if entry.get("id") != mysfit.id:
            raise ArtifactError("label -> Mysfit map differs from this build's catalog")


def _check_shapes(model: ModelArtifact) -> None:
    _check_labels(model)
    _check_k(model)
    if model.sample_labels and max(model.sample_labels) >= N_MYSFITS:
        raise ArtifactError(f"the sample holds a label above {N_MYSFITS - 1}")
    if len(model.table) != N_CELLS:
        raise ArtifactError(f"table has {len(model.table)} cells, expected {N_CELLS}")
    if max(model.table) >= N_MYSFITS:
        raise ArtifactError(f"table holds a label above {N_MYSFITS - 1}")
    encoding = (
        model.hyperparameters.get("encoding", encodings.DEFAULT) if isinstance(model.hyperparameters, dict) else None
    )
    if encoding not in encodings.ENCODINGS:
        raise ArtifactError(
            f"hyperparameters.encoding is {encoding!r}; this build serves {' or '.join(encodings.ENCODINGS)}"
        )
    dim = model.hyperparameters.get("feature_dim", encodings.feature_dim(encoding))
    if dim != encodings.feature_dim(encoding):
        raise ArtifactError(
            f"hyperparameters.feature_dim is {dim!r}, but the {encoding} encoding has "
            f"{encodings.feature_dim(encoding)} features"
        )
    if len(model.sample_features) != N_QUESTIONS * len(model.sample_labels):
        raise ArtifactError("sample features and labels disagree in length")
