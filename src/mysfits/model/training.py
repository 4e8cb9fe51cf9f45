"""From a data file to a saved model: split, sample, compile the table, evaluate, write the artifact.

This is the local stand-in for a SageMaker training job with the built-in kNN. The
defaults are the original workshop's hyperparameters (k=10, sample_size=100000,
predictor_type=classifier); ``tune=True`` searches k and the sample size on a validation
split carved out of the training rows, never the test rows.
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
from mysfits_api.questionnaire import N_QUESTIONS

DEFAULT_K = 10
DEFAULT_SAMPLE_SIZE = 100_000
TUNE_K = (10, 20, 40, 80)
TUNE_SAMPLE_SIZES = (100_000, 200_000)
TIE_RULE = (
    "neighbours: nearest first, equal distances in sample order; "
    "vote: most neighbours; equal votes go to the label met first in that neighbour order"
)


@dataclass(frozen=True)
class Fitted:
    table: np.ndarray
    sample_X: np.ndarray
    sample_y: np.ndarray


def fit(train: ds.Dataset, k: int, sample_size: int, seed: int) -> Fitted:
    if sample_size < 1:
        raise ValueError(f"sample_size must be at least 1, got {sample_size}")
    rows = knn.sample_rows(train.rows, sample_size, seed)
    X, y = train.X[rows], train.y[rows]
    return Fitted(knn.compile_table(X, y, k), X, y)


def predict(table: np.ndarray, X: np.ndarray) -> np.ndarray:
    return table[knn.cells_of(X)]


def tune(train: ds.Dataset, seed: int, progress: Progress = QUIET) -> tuple[int, int, list[dict]]:
    """Grid search on a validation split of the training rows; ties go to the cheaper model."""
    fit_part, validation = ds.split(train, test_fraction=0.1, seed=seed + 1)
    results = []
    for sample_size in TUNE_SAMPLE_SIZES:
        for k in TUNE_K:
            fitted = fit(fit_part, k, sample_size, seed)
            accuracy = float(np.mean(predict(fitted.table, validation.X) == validation.y))
            results.append({"k": k, "sample_size": sample_size, "validation_accuracy": accuracy})
            progress.note(f"  k={k:<4} sample_size={sample_size:<8,} validation accuracy {accuracy:.2%}")
    best = max(results, key=lambda r: (round(r["validation_accuracy"], 4), -r["sample_size"], -r["k"]))
    return best["k"], best["sample_size"], results


def train_model(
    data: ds.Dataset,
    *,
    k: int = DEFAULT_K,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    seed: int = ds.DEFAULT_SEED,
    tune_hyperparameters: bool = False,
    test_fraction: float = 0.1,
    progress: Progress = QUIET,
) -> ModelArtifact:
    with progress.step(f"splitting {data.rows:,} rows {1 - test_fraction:.0%}/{test_fraction:.0%}"):
        train, test = ds.split(data, test_fraction=test_fraction, seed=seed)
    tuning = None
    if tune_hyperparameters:
        with progress.step("tuning k and sample_size on a validation split"):
            k, sample_size, tuning = tune(train, seed, progress)
        progress.note(f"  chose k={k}, sample_size={sample_size:,}")
    if k > min(sample_size, train.rows):
        raise ValueError(f"k={k} is larger than the training sample ({min(sample_size, train.rows):,} rows)")
    with progress.step(f"training kNN (k={k}, sample_size={min(sample_size, train.rows):,}) over all 32,768 answers"):
        fitted = fit(train, k, sample_size, seed)
    meta = ds.read_metadata(data)
    bayes = ds.bayes_accuracy(meta["signal"]) if meta and "signal" in meta else None
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
            "feature_dim": N_QUESTIONS,
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
            tune_hyperparameters=self.tune,
        )
