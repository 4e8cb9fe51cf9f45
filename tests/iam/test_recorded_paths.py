"""The paths a real account takes and moto alone does not (issue 18): each is recorded from the SDK's or the SAM
CLI's own code, and the deployer policy must allow every call on it. A future SDK or SAM CLI that calls something
new on one of these paths fails here, before it fails a user's first redeploy or first training run."""

from __future__ import annotations

import json

import pytest

from tests.iam import deployer_permissions as generator
from tests.iam import scenarios
from tests.iam.authorization import checks_for
from tests.iam.policy import StackValues
from tests.integration.test_train_and_deploy import SAMCONFIG


def _policy_actions() -> set[str]:
    return {a for s in json.loads(generator.POLICY.read_text())["Statement"] for a in s["Action"]}


def _missing(calls) -> set[str]:
    allowed = _policy_actions()
    return {check.action for call in calls for check in checks_for(call)} - allowed


def test_sam_redeploy_reads_the_template_summary_and_a_rollback_is_reported(moto_session):
    calls = generator.sam_deploy_calls(moto_session)
    operations = [c.operation for c in calls]
    # The second deploy is an update: SAM reads the deployed template's parameters before its change set.
    assert "GetTemplateSummary" in operations
    # Three change sets: SAM's managed bucket stack, the first deploy, the redeploy.
    assert operations.count("CreateChangeSet") == 3
    assert operations.index("GetTemplateSummary") > operations.index("ExecuteChangeSet")
    assert not _missing(calls), "the deployer policy lacks what sam deploy calls"


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
