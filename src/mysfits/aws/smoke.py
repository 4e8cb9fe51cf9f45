"""``scripts/smoke_aws.py`` (``mysfits aws smoke``): the whole AWS path on a real account, checked, then torn down.

The run is what nobody can do in CI: deploy the notebook stack, train the built-in kNN, serve it from a serverless
endpoint, deploy the API and the page, and use them as a visitor would. It then deletes everything with the same
clean-up code users run, in a ``finally``, so a failed step or a Ctrl-C still ends at $0 running. Its resources have
names of their own (``mysfits-smoke-...``), so it never touches a deployment of the project in the same account, and a
run that was killed outright is cleaned up by the next one before it creates anything.

Training and deploying are not re-implemented here: the run calls train_and_deploy's plan (the same steps
``scripts/train_and_deploy.py`` runs) and cleanup_cli's ``main``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mysfits.aws import (
    PROJECT_TAG_KEY,
    PROJECT_TAG_VALUE,
    RESOURCE_PREFIX,
    alarm_checks,
    build_tools,
    cleanup,
    cleanup_cli,
    sagemaker_job,
    smoke_checks,
    stack_steps,
    website,
)
from mysfits.aws import steps as steps_base
from mysfits.aws import train_and_deploy as tad
from mysfits.aws.account import NO_CREDENTIALS, aws_failure, caller_account, resolve_region
from mysfits.aws.notebook_stack import origin_url
from mysfits.aws.smoke_prerequisites import cost_estimate, local_prerequisites, quota_check, serverless_check
from mysfits.aws.smoke_report import FAILED, INTERRUPTED, PASSED, Check, Report, StepRecord
from mysfits.cli_base import CliError, OneLineParser, positive_int

PROJECT = f"{RESOURCE_PREFIX}-smoke"
"""The smoke run's ProjectName: its SageMaker resources are ``mysfits-smoke-...``, and clean-up looks only there."""
NOTEBOOK_STACK = f"{PROJECT}-notebook"
API_STACK = f"{PROJECT}-api"
WEBSITE_STACK = website.stack_name(API_STACK)
ENDPOINT = f"{PROJECT}-knn"
LAMBDA_TIMEOUT_S = 26.0  # template.yaml's Globals.Function.Timeout: a cold start must answer within it
MAX_CONCURRENCY = 2
GLOBAL_TAGGING_REGION = "us-east-1"  # CloudFront distributions are global; their tags are read in us-east-1
LEFTOVER_LOOKS, LEFTOVER_PAUSE_S = 4, 20.0


def run_command(argv: Sequence[str], cwd: Path | None = None) -> int:
    return steps_base.run_command(argv, cwd)


@dataclass(frozen=True)
class SmokeToolkit:
    """The outside world: train_and_deploy's toolkit (sessions, trainer, `sam`, output, sleep) plus what only the
    smoke run needs. Tests swap in moto, a recording `sam` and local servers."""

    deploy: steps_base.Toolkit = field(default_factory=steps_base.Toolkit)
    notebook_template: Callable[[Path], str] = lambda path: path.read_text("utf-8")
    ask: Callable[[str], str] = input
    browser: Callable[[], Callable | None] = smoke_checks.playwright_browser
    require_https: bool = True
    which: Callable[[str], str | None] = shutil.which
    clock: Callable[[], float] = time.monotonic

    def say(self, line: str) -> None:
        self.deploy.out(line)


def build_parser(prog: str = "smoke_aws.py") -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=prog,
        description="Deploy the whole AWS path into your account, check it as a visitor would, tear it all down "
        f"(also after a failure or Ctrl-C), and write a report. Its resources are named {PROJECT}-... and tagged "
        f"{PROJECT_TAG_KEY}={PROJECT_TAG_VALUE}; a deployment of your own is left alone.",
    )
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's region)")
    parser.add_argument("--yes", action="store_true", help="do not ask before creating resources")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and its cost; call no AWS at all")
    parser.add_argument(
        "--repo-url",
        help="https git URL the notebook instance clones at start (default: this checkout's `origin` remote)",
    )
    parser.add_argument(
        "--memory-mb", type=int, default=1024, help="serverless endpoint memory (default %(default)s, the smallest)"
    )
    parser.add_argument("--rows", type=positive_int, default=20_000, help="answers to generate (default %(default)s)")
    parser.add_argument("--calls", type=positive_int, default=30, help="calls for p50/p95 (default %(default)s)")
    parser.add_argument(
        "--report-dir", type=Path, default=Path("smoke-report"), help="where smoke-aws.md/.json go (%(default)s)"
    )
    parser.add_argument(
        "--samconfig",
        type=Path,
        default=tad.DEFAULT_SAMCONFIG,
        help="the project's samconfig.toml; `sam` runs beside it, and it is restored after the run (%(default)s)",
    )
    parser.add_argument("--web-dir", type=Path, default=tad.DEFAULT_WEB, help="the page (default %(default)s)")
    return parser


@dataclass
class Run:
    """What the steps share: the flags, the outside world, and what earlier steps found."""

    args: argparse.Namespace
    toolkit: SmokeToolkit
    region: str
    repo_url: str | None
    work: Path
    session: Any = None
    deploy_args: argparse.Namespace | None = None
    context: steps_base.Context | None = None
    deploy_steps: list[steps_base.Step] = field(default_factory=list)
    web_and_api: int = 0
    results: steps_base.Results = field(default_factory=steps_base.Results)
    report: Report | None = None


@dataclass(frozen=True)
class SmokeStep:
    name: str
    action: str
    run: Callable[[Run, StepRecord], str]  # returns the detail line for the report


def deploy_argv(run: Run, dry: bool) -> list[str]:
    args = run.args
    return [
        "--mode", "sagemaker", "--region", run.region, "--notebook-stack", NOTEBOOK_STACK,
        "--endpoint-name", ENDPOINT, "--serverless", "--memory-mb", str(args.memory_mb),
        "--max-concurrency", str(MAX_CONCURRENCY), "--data", str(run.work / "answers.csv"),
        "--rows", str(args.rows), "--sample-size", str(args.rows), "--no-logs",
        "--samconfig", str(args.samconfig), "--web-dir", str(args.web_dir),
        "--deploy-api", "--deploy-web", "--api-stack", API_STACK,
        *(["--dry-run"] if dry else []),
    ]  # fmt: skip


def plan_deploy(run: Run, dry: bool) -> None:
    """train_and_deploy's own plan for this run, split where the API starts. ``dry`` resolves it without AWS (to
    print it before anything exists); the real run plans again once the notebook stack is there to read."""
    deploy_args = tad.build_parser(prog="train_and_deploy").parse_args(deploy_argv(run, dry))
    tad.check_flags(deploy_args)
    resolved, clients = tad.resolve(deploy_args, run.toolkit.deploy)
    steps = tad.plan(deploy_args, resolved)
    run.deploy_args, run.deploy_steps = deploy_args, steps
    run.web_and_api = len(stack_steps.api_steps(deploy_args, resolved)) + len(stack_steps.web_steps(deploy_args))
    run.context = steps_base.Context(deploy_args, run.toolkit.deploy, resolved, clients)


def steps(run: Run) -> list[SmokeStep]:
    """The smoke run's steps, in order; the teardown and the leftover check follow them whatever happens."""
    endpoint_actions = "; ".join(s.action for s in run.deploy_steps[: -run.web_and_api]) or (
        "train_and_deploy's SageMaker steps"
    )
    api_actions = "; ".join(s.action for s in run.deploy_steps[-run.web_and_api :]) if run.web_and_api else ""
    return [
        SmokeStep(
            "earlier leftovers",
            f"delete what an earlier smoke run left ({PROJECT}-... SageMaker resources, stacks {WEBSITE_STACK}, "
            f"{API_STACK} and {NOTEBOOK_STACK}), with the clean-up below; nothing to do after a clean run",
            _clean_earlier,
        ),
        SmokeStep(
            "notebook stack",
            f"cloudformation:CreateStack {NOTEBOOK_STACK} from notebook-template.yaml (ProjectName={PROJECT}, "
            f"SourceRepositoryUrl={run.repo_url or '<--repo-url>'}, CAPABILITY_IAM, tag "
            f"{PROJECT_TAG_KEY}={PROJECT_TAG_VALUE}); wait for CREATE_COMPLETE, stop on a rollback",
            _notebook_stack,
        ),
        SmokeStep("train and serve", endpoint_actions, _train_and_serve),
        SmokeStep(
            "API and website",
            f"{api_actions} (`sam deploy` gets --no-confirm-changeset and --tags "
            f"{PROJECT_TAG_KEY}={PROJECT_TAG_VALUE}; "
            "the stack sets API Gateway's account logging role, as every deploy of template.yaml does)",
            _api_and_website,
        ),
        SmokeStep(
            "API checks",
            f"POST /recommendations as the page would (contract, a 4xx for bad input, CORS from the page's origin, "
            f"the cold start within {LAMBDA_TIMEOUT_S:.0f} s), then p50/p95 over {run.args.calls} calls",
            _check_api,
        ),
        SmokeStep(
            "website checks",
            "GET the page over HTTPS from CloudFront and its config.json (apiBaseUrl must be the API); "
            "then the page in Chromium if Playwright is installed",
            _check_website,
        ),
        SmokeStep(
            "alarms",
            f"cloudwatch:DescribeAlarms of {API_STACK}-<what>: each of template.yaml's "
            f"{len(alarm_checks.ALARMS)} alarms exists and none is in ALARM after the checks above",
            _check_alarms,
        ),
    ]


# --- the steps ----------------------------------------------------------------------------------------------------


def _clean_earlier(run: Run, record: StepRecord) -> str:
    return _teardown(run, record)


def _notebook_stack(run: Run, _record: StepRecord) -> str:
    cfn = run.session.client("cloudformation")
    template = run.toolkit.notebook_template(run.args.samconfig.resolve().parent / "notebook-template.yaml")
    cfn.create_stack(
        StackName=NOTEBOOK_STACK,
        TemplateBody=template,
        Parameters=[
            {"ParameterKey": "ProjectName", "ParameterValue": PROJECT},
            {"ParameterKey": "SourceRepositoryUrl", "ParameterValue": run.repo_url or ""},
        ],
        Capabilities=["CAPABILITY_IAM"],
        Tags=[{"Key": PROJECT_TAG_KEY, "Value": PROJECT_TAG_VALUE}],
    )
    # The waiter stops on CREATE_FAILED and on every ROLLBACK_* state, and gives up after 40 minutes.
    waiter = cfn.get_waiter("stack_create_complete")
    waiter.wait(StackName=NOTEBOOK_STACK, WaiterConfig={"Delay": 15, "MaxAttempts": 160})
    outputs = cleanup.stack_outputs(cfn, NOTEBOOK_STACK)
    return f"bucket {outputs.get('BucketName')}, role {outputs.get('RoleArn')}"


def _train_and_serve(run: Run, _record: StepRecord) -> str:
    plan_deploy(run, dry=False)
    steps_base.execute(run.deploy_steps[: -run.web_and_api], run.context, run.results)
    trained = run.results.get(sagemaker_job.TrainingResult)
    return f"training job {trained.job_name}; serverless endpoint {ENDPOINT} ({run.args.memory_mb} MB) InService"


def _api_and_website(run: Run, _record: StepRecord) -> str:
    if run.context is None:
        raise RuntimeError("the endpoint step did not run")
    steps_base.execute(run.deploy_steps[-run.web_and_api :], run.context, run.results)
    outputs = _outputs(run)
    return f"API {outputs[stack_steps.API_URL_OUTPUT]}, page {outputs[website.URL_OUTPUT]}"


def _outputs(run: Run) -> dict[str, str]:
    """The API stack's outputs and the website stack's, in one mapping."""
    return {**run.results.get(stack_steps.StackOutputs).values, **run.results.get(stack_steps.WebsiteStack).values}


def _failed(checks: list[Check]) -> str:
    failed = [c for c in checks if not c.ok]
    if failed:
        raise AssertionError("; ".join(f"{c.name}: {c.line}" for c in failed))
    return f"{len(checks)} checks passed"


def _check_api(run: Run, record: StepRecord) -> str:
    from mysfits_api.catalog import label_ids

    outputs = _outputs(run)
    checks, latency = smoke_checks.check_api(
        outputs[stack_steps.API_URL_OUTPUT],
        smoke_checks.origin_of(outputs[website.URL_OUTPUT]),
        set(label_ids()),
        calls=run.args.calls,
        cold_limit_s=LAMBDA_TIMEOUT_S,
    )
    record.checks.extend(checks)
    run.report.latency.update(latency)
    for check in checks:
        run.toolkit.say(f"  {'ok' if check.ok else 'FAILED'} {check.name}: {check.line}")
    return _failed(checks)


def _check_website(run: Run, record: StepRecord) -> str:
    outputs = _outputs(run)
    checks = smoke_checks.check_website(
        outputs[website.URL_OUTPUT],
        outputs[stack_steps.API_URL_OUTPUT],
        require_https=run.toolkit.require_https,
        browser=run.toolkit.browser(),
    )
    record.checks.extend(checks)
    for check in checks:
        run.toolkit.say(f"  {'ok' if check.ok else 'FAILED'} {check.name}: {check.line}")
    return _failed(checks)


def _check_alarms(run: Run, record: StepRecord) -> str:
    checks = alarm_checks.check_alarms(run.session.client("cloudwatch"), API_STACK)
    record.checks.extend(checks)
    for check in checks:
        run.toolkit.say(f"  {'ok' if check.ok else 'FAILED'} {check.name}: {check.line}")
    return _failed(checks)


def _teardown(run: Run, _record: StepRecord) -> str:
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        run.toolkit.say(f"  {line}")

    argv = ["--region", run.region, "--yes", "--prefix", PROJECT, "--api-stack", API_STACK]
    argv += ["--notebook-stack", NOTEBOOK_STACK, "--samconfig", str(run.args.samconfig)]
    code = cleanup_cli.main(argv, session=run.session, sleep=run.toolkit.deploy.sleep, out=say, prog="clean-up")
    if code != 0:
        raise RuntimeError(f"clean-up exited with code {code}; its error is above")
    return lines[-1] if lines else "nothing to delete"


def find_leftovers(run: Run) -> tuple[list[str], list[str], list[str]]:
    """(this run's resources still there, others tagged for the project, kept on purpose), from the Tagging API
    (which lists every resource type that carries tags) in the region and in us-east-1 for CloudFront."""
    ours, others, kept = [], [], []
    for region in dict.fromkeys((run.region, GLOBAL_TAGGING_REGION)):
        tagging = run.session.client("resourcegroupstaggingapi", region_name=region)
        pages = tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": PROJECT_TAG_KEY, "Values": [PROJECT_TAG_VALUE]}]
        )
        for page in pages:
            for mapping in page["ResourceTagMappingList"]:
                arn = mapping["ResourceARN"]
                tags = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
                from_us = tags.get("aws:cloudformation:stack-name") in {
                    NOTEBOOK_STACK,
                    API_STACK,
                    WEBSITE_STACK,
                } or any(f"{sep}{PROJECT}-" in arn for sep in ("/", ":"))
                if from_us and ":training-job/" in arn:
                    kept.append(f"{arn} (a finished training job: SageMaker keeps its record, at no cost)")
                elif from_us:
                    ours.append(arn)
                elif arn not in others:
                    others.append(arn)
    cfn = run.session.client("cloudformation")
    ours += [f"stack {name}" for name in (WEBSITE_STACK, API_STACK, NOTEBOOK_STACK) if cleanup.stack_status(cfn, name)]
    return sorted(set(ours)), others, kept


def _check_leftovers(run: Run, _record: StepRecord) -> str:
    """The Tagging API may list a resource for a while after it was deleted, so a find is looked at again a few
    times before it counts as left behind."""
    for look in range(LEFTOVER_LOOKS):
        ours, others, kept = find_leftovers(run)
        if not ours or look == LEFTOVER_LOOKS - 1:
            break
        run.toolkit.deploy.sleep(LEFTOVER_PAUSE_S)
    run.report.leftovers, run.report.others_tagged = ours, others
    run.report.kept_by_design += kept
    for arn in ours:
        run.toolkit.say(f"  LEFT BEHIND: {arn}")
    if ours:
        raise AssertionError(f"{len(ours)} resources of this run are still there: run scripts/cleanup.py")
    return f"nothing of this run is left ({len(others)} other resources tagged for the project left alone)"


KEPT_BY_DESIGN = [
    "API Gateway's account logging role (template.yaml keeps it: the account setting outlives the stack; IAM roles "
    "cost nothing)",
    "the SAM CLI's managed artifact bucket (aws-sam-cli-managed-default), shared by every SAM project in the region",
    "CloudWatch log groups written by Lambda and SageMaker (storage only, cents at most)",
]


# --- main ---------------------------------------------------------------------------------------------------------


def _timed(run: Run, step: SmokeStep, record: StepRecord) -> bool:
    """Run one step into its record; False when the run should stop. Ctrl-C is recorded and passed on."""
    started = run.toolkit.clock()
    try:
        record.detail = step.run(run, record)
        record.result = PASSED
    except KeyboardInterrupt:
        record.result, record.detail = INTERRUPTED, "Ctrl-C"
        raise
    except NoCredentialsError:
        record.result, record.detail = FAILED, NO_CREDENTIALS
    except (ClientError, BotoCoreError) as exc:
        record.result, record.detail = FAILED, aws_failure(exc)
    except Exception as exc:  # noqa: BLE001 - any failure of a step is reported, and the teardown still runs
        record.result, record.detail = FAILED, f"{type(exc).__name__}: {exc}".strip()
    finally:
        record.seconds = run.toolkit.clock() - started
    run.toolkit.say(f"  -> {record.result}: {record.detail}")
    return record.result == PASSED


def _confirm(toolkit: SmokeToolkit, cost: str) -> bool:
    try:
        answer = toolkit.ask(f"create these resources in your account (about {cost})? [y/N] ")
    except EOFError:
        raise CliError("no terminal to ask on: pass --yes to run without asking") from None
    return answer.strip().lower() in {"y", "yes"}


def main(argv: Sequence[str] | None = None, toolkit: SmokeToolkit | None = None, prog: str = "smoke_aws.py") -> int:
    toolkit = toolkit or SmokeToolkit()
    args = build_parser(prog).parse_args(argv)
    try:
        return _main(args, toolkit)
    except CliError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, toolkit: SmokeToolkit) -> int:
    region = resolve_region(args.region)
    repo_url = args.repo_url or origin_url(args.samconfig.resolve().parent)
    if args.repo_url and not args.repo_url.startswith("https://"):
        raise CliError(
            f"--repo-url must be an https git URL (the notebook template accepts only those), got {args.repo_url}"
        )
    settings = {
        "notebook stack": NOTEBOOK_STACK,
        "API stack": API_STACK,
        "website stack": WEBSITE_STACK,
        "endpoint": f"{ENDPOINT} (serverless, {args.memory_mb} MB, max concurrency {MAX_CONCURRENCY})",
        "data": f"{args.rows:,} generated answers",
        "repository the notebook clones": repo_url or "(none: pass --repo-url)",
        "latency calls": str(args.calls),
    }
    report = Report(region, "dry run" if args.dry_run else "real run", settings, cost=cost_estimate(args))
    with tempfile.TemporaryDirectory(prefix="mysfits-smoke-") as work:
        run = Run(args, toolkit, region, repo_url, Path(work), report=report)
        return _run(run)


def _prerequisites(run: Run) -> bool:
    args, report, toolkit = run.args, run.report, run.toolkit
    report.prerequisites.append(Check("region", True, run.region))
    report.prerequisites.append(serverless_check(run.region))
    tools = build_tools.Tools(toolkit.which, toolkit.deploy.tools.version)
    report.prerequisites += local_prerequisites(args, tools, run.repo_url)
    if args.dry_run:
        report.prerequisites.append(Check("credentials", True, "not checked: a dry run calls no AWS"))
        report.prerequisites.append(Check("endpoint quota", True, "not checked: a dry run calls no AWS"))
    else:
        run.session = toolkit.deploy.session_factory(run.region)
        try:
            report.account = caller_account(run.session.client("sts"))
            report.prerequisites.append(
                Check("credentials", True, f"account {report.account} (redacted in the report)")
            )
            report.prerequisites.append(
                quota_check(run.session.client("service-quotas"), args.memory_mb, MAX_CONCURRENCY)
            )
        except CliError as exc:
            report.prerequisites.append(Check("credentials", False, str(exc)))
    for check in report.prerequisites:
        toolkit.say(f"{'ok' if check.ok else 'MISSING'} {check.name}: {check.line}")
    return all(check.ok for check in report.prerequisites)


def _run(run: Run) -> int:
    args, report, toolkit = run.args, run.report, run.toolkit
    ready = _prerequisites(run)
    if args.dry_run or ready:
        plan_deploy(run, dry=True)
    planned = steps(run) if (args.dry_run or ready) else []
    report.steps = [StepRecord(s.name, s.action) for s in planned]
    report.steps += [
        StepRecord("teardown", f"scripts/cleanup.py --prefix {PROJECT} --api-stack {API_STACK} --notebook-stack "
                   f"{NOTEBOOK_STACK} --yes (empties both buckets, deletes endpoints, configs, models and the "
                   "three stacks)"),
        StepRecord("leftover check", "resourcegroupstaggingapi:GetResources for the project tag (the region, and "
                   f"{GLOBAL_TAGGING_REGION} for CloudFront) and cloudformation:DescribeStacks; print what is left"),
    ]  # fmt: skip
    report.kept_by_design = list(KEPT_BY_DESIGN)
    if not (args.dry_run or ready):
        report.outcome = "prerequisites missing, nothing created"
        return _finish(run, 2)
    toolkit.say("plan:")
    for number, record in enumerate(report.steps, 1):
        toolkit.say(f"  {number}. {record.name}: {record.action}")
    toolkit.say("expected cost:")
    for row in report.cost:
        toolkit.say(f"  {row['item']}: {row['estimate']} ({row['basis']})")
    if args.dry_run:
        report.outcome = "dry run, nothing created"
        return _finish(run, 0)
    if not args.yes and not _confirm(toolkit, report.cost[-1]["estimate"]):
        report.outcome = "not confirmed, nothing created"
        return _finish(run, 1)

    samconfig_before = args.samconfig.read_bytes()
    deploy = toolkit.deploy
    run.toolkit = toolkit = dataclasses.replace(toolkit, deploy=_unattended(deploy))
    records = dict(zip((s.name for s in planned), report.steps, strict=False))
    interrupted = False
    try:
        for number, step in enumerate(planned, 1):
            toolkit.say(f"[{number}/{len(report.steps)}] {step.name}")
            if not _timed(run, step, records[step.name]):
                break
    except KeyboardInterrupt:
        interrupted = True
        toolkit.say("interrupted: tearing down what was created")
    finally:
        teardown, leftover = report.steps[-2], report.steps[-1]
        toolkit.say(f"[{len(report.steps) - 1}/{len(report.steps)}] teardown")
        torn_down = False
        try:
            torn_down = _timed(run, SmokeStep("teardown", teardown.action, _teardown), teardown)
            toolkit.say(f"[{len(report.steps)}/{len(report.steps)}] leftover check")
            _timed(run, SmokeStep("leftover check", leftover.action, _check_leftovers), leftover)
        except KeyboardInterrupt:  # a second Ctrl-C stops the teardown; the next run cleans up before it starts
            interrupted = True
            toolkit.say(f"teardown interrupted: run scripts/cleanup.py --prefix {PROJECT}, or this command again")
        finally:
            args.samconfig.write_bytes(samconfig_before)
    passed = all(record.result == PASSED for record in report.steps)
    if interrupted:
        report.outcome = "interrupted" + ("" if torn_down else ", teardown incomplete")
        return _finish(run, 130)
    report.outcome = "passed" if passed else f"failed at {report.failed_step}"
    return _finish(run, 0 if passed else 1)


def _unattended(deploy: steps_base.Toolkit) -> steps_base.Toolkit:
    """The same toolkit, but `sam deploy` tags the stack and does not stop to ask about its change set (the run
    was confirmed once, up front)."""
    runner = deploy.runner

    def run(argv: Sequence[str], cwd: Path | None = None) -> int:
        words = list(argv)
        if len(words) > 1 and words[1] == "deploy":
            words += ["--no-confirm-changeset", "--tags", f"{PROJECT_TAG_KEY}={PROJECT_TAG_VALUE}"]
        return runner(words, cwd)

    return steps_base.Toolkit(deploy.session_factory, deploy.trainer, run, deploy.out, deploy.sleep)


def _finish(run: Run, code: int) -> int:
    markdown, data = run.report.write(run.args.report_dir)
    run.toolkit.say(f"{run.report.outcome}; report: {markdown} and {data} (account ids redacted)")
    return code
