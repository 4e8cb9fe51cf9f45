"""docs/deployer-permissions.md and docs/deployer-policy.json are what the generator makes from today's templates,
the SAM CLI and the scripts (issue 9, defect 11: the hand-written list had left out CloudFront and Logs)."""

from __future__ import annotations

import json

import pytest

from tests.iam import deployer_permissions as generator


@pytest.mark.slow
@pytest.mark.xdist_group("iam-recording")  # shares the recording with test_every_recorded_call_is_allowed_...
def test_the_committed_lists_are_up_to_date():
    doc, policies = generator.generate()
    for path, policy in policies.items():
        assert path.read_text() == policy, f"{path.name}: run python -m tests.iam.deployer_permissions"
    assert generator.DOC.read_text() == doc, "run: python -m tests.iam.deployer_permissions"
    assert set(policies) == {generator.POLICY} | {path for _, path in generator.OPT_IN.values()}


def test_the_policy_covers_what_the_readme_used_to_leave_out():
    actions = {a for s in json.loads(generator.POLICY.read_text())["Statement"] for a in s["Action"]}
    for needed in (
        "cloudfront:CreateDistribution",
        "cloudfront:CreateOriginAccessControl",
        "cloudfront:CreateInvalidation",
        "logs:CreateLogGroup",
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
        "iam:PassRole",
        "sagemaker:CreateTrainingJob",
        "s3:PutObject",
    ):
        assert needed in actions, needed
    assert all("*" not in action for action in actions), "every action is named; no wildcards"


def test_handler_permissions_come_from_the_shipped_schemas():
    assert {"cloudfront:CreateInvalidation"} - generator.handler_permissions("AWS::CloudFront::Distribution")
    assert "cloudfront:CreateDistribution" in generator.handler_permissions("AWS::CloudFront::Distribution")
    types = generator.template_resource_types()
    assert "AWS::CloudFront::OriginAccessControl" in types and "AWS::SageMaker::NotebookInstance" in types
