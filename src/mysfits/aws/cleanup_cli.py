"""``scripts/cleanup.py``: list what this project runs in a region, ask, delete it, and say what was deleted."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from mysfits import samconfig
from mysfits.aws import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, RESOURCE_PREFIX, cleanup, retained_tables, website
from mysfits.aws.account import aws_failure, caller_account, resolve_region
from mysfits.cli_base import CliError, OneLineParser

DEFAULT_NOTEBOOK_STACK = "mysfits-notebook"
DEFAULT_API_STACK = "mysfits-recommendations"
CHOICES_TABLE_OUTPUT = retained_tables.CHOICES_TABLE_OUTPUT


def build_parser(prog: str) -> OneLineParser:
    parser = OneLineParser(
        prog=prog,
        description=f"Delete this project's SageMaker endpoints, endpoint configs and models (named <prefix>-... "
        f"and tagged {PROJECT_TAG_KEY}={PROJECT_TAG_VALUE}) and, if asked, its stacks. Safe to run again.",
    )
    parser.add_argument(
        "--prefix",
        default=RESOURCE_PREFIX,
        help="the notebook stack's ProjectName (its ResourcePrefix output); only resources named <prefix>-... are "
        "considered (default %(default)s)",
    )
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's region)")
    parser.add_argument("--yes", action="store_true", help="do not ask before deleting")
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted and stop")
    parser.add_argument(
        "--api-stack",
        help="also delete this SAM stack, and its page's stack <name>-website after emptying its bucket",
    )
    parser.add_argument("--notebook-stack", help="also empty this notebook stack's bucket and delete the stack")
    parser.add_argument(
        "--delete-stacks",
        action="store_true",
        help=f"delete the stacks: the API stack named in samconfig.toml (or {DEFAULT_API_STACK}), its page's "
        f"stack and {DEFAULT_NOTEBOOK_STACK}, unless --api-stack / --notebook-stack name others",
    )
    parser.add_argument(
        "--delete-data",
        action="store_true",
        help="also delete the API stack's choices table (visitors' choices, the only real training data), which "
        "deleting the stack keeps",
    )
    parser.add_argument(
        "--samconfig",
        type=Path,
        default=Path("samconfig.toml"),
        help="where --delete-stacks reads the API stack name (default %(default)s)",
    )
    return parser


def _stacks(args) -> tuple[str | None, str | None]:
    api, notebook = args.api_stack, args.notebook_stack
    if args.delete_stacks:
        api = api or _configured_api_stack(args)
        notebook = notebook or DEFAULT_NOTEBOOK_STACK
    return api, notebook


def _configured_api_stack(args) -> str:
    return samconfig.read_setting(args.samconfig, "deploy", "stack_name") or DEFAULT_API_STACK


def main(
    argv: Sequence[str] | None = None,
    *,
    session=None,
    ask: Callable[[str], str] = input,
    sleep: Callable[[float], None] = time.sleep,
    out: Callable[[str], None] = print,
    prog: str = "cleanup.py",
) -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return _run(args, session, ask, sleep, out)
    except CliError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except (cleanup.CleanupError, samconfig.SamConfigError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"{prog}: error: {aws_failure(exc)}", file=sys.stderr)
        return 1


def _run(args, session, ask, sleep, out) -> int:
    region = resolve_region(args.region)
    if session is None:
        import boto3

        session = boto3.Session(region_name=region)
    sm, cfn, s3 = session.client("sagemaker"), session.client("cloudformation"), session.client("s3")
    account = caller_account(session.client("sts"))
    api_stack, notebook_stack = _stacks(args)
    web_stack = website.stack_name(api_stack) if api_stack else None

    resources = cleanup.find_project_resources(sm, prefix=args.prefix)
    stacks = []
    for name in filter(None, (web_stack, api_stack, notebook_stack)):
        if cleanup.stack_status(cfn, name):
            stacks.append(name)
        else:
            out(f"stack {name} does not exist in {region} (nothing to delete)")
    # CloudFormation cannot delete a bucket that holds objects: each stack's bucket is emptied before the stack goes.
    buckets, tables = {}, []
    if web_stack in stacks:
        buckets[web_stack] = cleanup.stack_outputs(cfn, web_stack).get(website.BUCKET_OUTPUT)
    if api_stack in stacks:
        tables += filter(None, [cleanup.stack_outputs(cfn, api_stack).get(CHOICES_TABLE_OUTPUT)])
    if notebook_stack in stacks:
        buckets[notebook_stack] = cleanup.stack_outputs(cfn, notebook_stack).get("BucketName")
    # Tables kept by stacks deleted earlier are found by name and tag, not by an output that no longer exists. Only
    # when the API stack is in question: a plain clean-up (the notebook's, whose role cannot list tables) skips it.
    dynamodb = session.client("dynamodb")
    if api_stack or args.delete_data:
        found = retained_tables.tagged_tables(dynamodb, api_stack or _configured_api_stack(args))
        tables += [name for name in found if name not in tables]

    if not resources and not stacks and not (tables and args.delete_data):
        kept = f"; kept: table {', '.join(tables)} (visitors' choices; --delete-data deletes it)" if tables else ""
        out(f"nothing of this project's is left running in account {account}, region {region}{kept}")
        return 0
    verb = "would delete" if args.dry_run else "will delete"
    out(f"in account {account}, region {region}, this {verb}:")
    for resource in resources:
        out(f"  {verb} {resource}")
    for name in stacks:
        emptied = f" (after emptying s3://{buckets[name]})" if buckets.get(name) else ""
        out(f"  {verb} stack {name}{emptied}")
    for table in tables:
        if args.delete_data:
            out(f"  {verb} table {table} (visitors' choices: the training data cannot be recovered)")
        else:
            out(f"  will keep table {table} (visitors' choices); pass --delete-data to delete it too")
    if args.dry_run:
        return 0
    if not args.yes and not _confirmed(ask, len(resources) + len(stacks) + (len(tables) if args.delete_data else 0)):
        out("nothing deleted")
        return 1

    deleted = cleanup.delete_resources(sm, resources, out)
    deleted_stacks = 0
    for name in stacks:
        if buckets.get(name):
            cleanup.empty_bucket(s3, buckets[name], out)
        deleted_stacks += cleanup.delete_stack(cfn, name, out, sleep=sleep)
    for table in tables:
        if args.delete_data:
            cleanup.delete_table(dynamodb, table, out)
        else:
            out(f"kept table {table} with the visitors' choices (`mysfits choices export --table {table}` reads it)")
    out(f"deleted {len(deleted)} SageMaker resources and {deleted_stacks} stacks")
    if notebook_stack not in stacks:
        out("a notebook instance, if you created one, is billed per hour while running: stop it, or delete its stack")
    return 0


def _confirmed(ask: Callable[[str], str], count: int) -> bool:
    try:
        answer = ask(f"delete these {count}? [y/N] ")
    except EOFError:
        raise CliError("no terminal to ask on: pass --yes to delete without asking") from None
    return answer.strip().lower() in {"y", "yes"}
