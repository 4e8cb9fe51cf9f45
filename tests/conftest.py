"""Fixtures shared by every test layer: small, seeded data sets and models built once per session."""

from __future__ import annotations

import pytest

from mysfits import dataset as ds
from mysfits import training
from mysfits.artifact import save_model


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> ds.Dataset:
    """60k generated rows written to disk with their generator metadata, as `mysfits data generate` would."""
    path = tmp_path_factory.mktemp("data") / "answers.csv"
    data = ds.generate(60_000, seed=7, signal=ds.DEFAULT_SIGNAL)
    ds.write_csv(data, path, metadata={"generator": "mysfits.dataset", "seed": 7, "signal": ds.DEFAULT_SIGNAL})
    return ds.load_csv(path)


@pytest.fixture(scope="session")
def small_model(small_data):
    return training.train_model(small_data, k=10, sample_size=20_000, seed=3)


@pytest.fixture(scope="session")
def model_path(small_model, tmp_path_factory):
    return save_model(small_model, tmp_path_factory.mktemp("model") / "mysfits-knn.json")
