"""Model files with a valid checksum but content no server can use: what a foreign or hand-edited writer produces."""

from __future__ import annotations

import base64
import functools
import json
import zlib
from collections.abc import Callable
from pathlib import Path

from mysfits.files import write_bytes_atomic, write_text_atomic
from mysfits.model import artifact


def resealed(doc: dict) -> dict:
    """The document with a checksum that matches its (edited) content, so only validation can refuse it."""
    body = {key: value for key, value in doc.items() if key != "checksum"}
    return {**body, "checksum": "sha256:" + artifact._digest(body)}


def _edit(change: Callable[[dict], None]) -> Callable[[dict], dict]:
    def apply(doc: dict) -> dict:
        doc = json.loads(json.dumps(doc))
        change(doc)
        return resealed(doc)

    return apply


def _deep(doc: dict) -> bytes:
    return b'{"a":' * 100_000 + b"1" + b"}" * 100_000


BOMB_BYTES = 256 * 1024 * 1024


@functools.cache
def zlib_bomb() -> str:
    """256 MB of zeros as zlib+base64: about 350 KB in the file (issue 30's probe used 3.1 GB in 2.2 MB)."""
    packer = zlib.compressobj(9)
    piece = bytes(1 << 20)
    packed = b"".join(packer.compress(piece) for _ in range(BOMB_BYTES >> 20)) + packer.flush()
    return base64.b64encode(packed).decode()


BAD_DOCUMENTS: dict[str, tuple[Callable[[dict], dict], str]] = {
    "k is text": (_edit(lambda d: d["hyperparameters"].update(k="ten")), "hyperparameter k must be a whole number"),
    "k missing": (_edit(lambda d: d["hyperparameters"].pop("k")), "got missing"),
    "k is zero": (_edit(lambda d: d["hyperparameters"].update(k=0)), "got 0"),
    "k is true": (_edit(lambda d: d["hyperparameters"].update(k=True)), "hyperparameter k"),
    "k is a float": (_edit(lambda d: d["hyperparameters"].update(k=3.5)), "hyperparameter k"),
    "k above the sample": (_edit(lambda d: d["hyperparameters"].update(k=10**6)), "from 1 to the sample size"),
    "hyperparameters a list": (_edit(lambda d: d.update(hyperparameters=[1])), "'hyperparameters' must be"),
    "metrics a string": (_edit(lambda d: d.update(metrics="good")), "'metrics' must be"),
    "training data null": (_edit(lambda d: d.update(training_data=None)), "'training_data' must be"),
    "labels an object": (_edit(lambda d: d.update(labels={"0": "x"})), "'labels' must be"),
    "a label is text": (_edit(lambda d: d["labels"][3].update(label="three")), r"labels\[3\]\.label"),
    "a label is a float": (_edit(lambda d: d["labels"][0].update(label=0.5)), r"labels\[0\]\.label"),
    "a label entry is a number": (_edit(lambda d: d["labels"].__setitem__(2, 7)), r"labels\[2\] must be an object"),
    "labels too short": (_edit(lambda d: d["labels"].pop()), "the label -> Mysfit map has 11 entries"),
    "table a string": (_edit(lambda d: d.update(table="AAAA")), "'table' must be"),
    "sample labels a list": (_edit(lambda d: d["sample"].update(labels=[1, 2])), "'sample.labels' must be"),
    "created_at a number": (_edit(lambda d: d.update(created_at=5)), "'created_at' must be"),
    "table a zlib bomb": (
        _edit(lambda d: d.update(table={"encoding": "zlib+base64", "bytes": 32768, "data": zlib_bomb()})),
        "table expands past the 32,768 bytes its header declares",
    ),
    "sample features a zlib bomb declaring its size": (
        _edit(
            lambda d: d["sample"]["features"].update(bytes=d["sample"]["features"]["bytes"] * 1000, data=zlib_bomb())
        ),
        "sample features holds [0-9,]+ bytes by its header; it must hold",
    ),
    "sample labels a zlib bomb": (
        _edit(lambda d: d["sample"]["labels"].update(data=zlib_bomb())),
        "sample labels expands past the",
    ),
    "a size above the model limit": (
        _edit(lambda d: d["sample"]["labels"].update(bytes=3 * 1024**3)),
        "sample labels: its header must give its size in bytes, a whole number from 0 to 134,217,728",
    ),
    "sample label out of range": (
        _edit(lambda d: d["sample"].update(labels=artifact._pack(bytes([200]) * d["sample"]["labels"]["bytes"]))),
        "the sample holds a label above",
    ),
}


def write_bad(path: Path, good: dict, name: str) -> str:
    """Write the named bad variant of ``good`` to ``path``; returns the message the loader must give."""
    make, message = BAD_DOCUMENTS[name]
    # Renamed into place, as every real writer does: the reloader polls every few ms, and a half-written file would
    # fail with "truncated" instead of the fault under test.
    write_text_atomic(path, json.dumps(make(good)))
    return message


def write_deep(path: Path) -> None:
    write_bytes_atomic(path, _deep({}))
