"""The model the endpoint serves, and how it is swapped for a newer artifact without a restart.

A :class:`ServedModel` is an immutable snapshot; the server reads ``holder.current`` once per request, so a swap
(one attribute assignment) never mixes two models inside one answer. A new file that fails to load leaves the old
model serving and logs the loader's error; the next change to the file is tried again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mysfits.files import write_bytes_atomic
from mysfits.local.endpoint.load_apart import load_apart
from mysfits.local.endpoint.logs import log_event
from mysfits.local.endpoint.protocol import Neighbourhood, Row, grid_cell
from mysfits.model import knn
from mysfits.model.artifact import ArtifactError, ModelArtifact, load_model, read_model_bytes, variant_name
from mysfits_api import encoding as encodings
from mysfits_api.questionnaire import cell_index

# neighbours() holds a (chunk x sample_size) distance matrix; this keeps it near 100 MB for a 100k sample.
_CHUNK_ROWS = 128
GRID_WALK_FROM = 20_000
"""From this sample size grid rows are answered by walking their cell's shells (:class:`knn.GridIndex`): a scan of
the sample grows with it, a walk with how far the k nearest rows lie. Below it a scan is as quick (measured: 3,000
rows, 0.05 to 0.3 ms a query either way, but up to 19 ms walking a sparse ordinal sample)."""


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What changes when a model file is replaced, even by an atomic rename within the same second."""

    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int  # a chmod changes only this: a file made readable again is retried

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        info = os.stat(path)
        return cls(info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class InvocationTimeout(Exception):
    """The direct kNN ran past the request's deadline; it stops between chunks rather than run on unseen."""


class ServedModel:
    """An artifact plus what serving needs: the label table for grid rows and the sample for everything else."""

    def __init__(self, artifact: ModelArtifact, path: Path):
        self.artifact = artifact
        self.path = path
        self.table = artifact.table
        self.version = artifact.version
        self.k = artifact.k
        self.encoding = artifact.encoding
        self.feature_dim = artifact.feature_dim
        self.variant = variant_name(artifact)
        # Built once here, in the loading thread, so the first verbose request pays no conversion. Distances are
        # measured between encoded rows, as the built-in kNN measures them between the features it was trained on.
        sample_X, sample_y = knn.sample_arrays(artifact)
        self._sample = sample_X, sample_y
        self._index: knn.NeighbourIndex | None = None
        self._index_lock = threading.Lock()
        # A large sample answers grid rows from its cells; the direct index is then built only if an off-grid row
        # comes (it holds the sample as floats: 320 MB for a million one-hot rows).
        self._grid = knn.GridIndex(sample_X, sample_y, self.encoding) if len(sample_y) >= GRID_WALK_FROM else None
        if self._grid is None:
            self._direct_index()
        self.grid_cell = grid_cell if self.encoding == encodings.ORDINAL else self._encoded_cell

    def _direct_index(self) -> knn.NeighbourIndex:
        with self._index_lock:
            if self._index is None:
                sample_X, sample_y = self._sample
                self._index = knn.NeighbourIndex(knn.encode_rows(sample_X, self.encoding), sample_y)
            return self._index

    @classmethod
    def load(cls, path: str | os.PathLike) -> ServedModel:
        return cls(load_model(path), Path(path))

    def _encoded_cell(self, row: Row) -> int | None:
        """The table cell of a row that is exactly an encoded answer vector, else ``None`` (the direct kNN)."""
        answers = encodings.decode(row, self.encoding)
        return None if answers is None else cell_index(answers)

    def describe(self) -> dict:
        return {
            "model": str(self.path),
            "model_version": self.version,
            "k": self.k,
            "encoding": self.encoding,
            "variant": self.variant,
            "feature_dim": self.feature_dim,
            "sample_size": self.artifact.sample_size,
            "metrics": self.artifact.metrics,
        }

    def neighbourhoods(self, rows: Sequence[Row], deadline: float | None = None) -> list[Neighbourhood]:
        """Direct kNN over the training sample, for verbose answers and off-grid feature values.

        ``deadline`` is a ``time.monotonic()`` value; past it, :class:`InvocationTimeout` is raised at the next chunk.
        """
        out: list[Neighbourhood] = []
        for start in range(0, len(rows), _CHUNK_ROWS):
            if deadline is not None and time.monotonic() > deadline:
                raise InvocationTimeout(f"{start} of {len(rows)} rows done")
            chunk = rows[start : start + _CHUNK_ROWS]
            cells = [self.grid_cell(row) for row in chunk] if self._grid is not None else [None] * len(chunk)
            off_grid = [row for row, cell in zip(chunk, cells, strict=True) if cell is None]
            direct = iter(())
            if off_grid:
                queries = np.asarray(off_grid, dtype=np.float64)
                direct = zip(*self._direct_index().query(queries, self.k), strict=True)
            for cell in cells:
                predicted, distances, labels = next(direct) if cell is None else self._grid.query_cell(cell, self.k)
                out.append(Neighbourhood(int(predicted), distances.tolist(), labels.tolist()))
        return out


def last_good_path(path: Path) -> Path:
    """Where the endpoint keeps a copy of the last model that loaded from ``path``, for a restart to fall back on."""
    return path.with_name(f"{path.name}.last-good")


class ModelHolder:
    """Owns ``current`` and replaces it when the file at ``path`` changes (or on request)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.last_good = last_good_path(self.path)
        stamp = self._stamp_or_none()
        try:
            self.current = ServedModel.load(self.path)
        except ArtifactError as exc:
            self.current = self._last_good_or_raise(exc)
        else:
            self._keep(stamp)
        self._seen = stamp
        self._lock = threading.Lock()

    def _last_good_or_raise(self, exc: ArtifactError) -> ServedModel:
        """A restart on a broken file serves the copy of the last model that loaded, if there is one."""
        try:
            model = ServedModel.load(self.last_good)
        except ArtifactError:
            raise exc from None  # no usable copy: the file's own error is the one to report
        log_event(
            logging.ERROR,
            "model_load_failed_serving_last_good",
            error=str(exc),
            last_good=str(self.last_good),
            serving_version=model.version,
        )
        return model

    def _keep(self, stamp: FileStamp | None) -> None:
        """Copy the file that just loaded to :func:`last_good_path` (temp + rename), if it is still that file."""
        try:
            raw = read_model_bytes(self.path)
            if self._stamp_or_none() != stamp:  # replaced while we loaded it: these may be another file's bytes
                return
            write_bytes_atomic(self.last_good, raw)
        except (OSError, ArtifactError) as exc:
            log_event(logging.WARNING, "last_good_model_not_kept", model=str(self.path), error=str(exc))

    def _stamp_or_none(self) -> FileStamp | None:
        try:
            return FileStamp.of(self.path)
        except OSError:
            return None

    def refresh(self, force: bool = False) -> bool:
        """Load the file again if it changed since the last attempt (or if ``force``); True when swapped."""
        with self._lock:
            stamp = self._stamp_or_none()
            if stamp is None:
                if self._seen is not None:
                    log_event(
                        logging.WARNING,
                        "model_file_missing",
                        model=str(self.path),
                        serving_version=self.current.version,
                    )
                self._seen = None
                return False
            if stamp == self._seen and not force:
                return False
            self._seen = stamp
            try:
                # Checked in a child process: a huge or hostile file costs the serving process nothing.
                fresh = ServedModel(load_apart(self.path), self.path)
            except ArtifactError as exc:
                log_event(logging.ERROR, "model_reload_failed", error=str(exc), serving_version=self.current.version)
                return False
            except Exception as exc:  # noqa: BLE001 - whatever a file holds, the old model keeps serving
                reason = f"{self.path}: cannot load ({type(exc).__name__}: {exc})"
                log_event(logging.ERROR, "model_reload_failed", error=reason, serving_version=self.current.version)
                return False
            previous, self.current = self.current, fresh
            self._keep(stamp)
            log_event(logging.INFO, "model_reloaded", previous_version=previous.version, **fresh.describe())
            return True
