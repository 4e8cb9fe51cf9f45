"""SageMaker deployment logic against real boto3 clients: moto where it implements the call, botocore's Stubber
where it does not (``update_endpoint``, and endpoint states moto never enters such as Updating or Failed).

Stubber checks every request against the service model, so a misspelt parameter fails here as it would on AWS.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone

import boto3
import numpy as np
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from mysfits.aws import PROJECT_TAGS
from mysfits.aws.sagemaker_job import (
    DeploymentError,
    RealTime,
    Serverless,
    TrainingResult,
    TrainingSpec,
    deploy,
    resource_names,
    training_csv,
    upload_channel,
    wait_for_endpoint,
)
from tests.conftest import FAKE_AWS_REGION as REGION

ROLE = "arn:aws:iam::123456789012:role/mysfits-notebook"
RESULT = TrainingResult(
    job_name="mysfits-knn-2026-01-01-00-00-00-000",
    model_data_url="s3://bucket/mysfits-knn/output/mysfits-knn-2026-01-01-00-00-00-000/output/model.tar.gz",
    image_uri="438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1",
)
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
NEW = "mysfits-knn-20260102-030405"
OLD = "mysfits-knn-20251201-000000"


@pytest.fixture
def aws_env(fake_aws_env):
    return None


def endpoint(status: str, config: str, reason: str | None = None) -> dict:
    description = {
        "EndpointName": "mysfits-knn",
        "EndpointArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/mysfits-knn",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }
    if reason:
        description["FailureReason"] = reason
    return description


def test_training_csv_puts_the_label_first():
    X = np.array([[1, 2, 3, 4, 5], [8, 7, 6, 5, 4]], dtype=np.uint8)
    y = np.array([11, 0], dtype=np.uint8)
    assert training_csv(X, y) == b"11,1,2,3,4,5\n0,8,7,6,5,4\n"
    with pytest.raises(ValueError, match="expected n x 5 features"):
        training_csv(X[:, :4], y)


def test_channel_upload_lands_in_the_bucket(aws_env):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        uri = upload_channel(s3, "bucket", "mysfits-knn/data/train/train.csv", b"1,1,1,1,1,1\n")
        assert uri == "s3://bucket/mysfits-knn/data/train/"
        stored = s3.get_object(Bucket="bucket", Key="mysfits-knn/data/train/train.csv")
        assert stored["Body"].read() == b"1,1,1,1,1,1\n"


def test_hyperparameters_are_the_built_in_knn_names():
    spec = TrainingSpec(region=REGION, role_arn=ROLE, bucket="b", base_job_name="mysfits-knn", k=7, sample_size=500)
    assert spec.hyperparameters() == {"k": 7, "sample_size": 500, "predictor_type": "classifier", "feature_dim": 5}
    assert spec.output_path == "s3://b/mysfits/output"


@pytest.mark.parametrize("memory", [512, 1000, 8192])
def test_serverless_memory_must_be_a_whole_number_of_gb(memory):
    with pytest.raises(ValueError, match="--memory-mb must be one of 1024, 2048"):
        Serverless(memory)


def test_variants_match_the_api_shapes():
    assert Serverless(3072, 10).variant("m")["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 10}
    assert RealTime("ml.c5.large").variant("m")["InstanceType"] == "ml.c5.large"


def test_resource_names_keep_the_prefix_and_fit_63_characters():
    assert resource_names("mysfits-knn", NOW) == NEW
    long = resource_names("mysfits-" + "x" * 55, NOW)
    assert len(long) <= 63 and long.startswith("mysfits-") and long.endswith("20260102-030405")


def test_first_deploy_creates_a_tagged_endpoint_under_moto(aws_env):
    with mock_aws():
        sm = boto3.client("sagemaker", region_name=REGION)
        lines: list[str] = []
        done = deploy(sm, "mysfits-knn", RESULT, ROLE, Serverless(2048), report=lines.append, now=NOW)
        assert done.created and done.replaced_config is None
        described = sm.describe_endpoint(EndpointName="mysfits-knn")
        assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == NEW
        config = sm.describe_endpoint_config(EndpointConfigName=NEW)
        assert config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
        model = sm.describe_model(ModelName=NEW)
        assert model["PrimaryContainer"]["ModelDataUrl"] == RESULT.model_data_url
        for arn in (described["EndpointArn"], config["EndpointConfigArn"], model["ModelArn"]):
            assert sm.list_tags(ResourceArn=arn)["Tags"] == list(PROJECT_TAGS)
        assert any("InService" in line for line in lines)


def stubbed_sagemaker():
    client = boto3.client("sagemaker", region_name=REGION)
    return client, Stubber(client)


def expect_creates(stub: Stubber, capacity_variant: dict) -> None:
    stub.add_response(
        "create_model",
        {"ModelArn": f"arn:aws:sagemaker:{REGION}:123456789012:model/{NEW}"},
        {
            "ModelName": NEW,
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": RESULT.image_uri, "ModelDataUrl": RESULT.model_data_url},
            "Tags": list(PROJECT_TAGS),
        },
    )
    stub.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint-config/{NEW}"},
        {"EndpointConfigName": NEW, "ProductionVariants": [capacity_variant], "Tags": list(PROJECT_TAGS)},
    )


def test_existing_endpoint_is_updated_in_place_and_the_old_config_retired(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime("ml.m5.large")
    expect_creates(stub, capacity.variant(NEW))
    stub.add_response("describe_endpoint", endpoint("InService", OLD), {"EndpointName": "mysfits-knn"})
    stub.add_response(
        "update_endpoint",
        {"EndpointArn": endpoint("", "")["EndpointArn"]},
        {"EndpointName": "mysfits-knn", "EndpointConfigName": NEW},
    )
    stub.add_response("describe_endpoint", endpoint("Updating", OLD), {"EndpointName": "mysfits-knn"})
    stub.add_response("describe_endpoint", endpoint("InService", NEW), {"EndpointName": "mysfits-knn"})
    stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": OLD,
            "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint-config/{OLD}",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": OLD}],
            "CreationTime": NOW,
        },
        {"EndpointConfigName": OLD},
    )
    stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": OLD})
    stub.add_response("delete_model", {}, {"ModelName": OLD})
    lines: list[str] = []
    sleeps: list[float] = []

    def wait(client, name, *, report):
        return wait_for_endpoint(client, name, report=report, sleep=sleeps.append, poll_seconds=15)

    with stub:
        done = deploy(sm, "mysfits-knn", RESULT, ROLE, capacity, report=lines.append, now=NOW, wait=wait)
    stub.assert_no_pending_responses()
    assert not done.created and done.replaced_config == OLD and done.retired == (OLD, OLD)
    assert sleeps == [15]
    assert [line for line in lines if "endpoint mysfits-knn:" in line] == [
        "  endpoint mysfits-knn: Updating (0 s)",
        "  endpoint mysfits-knn: InService (0 s)",
    ]


def deploy_without_pauses(sm, capacity):
    """Deploy with the real waiter, minus its sleeps, so the stubbed describe_endpoint answers drive it."""
    return deploy(
        sm,
        "mysfits-knn",
        RESULT,
        ROLE,
        capacity,
        report=lambda _: None,
        now=NOW,
        wait=lambda c, n, report: wait_for_endpoint(c, n, report=report, sleep=lambda _: None),
    )


def test_update_that_rolls_back_is_an_error_and_keeps_the_old_config(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime()
    expect_creates(stub, capacity.variant(NEW))
    stub.add_response("describe_endpoint", endpoint("InService", OLD), {"EndpointName": "mysfits-knn"})
    stub.add_response(
        "update_endpoint",
        {"EndpointArn": endpoint("", "")["EndpointArn"]},
        {"EndpointName": "mysfits-knn", "EndpointConfigName": NEW},
    )
    rolled_back = endpoint("InService", OLD, reason="The primary container for production variant failed pings")
    stub.add_response("describe_endpoint", rolled_back, {"EndpointName": "mysfits-knn"})
    with stub, pytest.raises(DeploymentError, match="rolled back to " + OLD + ": The primary container"):
        deploy_without_pauses(sm, capacity)
    stub.assert_no_pending_responses()


def test_waiting_reports_failure_reason(aws_env):
    sm, stub = stubbed_sagemaker()
    stub.add_response("describe_endpoint", endpoint("Creating", NEW), {"EndpointName": "mysfits-knn"})
    stub.add_response(
        "describe_endpoint",
        endpoint("Failed", NEW, reason="Image pull failed: access denied"),
        {"EndpointName": "mysfits-knn"},
    )
    out = io.StringIO()
    with stub, pytest.raises(DeploymentError, match="is Failed: Image pull failed: access denied"):
        wait_for_endpoint(sm, "mysfits-knn", report=lambda line: out.write(line + "\n"), sleep=lambda _: None)
    assert "Creating" in out.getvalue() and "Failed" in out.getvalue()


def test_waiting_gives_up_after_the_timeout(aws_env):
    sm, stub = stubbed_sagemaker()
    ticks = iter(range(0, 10_000, 600))
    for _ in range(4):
        stub.add_response("describe_endpoint", endpoint("Creating", NEW), {"EndpointName": "mysfits-knn"})
    with stub, pytest.raises(DeploymentError, match="still Creating after 1200 s"):
        wait_for_endpoint(
            sm,
            "mysfits-knn",
            report=lambda _: None,
            sleep=lambda _: None,
            clock=lambda: next(ticks),
            timeout_seconds=1200,
        )


def test_failed_endpoint_is_recreated_rather_than_updated(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime()
    expect_creates(stub, capacity.variant(NEW))
    stub.add_response("describe_endpoint", endpoint("Failed", OLD, reason="capacity"), {"EndpointName": "mysfits-knn"})
    stub.add_response("delete_endpoint", {}, {"EndpointName": "mysfits-knn"})
    stub.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint mysfits-knn")
    stub.add_response(
        "create_endpoint",
        {"EndpointArn": endpoint("", "")["EndpointArn"]},
        {"EndpointName": "mysfits-knn", "EndpointConfigName": NEW, "Tags": list(PROJECT_TAGS)},
    )
    stub.add_response("describe_endpoint", endpoint("InService", NEW), {"EndpointName": "mysfits-knn"})
    with stub:
        done = deploy_without_pauses(sm, capacity)
    stub.assert_no_pending_responses()
    assert done.created


def test_other_describe_errors_are_not_mistaken_for_a_missing_endpoint(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime()
    expect_creates(stub, capacity.variant(NEW))
    stub.add_client_error("describe_endpoint", "AccessDeniedException", "not authorized to sagemaker:DescribeEndpoint")
    with stub, pytest.raises(Exception, match="not authorized"):
        deploy(sm, "mysfits-knn", RESULT, ROLE, capacity, report=lambda _: None, now=NOW, wait=ANY)
