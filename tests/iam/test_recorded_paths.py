"""The paths a real account takes and moto alone does not (issue 18): each is recorded from the SDK's or the SAM
CLI's own code, and the deployer policy must allow every call on it. A future SDK or SAM CLI that calls something
new on one of these paths fails here, before it fails a user's first redeploy or first training run."""

from __future__ import annotations

import json

import pytest

from tests.iam import deployer_permissions as generator
from tests.iam import scenarios
from tests.iam.authorization import checks_for
from tests.iam.policy import StackValues, decide
from tests.iam.sagemaker_service import caller_checks
from tests.integration.test_train_and_deploy import SAMCONFIG


def _policy_actions() -> set[str]:
    return {a for s in json.loads(generator.POLICY.read_text())["Statement"] for a in s["Action"]}


def _missing(calls) -> set[str]:
    """Each check of each call (the caller's, such as PassRole, included) that the scoped policy does not allow."""
    policy = json.loads(generator.POLICY.read_text())
    checks = [check for call in calls for check in checks_for(call) + caller_checks(call)]
    return {f"{c.action} on {c.resource}" for c in checks if decide(policy, c) != "Allow"}


def test_sam_redeploy_reads_the_template_summary_and_a_rollback_is_reported(moto_session):
    calls = generator.sam_deploy_calls(moto_session)
    operations = [c.operation for c in calls]
    # The second deploy is an update: SAM reads the deployed template's parameters before its change set.
    assert "GetTemplateSummary" in operations
    # Four change sets: SAM's managed bucket stack, the first deploy, the redeploy, the refused website create.
    assert operations.count("CreateChangeSet") == 4
    assert operations.index("GetTemplateSummary") > operations.index("ExecuteChangeSet")
    assert not _missing(calls), "the deployer policy lacks what sam deploy calls"


def test_a_refused_website_create_is_deleted_by_sam_with_the_deployers_rights(moto_session):
    calls = generator.sam_deploy_calls(moto_session)
    deletes = [c for c in calls if c.operation == "DeleteStack"]
    assert [c.params["StackName"] for c in deletes] == ["mysfits-recommendations-website"]
    assert not _missing(calls), "the deployer policy lacks what sam deploy --on-failure DELETE calls"


def test_training_with_log_streams_present_reads_the_log_events(moto_session, tmp_path):
    values = StackValues(region=generator.REGION, bucket="mysfits-notebook-databucket-test")
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    with scenarios.workspace(moto_session, values, tmp_path) as ws, scenarios.training_logs_present():
        calls = scenarios.train_and_deploy(ws, logs=True)
    operations = {(c.service, c.operation) for c in calls}
    assert ("logs", "DescribeLogStreams") in operations
    assert ("logs", "GetLogEvents") in operations, "the SDK streams the job's log once a stream exists"
    assert not _missing(calls), "the deployer policy lacks what the training run calls"


@pytest.mark.parametrize("action", ["logs:GetLogEvents", "cloudformation:GetTemplateSummary"])
def test_the_policy_allows_what_the_first_review_found_missing(action):
    assert action in _policy_actions()


def test_no_iam_lambda_or_s3_write_and_no_passrole_on_every_resource():
    """Issue 18: whoever holds the deployer policy must not be able to make themselves an administrator."""
    for statement in json.loads(generator.POLICY.read_text())["Statement"]:
        for action in statement["Action"]:
            service = action.split(":")[0]
            if service in {"iam", "lambda", "s3"} and statement["Resource"] == "*":
                assert generator.access_level(action) in {"Read", "List"}, f"{action} on *"
                assert action != "iam:PassRole"
    (pass_role,) = [s for s in json.loads(generator.POLICY.read_text())["Statement"] if "iam:PassRole" in s["Action"]]
    assert pass_role["Action"] == ["iam:PassRole"]
    assert all(r.startswith("arn:aws:iam::*:role/mysfits-") for r in pass_role["Resource"])
    assert set(pass_role["Condition"]["StringEquals"]["iam:PassedToService"]) <= {
        "apigateway.amazonaws.com", "lambda.amazonaws.com", "sagemaker.amazonaws.com",
    }  # fmt: skip


def test_the_scoped_policy_refuses_other_roles_and_buckets():
    from tests.iam.authorization import Check

    policy = json.loads(generator.POLICY.read_text())
    admin = Check("iam:PassRole", "arn:aws:iam::1:role/Admin", "", (("iam:PassedToService", "lambda.amazonaws.com"),))
    ours = Check("iam:PassRole", "arn:aws:iam::1:role/mysfits-notebook-Role-1", "", admin.context)
    to_ec2 = Check("iam:PassRole", ours.resource, "", (("iam:PassedToService", "ec2.amazonaws.com"),))
    assert (decide(policy, admin), decide(policy, ours), decide(policy, to_ec2)) == (
        "ImplicitDeny",
        "Allow",
        "ImplicitDeny",
    )
    assert decide(policy, Check("iam:AttachRolePolicy", "arn:aws:iam::1:role/Admin", "")) == "ImplicitDeny"
    assert decide(policy, Check("s3:PutObject", "arn:aws:s3:::someone-elses/key", "")) == "ImplicitDeny"
    assert decide(policy, Check("s3:PutObject", "arn:aws:s3:::mysfits-notebook-databucket-x/key", "")) == "Allow"


@pytest.mark.slow
@pytest.mark.xdist_group("iam-recording")  # shares the recording with test_the_committed_lists_are_up_to_date
def test_every_recorded_call_is_allowed_by_the_scoped_policy(moto_session, tmp_path):
    """sam deploy (first, redeploy, rollback), train_and_deploy --deploy-api --deploy-web, cleanup --delete-stacks and
    the smoke run: the scoped policy allows each of their calls on the resources they name."""
    calls = [call for _, recorded in generator.recorded_calls(moto_session, tmp_path) for call in recorded]
    assert len(calls) > 100
    assert not _missing(calls)


@pytest.mark.slow
def test_a_failed_first_create_then_the_same_command_again_is_allowed(moto_session, tmp_path):
    """Issue 32: the README's path on a new account whose API create fails, then the retry, then --delete-data."""
    values = StackValues(region=generator.REGION, bucket="mysfits-notebook-databucket-test")
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    with scenarios.workspace(moto_session, values, tmp_path, notebook_stack=False) as ws:
        calls = generator.failed_create_then_retry_calls(moto_session, ws, tmp_path)
    operations = [(c.service, c.operation, c.params.get("StackName")) for c in calls]
    assert ("cloudformation", "CreateStack", "mysfits-notebook") in operations, "mysfits aws notebook"
    assert ("cloudformation", "DeleteStack", "mysfits-recommendations") in operations, "the ROLLBACK_COMPLETE stack"
    for service, operation in [
        ("apigateway", "GetAccount"),
        ("service-quotas", "ListAWSDefaultServiceQuotas"),
        ("sagemaker", "ListTrainingJobs"),
        ("dynamodb", "ListTables"),
        ("dynamodb", "DeleteTable"),
    ]:
        assert (service, operation) in {(c.service, c.operation) for c in calls}, operation
    assert not [c for c in calls if c.operation in {"CreateTable", "CreateRole"}], "CloudFormation's part is not ours"
    assert not _missing(calls), "the deployer policy lacks what the retry path calls"
