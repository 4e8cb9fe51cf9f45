"""The notebook role's policy, resolved from notebook-template.yaml for concrete values, and a small IAM evaluator.

The evaluator follows IAM's rules for one identity policy: an explicit Deny wins, otherwise an Allow is needed,
otherwise the request is denied. Action and Resource match with IAM's wildcards (``*`` any run of characters, ``?``
one; actions case-insensitively), NotAction and NotResource invert the match, and a statement's Condition must hold
in full. Only the condition operators the template uses are known; any other operator, and any condition key that
the request does not carry, makes the condition false, so a statement this evaluator does not understand never
grants anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mysfits.local.gateway.intrinsics import Resolver
from mysfits.local.gateway.template import load_template
from tests.iam.authorization import ACCOUNT, PARTITION, Check

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_TEMPLATE = ROOT / "notebook-template.yaml"


@dataclass(frozen=True)
class StackValues:
    """What CloudFormation would know about one deployment of notebook-template.yaml."""

    region: str
    bucket: str
    stack_name: str = "mysfits-notebook"
    role_name: str = "mysfits-notebook-NotebookRole-TESTROLE"
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def role_arn(self) -> str:
        return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{self.role_name}"


class _DeployedResolver(Resolver):
    """The package's intrinsic resolver, with the values of a deployed stack for Ref and GetAtt on resources."""

    def resolve(self, value: object, where: str) -> object:
        if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
            resource, attribute = value["Fn::GetAtt"]
            return self.pseudo[f"{resource}.{attribute}"]
        return super().resolve(value, where)


def notebook_role_policy(values: StackValues, template_path: Path = NOTEBOOK_TEMPLATE) -> dict:
    """NotebookRolePolicy's document with every intrinsic function resolved for ``values``."""
    template = load_template(template_path)
    parameters = {name: spec.get("Default", "") for name, spec in template.get("Parameters", {}).items()}
    parameters.update(dict(values.parameters))
    attributes = {
        "DataBucket": values.bucket,
        "DataBucket.Arn": f"arn:{PARTITION}:s3:::{values.bucket}",
        "NotebookRole": values.role_name,
        "NotebookRole.Arn": values.role_arn,
        "CodeRepository.Arn": f"arn:{PARTITION}:codecommit:{values.region}:{ACCOUNT}:"
        f"{parameters.get('ProjectName', 'mysfits')}-recommendations",
    }
    pseudo = {
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": values.region,
        "AWS::Partition": PARTITION,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": values.stack_name,
        "AWS::StackId": f"arn:{PARTITION}:cloudformation:{values.region}:{ACCOUNT}:stack/{values.stack_name}/id",
        **attributes,
    }
    # resources={} makes the resolver look "DataBucket.Arn" inside a Fn::Sub up in pseudo, where the values are.
    resolver = _DeployedResolver(parameters, resources={}, conditions=template.get("Conditions", {}), pseudo=pseudo)
    (policy,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::RolePolicy" and _is_notebook_role(r)
    )
    return resolver.resolve(policy["Properties"]["PolicyDocument"], "NotebookRolePolicy")


def _is_notebook_role(resource: dict) -> bool:
    return resource["Properties"].get("RoleName") == {"Ref": "NotebookRole"}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: ``*`` is any run of characters (``/`` and ``:`` included), ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


_OPERATORS = {
    "StringEquals": lambda expected, actual: actual == expected,
    "StringNotEquals": lambda expected, actual: actual != expected,
    "StringLike": lambda expected, actual: _wildcard(expected, actual),
    "StringNotLike": lambda expected, actual: not _wildcard(expected, actual),
    "ArnEquals": lambda expected, actual: actual == expected,
    "ArnLike": lambda expected, actual: _wildcard(expected, actual),
    "Bool": lambda expected, actual: str(actual).lower() == str(expected).lower(),
}


def _condition_holds(condition: dict, context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        compare = _OPERATORS.get(operator)
        if compare is None:
            return False
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None or not any(compare(str(e), actual) for e in _as_list(expected)):
                return False
    return True


def _matches(statement: dict, check: Check) -> bool:
    if "Action" in statement:
        action_ok = any(_wildcard(p, check.action, ignore_case=True) for p in _as_list(statement["Action"]))
    else:
        action_ok = not any(_wildcard(p, check.action, ignore_case=True) for p in _as_list(statement["NotAction"]))
    if not action_ok:
        return False
    if "Resource" in statement:
        resource_ok = any(_wildcard(p, check.resource) for p in _as_list(statement["Resource"]))
    else:
        resource_ok = not any(_wildcard(p, check.resource) for p in _as_list(statement["NotResource"]))
    return resource_ok and _condition_holds(statement.get("Condition", {}), check.context_dict())


def decide(policy: dict, check: Check) -> str:
    """ "Allow", "ExplicitDeny" or "ImplicitDeny" for one check against one identity policy."""
    matching = [s for s in _as_list(policy["Statement"]) if _matches(s, check)]
    if any(s["Effect"] == "Deny" for s in matching):
        return "ExplicitDeny"
    if any(s["Effect"] == "Allow" for s in matching):
        return "Allow"
    return "ImplicitDeny"
