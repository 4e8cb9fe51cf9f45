"""Generate docs/deployer-permissions.md and docs/deployer-policy.json: what the person deploying this project needs.

The deploying user runs, from their machine, ``aws cloudformation deploy`` of notebook-template.yaml, ``sam deploy`` of
template.yaml, ``scripts/train_and_deploy.py --mode sagemaker --deploy-api --deploy-web`` and
``scripts/cleanup.py --delete-stacks``. Nothing in the lists is written by hand; each action comes from one of:

- CloudFormation acting with the user's credentials: the create, read, update and delete handler permissions of every
  resource type in both templates (template.yaml after SAM's translation, and the SAM CLI's own managed-bucket stack),
  from the resource schemas that cfn-lint ships;
- the SAM CLI's own calls: its managed bucket stack, the artifact upload and the change-set deploy, run from the SAM
  CLI's code under moto and recorded;
- the scripts' calls: recorded from the same scenarios as the IAM coverage test, plus the deploy and clean-up steps.

    python -m tests.iam.deployer_permissions          # rewrite both files
    python -m tests.iam.deployer_permissions --check  # exit 1 if they are out of date
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from functools import cache
from pathlib import Path

from tests.aws_calls import AwsCall, record_aws_calls
from tests.iam.authorization import action_exists, checks_for
from tests.iam.sagemaker_service import caller_checks

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployer-permissions.md"
POLICY = ROOT / "docs" / "deployer-policy.json"
HANDLERS = ("create", "read", "update", "delete")
REGION = "eu-west-1"


@cache
def _schemas() -> tuple[Path, dict[str, str]]:
    import cfnlint.data.schemas as schemas

    base = Path(schemas.__file__).parent
    return base, json.loads((base / "providers" / "us-east-1.json").read_text())


def handler_permissions(resource_type: str) -> set[str]:
    base, index = _schemas()
    schema = json.loads((base / "resources" / f"{index[resource_type]}.json").read_text())
    handlers = schema.get("handlers", {})
    return {permission for name in HANDLERS for permission in handlers.get(name, {}).get("permissions", [])}


def template_resource_types() -> dict[str, set[str]]:
    """Resource type -> the templates that declare it (template.yaml as CloudFormation sees it, after SAM)."""
    from mysfits.local.gateway.template import load_template
    from tests.templates.sam_template import cfn_template

    types: dict[str, set[str]] = defaultdict(set)
    for name, template in (("notebook-template.yaml", load_template(ROOT / "notebook-template.yaml")),
                           ("template.yaml", cfn_template()),
                           ("website-template.yaml", load_template(ROOT / "website-template.yaml"))):  # fmt: skip
        for resource in template["Resources"].values():
            types[resource["Type"]].add(name)
    for resource in _sam_managed_stack_template()["Resources"].values():
        types[resource["Type"]].add("the SAM CLI's managed bucket stack")
    return types


def _sam_managed_stack_template() -> dict:
    from samcli.lib.bootstrap.bootstrap import _get_stack_template
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(_get_stack_template())


def sam_deploy_calls(session) -> list[AwsCall]:
    """What ``sam deploy --resolve-s3`` calls, from the SAM CLI's own code: the managed bucket stack, the artifact
    upload (deduplicated by content hash) and the change-set deploy with its waits."""
    from samcli.commands.exceptions import UserException
    from samcli.lib.bootstrap.bootstrap import manage_stack
    from samcli.lib.deploy.deployer import Deployer
    from samcli.lib.package.s3_uploader import S3Uploader

    template = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    with record_aws_calls() as calls:
        try:
            manage_stack(profile=None, region=REGION)
        except UserException:
            pass  # moto drops the outputs of a stack made from a change set; SAM's calls up to here are recorded
    (bucket,) = [b["Name"] for b in session.client("s3").list_buckets()["Buckets"] if "samclisourcebucket" in b["Name"]]
    with record_aws_calls() as more, tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "function.zip"
        artifact.write_bytes(b"PK\x05\x06" + bytes(18))
        uploader = S3Uploader(session.client("s3"), bucket, prefix="mysfits-recommendations", no_progressbar=True)
        uploader.upload_with_dedup(str(artifact))
        deployer = Deployer(session.client("cloudformation"), client_sleep=0)
        # The stand-in stack for the scripts takes the real name; only the actions matter here, not the ARNs.
        stack = "mysfits-recommendations-sam"
        result, kind = deployer.create_and_wait_for_changeset(
            stack, template, [], ["CAPABILITY_IAM"], None, [], uploader, []
        )
        deployer.execute_changeset(result["Id"], stack, disable_rollback=False)
        deployer.wait_for_execute(stack, kind, disable_rollback=False)
        deployer.get_stack_outputs(stack, echo=False)
    return calls + more + sam_redeploy_calls(deployer, uploader, stack) + sam_refused_create_calls(deployer, uploader)


def sam_redeploy_calls(deployer, uploader, stack: str) -> list[AwsCall]:
    """The paths a real account takes after the first deploy (issue 18, item 2): ``sam deploy`` on a stack that exists
    (SAM reads the deployed template's parameters with GetTemplateSummary first), and a deploy that fails and rolls
    back (SAM streams the stack's events and reads its status until the waiter gives up)."""
    from samcli.commands.deploy.exceptions import DeployFailedError

    template = json.dumps(
        {
            "Parameters": {"Origin": {"Type": "String", "Default": "*"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Queue": {"Type": "AWS::SQS::Queue"}},
        }
    )
    with record_aws_calls() as calls:
        result, kind = deployer.create_and_wait_for_changeset(
            stack, template, [{"ParameterKey": "Origin", "ParameterValue": "https://example.org"}],
            ["CAPABILITY_IAM"], None, [], uploader, [],
        )  # fmt: skip
        if kind != "UPDATE":
            raise RuntimeError(f"the second deploy of {stack} was a {kind}, not an update")
        deployer.execute_changeset(result["Id"], stack, disable_rollback=False)
        _roll_back(stack)  # moto applies change sets at once and never fails them
        try:
            deployer.wait_for_execute(stack, kind, disable_rollback=False)
        except DeployFailedError:
            pass
        else:
            raise RuntimeError("SAM did not report the rolled-back deploy as failed")
    return calls


def sam_refused_create_calls(deployer, uploader) -> list[AwsCall]:
    """The website stack's path on a new account (issue 18, item 3): CloudFront refuses the distribution, the create
    rolls back, and ``--on-failure DELETE`` has SAM delete the stack so that the next try starts clean."""
    from samcli.commands.deploy.exceptions import DeployFailedError

    stack = "mysfits-recommendations-website"
    template = json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}})
    with record_aws_calls() as calls:
        result, kind = deployer.create_and_wait_for_changeset(stack, template, [], [], None, [], uploader, [])
        deployer.execute_changeset(result["Id"], stack, disable_rollback=False)
        _roll_back(stack, "ROLLBACK_COMPLETE")
        try:
            deployer.wait_for_execute(stack, kind, disable_rollback=False)
        except DeployFailedError:
            deployer.rollback_delete_stack(stack)  # what `sam deploy --on-failure DELETE` does next
        else:
            raise RuntimeError("SAM did not report the refused create as failed")
    return calls


def _roll_back(stack: str, status: str = "UPDATE_ROLLBACK_COMPLETE") -> None:
    from moto.cloudformation.models import cloudformation_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION]
    (found,) = [s for s in backend.stacks.values() if s.name == stack]
    found.status = status


def script_calls(session, tmp: Path) -> list[AwsCall]:
    """train_and_deploy (with --choices-table once) --deploy-api --deploy-web (sam itself stood in for) and cleanup
    --delete-stacks."""
    from mysfits.aws.train_and_deploy import Toolkit, main
    from tests.iam import scenarios
    from tests.iam.policy import StackValues
    from tests.integration.test_train_and_deploy import (
        SAMCONFIG,
        RecordingRunner,
        api_stand_in,
        make_distribution,
        website_stand_in,
    )
    from tests.moto_training_jobs import training_jobs_that_train

    values = StackValues(region=REGION, bucket="mysfits-notebook-databucket-test")
    (tmp / "samconfig.toml").write_text(SAMCONFIG)
    web = tmp / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html>")
    distribution = make_distribution(session.client("cloudfront"))
    cfn = session.client("cloudformation")
    cfn.create_stack(StackName="mysfits-recommendations", TemplateBody=api_stand_in())
    cfn.create_stack(StackName="mysfits-recommendations-website", TemplateBody=website_stand_in(distribution))
    with scenarios.workspace(session, values, tmp) as ws:
        # Created real-time, switched to serverless (delete and create), then updated in place by the run below.
        with scenarios.training_logs_present():
            calls = scenarios.train_and_deploy(ws, logs=True)
        calls += scenarios.train_and_deploy(ws, "--serverless")
        # Learning from visitors' choices: the table's Scan, the export, and the judgement against the endpoint.
        with training_jobs_that_train():
            calls += scenarios.train_and_deploy(
                ws, "--serverless", "--choices-table", scenarios.choices_table(session, 1_000)
            )
        toolkit = Toolkit(session_factory=lambda region: session, runner=RecordingRunner(), out=lambda _: None)
        argv = [
            "--mode", "sagemaker", "--region", REGION, "--notebook-stack", values.stack_name, "--data", str(ws.data),
            "--sample-size", str(scenarios.SAMPLE_SIZE), "--no-logs", "--samconfig", str(tmp / "samconfig.toml"),
            "--web-dir", str(web), "--deploy-api", "--deploy-web", "--serverless",
        ]  # fmt: skip
        with record_aws_calls() as deploy_calls:
            assert main(argv, toolkit) == 0
        calls += deploy_calls
        calls += scenarios.cleanup_script(ws, "--delete-stacks")
    return calls


def smoke_calls(session, tmp: Path) -> list[AwsCall]:
    """scripts/smoke_aws.py --yes from start to teardown, in the same offline world as its own tests."""
    from moto.moto_api._internal.models import moto_api_backend

    from tests.smoke_world import smoke_world

    moto_api_backend.reset()  # a fresh account: the runs above used the same stand-ins (the distribution, say)
    (tmp / "smoke").mkdir()
    with smoke_world(session, tmp / "smoke") as world, record_aws_calls() as calls:
        code, report = world.run("--yes")
    if code != 0:
        raise RuntimeError(f"the recorded smoke run failed ({report['outcome']}):\n" + "\n".join(world.lines))
    return calls


def _call_actions(calls: list[AwsCall], source: str) -> dict[str, set[str]]:
    actions: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        for check in checks_for(call) + caller_checks(call):
            actions[check.action].add(f"{source}: {call.service}.{call.operation}")
    return actions


def collect(session, tmp: Path) -> dict[str, set[str]]:
    """IAM action -> why the deploying user needs it."""
    needed: dict[str, set[str]] = defaultdict(set)
    for resource_type, templates in sorted(template_resource_types().items()):
        for action in handler_permissions(resource_type):
            needed[action].add(f"CloudFormation handler of {resource_type} ({', '.join(sorted(templates))})")
    sources = (
        ("sam deploy", sam_deploy_calls(session)),
        ("scripts", script_calls(session, tmp)),
        ("smoke run", smoke_calls(session, tmp)),
    )
    for source, calls in sources:
        for action, reasons in _call_actions(calls, source).items():
            needed[action] |= reasons
    return needed


# Names CloudFormation gives what it creates start with the stack's name, and the project's stacks start with
# "mysfits-"; the SAM CLI's own bucket comes from its managed stack. Writes in these services are scoped to them.
PREFIX = "mysfits-"
SCOPED = {
    "iam": [f"arn:aws:iam::*:role/{PREFIX}*"],
    "lambda": [f"arn:aws:lambda:*:*:function:{PREFIX}*"],
    "s3": [
        f"arn:aws:s3:::{PREFIX}*",
        f"arn:aws:s3:::{PREFIX}*/*",
        "arn:aws:s3:::aws-sam-cli-managed-default-*",
        "arn:aws:s3:::aws-sam-cli-managed-default-*/*",
    ],
}
PASSED_TO = ["apigateway.amazonaws.com", "lambda.amazonaws.com", "sagemaker.amazonaws.com"]
READS = {"Read", "List"}


def access_level(action: str) -> str:
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":")
    # One entry per resource type the action takes; they share the access level.
    return get_action_data(service, name)[service][0]["access_level"]


def _statements(service: str, actions: list[str]) -> list[dict]:
    """One statement per service on ``*``, except IAM, Lambda and S3: their writes go to the project's resources,
    and ``iam:PassRole`` only to the project's roles, for the services that take them (issue 18)."""
    sid = service.replace("-", "").capitalize()
    if service not in SCOPED:
        return [{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*"}]
    reads = [a for a in actions if access_level(a) in READS]
    writes = [a for a in actions if a not in reads and a != "iam:PassRole"]
    statements = []
    if reads:
        statements.append({"Sid": f"{sid}Read", "Effect": "Allow", "Action": reads, "Resource": "*"})
    if writes:
        statements.append(
            {"Sid": f"{sid}WriteProject", "Effect": "Allow", "Action": writes, "Resource": SCOPED[service]}
        )
    if "iam:PassRole" in actions:
        statements.append(
            {
                "Sid": "IamPassProjectRoles",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": SCOPED["iam"],
                "Condition": {"StringEquals": {"iam:PassedToService": PASSED_TO}},
            }
        )
    return statements


def render(needed: dict[str, set[str]]) -> tuple[str, str]:
    unknown = sorted(a for a in needed if not action_exists(a))
    needed = {a: why for a, why in needed.items() if a not in unknown}
    by_service: dict[str, list[str]] = defaultdict(list)
    for action in sorted(needed, key=str.lower):
        by_service[action.split(":")[0]].append(action)
    statements = []
    for service, actions in sorted(by_service.items()):
        statements += _statements(service, actions)
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2) + "\n"
    lines = [
        "# Permissions for the person who deploys this project",
        "",
        "Generated by `python -m tests.iam.deployer_permissions` from the two templates, the SAM CLI's code and the",
        "scripts' recorded AWS calls; a test fails when this file or `deployer-policy.json` is out of date. Do not",
        "edit by hand.",
        "",
        "They cover `aws cloudformation deploy` of `notebook-template.yaml`, `sam deploy --resolve-s3` of",
        "`template.yaml`, `scripts/train_and_deploy.py --mode sagemaker --deploy-api --deploy-web` and",
        "`scripts/cleanup.py --delete-stacks`, and `scripts/smoke_aws.py` (which runs all of these), run with your",
        "own credentials (the notebook's role is separate and",
        "much narrower). [`deployer-policy.json`](deployer-policy.json) holds them as one policy you can attach.",
        "",
        "How to read it:",
        "",
        "- CloudFormation creates, updates and deletes the stacks' resources with your credentials, so the resource",
        "  handlers' permissions are listed whole. Some of them serve features these templates do not use (VPC",
        "  networking, KMS keys, Lambda code signing); CloudFormation documents them as the handler's permissions,",
        "  and we have not checked, without an account, which ones a handler skips when the feature is off.",
        "- IAM, Lambda and S3 writes are scoped to names that start with `mysfits-` (CloudFormation names what",
        "  it creates after the stack, and the project's stacks start with `mysfits-`) and to the SAM CLI's",
        "  managed bucket; `iam:PassRole` is limited to those roles, passed to API Gateway, Lambda or SageMaker.",
        "  Name your stacks `mysfits-...`. Reads in those services, and every other service, are still on `*`.",
        "- Nothing here has been tried against a real account: the calls were recorded under moto, including the",
        "  paths a real account takes that moto alone does not (the SDK's log streaming with a log stream present,",
        "  `sam deploy` on an existing stack, a deploy that rolls back); tests/iam/test_recorded_paths.py holds them.",
        "- Not done yet (issue 18): scoping the other services' statements, dropping handler permissions for",
        "  properties the templates never set, and an audit with cloudsplaining and parliament.",
        *(
            [
                f"- Left out, as they are not IAM actions in the Service Authorization Reference: "
                f"{', '.join(f'`{a}`' for a in unknown)}."
            ]
            if unknown
            else []
        ),
        "",
        "| action | why |",
        "|---|---|",
    ]
    for action in sorted(needed, key=str.lower):
        lines.append(f"| `{action}` | {'; '.join(sorted(needed[action]))} |")
    return "\n".join(lines) + "\n", policy


def generate() -> tuple[str, str]:
    """Run the recording scenarios under moto, with credentials that reach nothing else."""
    import os
    from unittest import mock

    import boto3
    from moto import mock_aws

    fake = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }
    with mock.patch.dict(os.environ, fake), mock_aws(), tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("AWS_PROFILE", None)
        return render(collect(boto3.Session(region_name=REGION), Path(tmp)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files are out of date")
    args = parser.parse_args(argv)
    doc, policy = generate()
    if args.check:
        stale = [p.name for p, text in ((DOC, doc), (POLICY, policy)) if not p.exists() or p.read_text() != text]
        if stale:
            print(f"out of date: {', '.join(stale)}; run python -m tests.iam.deployer_permissions", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(doc)
    POLICY.write_text(policy)
    print(f"wrote {DOC.relative_to(ROOT)} and {POLICY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
