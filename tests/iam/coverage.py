"""Recorded calls -> every IAM check they imply -> the ones a policy would deny, each named with its cause."""

from __future__ import annotations

from collections import defaultdict

from tests.aws_calls import AwsCall
from tests.iam.authorization import Check, checks_for
from tests.iam.policy import decide
from tests.iam.sagemaker_service import caller_checks, role_checks


def uploaded_objects(calls: list[AwsCall]) -> dict[str, list[str]]:
    uploaded: dict[str, list[str]] = defaultdict(list)
    for call in calls:
        if call.service == "s3" and call.operation == "PutObject":
            uploaded[call.params["Bucket"]].append(call.params["Key"])
    return uploaded


def all_checks(calls: list[AwsCall]) -> list[Check]:
    """The caller's checks for each call, then SageMaker's checks with the role that the calls passed it."""
    uploaded = uploaded_objects(calls)
    checks: list[Check] = []
    for call in calls:
        checks += checks_for(call) + caller_checks(call) + role_checks(call, uploaded)
    return list(dict.fromkeys(checks))


def denials(policy: dict, calls: list[AwsCall]) -> list[str]:
    """One line per denied check: the action, the ARN, the decision and the call (or SageMaker's work) behind it."""
    return [
        f"{decision}: {check.action} on {check.resource} (for {check.why})"
        for check in all_checks(calls)
        if (decision := decide(policy, check)) != "Allow"
    ]
