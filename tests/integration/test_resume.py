"""mysfits.aws.resume under moto: what a rerun may reuse, and what it must not."""

from __future__ import annotations

import dataclasses

import pytest

from mysfits.aws import resume, sagemaker_endpoint, sagemaker_job
from tests.conftest import FAKE_AWS_REGION as REGION

ROLE = "arn:aws:iam::123456789012:role/mysfits-notebook-NotebookRole-TEST"
IMAGE = "438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1"


def _serving(sm, model_url: str, capacity) -> sagemaker_job.TrainingResult:
    result = sagemaker_job.TrainingResult("mysfits-knn-1", model_url, IMAGE)
    sm.create_model(
        ModelName="mysfits-knn-1", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE, "ModelDataUrl": model_url}
    )
    sm.create_endpoint_config(
        EndpointConfigName="mysfits-knn-1", ProductionVariants=[capacity.variant("mysfits-knn-1", "ordinal-0")]
    )
    sm.create_endpoint(EndpointName="mysfits-knn", EndpointConfigName="mysfits-knn-1")
    return result


@pytest.mark.parametrize(
    ("asked", "model", "reused"),
    [
        (sagemaker_endpoint.Serverless(2048, 5), "s3://b/m/model.tar.gz", True),
        (sagemaker_endpoint.Serverless(3072, 5), "s3://b/m/model.tar.gz", False),
        (sagemaker_endpoint.RealTime(), "s3://b/m/model.tar.gz", False),
        (sagemaker_endpoint.Serverless(2048, 5), "s3://b/other/model.tar.gz", False),
    ],
    ids=["same", "other-memory", "real-time", "other-model"],
)
def test_an_endpoint_is_left_alone_only_when_it_serves_that_model_on_that_capacity(moto_session, asked, model, reused):
    sm = moto_session.client("sagemaker")
    _serving(sm, "s3://b/m/model.tar.gz", sagemaker_endpoint.Serverless(2048, 5))
    trained = sagemaker_job.TrainingResult("mysfits-knn-2", model, IMAGE)
    assert resume.already_serving(sm, "mysfits-knn", trained, asked) is reused


def test_no_endpoint_means_nothing_to_reuse(moto_session):
    trained = sagemaker_job.TrainingResult("mysfits-knn-2", "s3://b/m/model.tar.gz", IMAGE)
    assert not resume.already_serving(
        moto_session.client("sagemaker"), "mysfits-knn", trained, sagemaker_endpoint.RealTime()
    )


def test_the_inputs_digest_changes_with_anything_that_decides_the_model():
    spec = sagemaker_job.TrainingSpec(REGION, ROLE, "b", "mysfits-knn")
    channels = {"train": "a" * 64, "test": "b" * 64}
    digest = resume.inputs_digest(spec, channels)
    assert digest == resume.inputs_digest(spec, dict(channels))
    for changed in (
        dataclasses.replace(spec, k=5),
        dataclasses.replace(spec, sample_size=1),
        dataclasses.replace(spec, encoding="one-hot"),
        dataclasses.replace(spec, instance_type="ml.c5.xlarge"),
    ):
        assert resume.inputs_digest(changed, channels) != digest
    assert resume.inputs_digest(spec, {**channels, "test": "c" * 64}) != digest
    # Where the output goes does not decide the model.
    assert resume.inputs_digest(dataclasses.replace(spec, prefix="elsewhere"), channels) == digest
