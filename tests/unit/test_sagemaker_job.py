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
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from mysfits.aws import PROJECT_TAGS, sagemaker_endpoint
from mysfits.aws.sagemaker_endpoint import (
    RealTime,
    Serverless,
    deploy,
    wait_for_endpoint,
    wait_for_endpoint_deleted,
)
from mysfits.aws.sagemaker_job import (
    DeploymentError,
    TrainingResult,
    TrainingSpec,
    resource_names,
    training_csv,
    upload_channel,
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


def test_one_hot_training_csv_and_feature_dim_match():
    X = np.array([[1, 2, 3, 4, 5]], dtype=np.uint8)
    row = training_csv(X, np.array([7], dtype=np.uint8), "one-hot").decode().strip().split(",")
    assert row[0] == "7" and len(row) == 41
    assert [i for i, v in enumerate(row[1:]) if v == "1"] == [0, 9, 18, 27, 36]
    spec = TrainingSpec(region="us-east-1", role_arn="arn", bucket="b", base_job_name="mysfits-knn", encoding="one-hot")
    assert spec.hyperparameters()["feature_dim"] == 40 == len(row) - 1
    assert (
        TrainingSpec(region="us-east-1", role_arn="arn", bucket="b", base_job_name="x").hyperparameters()["feature_dim"]
        == 5
    )


def test_training_csv_puts_the_label_first():
    X = np.array([[1, 2, 3, 4, 5], [8, 7, 6, 5, 4]], dtype=np.uint8)
    y = np.array([11, 0], dtype=np.uint8)
    assert training_csv(X, y) == b"11,1,2,3,4,5\n0,8,7,6,5,4\n"
    with pytest.raises(ValueError, match="expected n x 5 answers"):
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
    serverless = Serverless(3072, 10).variant("m", "ordinal-0123456789ab")
    assert serverless["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 10}
    assert RealTime("ml.c5.large").variant("m", "ordinal-0123456789ab")["InstanceType"] == "ml.c5.large"


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
    expect_config_described(stub, NEW, capacity_variant)


def expect_config_described(stub: Stubber, name: str, variant: dict) -> None:
    stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": name,
            "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint-config/{name}",
            "ProductionVariants": [variant],
            "CreationTime": NOW,
        },
        {"EndpointConfigName": name},
    )


def serving(status: str, config: str, *, serverless: bool, reason: str | None = None) -> dict:
    """An endpoint description with its variant, which tells real-time from serverless capacity."""
    variant: dict = {"VariantName": "AllTraffic"}
    if serverless:
        variant["CurrentServerlessConfig"] = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    else:
        variant["CurrentInstanceCount"] = 1
    return {**endpoint(status, config, reason), "ProductionVariants": [variant]}


def expect_endpoint(stub: Stubber, description: dict) -> None:
    stub.add_response("describe_endpoint", description, {"EndpointName": "mysfits-knn"})


def expect_endpoint_gone(stub: Stubber) -> None:
    stub.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint mysfits-knn.")


def expect_create_endpoint(stub: Stubber) -> None:
    stub.add_response(
        "create_endpoint",
        {"EndpointArn": endpoint("", "")["EndpointArn"]},
        {"EndpointName": "mysfits-knn", "EndpointConfigName": NEW, "Tags": list(PROJECT_TAGS)},
    )


def expect_update_endpoint(stub: Stubber) -> None:
    stub.add_response(
        "update_endpoint",
        {"EndpointArn": endpoint("", "")["EndpointArn"]},
        {"EndpointName": "mysfits-knn", "EndpointConfigName": NEW},
    )


def expect_retired(stub: Stubber, config: str, variant: dict) -> None:
    expect_config_described(stub, config, variant)
    stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": config})
    stub.add_response("delete_model", {}, {"ModelName": config})


def expect_new_ones_deleted(stub: Stubber) -> None:
    stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": NEW})
    stub.add_response("delete_model", {}, {"ModelName": NEW})


def deploy_without_pauses(sm, capacity, lines: list[str] | None = None, sleeps: list[float] | None = None):
    """Deploy with the real waiters, recording their sleeps, so the stubbed answers drive every wait."""
    return deploy(
        sm,
        "mysfits-knn",
        RESULT,
        ROLE,
        capacity,
        report=(lines if lines is not None else []).append,
        now=NOW,
        sleep=(sleeps if sleeps is not None else []).append,
    )


def expect_configs_listed(stub: Stubber, names: list[str]) -> None:
    """ListEndpointConfigs answering ``names`` (newest first), one page, with another endpoint's config among them."""
    summaries = [
        {"EndpointConfigName": name, "EndpointConfigArn": f"arn:aws:sagemaker:eu-west-1:1:endpoint-config/{name}",
         "CreationTime": datetime.strptime(name[-15:], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)}
        for name in [*names, "mysfits-knn-two-20260101-000000"]
    ]  # fmt: skip
    stub.add_response(
        "list_endpoint_configs",
        {"EndpointConfigs": summaries},
        {"NameContains": "mysfits-knn", "SortBy": "CreationTime", "SortOrder": "Descending"},
    )


def test_existing_endpoint_is_updated_in_place_and_the_old_config_kept_for_a_rollback(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime("ml.m5.large")
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    expect_endpoint(stub, serving("InService", OLD, serverless=False))
    expect_update_endpoint(stub)
    expect_endpoint(stub, endpoint("Updating", OLD))
    expect_endpoint(stub, endpoint("InService", NEW))
    expect_configs_listed(stub, [NEW, OLD])
    lines: list[str] = []
    sleeps: list[float] = []
    with stub:
        done = deploy_without_pauses(sm, capacity, lines, sleeps)
    stub.assert_no_pending_responses()
    assert not done.created and done.replaced_config == OLD and done.retired == ()
    assert sleeps == [30.0]
    assert [line for line in lines if "endpoint mysfits-knn:" in line] == [
        "  endpoint mysfits-knn: Updating (0 s)",
        "  endpoint mysfits-knn: InService (0 s)",
    ]


def test_an_update_keeps_the_newest_earlier_configs_and_retires_the_rest(aws_env):
    """Issue 33: the three configs before the new one stay for `mysfits aws rollback`; older ones and their models
    go, and the project's other endpoints' configs are never touched."""
    sm, stub = stubbed_sagemaker()
    capacity = RealTime("ml.m5.large")
    earlier = [f"mysfits-knn-2025120{day}-000000" for day in (5, 4, 3, 2, 1)]
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    expect_endpoint(stub, serving("InService", earlier[0], serverless=False))
    expect_update_endpoint(stub)
    expect_endpoint(stub, endpoint("InService", NEW))
    expect_configs_listed(stub, [NEW, *earlier])
    for old in earlier[3:]:
        expect_retired(stub, old, {"VariantName": "ordinal-0123456789ab", "ModelName": old})
    lines: list[str] = []
    with stub:
        done = deploy_without_pauses(sm, capacity, lines)
    stub.assert_no_pending_responses()
    assert done.retired == (earlier[3], earlier[3], earlier[4], earlier[4])
    assert sagemaker_endpoint.KEPT_CONFIGS == 3


def test_update_that_rolls_back_is_an_error_and_deletes_the_new_config_and_model(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime()
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    expect_endpoint(stub, serving("InService", OLD, serverless=False))
    expect_update_endpoint(stub)
    reason = "The primary container for production variant failed pings"
    expect_endpoint(stub, endpoint("InService", OLD, reason=reason))
    # The undo looks at the endpoint once more: it still serves the old config, so the new pair goes.
    expect_endpoint(stub, endpoint("InService", OLD))
    expect_new_ones_deleted(stub)
    lines: list[str] = []
    with stub, pytest.raises(DeploymentError, match="rolled back to " + OLD + ": The primary container"):
        deploy_without_pauses(sm, capacity, lines)
    stub.assert_no_pending_responses()
    assert f"deleted the new endpoint config {NEW}, since the deployment failed" in lines


@pytest.mark.parametrize(
    ("was_serverless", "capacity"),
    [(False, Serverless(2048)), (True, RealTime("ml.m5.large"))],
    ids=["to-serverless", "to-real-time"],
)
def test_switching_capacity_kind_deletes_and_recreates_under_the_same_name(aws_env, was_serverless, capacity):
    """SageMaker refuses UpdateEndpoint from real-time to serverless, so the endpoint is rebuilt, with a warning."""
    sm, stub = stubbed_sagemaker()
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    expect_endpoint(stub, serving("InService", OLD, serverless=was_serverless))
    stub.add_response("delete_endpoint", {}, {"EndpointName": "mysfits-knn"})
    expect_endpoint(stub, endpoint("Deleting", OLD))
    expect_endpoint_gone(stub)
    expect_create_endpoint(stub)
    expect_endpoint(stub, endpoint("Creating", NEW))
    expect_endpoint(stub, endpoint("InService", NEW))
    old_variant = Serverless().variant(OLD, "AllTraffic") if was_serverless else RealTime().variant(OLD, "AllTraffic")
    expect_retired(stub, OLD, old_variant)
    lines: list[str] = []
    with stub:
        done = deploy_without_pauses(sm, capacity, lines)
    stub.assert_no_pending_responses()
    assert done.created and done.replaced_config == OLD and done.retired == (OLD, OLD)
    warning = next(line for line in lines if "cannot update" in line)
    assert "deleted and created again under the same name" in warning and "the API answers 5xx" in warning
    assert "  endpoint mysfits-knn: deleted (0 s)" in lines


def test_switching_capacity_kind_under_moto_leaves_one_endpoint_of_the_new_kind(aws_env):
    with mock_aws():
        sm = boto3.client("sagemaker", region_name=REGION)
        first = deploy(sm, "mysfits-knn", RESULT, ROLE, RealTime(), report=lambda _: None, now=NOW)
        later = datetime(2026, 1, 3, tzinfo=timezone.utc)
        lines: list[str] = []
        second = deploy(sm, "mysfits-knn", RESULT, ROLE, Serverless(1024), report=lines.append, now=later)
        assert second.created and second.replaced_config == first.endpoint_config_name
        described = sm.describe_endpoint(EndpointName="mysfits-knn")
        assert described["EndpointConfigName"] == second.endpoint_config_name
        assert "CurrentServerlessConfig" in described["ProductionVariants"][0]
        configs = [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
        models = [m["ModelName"] for m in sm.list_models()["Models"]]
        assert configs == models == [second.endpoint_config_name]


def test_a_config_not_yet_visible_is_retried_with_a_bounded_backoff(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = Serverless()
    not_found = (
        f'Could not find endpoint configuration "arn:aws:sagemaker:{REGION}:123456789012:endpoint-config/{NEW}".'
    )
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    expect_endpoint_gone(stub)
    stub.add_client_error("create_endpoint", "ValidationException", not_found)
    stub.add_client_error("create_endpoint", "ValidationException", not_found)
    expect_create_endpoint(stub)
    expect_endpoint(stub, endpoint("InService", NEW))
    sleeps: list[float] = []
    lines: list[str] = []
    with stub:
        done = deploy_without_pauses(sm, capacity, lines, sleeps)
    stub.assert_no_pending_responses()
    assert done.created
    assert sleeps == [1.0, 2.0]
    assert sum("not visible to SageMaker yet" in line for line in lines) == 2


def test_a_config_that_never_becomes_visible_gives_up_and_deletes_what_it_made(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = Serverless()
    stub.add_response("create_model", {"ModelArn": f"arn:aws:sagemaker:{REGION}:123456789012:model/{NEW}"})
    stub.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint-config/{NEW}"},
    )
    for _ in range(6):
        stub.add_client_error(
            "describe_endpoint_config", "ValidationException", "Could not find endpoint configuration"
        )
    expect_endpoint_gone(stub)
    expect_new_ones_deleted(stub)
    sleeps: list[float] = []
    with stub, pytest.raises(ClientError, match="Could not find endpoint configuration"):
        deploy_without_pauses(sm, capacity, sleeps=sleeps)
    stub.assert_no_pending_responses()
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 15.0]


def test_other_validation_errors_are_not_retried(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = Serverless()
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    expect_endpoint_gone(stub)
    stub.add_client_error("create_endpoint", "ResourceLimitExceeded", "account-level service limit")
    expect_endpoint_gone(stub)
    expect_new_ones_deleted(stub)
    sleeps: list[float] = []
    with stub, pytest.raises(ClientError, match="service limit"):
        deploy_without_pauses(sm, capacity, sleeps=sleeps)
    stub.assert_no_pending_responses()
    assert sleeps == []


def test_a_new_endpoint_that_fails_is_deleted_with_its_config_and_model(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime()
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    expect_endpoint_gone(stub)
    expect_create_endpoint(stub)
    failed = endpoint("Failed", NEW, reason="Image pull failed: access denied")
    expect_endpoint(stub, failed)
    expect_endpoint(stub, failed)
    stub.add_response("delete_endpoint", {}, {"EndpointName": "mysfits-knn"})
    expect_endpoint_gone(stub)
    expect_new_ones_deleted(stub)
    lines: list[str] = []
    with stub, pytest.raises(DeploymentError, match="is Failed: Image pull failed"):
        deploy_without_pauses(sm, capacity, lines)
    stub.assert_no_pending_responses()
    assert "deleting the failed endpoint mysfits-knn" in lines


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


def test_a_delete_that_fails_is_reported_rather_than_waited_on_forever(aws_env):
    sm, stub = stubbed_sagemaker()
    expect_endpoint(stub, endpoint("Deleting", OLD))
    expect_endpoint(stub, endpoint("Failed", OLD, reason="delete failed"))
    with stub, pytest.raises(DeploymentError, match="is Failed: delete failed"):
        wait_for_endpoint_deleted(sm, "mysfits-knn", report=lambda _: None, sleep=lambda _: None)


def test_failed_endpoint_is_recreated_rather_than_updated(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime()
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    expect_endpoint(stub, endpoint("Failed", OLD, reason="capacity"))
    stub.add_response("delete_endpoint", {}, {"EndpointName": "mysfits-knn"})
    expect_endpoint_gone(stub)
    expect_create_endpoint(stub)
    expect_endpoint(stub, endpoint("InService", NEW))
    with stub:
        done = deploy_without_pauses(sm, capacity)
    stub.assert_no_pending_responses()
    assert done.created


def test_other_describe_errors_are_not_mistaken_for_a_missing_endpoint(aws_env):
    sm, stub = stubbed_sagemaker()
    capacity = RealTime()
    expect_creates(stub, capacity.variant(NEW, RESULT.variant_name))
    stub.add_client_error("describe_endpoint", "AccessDeniedException", "not authorized to sagemaker:DescribeEndpoint")
    stub.add_client_error("describe_endpoint", "AccessDeniedException", "not authorized to sagemaker:DescribeEndpoint")
    lines: list[str] = []
    with stub, pytest.raises(ClientError, match="not authorized"):
        deploy_without_pauses(sm, capacity, lines)
    assert any("scripts/cleanup.py removes everything" in line for line in lines)


def test_the_variant_is_named_after_the_encoding_and_the_model():
    """The team's convention, ``<encoding>-<first 12 hex of a model hash>``, within botocore's VariantName rule."""
    import re

    import botocore.session

    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("VariantName")
    name = RESULT.variant_name
    assert re.fullmatch(shape.metadata["pattern"], name) and len(name) <= shape.metadata["max"], name
    assert re.fullmatch(r"ordinal-[0-9a-f]{12}", name), name
    one_hot = TrainingResult(RESULT.job_name, RESULT.model_data_url, RESULT.image_uri, encoding="one-hot")
    assert one_hot.variant_name.startswith("one-hot-") and one_hot.variant_name[-12:] == name[-12:]
    other = TrainingResult("j2", RESULT.model_data_url.replace("00-000", "00-001"), RESULT.image_uri)
    assert other.variant_name != name, "another training job's model gets another name"
    assert RealTime().variant("m", name)["VariantName"] == name


def test_a_deploy_stamped_in_the_same_second_never_retires_the_config_it_serves(aws_env):
    """Two deploys within one second share their resource names (moto accepts the second create); the
    switch must not then delete the config that the new endpoint serves as if it were the old one."""
    with mock_aws():
        sm = boto3.client("sagemaker", region_name=REGION)
        deploy(sm, "mysfits-knn", RESULT, ROLE, RealTime(), report=lambda _: None, now=NOW)
        second = deploy(sm, "mysfits-knn", RESULT, ROLE, Serverless(1024), report=lambda _: None, now=NOW)
        served = sm.describe_endpoint(EndpointName="mysfits-knn")["EndpointConfigName"]
        assert served == second.endpoint_config_name
        assert sm.describe_endpoint_config(EndpointConfigName=served)["ProductionVariants"]
        assert second.retired == ()
