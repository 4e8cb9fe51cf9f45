"""Fixtures shared by every test layer: small, seeded data sets and models built once per session."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import save_model

# A botocore session reads each service's JSON model (SageMaker's is several MB) into a cache of its own, and these
# tests make a new session, and often several, per test: the smoke run's tests spent about 40% of their time there.
# The files never change during a run, so every loader of this process shares one cache, keyed by its search paths.
# What botocore then does with a model (extras merged into it once, clients built from it) is unchanged.
_LOADED: dict = {}


def _share_botocore_models() -> None:
    from botocore import loaders

    def shared(name, original):
        def load(self, *args, **kwargs):
            key = (name, tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
            if key not in _LOADED:
                _LOADED[key] = original(self, *args, **kwargs)
            return _LOADED[key]

        return load

    for name in ("load_service_model", "load_data_with_path", "list_available_services", "determine_latest_version"):
        setattr(loaders.Loader, name, shared(name, getattr(loaders.Loader, name)))


_share_botocore_models()


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> ds.Dataset:
    """60k generated rows written to disk with their generator metadata, as `mysfits data generate` would."""
    path = tmp_path_factory.mktemp("data") / "answers.csv"
    data = ds.generate(60_000, seed=7, signal=ds.DEFAULT_SIGNAL)
    ds.write_csv(data, path, metadata={"generator": "mysfits.model.dataset", "seed": 7, "signal": ds.DEFAULT_SIGNAL})
    return ds.load_csv(path)


@pytest.fixture(scope="session")
def small_model(small_data):
    return training.train_model(small_data, k=10, sample_size=20_000, seed=3)


@pytest.fixture(scope="session")
def model_path(small_model, tmp_path_factory):
    return save_model(small_model, tmp_path_factory.mktemp("model") / "mysfits-knn.json")


FAKE_AWS_REGION = "eu-west-1"


@pytest.fixture
def fake_aws_env(monkeypatch):
    """Credentials that can only reach moto or a local server; the developer's own AWS config is hidden."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": FAKE_AWS_REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto_session(fake_aws_env):
    """A boto3 session whose every call lands in moto's in-memory AWS."""
    with mock_aws():
        yield boto3.Session(region_name=FAKE_AWS_REGION)
