"""CodeCommit is closed to new customers, so notebook-template.yaml must not create a repository unless asked,
and a stack with nowhere to clone from must be refused before anything is created, with a message that says why.

CloudFormation evaluates Rules and Conditions over the parameter values before it creates anything; the small
evaluator below does the same for the intrinsics these sections use, over the template's own defaults.
"""

from __future__ import annotations

import pytest

from tests.templates.test_notebook_template import template

REPOSITORY = "https://github.com/example/mysfits.git"


def evaluate(node, parameters: dict[str, str], conditions: dict):
    """The value of a condition or rule expression, for the intrinsics CloudFormation allows there."""
    if isinstance(node, str):
        return node
    ((function, argument),) = node.items()
    if function == "Ref":
        return parameters[argument]
    if function == "Condition":
        return evaluate(conditions[argument], parameters, conditions)
    if function == "Fn::Equals":
        left, right = (evaluate(item, parameters, conditions) for item in argument)
        return str(left) == str(right)
    if function == "Fn::Not":
        (inner,) = argument
        return not evaluate(inner, parameters, conditions)
    if function == "Fn::Or":
        return any(evaluate(item, parameters, conditions) for item in argument)
    if function == "Fn::And":
        return all(evaluate(item, parameters, conditions) for item in argument)
    raise AssertionError(f"unsupported intrinsic {function}")


def parameter_values(**overrides: str) -> dict[str, str]:
    values = {name: str(p.get("Default", "")) for name, p in template()["Parameters"].items()}
    return values | overrides


def failed_rules(parameters: dict[str, str]) -> list[str]:
    """The AssertDescription of every rule assertion these parameter values break."""
    conditions = template().get("Conditions", {})
    failures = []
    for rule in template().get("Rules", {}).values():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], parameters, conditions):
            continue
        for assertion in rule["Assertions"]:
            if not evaluate(assertion["Assert"], parameters, conditions):
                failures.append(assertion["AssertDescription"])
    return failures


def created_resources(parameters: dict[str, str]) -> dict[str, str]:
    conditions = template()["Conditions"]
    return {
        name: resource["Type"]
        for name, resource in template()["Resources"].items()
        if "Condition" not in resource or evaluate({"Condition": resource["Condition"]}, parameters, conditions)
    }


def test_the_default_creates_no_codecommit_repository():
    created = created_resources(parameter_values(SourceRepositoryUrl=REPOSITORY))
    assert "AWS::CodeCommit::Repository" not in created.values(), created
    assert {"AWS::SageMaker::NotebookInstance", "AWS::S3::Bucket", "AWS::IAM::Role"} <= set(created.values())


def test_the_repository_is_still_an_option():
    created = created_resources(parameter_values(CreateCodeCommitRepository="true"))
    assert "AWS::CodeCommit::Repository" in created.values()
    assert failed_rules(parameter_values(CreateCodeCommitRepository="true")) == []


def test_the_defaults_alone_are_refused_and_the_message_names_the_missing_parameter():
    (message,) = failed_rules(parameter_values())
    assert message.startswith("SourceRepositoryUrl is required"), message
    assert "CreateCodeCommitRepository=true" in message


def test_a_source_url_satisfies_the_rules():
    assert failed_rules(parameter_values(SourceRepositoryUrl=REPOSITORY)) == []


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Fn::Equals": [{"Ref": "CreateCodeCommitRepository"}, "false"]}, True),
        ({"Fn::Not": [{"Fn::Equals": [{"Ref": "SourceRepositoryUrl"}, ""]}]}, False),
        ({"Fn::Or": [{"Fn::Equals": ["a", "b"]}, {"Fn::Equals": ["c", "c"]}]}, True),
        ({"Fn::And": [{"Fn::Equals": ["a", "a"]}, {"Fn::Equals": ["c", "d"]}]}, False),
    ],
)
def test_the_evaluator(expression, expected):
    assert evaluate(expression, {"CreateCodeCommitRepository": "false", "SourceRepositoryUrl": ""}, {}) is expected
