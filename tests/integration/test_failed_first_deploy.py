"""Issue 32, item 1: a first run whose API deploy fails, then the same command again.

The code, the SageMaker SDK and every boto3 client are real; moto answers the control plane (tests/iam/scenarios.py)
and a local endpoint answers sagemaker-runtime. `sam deploy` is stood in for by :class:`CloudFormationStandIn`,
which does to moto what CloudFormation does on an account, as AWS documents it:

- a create that fails rolls back to ROLLBACK_COMPLETE and keeps the resources whose DeletionPolicy is ``Retain``
  (RetainExceptOnCreate ones are deleted with the rest), read from the real template.yaml;
- a stack in ROLLBACK_COMPLETE cannot be updated: the change set is refused;
- a create with CreateApiGatewayLoggingRole=true makes a logging role and sets it as the region's.
"""

from __future__ import annotations

import pytest

from mysfits.aws.train_and_deploy import Toolkit, main
from tests.iam import scenarios
from tests.iam.policy import StackValues
from tests.integration.test_train_and_deploy import SAMCONFIG, api_stand_in
from tests.smoke_world import load_template

REGION = "eu-west-1"
STACK = "mysfits-recommendations"
ROOT = scenarios.ROOT


def _overrides(argv: list[str]) -> dict[str, str]:
    words = argv[argv.index("--parameter-overrides") + 1 :]
    words = words[: next((i for i, w in enumerate(words) if w.startswith("--")), len(words))]
    return dict(word.split("=", 1) for word in words)


class CloudFormationStandIn:
    """``sam build`` succeeds; ``sam deploy`` of the API stack fails its create while ``fail_creates`` is set."""

    def __init__(self, session, fail_creates: bool):
        self.session = session
        self.fail_creates = fail_creates
        self.attempts = 0
        self.deploys: list[list[str]] = []
        self.policy = load_template(ROOT / "template.yaml")["Resources"]["ChoicesTable"]["DeletionPolicy"]

    recorded: list | None = None
    """The recorder's list, if one runs: what the stand-in does is CloudFormation's work, not the deployer's calls."""

    def __call__(self, argv, cwd=None) -> int:
        start = len(self.recorded) if self.recorded is not None else 0
        try:
            return self._deploy(argv)
        finally:
            if self.recorded is not None:
                del self.recorded[start:]

    def _deploy(self, argv) -> int:
        if argv[1] != "deploy":
            return 0
        self.deploys.append(list(argv))
        cfn = self.session.client("cloudformation")
        existing = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == STACK]
        if any(s["StackStatus"] == "ROLLBACK_COMPLETE" for s in existing):
            return 1  # "Stack ... is in ROLLBACK_COMPLETE state and can not be updated."
        self.attempts += 1
        table = f"{STACK}-ChoicesTable-{self.attempts}"
        if _overrides(argv).get("CreateApiGatewayLoggingRole", "true") == "true":
            role = self.session.client("iam").create_role(
                RoleName=f"{STACK}-ApiGatewayLoggingRole-{self.attempts}", AssumeRolePolicyDocument="{}"
            )["Role"]["Arn"]
            self.session.client("apigateway").update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
            )  # Retain on both: they outlive even a failed create
        if self.fail_creates:
            if self.policy == "Retain":  # kept by the rollback; RetainExceptOnCreate is deleted with the stack
                _create_table(self.session, table)
            cfn.create_stack(StackName=STACK, TemplateBody=api_stand_in())
            _set_status(STACK, "ROLLBACK_COMPLETE")  # what a create that SAM did not delete leaves
            return 1
        _create_table(self.session, table)
        cfn.create_stack(StackName=STACK, TemplateBody=api_stand_in())
        return 0


def _create_table(session, name: str) -> None:
    session.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "recommendationId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "recommendationId", "KeyType": "HASH"}],
        Tags=[{"Key": "Project", "Value": "mythical-mysfits-recommendations"}],  # template.yaml's
    )


def write_model_files(session) -> None:
    """What the kNN container writes when its job completes (moto's jobs write nothing)."""
    sm, s3 = session.client("sagemaker"), session.client("s3")
    for summary in sm.list_training_jobs()["TrainingJobSummaries"]:
        url = sm.describe_training_job(TrainingJobName=summary["TrainingJobName"])["ModelArtifacts"]
        bucket, _, key = url["S3ModelArtifacts"].removeprefix("s3://").partition("/")
        s3.put_object(Bucket=bucket, Key=key, Body=b"model")


def _set_status(stack: str, status: str) -> None:
    from moto.cloudformation.models import cloudformation_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    (found,) = [s for s in cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].stacks.values() if s.name == stack]
    found.status = status


def _run(ws, runner, lines: list[str]) -> int:
    toolkit = Toolkit(
        session_factory=lambda region: ws.session,
        runner=runner,
        out=lines.append,
        sleep=lambda _: None,
        interactive=lambda: False,
    )
    argv = [
        "--mode", "sagemaker", "--region", REGION, "--notebook-stack", ws.values.stack_name, "--data", str(ws.data),
        "--sample-size", str(scenarios.SAMPLE_SIZE), "--samconfig", str(ws.tmp / "samconfig.toml"), "--no-logs",
        "--serverless", "--deploy-api",
    ]  # fmt: skip
    return main(argv, toolkit)


@pytest.mark.slow
def test_a_failed_first_deploy_is_run_again_and_leaves_nothing_behind(moto_session, tmp_path, capsys):
    values = StackValues(region=REGION, bucket="mysfits-notebook-databucket-test")
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    with scenarios.workspace(moto_session, values, tmp_path) as ws:
        first: list[str] = []
        assert _run(ws, CloudFormationStandIn(moto_session, fail_creates=True), first) == 2
        assert "sam deploy failed" in capsys.readouterr().err
        write_model_files(moto_session)
        second: list[str] = []
        runner = CloudFormationStandIn(moto_session, fail_creates=False)
        runner.attempts = 1
        assert _run(ws, runner, second) == 0, "\n".join(second)

    text = "\n".join(second)
    sm = moto_session.client("sagemaker")
    # The model was paid for once: the second run found the job by its inputs and the endpoint already serving it.
    jobs = sm.list_training_jobs()["TrainingJobSummaries"]
    assert len(jobs) == 1, text
    (job,) = jobs
    assert f"training job {job['TrainingJobName']} already trained these inputs" in text
    assert "endpoint mysfits-knn already serves" in text
    assert len(sm.list_models()["Models"]) == len(sm.list_endpoint_configs()["EndpointConfigs"]) == 1
    # The failed stack was deleted, saying why, and the create tried again.
    assert f"stack {STACK} is ROLLBACK_COMPLETE: its first create failed" in text
    assert f"deleted stack {STACK}" in text
    (stack,) = moto_session.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    # Nothing of the first attempt's is left: no empty table, and its logging role became the region's, reused.
    assert moto_session.client("dynamodb").list_tables()["TableNames"] == [f"{STACK}-ChoicesTable-2"]
    roles = [
        r["RoleName"] for r in moto_session.client("iam").list_roles()["Roles"] if "ApiGatewayLogging" in r["RoleName"]
    ]
    assert roles == [f"{STACK}-ApiGatewayLoggingRole-1"]
    assert _overrides(runner.deploys[-1])["CreateApiGatewayLoggingRole"] == "false"
    assert "logging role for this region is already" in text
    # No prompt waits for a terminal that is not there, and a failed create is deleted by SAM next time.
    assert {"--no-confirm-changeset", "--on-failure"} <= set(runner.deploys[-1])
