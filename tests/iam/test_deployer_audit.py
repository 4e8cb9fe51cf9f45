"""The deployer policies pass cloudsplaining's and parliament's audits, run offline, except for the findings that
tests/iam/deployer_audit.py accepts with a reason (issue 18). The audits can fail: each deliberately bad policy
below adds one statement to the committed one, and the audit reports it."""

from __future__ import annotations

import json
import socket

import pytest

from tests.iam import deployer_audit as audit
from tests.iam import deployer_permissions as generator

POLICIES = [generator.POLICY] + [path for _, path in generator.OPT_IN.values()]


def _policy(path=generator.POLICY) -> dict:
    return json.loads(path.read_text())


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the audit tried to reach the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_the_committed_policies_have_no_finding_that_is_not_accepted(path, offline):
    unaccepted = audit.unaccepted(_policy(path))
    assert not unaccepted, (
        "new audit findings; scope the statement, or add them to ACCEPTED in tests/iam/deployer_audit.py with "
        "the reason they stay, and regenerate:\n" + "\n".join(map(str, unaccepted))
    )


def test_every_accepted_finding_still_occurs():
    """An accepted finding that no policy produces any more is taken off the list (and out of the document)."""
    found = {f.key for path in POLICIES for f in audit.findings(_policy(path))}
    assert set(audit.ACCEPTED) <= found, sorted(set(audit.ACCEPTED) - found)


def test_the_accepted_findings_are_in_the_document():
    doc = generator.DOC.read_text()
    for tool, kind, subject in audit.ACCEPTED:
        assert f"| {tool} | {kind} | `{subject}` |" in doc


def _with(statement: dict) -> dict:
    policy = _policy()
    return dict(policy, Statement=[*policy["Statement"], {"Effect": "Allow", **statement}])


def test_passing_any_role_fails_the_audit(offline):
    found = {f.key for f in audit.unaccepted(_with({"Action": "iam:PassRole", "Resource": "*"}))}
    assert ("parliament", "RESOURCE_STAR", "iam:PassRole") in found
    assert ("cloudsplaining", "resource exposure", "iam:PassRole") in found


def test_every_s3_action_on_every_bucket_fails_the_audit(offline):
    found = {f.key for f in audit.unaccepted(_with({"Action": "s3:*", "Resource": "*"}))}
    assert ("cloudsplaining", "data exfiltration", "s3:GetObject") in found
    assert ("cloudsplaining", "resource exposure", "s3:PutBucketPolicy") in found
    assert ("parliament", "RESOURCE_STAR", "s3:PutObject") in found


def test_change_sets_on_every_stack_are_a_privilege_escalation(offline):
    """What the policy allowed before issue 18: CloudFormation on "*" can run any template with the caller's rights."""
    actions = ["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"]
    found = {f.key for f in audit.unaccepted(_with({"Action": actions, "Resource": "*"}))}
    assert ("cloudsplaining", "privilege escalation", "ExecuteCloudFormationChangeSet") in found


def test_a_malformed_statement_fails_the_audit(offline):
    found = audit.unaccepted(_with({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::mysfits-data"}))
    assert ("parliament", "RESOURCE_MISMATCH") in {(f.tool, f.kind) for f in found}


def test_parliament_runs_where_setuptools_no_longer_ships_pkg_resources():
    import subprocess
    import sys

    from tests.iam.deployer_permissions import ROOT

    script = (
        "import json, sys\n"
        "sys.modules['pkg_resources'] = None\n"  # makes `import pkg_resources` raise ImportError
        "from tests.iam.deployer_audit import parliament_findings\n"
        f"print(len(parliament_findings(json.loads(open({str(generator.POLICY)!r}).read()))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert int(result.stdout) == len(audit.parliament_findings(_policy()))
