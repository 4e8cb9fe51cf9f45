"""Small, seeded model artifacts for the endpoint's tests, built the way training builds them (compile_table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mysfits.model.artifact import ModelArtifact, save_model
from mysfits.model.knn import compile_table
from mysfits_api.catalog import N_MYSFITS
from mysfits_api.questionnaire import N_QUESTIONS


def make_artifact(seed: int = 7, rows: int = 3000, k: int = 10) -> ModelArtifact:
    """A random sample whose label leans on the first two answers, so neighbourhoods are not pure noise."""
    rng = np.random.default_rng(seed)
    X = rng.integers(1, 9, size=(rows, N_QUESTIONS), dtype=np.uint8)
    noise = rng.integers(0, N_MYSFITS, size=rows)
    planted = (X[:, 0].astype(int) * 3 + X[:, 1]) % N_MYSFITS
    y = np.where(rng.random(rows) < 0.6, planted, noise).astype(np.uint8)
    table = compile_table(X, y, k)
    return ModelArtifact(
        hyperparameters={"k": k, "sample_size": rows, "predictor_type": "classifier", "feature_dim": N_QUESTIONS},
        training_data={"sha256": f"seed-{seed}", "rows": rows},
        metrics={"test_accuracy": 0.5, "seed": seed},
        table=bytes(table),
        sample_features=X.tobytes(),
        sample_labels=y.tobytes(),
    )


def write_artifact(path: Path, **kwargs: object) -> ModelArtifact:
    model = make_artifact(**kwargs)
    save_model(model, path)
    return model
