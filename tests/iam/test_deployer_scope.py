"""What the deployer policy leaves out and how it is scoped (issue 18): handler permissions dropped only for
properties no template sets, every remaining action explained by a template's resource type or a recorded call,
every statement on the project's resources unless IAM allows nothing but "*", CodeCommit opt-in."""

from __future__ import annotations

import json
import re

import pytest

from tests.iam import deployer_permissions as generator
from tests.iam.authorization import Check, _format_regex, resource_types
from tests.iam.policy import decide

POLICIES = [generator.POLICY] + [path for _, path in generator.OPT_IN.values()]


def _statements() -> list[dict]:
    return [s for path in POLICIES for s in json.loads(path.read_text())["Statement"]]


def _actions() -> set[str]:
    return {a for s in _statements() for a in s["Action"]}


def test_the_properties_whose_permissions_are_left_out_stay_unset():
    """Fails, naming the actions to put back, when a template starts setting such a property (a VpcConfig, say)."""
    assert generator.unused_properties_set(generator.deployed_templates()) == []


def test_setting_a_left_out_property_is_caught():
    function = {"Type": "AWS::Lambda::Function", "Properties": {"VpcConfig": {"SubnetIds": ["subnet-1"]}}}
    distribution = {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {"DistributionConfig": {"Origins": [{"Id": "a"}, {"Id": "b", "VpcOriginConfig": {}}]}},
    }
    found = generator.unused_properties_set({"t.yaml": {"Resources": {"Fn": function, "Cdn": distribution}}})
    assert len(found) == 2
    assert "Fn sets VpcConfig" in found[0] and "ec2:DescribeSubnets" in found[0]
    assert "Cdn sets DistributionConfig.Origins[].VpcOriginConfig" in found[1]
    unset = {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {}}}
    assert generator.unused_properties_set({"t.yaml": {"Resources": {"Fn": unset}}}) == []


def test_a_web_acl_is_associated_only_with_what_the_kept_actions_cover():
    """Fails, naming what to extend, when a template puts a web ACL on something other than an API stage."""
    assert generator.other_targets_named(generator.deployed_templates()) == []
    balancer = {
        "Type": "AWS::WAFv2::WebACLAssociation",
        "Properties": {"ResourceArn": {"Ref": "LoadBalancer"}, "WebACLArn": "arn:aws:wafv2:::regional/webacl/x/1"},
    }
    stage = {
        "Type": "AWS::WAFv2::WebACLAssociation",
        "Properties": {
            "ResourceArn": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/a/stages/v1"}
        },
    }
    found = generator.other_targets_named({"t.yaml": {"Resources": {"Lb": balancer, "Stage": stage}}})
    assert len(found) == 1 and found[0].startswith("t.yaml: Lb's ResourceArn")
    kept = generator.kept_handler_permissions("AWS::WAFv2::WebACLAssociation")
    assert "apigateway:SetWebACL" in kept and "wafv2:AssociateWebACL" in kept
    assert not {a for a in kept if a.split(":")[0] not in ("wafv2", "apigateway")}


@pytest.mark.parametrize("entry", generator.UNUSED_PROPERTIES, ids=lambda e: f"{e.resource_type} {e.paths[0]}")
def test_each_left_out_entry_names_real_properties_and_handler_permissions(entry):
    """A typo in a path would make the unset-property test pass for nothing; an action the handler no longer lists
    would make the entry dead."""
    from tests.iam.deployer_permissions import _schemas

    base, index = _schemas()
    schema = json.loads((base / "resources" / f"{index[entry.resource_type]}.json").read_text())
    for path in entry.paths:
        assert path.split(".")[0].removesuffix("[]") in schema["properties"], path
    assert set(entry.actions) <= generator.handler_permissions(entry.resource_type)
    assert entry.resource_type in generator.template_resource_types()


def test_no_left_out_action_is_one_that_a_kept_action_depends_on():
    """The Service Authorization Reference lists actions that another action needs as well (CreateFunction needs
    lambda:PassCapacityProvider, CreateDistribution cloudfront:CreateConnectionGroup); those must not be dropped."""
    from policy_sentry.shared.iam_data import get_service_prefix_data

    left_out = {a for e in generator.UNUSED_PROPERTIES for a in e.actions} - _actions()
    needed_by = {}
    for action in _actions():
        service, name = action.split(":")
        for entry in get_service_prefix_data(service)["privileges"][name]["resource_types"].values():
            for dependent in entry.get("dependent_actions", []):
                needed_by.setdefault(dependent, action)
    assert not {a: needed_by[a] for a in left_out if a in needed_by}


def _reasons() -> dict[str, set[str]]:
    rows = re.findall(r"^\| `([^`]+)` \| [^|]+ \| (.+) \|$", generator.DOC.read_text(), re.MULTILINE)
    return {action: set(why.split("; ")) for action, why in rows}


def test_each_action_maps_to_a_template_resource_type_or_a_recorded_call():
    assert set(_reasons()) == _actions(), "the document's table and the policy files list the same actions"
    assert generator.unexplained_actions(_actions(), _reasons()) == []


def test_an_action_nothing_explains_is_caught():
    recorded = {"logs:GetLogEvents": {"scripts: logs.GetLogEvents"}}
    assert generator.unexplained_actions({"ec2:CreateNetworkInterface", "logs:GetLogEvents"}, recorded) == [
        "ec2:CreateNetworkInterface"
    ]


def test_only_actions_without_a_resource_type_are_on_every_resource():
    for statement in _statements():
        if statement["Resource"] == "*":
            assert statement["Sid"].endswith("NoResourceType")
            assert [a for a in statement["Action"] if resource_types(a)] == [], statement["Sid"]


# policy_sentry merges the two services that share the apigateway prefix, and its GET/POST/... entries keep only
# API Gateway V2's resource types (/apis/...); REST APIs are /restapis/... in the other one.
MERGED_SERVICES = {"apigateway"}


def _could_match(pattern: str, arn_format: str) -> bool:
    """Whether a policy's resource pattern can match an ARN of this format (each * standing for some text)."""
    return bool(_format_regex(arn_format).match(pattern.replace("*", "x1")))


def test_each_scoped_action_takes_a_resource_its_statement_names():
    """parliament knows only the actions of its own release; this check covers the newer ones too."""
    for statement in _statements():
        if statement["Resource"] == "*":
            continue
        for action in statement["Action"]:
            if action.split(":")[0] in MERGED_SERVICES:
                continue
            formats = [kind.arn_format for kind in resource_types(action)]
            assert any(_could_match(p, f) for p in statement["Resource"] for f in formats), (statement["Sid"], action)


def test_a_statement_on_the_wrong_resource_type_is_caught():
    assert not _could_match(
        "arn:aws:cloudfront::*:distribution/*", resource_types("cloudfront:GetConnectionGroup")[0].arn_format
    )
    assert _could_match(
        "arn:aws:cloudfront::*:connection-group/*", resource_types("cloudfront:GetConnectionGroup")[0].arn_format
    )


def test_opt_in_resources_exist_only_under_a_condition_and_their_actions_only_in_their_own_policy():
    for name, template in generator.deployed_templates().items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in generator.OPT_IN:
                assert "Condition" in resource, f"{name}: {logical_id} is created by default"
    main = {a for s in json.loads(generator.POLICY.read_text())["Statement"] for a in s["Action"]}
    assert not {a for a in main if a.startswith("codecommit:")}
    ((_, codecommit),) = generator.OPT_IN.values()
    assert {a.split(":")[0] for s in json.loads(codecommit.read_text())["Statement"] for a in s["Action"]} == {
        "codecommit"
    }


def test_no_network_storage_or_streaming_service_is_left():
    """The services issue 18 found granted whole although no template uses them."""
    services = {a.split(":")[0] for a in _actions()}
    assert not services & {"elasticfilesystem", "firehose", "kinesis", "s3tables", "s3files"}
    assert {a for a in _actions() if a.startswith("ec2:")} == {"ec2:DescribeNetworkInterfaces"}


TRAINING_LOGS = "arn:aws:logs:eu-west-1:1:log-group:/aws/sagemaker/TrainingJobs"


@pytest.mark.parametrize(
    ("action", "ours", "theirs"),
    [
        ("cloudformation:DeleteStack", "arn:aws:cloudformation:eu-west-1:1:stack/mysfits-recommendations/1",
         "arn:aws:cloudformation:eu-west-1:1:stack/payroll/1"),
        ("dynamodb:DeleteTable", "arn:aws:dynamodb:eu-west-1:1:table/mysfits-recommendations-ChoicesTable-1",
         "arn:aws:dynamodb:eu-west-1:1:table/orders"),
        ("sagemaker:DeleteEndpoint", "arn:aws:sagemaker:eu-west-1:1:endpoint/mysfits-knn",
         "arn:aws:sagemaker:eu-west-1:1:endpoint/fraud-model"),
        ("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:eu-west-1:1:training-job/mysfits-knn-2026",
         "arn:aws:sagemaker:eu-west-1:1:training-job/other"),
        ("logs:DeleteLogGroup", "arn:aws:logs:eu-west-1:1:log-group:mysfits-recommendations-ApiAccessLogGroup-1:*",
         "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/billing:*"),
        ("logs:GetLogEvents", f"{TRAINING_LOGS}:log-stream:mysfits-knn-1/algo-1",
         f"{TRAINING_LOGS}:log-stream:other-job/algo-1"),
        ("logs:DeleteLogGroup", "arn:aws:logs:eu-west-1:1:log-group:mysfits-recommendations-ApiAccessLogGroup-1:*",
         f"{TRAINING_LOGS}:*"),
        ("lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:1:function:mysfits-recommendations-Fn-1",
         "arn:aws:lambda:eu-west-1:1:function:billing"),
        ("s3:GetObject", "arn:aws:s3:::mysfits-notebook-databucket-1/data.csv", "arn:aws:s3:::company-secrets/key"),
        ("iam:GetRole", "arn:aws:iam::1:role/mysfits-recommendations-FnRole-1", "arn:aws:iam::1:role/Admin"),
        ("apigateway:PATCH", "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/stages/v1",
         "arn:aws:apigateway:eu-west-1::/domainnames/example.org"),
        ("wafv2:DeleteWebACL", "arn:aws:wafv2:eu-west-1:1:regional/webacl/mysfits-recommendations-client-limits/1",
         "arn:aws:wafv2:eu-west-1:1:regional/webacl/corporate-firewall/1"),
        ("wafv2:AssociateWebACL", "arn:aws:wafv2:eu-west-1:1:regional/webacl/mysfits-recommendations-client-limits/1",
         "arn:aws:wafv2:us-east-1:1:global/webacl/mysfits-recommendations-client-limits/1"),
        ("wafv2:DisassociateWebACL", "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/stages/v1",
         "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/shop/1"),
    ],
)  # fmt: skip
def test_the_policy_allows_the_projects_resources_and_refuses_others(action, ours, theirs):
    policy = json.loads(generator.POLICY.read_text())
    assert decide(policy, Check(action, ours, "")) == "Allow"
    assert decide(policy, Check(action, theirs, "")) == "ImplicitDeny"


def test_kms_only_through_dynamodb():
    policy = json.loads(generator.POLICY.read_text())
    key = "arn:aws:kms:eu-west-1:1:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    via = (("kms:ViaService", "dynamodb.eu-west-1.amazonaws.com"),)
    assert decide(policy, Check("kms:Decrypt", key, "", via)) == "Allow"
    assert decide(policy, Check("kms:Decrypt", key, "")) == "ImplicitDeny"
    assert decide(policy, Check("kms:Decrypt", key, "", (("kms:ViaService", "s3.eu-west-1.amazonaws.com"),))) == (
        "ImplicitDeny"
    )
