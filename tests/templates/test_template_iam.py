"""Least privilege, checked on the CloudFormation that SAM generates: no wildcard action anywhere,
and InvokeEndpoint on the one endpoint's ARN only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.templates.sam_template import cfn_template, sam_template, translate

ENDPOINT_ARN = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/${SageMakerEndpointName}"
# What SAM attaches on its own for a traced function: CloudWatch Logs writes and X-Ray segment writes.
EXPECTED_MANAGED_POLICIES = {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}


def statements(template: dict) -> Iterator[dict]:
    """Every IAM statement in a CloudFormation template: role trust, inline, and standalone policies."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            yield from properties["AssumeRolePolicyDocument"]["Statement"]
            for policy in properties.get("Policies", []):
                yield from policy["PolicyDocument"]["Statement"]
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            yield from properties["PolicyDocument"]["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def wildcard_problems(template: dict) -> list[str]:
    problems = []
    for statement in statements(template):
        if "NotAction" in statement:
            problems.append(f"NotAction grants everything else: {statement}")
        problems.extend(
            f"wildcard action {action!r}" for action in as_list(statement.get("Action", [])) if "*" in action
        )
    return problems


def test_no_statement_allows_a_wildcard_action():
    assert list(statements(cfn_template())), "found no IAM statements: the checker is looking in the wrong place"
    assert wildcard_problems(cfn_template()) == []


@pytest.mark.parametrize("action", ["sagemaker:*", "*", "sagemaker:Invoke*"])
def test_the_wildcard_check_catches_a_broadened_policy(action):
    template = sam_template()
    template["Resources"]["RecommendationsFunction"]["Properties"]["Policies"][0]["Statement"][0]["Action"] = action
    assert wildcard_problems(translate(template)) == [f"wildcard action {action!r}"]


def test_sagemaker_access_is_invoke_endpoint_on_one_endpoint_arn():
    sagemaker = [s for s in statements(cfn_template()) if any(a.startswith("sagemaker:") for a in as_list(s["Action"]))]
    assert len(sagemaker) == 1
    (statement,) = sagemaker
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Action"]) == ["sagemaker:InvokeEndpoint"]
    assert as_list(statement["Resource"]) == [{"Fn::Sub": ENDPOINT_ARN}]


def test_the_endpoint_arn_renders_as_sagemaker_writes_it():
    values = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}
    values["SageMakerEndpointName"] = sam_template()["Parameters"]["SageMakerEndpointName"]["Default"]
    rendered = re.sub(r"\$\{([^}]+)\}", lambda match: values[match.group(1)], ENDPOINT_ARN)
    assert rendered == "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/mysfits-knn"


def test_only_the_expected_managed_policies_are_attached():
    role = cfn_template()["Resources"]["RecommendationsFunctionRole"]
    attached = {arn.rsplit("/", 1)[-1] for arn in role["Properties"]["ManagedPolicyArns"]}
    assert attached == EXPECTED_MANAGED_POLICIES
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": ["lambda.amazonaws.com"]}]


def test_the_only_other_role_is_api_gateways_logging_role_kept_after_the_stack():
    """The account-wide setting outlives the stack, so its role must too, and it must carry only AWS's policy."""
    resources = cfn_template()["Resources"]
    roles = {name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    assert roles == {"RecommendationsFunctionRole", "ApiGatewayLoggingRole"}
    role = resources["ApiGatewayLoggingRole"]
    assert role["DeletionPolicy"] == role["UpdateReplacePolicy"] == "Retain"
    assert role["Condition"] == "LoggingRoleFromThisStack"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    # AWS's documented trust for this role has no condition; one API Gateway may not satisfy would break logging.
    assert "Condition" not in trust
    (policy,) = role["Properties"]["ManagedPolicyArns"]
    assert policy["Fn::Sub"].endswith(":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    assert "Policies" not in role["Properties"]
    account = resources["ApiGatewayAccountLogging"]
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLoggingRole", "Arn"]}
    assert account["DeletionPolicy"] == "Retain"


def test_the_concurrency_cap_is_a_parameter_and_zero_means_no_reservation():
    """ReservedConcurrentExecutions=0 would stop every invocation; the template turns 0 into no setting at all."""
    template = sam_template()
    parameter = template["Parameters"]["ReservedConcurrency"]
    assert parameter["Type"] == "Number" and parameter["MinValue"] == 0
    # Any reservation fails in a new account (reduced quota, 100 kept unreserved), so the first deploy reserves none.
    assert parameter["Default"] == 0
    cap = template["Resources"]["RecommendationsFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert cap == {"Fn::If": ["ConcurrencyCapped", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert template["Conditions"]["ConcurrencyCapped"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, "0"]}]
    }


def test_dynamodb_access_is_conditional_writes_on_the_choices_table_only():
    """The function keeps recommendations and records choices; it never reads, scans or deletes the table."""
    dynamodb = [s for s in statements(cfn_template()) if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    assert len(dynamodb) == 1
    (statement,) = dynamodb
    assert statement["Effect"] == "Allow"
    assert sorted(as_list(statement["Action"])) == ["dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert statement["Resource"] == {"Fn::GetAtt": ["ChoicesTable", "Arn"]}


def test_the_choices_table_outlives_the_stack_with_recovery_encryption_and_ttl():
    table = sam_template()["Resources"]["ChoicesTable"]
    # Issue 32, item 1: kept when the stack goes, but not when the create that made it rolls back (a failed first
    # deploy must not leave an empty table behind). samtranslator passes it through as written.
    assert table["DeletionPolicy"] == "RetainExceptOnCreate"
    assert cfn_template()["Resources"]["ChoicesTable"]["DeletionPolicy"] == "RetainExceptOnCreate"
    assert table["UpdateReplacePolicy"] == "Retain", "UpdateReplacePolicy has no RetainExceptOnCreate"
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    # The attribute the function writes on unchosen recommendations (mysfits_api.dynamodb_store.TTL_ATTRIBUTE).
    from mysfits_api.dynamodb_store import KEY, TTL_ATTRIBUTE

    assert properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert properties["KeySchema"] == [{"AttributeName": KEY, "KeyType": "HASH"}]
    variables = sam_template()["Resources"]["RecommendationsFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CHOICES_TABLE_NAME"] == {"Ref": "ChoicesTable"}
    assert variables["CHOICES_RETENTION_DAYS"] == {"Ref": "UnchosenRecommendationRetentionDays"}
