"""``mysfits aws rollback``: serve an earlier model again, with the API's encoding following it, in one command.

A promotion on AWS creates a model and an endpoint config, updates the endpoint to it, and keeps the configs it
replaced (``sagemaker_endpoint.KEPT_CONFIGS`` of them, with their models). Rolling back is the same in-place
``UpdateEndpoint`` to one of those, so the API keeps its endpoint name and SageMaker swaps the variant without
downtime. Each variant is named ``<encoding>-<checksum>``, which is how the rollback knows the encoding the earlier
model wants; promotion keeps the Lambda's ``MODEL_ENCODING`` and the variant in agreement by writing ``ModelEncoding``
into samconfig.toml and deploying the API stack, and the rollback does the same in one step: after the endpoint
serves the earlier config, the API stack is updated with ``ModelEncoding`` alone changed (a change set on the
deployed template, so nothing is rebuilt), and samconfig.toml gets the same value for the next ``sam deploy``.

Between the two, the function may briefly hold the other encoding: it then sends the row once more in the other
encoding on the endpoint's width refusal and keeps it (``mysfits_api.encoding_follow``), so no visitor gets an error.
A config of the other capacity kind (serverless against real-time) cannot be rolled back to, since UpdateEndpoint
cannot switch kinds; the command says so and changes nothing.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from mysfits import endpoint_name as endpoint_names
from mysfits import samconfig
from mysfits.aws import polling, sagemaker_endpoint
from mysfits.aws.account import aws_failure, resolve_region
from mysfits.aws.sagemaker_job import DeploymentError, Report
from mysfits.cli_base import CliError, OneLineParser
from mysfits_api import encoding as encodings

DEFAULT_API_STACK = "mysfits-recommendations"
ENCODING_PARAMETER = samconfig.ENCODING_PARAMETER
STACK_DONE = {"UPDATE_COMPLETE"}
STACK_FAILED = {"UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "UPDATE_FAILED", "ROLLBACK_COMPLETE"}


class RollbackError(RuntimeError):
    """The rollback cannot be done as asked; says what was left as it was."""


@dataclass(frozen=True)
class KeptConfig:
    name: str
    created: datetime
    variant: str
    model: str
    serverless: bool

    @property
    def encoding(self) -> str | None:
        """From the variant's name, ``<encoding>-<12 hex>``; None for a variant named otherwise."""
        prefix = self.variant.rsplit("-", 1)[0]
        return prefix if prefix in encodings.ENCODINGS else None

    @property
    def kind(self) -> str:
        return "serverless" if self.serverless else "real-time"


def kept_configs(sm, endpoint_name: str) -> list[KeptConfig]:
    """Every config this project made for the endpoint that still exists, newest first."""
    found = []
    for summary in sagemaker_endpoint.deployment_configs(sm, endpoint_name):
        try:
            config = sm.describe_endpoint_config(EndpointConfigName=summary["EndpointConfigName"])
        except ClientError:
            continue  # deleted between the list and the look
        variant = config["ProductionVariants"][0]
        found.append(
            KeptConfig(
                summary["EndpointConfigName"],
                summary["CreationTime"],
                variant["VariantName"],
                variant["ModelName"],
                "ServerlessConfig" in variant,
            )
        )
    return found


def choose(configs: list[KeptConfig], serving: str, version: str | None) -> KeptConfig:
    """The config to serve: the one ``version`` names (config name, variant, or an unambiguous start or end of
    either), or by default the newest one older than the serving config (undo the last promotion)."""
    others = [c for c in configs if c.name != serving]
    names = ", ".join(f"{c.variant} ({c.name})" for c in others) or "none"
    if version is None:
        current = next((c for c in configs if c.name == serving), None)
        older = [c for c in others if current is None or c.created < current.created]
        if not older:
            raise RollbackError(f"no config older than the serving {serving} is kept; kept: {names}")
        return older[0]
    wanted = version.strip()
    matches = [c for c in others if wanted in (c.name, c.variant)] or [
        c
        for c in others
        if c.name.startswith(wanted) or c.variant.startswith(wanted) or c.variant.endswith(wanted) or wanted in c.name
    ]
    if any(c.name == serving and wanted in (c.name, c.variant) for c in configs):
        raise RollbackError(f"{wanted} is what the endpoint serves now; nothing to roll back")
    if not matches:
        raise RollbackError(f"no kept config {wanted!r} for this endpoint; kept: {names}")
    if len(matches) > 1:
        raise RollbackError(f"{wanted!r} names {len(matches)} configs ({', '.join(c.name for c in matches)})")
    return matches[0]


@dataclass(frozen=True)
class Rolled:
    previous: str
    target: KeptConfig
    stack_updated: bool


def rollback(
    sm,
    cfn,
    endpoint_name: str,
    api_stack: str | None,
    target: KeptConfig,
    *,
    samconfig_path: Path | None,
    report: Report,
    sleep: Callable[[float], None] = time.sleep,
) -> Rolled:
    """Serve ``target`` on the endpoint, then have the API encode as it wants. Refuses before any change when the
    endpoint is not InService, the kinds differ, or the target's encoding cannot be read from its variant."""
    endpoint = sagemaker_endpoint.describe_endpoint_or_none(sm, endpoint_name)
    if endpoint is None or endpoint["EndpointStatus"] != "InService":
        status = "missing" if endpoint is None else endpoint["EndpointStatus"]
        raise RollbackError(f"endpoint {endpoint_name} is {status}; a rollback updates an InService endpoint")
    previous = endpoint["EndpointConfigName"]
    if target.encoding is None:
        raise RollbackError(
            f"{target.name}'s variant {target.variant} does not say its encoding (<encoding>-<checksum>); "
            "it was not deployed by this project"
        )
    serving_serverless = sagemaker_endpoint.serves_serverless(sm, endpoint)
    if serving_serverless != target.serverless:
        raise RollbackError(
            f"{target.name} is {target.kind} and the endpoint is {'serverless' if serving_serverless else 'real-time'}"
            ": UpdateEndpoint cannot switch between the two. Deploy that model again with train-and-deploy instead"
        )
    report(f"updating endpoint {endpoint_name} in place: {previous} -> {target.name} ({target.variant})")
    sm.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=target.name)
    settled = sagemaker_endpoint.wait_for_endpoint(sm, endpoint_name, report=report, sleep=sleep)
    if settled["EndpointConfigName"] != target.name:
        raise RollbackError(
            f"endpoint {endpoint_name} went back to {settled['EndpointConfigName']}: "
            f"{settled.get('FailureReason', 'no reason given')}; the API was left as it was"
        )
    updated = _follow_encoding(cfn, api_stack, target.encoding, report, sleep) if api_stack else False
    if samconfig_path is not None and samconfig_path.is_file():
        samconfig.set_model(samconfig_path, endpoint_name, target.encoding)
        report(f"wrote {ENCODING_PARAMETER}={target.encoding} into {samconfig_path}, for the next sam deploy")
    return Rolled(previous, target, updated)


def _follow_encoding(cfn, stack: str, encoding: str, report: Report, sleep: Callable[[float], None]) -> bool:
    """Update the API stack's ModelEncoding alone, on its deployed template; False when it already matched."""
    try:
        (described,) = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in exc.response["Error"]["Message"]:
            report(f"no stack {stack}: only the endpoint changed (no API to follow it)")
            return False
        raise
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in described.get("Parameters", [])}
    if ENCODING_PARAMETER not in parameters:
        raise RollbackError(f"stack {stack} has no {ENCODING_PARAMETER} parameter; is it the API stack?")
    if parameters[ENCODING_PARAMETER] == encoding:
        report(f"stack {stack} already encodes {encoding}: left as it is")
        return False
    # Unique per run: two rollbacks within a second must not collide on a change set that still exists.
    name = f"mysfits-rollback-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"
    report(f"updating stack {stack}: {ENCODING_PARAMETER} {parameters[ENCODING_PARAMETER]} -> {encoding}")
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType="UPDATE",
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": key, "ParameterValue": encoding}
            if key == ENCODING_PARAMETER
            else {"ParameterKey": key, "UsePreviousValue": True}
            for key in parameters
        ],
        # The deployed template is SAM's (a transform) and creates the function's role.
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        Description="mysfits aws rollback: the function's encoding follows the endpoint's model",
    )
    _settle(cfn, stack, name, report, sleep)
    return True


def _settle(cfn, stack: str, change_set: str, report: Report, sleep: Callable[[float], None]) -> None:
    def error(message: str) -> Exception:
        return RollbackError(
            f"{message}. The endpoint already serves the earlier model; the function follows its encoding on its own "
            f"(one extra call per container), and `sam deploy` with samconfig.toml's {ENCODING_PARAMETER} settles it"
        )

    polling.settle(
        polling.Watch(
            f"change set {change_set}",
            lambda: cfn.describe_change_set(StackName=stack, ChangeSetName=change_set),
            lambda d: d["Status"],
            lambda d: d["Status"] == "CREATE_COMPLETE",
            lambda d: d.get("StatusReason", "no reason given") if d["Status"] == "FAILED" else None,
        ),
        report=report,
        error=error,
        sleep=sleep,
        poll_seconds=5,
        timeout_seconds=600,
    )
    cfn.execute_change_set(StackName=stack, ChangeSetName=change_set)
    polling.settle(
        polling.Watch(
            f"stack {stack}",
            lambda: cfn.describe_stacks(StackName=stack)["Stacks"][0],
            lambda d: d["StackStatus"],
            lambda d: d["StackStatus"] in STACK_DONE,
            lambda d: d.get("StackStatusReason", "no reason given") if d["StackStatus"] in STACK_FAILED else None,
        ),
        report=report,
        error=error,
        sleep=sleep,
        poll_seconds=10,
        timeout_seconds=1800,
    )


def format_configs(configs: list[KeptConfig], serving: str | None) -> list[str]:
    return [
        f"{'serving' if c.name == serving else 'kept   '} {c.variant:<24} {c.name}  {c.created:%Y-%m-%d %H:%M} UTC  "
        f"{c.kind}"
        for c in configs
    ]


def build_parser(prog: str) -> OneLineParser:
    parser = OneLineParser(
        prog=prog,
        description="Serve an earlier model on the SageMaker endpoint again (one of the endpoint configs a "
        "promotion kept), and update the API stack's ModelEncoding to the encoding that model wants, in one step. "
        "Without VERSION, undoes the last promotion.",
    )
    parser.add_argument("version", nargs="?", help="a kept config's variant or name (see --list), or part of it")
    parser.add_argument("--list", action="store_true", help="list the kept configs and stop")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's region)")
    parser.add_argument(
        "--endpoint-name",
        type=endpoint_names.flag(lowercase=True),
        help="the endpoint (default: samconfig.toml's SageMakerEndpointName, else mysfits-knn)",
    )
    parser.add_argument(
        "--api-stack", help=f"the API stack (default: samconfig.toml's stack_name, else {DEFAULT_API_STACK})"
    )
    parser.add_argument("--no-api", action="store_true", help="change only the endpoint (no API stack to update)")
    parser.add_argument("--dry-run", action="store_true", help="say what would change and stop")
    parser.add_argument(
        "--samconfig",
        type=Path,
        default=Path("samconfig.toml"),
        help="where ModelEncoding is kept (default %(default)s)",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    session=None,
    sleep: Callable[[float], None] = time.sleep,
    out: Callable[[str], None] = print,
    prog: str = "mysfits aws rollback",
) -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return _run(args, session, sleep, out)
    except CliError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except (RollbackError, DeploymentError, samconfig.SamConfigError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"{prog}: error: {aws_failure(exc)}", file=sys.stderr)
        return 1


def _run(args, session, sleep, out) -> int:
    region = resolve_region(args.region)
    if session is None:
        import boto3

        session = boto3.Session(region_name=region)
    overrides = samconfig.read_overrides(args.samconfig) if args.samconfig.is_file() else {}
    endpoint_name = args.endpoint_name or overrides.get(endpoint_names.TEMPLATE_PARAMETER) or endpoint_names.DEFAULT
    api_stack = None
    if not args.no_api:
        configured = (
            samconfig.read_setting(args.samconfig, "deploy", "stack_name") if args.samconfig.is_file() else None
        )
        api_stack = args.api_stack or configured or DEFAULT_API_STACK
    sm, cfn = session.client("sagemaker"), session.client("cloudformation")
    endpoint = sagemaker_endpoint.describe_endpoint_or_none(sm, endpoint_name)
    serving = endpoint["EndpointConfigName"] if endpoint else None
    configs = kept_configs(sm, endpoint_name)
    if args.list:
        for line in format_configs(configs, serving) or [f"no configs kept for endpoint {endpoint_name} in {region}"]:
            out(line)
        return 0
    if serving is None:
        raise RollbackError(f"endpoint {endpoint_name} does not exist in {region}; nothing to roll back")
    target = choose(configs, serving, args.version)
    stack_note = f", then stack {api_stack}'s {ENCODING_PARAMETER} -> {target.encoding}" if api_stack else ""
    out(f"endpoint {endpoint_name}: {serving} -> {target.name} ({target.variant}, {target.kind}){stack_note}")
    if args.dry_run:
        out("dry run: nothing changed")
        return 0
    done = rollback(
        sm,
        cfn,
        endpoint_name,
        api_stack,
        target,
        samconfig_path=args.samconfig,
        report=out,
        sleep=sleep,
    )
    out(
        f"endpoint {endpoint_name} serves {target.variant} again (was {done.previous}); "
        f"`mysfits aws rollback {done.previous}` undoes this"
    )
    return 0
