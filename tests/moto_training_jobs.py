"""moto's training jobs complete at once and learn nothing; this one learns, so a run can be judged on its metrics.

The built-in kNN reports ``test:accuracy`` on its ``test`` channel when ``predictor_type`` is ``classifier`` (the
SageMaker developer guide, "Tune a k-NN model"). scripts/train_and_deploy.py --choices-table compares that figure
with the serving endpoint's, so under moto the figure has to mean something: here each new job reads its ``train``
and ``test`` channels from moto's S3, trains the project's own kNN with the job's ``k`` and ``sample_size``, and
records the held-out accuracy as the container would. The job's model artefact is still moto's empty name; the
local endpoint in these tests serves a model trained separately.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from unittest import mock

import numpy as np

from mysfits.model import knn, training
from mysfits_api import encoding as encodings


def _channel_rows(s3, uri: str) -> tuple[np.ndarray, np.ndarray]:
    bucket, prefix = uri.removeprefix("s3://").split("/", 1)
    found = s3.get_bucket(bucket)
    parts = [key.value for name, key in found.keys.items() if name.startswith(prefix)]
    table = np.loadtxt(io.BytesIO(b"".join(parts)), delimiter=",", dtype=np.int64, ndmin=2)
    return table[:, 1:], table[:, 0]


def _answers(features: np.ndarray, feature_dim: int) -> np.ndarray:
    """The answers behind a channel's encoded features (one-hot columns back to options 1..8)."""
    encoding = next(e for e in encodings.ENCODINGS if encodings.feature_dim(e) == feature_dim)
    if encoding == encodings.ORDINAL:
        return features.astype(np.uint8)
    return (features.reshape(len(features), -1, knn.N_OPTIONS).argmax(axis=2) + 1).astype(np.uint8)


@contextlib.contextmanager
def training_jobs_that_train() -> Iterator[dict[str, float]]:
    from moto.s3.models import s3_backends
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.create_training_job
    reported: dict[str, float] = {}  # each job's test:accuracy by name, for the tests' own checks

    def create_and_train(backend, training_job_name, hyper_parameters, *args, **kwargs):
        job = original(backend, training_job_name, hyper_parameters, *args, **kwargs)
        s3 = s3_backends[backend.account_id]["aws"]
        channels = {
            c["ChannelName"]: _channel_rows(s3, c["DataSource"]["S3DataSource"]["S3Uri"]) for c in job.input_data_config
        }
        dim = int(hyper_parameters["feature_dim"])
        (train_X, train_y), (test_X, test_y) = channels["train"], channels["test"]
        encoding = next(e for e in encodings.ENCODINGS if encodings.feature_dim(e) == dim)
        answers = _answers(train_X, dim)
        rows = knn.sample_rows(len(answers), min(int(hyper_parameters["sample_size"]), len(answers)), seed=0)
        table = knn.compile_table(answers[rows], train_y[rows].astype(np.uint8), int(hyper_parameters["k"]), encoding)
        accuracy = float(np.mean(training.predict(table, _answers(test_X, dim)) == test_y))
        job.final_metric_data_list = [
            *job.final_metric_data_list,
            {"MetricName": "test:accuracy", "Value": accuracy, "Timestamp": job.creation_time},
        ]
        reported[training_job_name] = accuracy
        return job

    with mock.patch.object(SageMakerModelBackend, "create_training_job", create_and_train):
        yield reported
