"""moto's training jobs complete at once and learn nothing; this one learns, so a run can be judged on its metrics.

moto's batch transform jobs complete at once and write nothing; here a transform job over a model made from one of
these training jobs' output answers each row of its input CSV with that job's model, in the built-in kNN's
jsonlines format (``{"predicted_label": 3.0}`` per line), at ``<S3OutputPath>/<input file name>.out``.

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
import json
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
    original_transform = SageMakerModelBackend.create_transform_job
    reported: dict[str, float] = {}  # each job's test:accuracy by name, for the tests' own checks
    learned: dict[str, tuple[np.ndarray, int]] = {}  # model data URL -> (prediction table, feature_dim)

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
        learned[job.model_artifacts["S3ModelArtifacts"]] = (table, dim)
        job.final_metric_data_list = [
            *job.final_metric_data_list,
            {"MetricName": "test:accuracy", "Value": accuracy, "Timestamp": job.creation_time},
        ]
        reported[training_job_name] = accuracy
        return job

    def create_and_answer(backend, transform_job_name, model_name, *args, **kwargs):
        job = original_transform(backend, transform_job_name, model_name, *args, **kwargs)
        table, dim = learned[backend._models[model_name].primary_container["ModelDataUrl"]]
        s3 = s3_backends[backend.account_id]["aws"]
        source = job.transform_input["DataSource"]["S3DataSource"]["S3Uri"]
        bucket, key = source.removeprefix("s3://").split("/", 1)
        features = np.loadtxt(io.BytesIO(s3.get_object(bucket, key).value), delimiter=",", dtype=np.int64, ndmin=2)
        labels = training.predict(table, _answers(features, dim))
        out_bucket, out_prefix = job.transform_output["S3OutputPath"].removeprefix("s3://").split("/", 1)
        body = "".join(json.dumps({"predicted_label": float(label)}) + "\n" for label in labels).encode()
        s3.put_object(out_bucket, f"{out_prefix}/{key.rsplit('/', 1)[-1]}.out", body)
        return job

    with (
        mock.patch.object(SageMakerModelBackend, "create_training_job", create_and_train),
        mock.patch.object(SageMakerModelBackend, "create_transform_job", create_and_answer),
    ):
        yield reported
