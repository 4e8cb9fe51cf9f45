"""Issue 33: `mysfits aws rollback` serves a kept endpoint config again and the API stack's ModelEncoding follows it;
clean-up still finds every kept config and model.

moto answers the control plane (with UpdateEndpoint added, tests/moto_update_endpoint.py); the API stack is a
stand-in with template.yaml's encoding parameter, since moto cannot deploy the real template. The states moto never
enters (an update SageMaker rolls back, a change set that fails) and the order of the calls are checked with
botocore's Stubber on a real client.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import ANY, Stubber

from mysfits import samconfig
from mysfits.aws import cleanup, rollback, sagemaker_endpoint
from mysfits.aws.sagemaker_endpoint import RealTime, Serverless, deploy
from mysfits.aws.sagemaker_job import TrainingResult
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.moto_update_endpoint import moto_update_endpoint

ROLE = "arn:aws:iam::123456789012:role/mysfits-notebook"
STACK = "mysfits-recommendations"
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def _trained(n: int, encoding: str) -> TrainingResult:
    job = f"mysfits-knn-2026-03-0{n}-00-00-00-000"
    return TrainingResult(
        job_name=job,
        model_data_url=f"s3://mysfits-bucket/mysfits-knn/output/{job}/output/model.tar.gz",
        image_uri="438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1",
        encoding=encoding,
    )


def api_stand_in() -> str:
    """template.yaml's encoding and endpoint parameters and a resource that uses the encoding (moto cannot deploy the
    real template)."""
    return json.dumps(
        {
            "Parameters": {
                "ModelEncoding": {"Type": "String", "AllowedValues": ["ordinal", "one-hot"]},
                "SageMakerEndpointName": {"Type": "String"},
                "LogLevel": {"Type": "String"},
            },
            # As the function's MODEL_ENCODING does, a property that takes the parameter: a change set then has a
            # change to make.
            "Resources": {
                "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "ModelEncoding"}}}
            },
        }
    )


def _parameters(cfn) -> dict[str, str]:
    (stack,) = cfn.describe_stacks(StackName=STACK)["Stacks"]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


@pytest.fixture
def change_sets_keep_their_parameters(monkeypatch):
    """moto's ExecuteChangeSet updates the resources but not the parameters it compares the next change set with,
    so a second change of the same parameter is refused as "no changes"; CloudFormation compares with what it
    deployed. This keeps moto's record in step with what it applied."""
    from moto.cloudformation.models import ChangeSet

    applied = ChangeSet.apply

    def apply(self) -> None:
        applied(self)
        self.stack.parameters = dict(self.parameters)

    monkeypatch.setattr(ChangeSet, "apply", apply)


@pytest.fixture
def world(moto_session, tmp_path, change_sets_keep_their_parameters):
    """Three promotions in place on a real-time endpoint (ordinal, one-hot, one-hot), the API stack deployed for the
    last, and samconfig.toml as train_and_deploy leaves it."""
    sm, cfn = moto_session.client("sagemaker"), moto_session.client("cloudformation")
    with moto_update_endpoint():
        served = [
            deploy(sm, "mysfits-knn", _trained(n, enc), ROLE, RealTime(), report=lambda _: None,
                   now=T0 + timedelta(days=n))
            for n, enc in ((1, "ordinal"), (2, "one-hot"), (3, "one-hot"))
        ]  # fmt: skip
        cfn.create_stack(
            StackName=STACK,
            TemplateBody=api_stand_in(),
            Parameters=[
                {"ParameterKey": "ModelEncoding", "ParameterValue": "one-hot"},
                {"ParameterKey": "SageMakerEndpointName", "ParameterValue": "mysfits-knn"},
                {"ParameterKey": "LogLevel", "ParameterValue": "DEBUG"},
            ],
        )
        config = tmp_path / "samconfig.toml"
        config.write_text('version = 0.1\n[default.deploy.parameters]\nstack_name = "mysfits-recommendations"\n')
        samconfig.set_model(config, "mysfits-knn", "one-hot")
        yield moto_session, [d.endpoint_config_name for d in served], config


def _run(session, config, *argv):
    lines: list[str] = []
    code = rollback.main(
        ["--region", REGION, "--samconfig", str(config), *argv], session=session, sleep=lambda _: None, out=lines.append
    )
    return code, lines


def test_an_update_in_place_keeps_the_configs_it_replaced(world):
    session, served, _config = world
    sm = session.client("sagemaker")
    kept = rollback.kept_configs(sm, "mysfits-knn")
    assert [c.name for c in kept] == served[::-1]
    assert [c.variant.split("-")[0] for c in kept] == ["one", "one", "ordinal"]
    assert {c.model for c in kept} == {m["ModelName"] for m in sm.list_models()["Models"]}


def test_rolling_back_twice_serves_each_earlier_model_and_the_api_encoding_follows(world, capsys):
    session, served, config = world
    sm, cfn = session.client("sagemaker"), session.client("cloudformation")
    with moto_update_endpoint():
        code, lines = _run(session, config)  # undo the last promotion: the second, also one-hot
        assert code == 0, (lines, capsys.readouterr().err)
        assert sm.describe_endpoint(EndpointName="mysfits-knn")["EndpointConfigName"] == served[1]
        assert "stack mysfits-recommendations already encodes one-hot: left as it is" in lines
        assert _parameters(cfn)["ModelEncoding"] == "one-hot"

        code, lines = _run(session, config)  # and the one before: the first model, ordinal
        assert code == 0, (lines, capsys.readouterr().err)
        assert sm.describe_endpoint(EndpointName="mysfits-knn")["EndpointConfigName"] == served[0]
        parameters = _parameters(cfn)
        assert parameters == {"ModelEncoding": "ordinal", "SageMakerEndpointName": "mysfits-knn", "LogLevel": "DEBUG"}
        assert samconfig.read_overrides(config)["ModelEncoding"] == "ordinal"
        assert any(line.startswith("updating stack mysfits-recommendations: ModelEncoding one-hot -> ordinal")
                   for line in lines)  # fmt: skip
        assert lines[-1].endswith(f"`mysfits aws rollback {served[1]}` undoes this")

        # Undo the undo, by name: forward to the newest model, and the encoding comes back with it.
        code, lines = _run(session, config, served[2])
        assert code == 0, lines
        assert sm.describe_endpoint(EndpointName="mysfits-knn")["EndpointConfigName"] == served[2]
        assert _parameters(cfn)["ModelEncoding"] == "one-hot"
    # Nothing was deleted on the way: every promotion's config and model are still there to go back to.
    assert len(rollback.kept_configs(sm, "mysfits-knn")) == 3


def test_the_list_and_a_dry_run_change_nothing(world):
    session, served, config = world
    sm = session.client("sagemaker")
    code, lines = _run(session, config, "--list")
    assert code == 0
    assert [line.split()[0] for line in lines] == ["serving", "kept", "kept"]
    assert served[2] in lines[0] and served[0] in lines[2] and "real-time" in lines[2]
    code, lines = _run(session, config, "--dry-run", "ordinal")
    assert code == 0 and lines[-1] == "dry run: nothing changed"
    assert f"-> {served[0]}" in lines[0] and "ModelEncoding -> ordinal" in lines[0]
    assert sm.describe_endpoint(EndpointName="mysfits-knn")["EndpointConfigName"] == served[2]


def test_unknown_or_serving_versions_are_refused_naming_the_kept_ones(world, capsys):
    session, served, config = world
    assert _run(session, config, "nope")[0] == 1
    assert "no kept config 'nope' for this endpoint; kept: one-hot-" in capsys.readouterr().err
    assert _run(session, config, served[2])[0] == 1
    assert "is what the endpoint serves now" in capsys.readouterr().err


def test_without_an_endpoint_there_is_nothing_to_roll_back(moto_session, tmp_path, capsys):
    config = tmp_path / "samconfig.toml"
    code, lines = _run(moto_session, config, "--list")
    assert code == 0 and lines == [f"no configs kept for endpoint mysfits-knn in {REGION}"]
    assert _run(moto_session, config)[0] == 1
    assert f"endpoint mysfits-knn does not exist in {REGION}" in capsys.readouterr().err


def test_cleanup_still_finds_every_kept_config_and_model(world):
    session, served, _config = world
    sm = session.client("sagemaker")
    found = cleanup.find_project_resources(sm)
    by_kind = {}
    for resource in found:
        by_kind.setdefault(resource.kind.name_key, set()).add(resource.name)
    assert by_kind["EndpointConfigName"] == set(served)
    assert by_kind["ModelName"] == set(served)
    assert by_kind["EndpointName"] == {"mysfits-knn"}
    cleanup.delete_resources(sm, found, report=lambda _: None)
    assert sm.list_endpoint_configs()["EndpointConfigs"] == [] and sm.list_models()["Models"] == []


# --- Stubber: the order of the calls, and the refusals that change nothing.


def _described(config: str, status: str = "InService", serverless: bool = False, reason: str | None = None) -> dict:
    variant = {"VariantName": "x", "CurrentServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
    if not serverless:
        variant = {"VariantName": "x", "CurrentInstanceCount": 1}
    answer = {
        "EndpointName": "mysfits-knn",
        "EndpointArn": f"arn:aws:sagemaker:{REGION}:1:endpoint/mysfits-knn",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "ProductionVariants": [variant],
        "CreationTime": T0,
        "LastModifiedTime": T0,
    }
    if reason:
        answer["FailureReason"] = reason
    return answer


ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/mysfits-knn"
TARGET = rollback.KeptConfig("mysfits-knn-20260301-000000", T0, "ordinal-0123456789ab", "m", serverless=False)


def _stubbed(service: str):
    client = boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_the_endpoint_changes_first_then_the_stacks_encoding_alone(fake_aws_env):
    sm, sm_stub = _stubbed("sagemaker")
    cfn, cfn_stub = _stubbed("cloudformation")
    sm_stub.add_response(
        "describe_endpoint", _described("mysfits-knn-20260303-000000"), {"EndpointName": "mysfits-knn"}
    )
    sm_stub.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {"EndpointName": "mysfits-knn", "EndpointConfigName": TARGET.name},
    )
    sm_stub.add_response("describe_endpoint", _described(TARGET.name, "Updating"), {"EndpointName": "mysfits-knn"})
    sm_stub.add_response("describe_endpoint", _described(TARGET.name), {"EndpointName": "mysfits-knn"})
    stack = {"StackName": STACK, "CreationTime": T0, "StackStatus": "UPDATE_COMPLETE"}
    params = [{"ParameterKey": "ModelEncoding", "ParameterValue": "one-hot"},
              {"ParameterKey": "AlarmEmail", "ParameterValue": "ops@example.com"}]  # fmt: skip
    cfn_stub.add_response("describe_stacks", {"Stacks": [{**stack, "Parameters": params}]}, {"StackName": STACK})
    cfn_stub.add_response(
        "create_change_set",
        {"Id": "cs"},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "UsePreviousTemplate": True,
            "Parameters": [
                {"ParameterKey": "ModelEncoding", "ParameterValue": "ordinal"},
                {"ParameterKey": "AlarmEmail", "UsePreviousValue": True},
            ],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Description": ANY,
        },
    )
    for status in ("CREATE_PENDING", "CREATE_COMPLETE"):
        cfn_stub.add_response("describe_change_set", {"Status": status, "ChangeSetName": "cs"}, None)
    cfn_stub.add_response("execute_change_set", {}, None)
    for status in ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"):
        cfn_stub.add_response("describe_stacks", {"Stacks": [{**stack, "StackStatus": status}]}, {"StackName": STACK})
    lines: list[str] = []
    with sm_stub, cfn_stub:
        done = rollback.rollback(
            sm, cfn, "mysfits-knn", STACK, TARGET, samconfig_path=None, report=lines.append, sleep=lambda _: None
        )
    sm_stub.assert_no_pending_responses()
    cfn_stub.assert_no_pending_responses()
    assert done.stack_updated and done.previous == "mysfits-knn-20260303-000000"


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        (_described("mysfits-knn-20260303-000000", "Updating"), "is Updating; a rollback updates an InService"),
        (_described("mysfits-knn-20260303-000000", serverless=True), "UpdateEndpoint cannot switch"),
    ],
    ids=["not-in-service", "other-kind"],
)
def test_a_rollback_that_cannot_be_done_changes_nothing(fake_aws_env, endpoint, message):
    sm, sm_stub = _stubbed("sagemaker")
    cfn, cfn_stub = _stubbed("cloudformation")
    sm_stub.add_response("describe_endpoint", endpoint, {"EndpointName": "mysfits-knn"})
    with sm_stub, cfn_stub, pytest.raises(rollback.RollbackError, match=message):
        rollback.rollback(sm, cfn, "mysfits-knn", STACK, TARGET, samconfig_path=None, report=print)
    sm_stub.assert_no_pending_responses()  # no UpdateEndpoint was sent, and no stack call (the stub has none)


def test_an_update_sagemaker_rolls_back_leaves_the_api_alone(fake_aws_env):
    sm, sm_stub = _stubbed("sagemaker")
    cfn, cfn_stub = _stubbed("cloudformation")
    sm_stub.add_response(
        "describe_endpoint", _described("mysfits-knn-20260303-000000"), {"EndpointName": "mysfits-knn"}
    )
    sm_stub.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN}, None)
    reason = "The primary container for production variant x did not pass the ping health check"
    sm_stub.add_response(
        "describe_endpoint", _described("mysfits-knn-20260303-000000", reason=reason), {"EndpointName": "mysfits-knn"}
    )
    with sm_stub, cfn_stub, pytest.raises(rollback.RollbackError, match=r"went back to .*ping health check.*as it was"):
        rollback.rollback(sm, cfn, "mysfits-knn", STACK, TARGET, samconfig_path=None, report=print)


def test_a_serverless_endpoint_rolls_back_to_a_serverless_config_only(moto_session, tmp_path):
    sm = moto_session.client("sagemaker")
    with moto_update_endpoint():
        first = deploy(sm, "mysfits-knn", _trained(1, "ordinal"), ROLE, RealTime(), report=lambda _: None, now=T0)
        for n in (2, 3):
            deploy(sm, "mysfits-knn", _trained(n, "ordinal"), ROLE, Serverless(2048), report=lambda _: None,
                   now=T0 + timedelta(days=n))  # fmt: skip
        kept = rollback.kept_configs(sm, "mysfits-knn")
        # The switch to serverless rebuilt the endpoint and retired the real-time config, as before.
        assert first.endpoint_config_name not in {c.name for c in kept}
        assert [c.serverless for c in kept] == [True, True]
        assert sagemaker_endpoint.KEPT_CONFIGS >= 1
