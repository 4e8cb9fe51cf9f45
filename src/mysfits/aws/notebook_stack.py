"""``mysfits aws notebook``: the training stack (notebook-template.yaml) deployed by the project's own tool, so the
README's first step needs nothing that ``make install`` did not install (no ``aws`` CLI).

It calls CloudFormation directly: the template is plain CloudFormation (no SAM transform, under CreateStack's
51,200-byte TemplateBody limit), and a failed create is deleted by CloudFormation itself (``OnFailure=DELETE``), so
the next run starts clean. A stack left in ROLLBACK_COMPLETE by an earlier tool is deleted first, saying so. A stack
that exists is updated, and "no updates" is success, so the same command can be run again.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mysfits.aws import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, cleanup, stack_state
from mysfits.aws.account import NO_CREDENTIALS, aws_failure, caller_account, resolve_region
from mysfits.aws.steps import boto3_session
from mysfits.cli_base import CliError, OneLineParser

DEFAULT_STACK = "mysfits-notebook"
DEFAULT_TEMPLATE = Path("notebook-template.yaml")
OUTPUTS = ("NotebookUrl", "BucketName", "RoleArn")
WAIT = {"Delay": 15, "MaxAttempts": 160}  # 40 minutes: a notebook instance takes several to start


@dataclass(frozen=True)
class NotebookToolkit:
    """The outside world; tests swap in moto and a stand-in template (moto cannot create the real one)."""

    session_factory: Callable[[str], object] = boto3_session
    out: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    template_text: Callable[[Path], str] = lambda path: path.read_text("utf-8")
    waiter_config: dict | None = None


def origin_url(root: Path) -> str | None:
    """This checkout's `origin` as an https URL (the template accepts only https), or None."""
    try:
        found = subprocess.run(  # noqa: S603 - fixed argv
            ["git", "-C", str(root), "remote", "get-url", "origin"],  # noqa: S607 - the git on PATH
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return None
    if found.startswith("git@") and ":" in found:
        host, path = found[4:].split(":", 1)
        found = f"https://{host}/{path}"
    return found if found.startswith("https://") and " " not in found else None


def build_parser(prog: str) -> OneLineParser:
    parser = OneLineParser(
        prog=prog,
        description="Create or update the training stack from notebook-template.yaml: a private bucket for the data "
        "and the model, the SageMaker role, and a notebook instance that clones your copy of the project.",
    )
    parser.add_argument("--stack-name", default=DEFAULT_STACK, help="(default %(default)s)")
    parser.add_argument(
        "--repo-url",
        help="https git URL the notebook instance clones (default: this checkout's `origin` remote, if https)",
    )
    parser.add_argument("--template-file", type=Path, default=DEFAULT_TEMPLATE, help="(default %(default)s)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's region)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done and stop")
    return parser


def _plan(args, region: str, repo: str) -> list[str]:
    tag = f"{PROJECT_TAG_KEY}={PROJECT_TAG_VALUE}"
    return [
        f"cloudformation:DescribeStacks {args.stack_name} (region {region}): a stack left in "
        f"{stack_state.FAILED_CREATE} by a failed create is deleted first, saying so",
        f"cloudformation:CreateStack {args.stack_name} from {args.template_file} (SourceRepositoryUrl={repo}, "
        f"CAPABILITY_IAM, OnFailure=DELETE, tag {tag}), or cloudformation:UpdateStack if it exists (no change is "
        "not an error); wait until it is complete",
        f"cloudformation:DescribeStacks {args.stack_name}: print {', '.join(OUTPUTS)}",
    ]


def main(argv: Sequence[str] | None = None, toolkit: NotebookToolkit | None = None, prog: str = "notebook") -> int:
    toolkit = toolkit or NotebookToolkit()
    args = build_parser(prog).parse_args(argv)
    try:
        return _run(args, toolkit)
    except CliError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print(f"{prog}: error: {NO_CREDENTIALS}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError, cleanup.CleanupError) as exc:
        message = aws_failure(exc) if isinstance(exc, ClientError | BotoCoreError) else str(exc)
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 1


def _run(args, toolkit: NotebookToolkit) -> int:
    if not args.template_file.is_file():
        raise CliError(f"{args.template_file} not found: run from the project's root or pass --template-file")
    region = resolve_region(args.region)
    repo = args.repo_url or origin_url(args.template_file.resolve().parent)
    if args.repo_url and not args.repo_url.startswith("https://"):
        raise CliError(f"--repo-url must be an https git URL (the template accepts only those), got {args.repo_url}")
    shown = repo or "<the value the stack has; a new stack needs --repo-url>"
    if args.dry_run:
        toolkit.out("dry run: these steps would run, in order; nothing was changed")
        for number, action in enumerate(_plan(args, region, shown), 1):
            toolkit.out(f"  {number}. {action}")
        return 0
    session = toolkit.session_factory(region)
    cfn = session.client("cloudformation")
    toolkit.out(f"AWS account {caller_account(session.client('sts'))}, region {region}")
    steps = _plan(args, region, shown)
    toolkit.out(f"[1/3] {steps[0]}")
    stack_state.clear_failed_create(cfn, args.stack_name, toolkit.out, toolkit.sleep)
    exists = cleanup.stack_status(cfn, args.stack_name) is not None
    if not exists and not repo:
        raise CliError(
            "no repository for the notebook to clone: pass --repo-url https://github.com/YOU/YOUR-FORK.git "
            "(this checkout has no https `origin` remote)"
        )
    toolkit.out(f"[2/3] {steps[1]}")
    _deploy(cfn, args, toolkit, repo, exists)
    toolkit.out(f"[3/3] {steps[2]}")
    outputs = cleanup.stack_outputs(cfn, args.stack_name)
    for name in OUTPUTS:
        toolkit.out(f"  {name}: {outputs.get(name, '(no such output)')}")
    return 0


def _deploy(cfn, args, toolkit: NotebookToolkit, repo: str | None, exists: bool) -> None:
    parameters = [
        {"ParameterKey": "SourceRepositoryUrl", "ParameterValue": repo}
        if repo
        else {"ParameterKey": "SourceRepositoryUrl", "UsePreviousValue": True}
    ]
    common = {
        "StackName": args.stack_name,
        "TemplateBody": toolkit.template_text(args.template_file),
        "Parameters": parameters,
        "Capabilities": ["CAPABILITY_IAM"],
        "Tags": [{"Key": PROJECT_TAG_KEY, "Value": PROJECT_TAG_VALUE}],
    }
    config = toolkit.waiter_config or WAIT
    if not exists:
        cfn.create_stack(**common, OnFailure="DELETE")
        toolkit.out(f"  creating stack {args.stack_name} (a notebook instance takes several minutes to start)")
        cfn.get_waiter("stack_create_complete").wait(StackName=args.stack_name, WaiterConfig=config)
        return
    try:
        cfn.update_stack(**common)
    except ClientError as exc:
        if "No updates are to be performed" in exc.response["Error"]["Message"]:
            toolkit.out(f"  stack {args.stack_name} is up to date")
            return
        raise
    toolkit.out(f"  updating stack {args.stack_name}")
    cfn.get_waiter("stack_update_complete").wait(StackName=args.stack_name, WaiterConfig=config)
