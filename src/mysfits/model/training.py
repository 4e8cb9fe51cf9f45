"""From a data file to a saved model: split, sample, compile the table, evaluate, write the artifact.

This is the local stand-in for a SageMaker training job with the built-in kNN. The
defaults are the original workshop's hyperparameters (k=10, sample_size=100000,
predictor_type=classifier) on ordinal features; ``tune=True`` searches the encoding, k and the
sample size on a validation split carved out of the training rows, never the test rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mysfits.model import dataset as ds
from mysfits.model import knn
from mysfits.model.artifact import ModelArtifact, save_model
from mysfits.model.evaluation import evaluate, write_confusion_png
from mysfits.progress import QUIET, Progress
from mysfits_api import encoding as encodings
from mysfits_api.catalog import N_MYSFITS
from mysfits_api.questionnaire import N_CELLS

DEFAULT_K = 10
DEFAULT_SAMPLE_SIZE = 100_000
DEFAULT_ENCODING = encodings.DEFAULT
TUNE_ENCODINGS = encodings.ENCODINGS
TUNE_K = (1, 2, 5, 10, 20, 40, 80)
WHOLE_SPLIT = None
"""In the tuning grid: the sample is every row the model is fitted on, as SageMaker allows."""
TUNE_SAMPLE_SIZES = (50_000, 200_000, WHOLE_SPLIT)
TIE_RULE = (
    "neighbours: nearest first, equal distances in sample order; "
    "vote: most neighbours; equal votes go to the label met first in that neighbour order"
)


@dataclass(frozen=True)
class Fitted:
    table: np.ndarray
    sample_X: np.ndarray
    sample_y: np.ndarray


def fit(train: ds.Dataset, k: int, sample_size: int, seed: int, encoding: str = DEFAULT_ENCODING) -> Fitted:
    if sample_size < 1:
        raise ValueError(f"sample_size must be at least 1, got {sample_size}")
    rows = knn.sample_rows(train.rows, sample_size, seed)
    X, y = train.X[rows], train.y[rows]
    return Fitted(knn.compile_table(X, y, k, encoding), X, y)


def predict(table: np.ndarray, X: np.ndarray) -> np.ndarray:
    return table[knn.cells_of(X)]


@dataclass(frozen=True)
class Tuned:
    encoding: str
    k: int
    sample_size: int
    results: list[dict]


def tune(
    train: ds.Dataset,
    seed: int,
    progress: Progress = QUIET,
    encodings_to_try: tuple[str, ...] = TUNE_ENCODINGS,
    validation: ds.Dataset | None = None,
    sample_sizes: tuple[int | None, ...] = TUNE_SAMPLE_SIZES,
) -> Tuned:
    """Grid search over encoding x k x sample size, scored on a validation split of the training rows.

    The validation rows are counted once per answer cell and label, so scoring a candidate is one look-up per
    cell of its compiled table, whatever the number of validation rows. Ties go to the cheaper model: the
    smaller sample, then the fewer features, then the smaller k.
    """
    if validation is None:
        fit_part, validation = ds.split(train, test_fraction=0.1, seed=seed + 1)
    else:  # rows the caller trusts more than ``train`` (real choices beside recombined ones): all of train fits
        fit_part = train
    hits = np.bincount(knn.cells_of(validation.X) * N_MYSFITS + validation.y, minlength=N_CELLS * N_MYSFITS).reshape(
        N_CELLS, N_MYSFITS
    )
    cells = np.arange(N_CELLS)
    sizes = sorted({fit_part.rows if s is WHOLE_SPLIT else min(s, fit_part.rows) for s in sample_sizes})
    results = []
    progress.note(f"  {'encoding':<9} {'k':>4} {'sample_size':>12}  validation accuracy ({validation.rows:,} rows)")
    for encoding in encodings_to_try:
        for size in sizes:
            # One walk over the sample compiles the table of every k (see knn.compile_tables).
            rows = knn.sample_rows(fit_part.rows, size, seed)
            tables = knn.compile_tables(fit_part.X[rows], fit_part.y[rows], [k for k in TUNE_K if k <= size], encoding)
            for k, table in tables.items():
                accuracy = float(hits[cells, table].sum() / validation.rows)
                whole = size == fit_part.rows
                results.append(
                    {
                        "encoding": encoding,
                        "k": k,
                        "sample_size": train.rows if whole else size,
                        "whole_split": whole,
                        "validation_accuracy": accuracy,
                    }
                )
                shown = "all" if whole else f"{size:,}"
                progress.note(f"  {encoding:<9} {k:>4} {shown:>12}  {accuracy:.2%}")
    best = max(
        results,
        key=lambda r: (
            round(r["validation_accuracy"], 4),
            -r["sample_size"],
            -encodings.feature_dim(r["encoding"]),
            -r["k"],
        ),
    )
    return Tuned(best["encoding"], best["k"], best["sample_size"], results)


def train_model(
    data: ds.Dataset,
    *,
    k: int = DEFAULT_K,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    seed: int = ds.DEFAULT_SEED,
    encoding: str = DEFAULT_ENCODING,
    tune_hyperparameters: bool = False,
    tune_encodings: tuple[str, ...] = TUNE_ENCODINGS,
    test_fraction: float = 0.1,
    progress: Progress = QUIET,
) -> ModelArtifact:
    encodings.check(encoding)
    with progress.step(f"splitting {data.rows:,} rows {1 - test_fraction:.0%}/{test_fraction:.0%}"):
        train, test = ds.split(data, test_fraction=test_fraction, seed=seed)
    tuning = None
    if tune_hyperparameters:
        with progress.step("tuning the encoding, k and sample_size on a validation split"):
            tuned = tune(train, seed, progress, tune_encodings)
        encoding, k, sample_size, tuning = tuned.encoding, tuned.k, tuned.sample_size, tuned.results
        progress.note(f"  chose encoding={encoding}, k={k}, sample_size={sample_size:,}")
    if k > min(sample_size, train.rows):
        raise ValueError(f"k={k} is larger than the training sample ({min(sample_size, train.rows):,} rows)")
    rows = min(sample_size, train.rows)
    with progress.step(f"training kNN ({encoding}, k={k}, sample_size={rows:,}) over all 32,768 answers"):
        fitted = fit(train, k, sample_size, seed, encoding)
    meta = ds.read_metadata(data)
    bayes = (
        ds.bayes_accuracy(meta["signal"], meta.get("preferences", ds.DEFAULT_PREFERENCES))
        if meta and "signal" in meta
        else None
    )
    with progress.step(f"evaluating on {test.rows:,} test rows"):
        metrics = evaluate(test.y, predict(fitted.table, test.X), train.y, bayes=bayes)
    if tuning is not None:
        metrics["tuning"] = tuning
    return ModelArtifact(
        hyperparameters={
            "k": k,
            "sample_size": sample_size,
            "sample_rows": len(fitted.sample_y),
            "predictor_type": "classifier",
            "distance": "L2",
            "encoding": encoding,
            "feature_dim": encodings.feature_dim(encoding),
            "seed": seed,
            "tuned": tune_hyperparameters,
            "tie_rule": TIE_RULE,
        },
        training_data={
            "sha256": data.sha256,
            "source": data.path.name if data.path else None,
            "rows": data.rows,
            "train_rows": train.rows,
            "test_rows": test.rows,
            "generator": meta,
        },
        metrics=metrics,
        table=fitted.table.astype(np.uint8).tobytes(),
        sample_features=np.ascontiguousarray(fitted.sample_X, dtype=np.uint8).tobytes(),
        sample_labels=np.ascontiguousarray(fitted.sample_y, dtype=np.uint8).tobytes(),
    )


def run_training(
    data_path: str | os.PathLike,
    model_path: str | os.PathLike,
    *,
    confusion_png: str | os.PathLike | None = None,
    progress: Progress = QUIET,
    max_data_bytes: int = ds.MAX_DATA_BYTES,
    **options,
) -> ModelArtifact:
    """Load, train, evaluate, then write the PNG and the model. Nothing is written unless every step succeeded."""
    with progress.step(f"loading {data_path}"):
        data = ds.load_csv(data_path, max_data_bytes)
    model = train_model(data, progress=progress, **options)
    if confusion_png is not None:
        write_confusion_png(model.metrics, confusion_png)
    save_model(model, model_path)
    progress.note(f"wrote {Path(model_path)} (model version {model.version})")
    return model


@dataclass(frozen=True)
class TrainingRun:
    """What ``mysfits train`` and ``train_and_deploy --mode local`` ask for; each builds one from its own flags."""

    data: Path
    model: Path
    confusion_png: Path | None = None
    k: int = DEFAULT_K
    sample_size: int = DEFAULT_SAMPLE_SIZE
    seed: int = ds.DEFAULT_SEED
    tune: bool = False
    encoding: str = DEFAULT_ENCODING
    max_data_bytes: int = ds.MAX_DATA_BYTES

    def run(self, progress: Progress = QUIET) -> ModelArtifact:
        return run_training(
            self.data,
            self.model,
            confusion_png=self.confusion_png,
            progress=progress,
            max_data_bytes=self.max_data_bytes,
            k=self.k,
            sample_size=self.sample_size,
            seed=self.seed,
            encoding=self.encoding,
            tune_hyperparameters=self.tune,
        )
