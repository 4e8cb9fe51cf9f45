"""``scripts/train_and_deploy.py`` (``mysfits aws train-and-deploy``): from data to a serving endpoint in one command.

Both modes end the same way: the endpoint name is written into samconfig.toml, so a plain ``sam deploy`` (or
``--deploy-api``) points the Lambda at it.

The run is a plan: :func:`plan` turns the flags (and what was looked up before it: region, bucket, role, stack name)
into a list of steps, each described by the action it takes, and does nothing else. ``--dry-run`` prints that list
and stops, so what is printed is exactly what a real run does, in order. This module holds the flags, what is
looked up before the plan, and the plan; the steps live beside what they touch (:mod:`mysfits.aws.model_steps`,
:mod:`mysfits.aws.choice_steps`, :mod:`mysfits.aws.stack_steps`), and :mod:`mysfits.aws.steps` holds what they share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mysfits import endpoint_name, samconfig
from mysfits.aws import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, build_tools, quotas, sagemaker_job
from mysfits.aws.account import NO_CREDENTIALS, aws_failure, caller_account, resolve_region
from mysfits.aws.choice_steps import ChampionKept
from mysfits.aws.model_steps import capacity_from, local_steps, sagemaker_steps
from mysfits.aws.stack_steps import WebsiteNotDeployed, api_steps, web_steps
from mysfits.aws.steps import AwsClients, Context, Resolved, Step, Toolkit, execute
from mysfits.cli_base import CliError, OneLineParser, positive_int
from mysfits.model.artifact import ArtifactError
from mysfits_api import encoding as encodings

DEFAULT_DATA = Path("data/answers.csv")
DEFAULT_MODEL = Path("models/mysfits-knn.json")
DEFAULT_SAMCONFIG = Path("samconfig.toml")
DEFAULT_WEB = Path("web")
FROM_API_STACK = "<the API stack's ChoicesTableName>"


# --- flags --------------------------------------------------------------------------------------------------------


def build_parser(prog: str = "train_and_deploy.py") -> argparse.ArgumentParser:
    from mysfits.loop.cli import add_challenge_flags
    from mysfits.model import dataset as ds
    from mysfits.model import training

    parser = OneLineParser(
        prog=prog,
        description="Train the Mysfits kNN and serve it: locally (default) or on SageMaker. "
        "Then write the endpoint name into samconfig.toml, and optionally deploy the API and the web page.",
    )
    parser.add_argument("--mode", choices=("local", "sagemaker"), default="local", help="where to train and serve")
    data = parser.add_argument_group("data and model")
    data.add_argument("--data", type=Path, default=DEFAULT_DATA, help="answers CSV; generated if missing")
    data.add_argument(
        "--rows", type=positive_int, default=ds.DEFAULT_ROWS, help="rows to generate if --data is missing"
    )
    data.add_argument("--signal", type=float, default=ds.DEFAULT_SIGNAL, help="generator signal (0 = uniform)")
    data.add_argument("--seed", type=int, default=ds.DEFAULT_SEED, help="seed for the generator, split and sample")
    data.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help="local model artifact (the file the local endpoint serves)"
    )
    data.add_argument("--k", type=positive_int, default=training.DEFAULT_K, help="neighbours that vote")
    data.add_argument(
        "--sample-size", type=positive_int, default=training.DEFAULT_SAMPLE_SIZE, help="training rows the model keeps"
    )
    data.add_argument(
        "--encoding",
        choices=encodings.ENCODINGS,
        default=training.DEFAULT_ENCODING,
        help="the model's features: the five answers (ordinal) or 40 one-hot features",
    )
    data.add_argument(
        "--preferences",
        choices=ds.PREFERENCES,
        default=ds.DEFAULT_PREFERENCES,
        help="kind of data to generate if --data is missing",
    )
    data.add_argument(
        "--tune", action="store_true", help="choose the encoding, k and sample size on a validation split (locally)"
    )
    data.add_argument("--confusion", type=Path, help="write the confusion matrix PNG here")

    aws = parser.add_argument_group("SageMaker (--mode sagemaker)")
    aws.add_argument("--region", help="AWS region (default: AWS_REGION / your profile's region)")
    aws.add_argument(
        "--notebook-stack", help="read --bucket and --role from this notebook-template.yaml stack's outputs"
    )
    aws.add_argument("--bucket", help="S3 bucket for the data and the model")
    aws.add_argument("--role", help="SageMaker execution role ARN")
    aws.add_argument("--prefix", help="S3 key prefix (default: the endpoint name)")
    aws.add_argument("--train-instance-type", default="ml.m5.large", help="training instance (default %(default)s)")
    aws.add_argument("--instance-type", help="real-time endpoint instance (default ml.m5.large)")
    aws.add_argument("--serverless", action="store_true", help="deploy a serverless endpoint instead of an instance")
    aws.add_argument("--memory-mb", type=int, help="serverless memory: 1024..6144 in steps of 1024 (default 2048)")
    aws.add_argument("--max-concurrency", type=int, help="serverless concurrent requests, 1..200 (default 5)")
    aws.add_argument("--no-logs", action="store_true", help="do not stream the training job's log")

    loop = parser.add_argument_group("visitors' choices (--mode sagemaker)")
    loop.add_argument(
        "--choices-table",
        nargs="?",
        const=FROM_API_STACK,
        metavar="NAME",
        help="learn from visitors' choices too, and replace the serving model only if the new one is no worse on "
        "held-out choices. Without NAME: the API stack's table (its ChoicesTableName output, or the one it left "
        "when it was deleted, found by name and tag)",
    )
    add_challenge_flags(loop)

    common = parser.add_argument_group("endpoint, API and web")
    common.add_argument(
        "--endpoint-name",
        type=endpoint_name.flag(lowercase=True),
        default=endpoint_name.DEFAULT,
        help="lowercase; stable across runs (default %(default)s)",
    )
    common.add_argument(
        "--samconfig", type=Path, default=DEFAULT_SAMCONFIG, help="samconfig.toml to update (default %(default)s)"
    )
    common.add_argument(
        "--deploy-api", action="store_true", help="then run sam build and sam deploy, and print the API URL"
    )
    common.add_argument("--api-stack", help="SAM stack name (default: stack_name in samconfig.toml)")
    common.add_argument(
        "--deploy-web",
        action="store_true",
        help="also deploy the page's own stack (website-template.yaml: a private bucket behind CloudFront), let the "
        "API accept calls from it, and upload web/ with a config.json naming the API (web/config.json itself is "
        "left as it is)",
    )
    common.add_argument("--web-dir", type=Path, default=DEFAULT_WEB, help="the static page (default %(default)s)")
    common.add_argument("--dry-run", action="store_true", help="print every action, AWS or local, and take none")
    return parser


def check_flags(args: argparse.Namespace) -> None:
    sagemaker_only = {
        "--notebook-stack": args.notebook_stack,
        "--bucket": args.bucket,
        "--role": args.role,
        "--prefix": args.prefix,
        "--instance-type": args.instance_type,
        "--serverless": args.serverless,
        "--memory-mb": args.memory_mb,
        "--max-concurrency": args.max_concurrency,
        "--deploy-api": args.deploy_api,
        "--deploy-web": args.deploy_web,
        "--choices-table": args.choices_table,
    }
    if args.mode == "local":
        used = [flag for flag, value in sagemaker_only.items() if value]
        if used:
            raise CliError(
                f"{', '.join(used)} only apply with --mode sagemaker (the local mode uses no AWS; "
                "mysfits retrain closes the loop locally)"
            )
        return
    if args.serverless and args.instance_type:
        raise CliError("--serverless and --instance-type exclude each other: a serverless endpoint has no instance")
    if not args.serverless and (args.memory_mb or args.max_concurrency):
        raise CliError("--memory-mb and --max-concurrency need --serverless")
    if args.deploy_web and not args.deploy_api:
        raise CliError("--deploy-web needs --deploy-api (the page's config.json holds the API URL it deploys)")
    if args.deploy_web and not (args.web_dir / "index.html").is_file():
        raise CliError(f"--web-dir {args.web_dir} has no index.html; point it at the page (default web/)")
    if args.bucket and args.notebook_stack:
        raise CliError("give --bucket or --notebook-stack, not both")


# --- what is known before the plan --------------------------------------------------------------------------------


def resolve(args: argparse.Namespace, toolkit: Toolkit) -> tuple[Resolved, AwsClients | None]:
    """Whether the data exists; for SageMaker also the region, then (unless a dry run) credentials, bucket and role;
    then the API stack's name."""
    if args.mode == "local":
        return Resolved(data_missing=not args.data.exists()), None
    region = resolve_region(args.region)
    image_problem = quotas.image_problem(region)
    if image_problem:
        raise CliError(image_problem)
    if args.deploy_api:
        check_build_tools(toolkit)
    clients, bucket, role = None, args.bucket, args.role
    if args.dry_run:
        # Read-only, and only with credentials: without them the dry run still lists its steps.
        check_quotas(args, toolkit.session_factory(region).client("service-quotas"), toolkit.out)
    else:
        clients = AwsClients.create(toolkit.session_factory(region))
        bucket, role = preflight(args, clients, region, toolkit.out)
        check_quotas(args, clients.quotas, toolkit.out)
    api_stack = _stack_name(args) if args.deploy_api else ""
    if args.choices_table == FROM_API_STACK and clients is not None:
        args.choices_table = find_choices_table(args, clients, toolkit.out)
    return Resolved(not args.data.exists(), region, bucket, role, api_stack), clients


def find_choices_table(args: argparse.Namespace, clients: AwsClients, say: Callable[[str], None]) -> str:
    """--choices-table without a name: the table is looked up before the plan, so the plan names it."""
    from mysfits.aws import retained_tables

    try:
        table, where = retained_tables.choices_table(clients.cloudformation, clients.dynamodb, _stack_name(args))
    except ValueError as exc:
        raise CliError(f"--choices-table: {exc}") from None
    say(f"choices table {table} ({where})")
    return table


def preflight(args: argparse.Namespace, clients: AwsClients, region: str, say: Callable[[str], None]) -> tuple:
    """Check credentials, the bucket and the role before anything is created; returns (bucket, role)."""
    account = caller_account(clients.sts, hint=" (or use --mode local)")
    say(f"AWS account {account}, region {region}")
    if args.notebook_stack:
        from mysfits.aws.cleanup import CleanupError, stack_outputs

        try:
            outputs = stack_outputs(clients.cloudformation, args.notebook_stack)
        except CleanupError as exc:
            raise CliError(f"{exc}; create it from notebook-template.yaml or pass --bucket and --role") from None
        bucket, role = outputs.get("BucketName"), args.role or outputs.get("RoleArn")
        prefix = outputs.get("ResourcePrefix")
        if prefix and not args.endpoint_name.startswith(prefix + "-"):
            raise CliError(
                f"--endpoint-name {args.endpoint_name} must start with {prefix}- : the notebook stack's role may "
                "only manage SageMaker resources with that prefix"
            )
    else:
        bucket, role = args.bucket, args.role
    if not bucket:
        raise CliError("no bucket: pass --bucket NAME or --notebook-stack STACK (notebook-template.yaml)")
    if not role:
        raise CliError("no SageMaker execution role: pass --role ARN or --notebook-stack STACK")
    try:
        clients.s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in {"404", "NoSuchBucket", "NotFound"}:
            raise CliError(f"bucket {bucket} does not exist (create it, or use the notebook stack's)") from None
        raise CliError(f"cannot use bucket {bucket}: {code} {exc.response['Error']['Message']}") from None
    return bucket, role


def check_build_tools(toolkit: Toolkit) -> None:
    """`sam build` and `sam deploy` come after the training and the endpoint, which are paid for: a machine that
    cannot run them is refused first, in a dry run too."""
    problems, notes = build_tools.build_checks(toolkit.tools)
    for note in notes:
        toolkit.out(f"note: {note}")
    if problems:
        raise CliError("; ".join(problems) + " (checked before anything is created or uploaded)")


def check_quotas(args: argparse.Namespace, service_quotas, say: Callable[[str], None]) -> None:
    """Stop before anything is created when a quota the plan needs is below what it needs (fresh accounts often
    have 0 for SageMaker instances)."""
    problems, notes = quotas.quota_problems(service_quotas, quotas.needs(args.train_instance_type, capacity_from(args)))
    for note in notes:
        say(note)
    if problems:
        raise CliError("; ".join(problems))


def _stack_name(args: argparse.Namespace) -> str:
    if args.api_stack:
        return args.api_stack
    name = samconfig.read_setting(args.samconfig, "deploy", "stack_name")
    if not name:
        raise CliError(f"no stack_name in {args.samconfig}; pass --api-stack NAME")
    return name


# --- the plan -----------------------------------------------------------------------------------------------------


def plan(args: argparse.Namespace, resolved: Resolved) -> list[Step]:
    """Flags (and what :func:`resolve` looked up) in, steps out: it reads no file, calls no AWS, runs nothing."""
    steps = local_steps(args, resolved) if args.mode == "local" else sagemaker_steps(args, resolved)
    return steps + api_steps(args, resolved) + web_steps(args)


# --- main ---------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, toolkit: Toolkit | None = None, prog: str = "train_and_deploy.py") -> int:
    toolkit = toolkit or Toolkit()
    args = build_parser(prog).parse_args(argv)
    try:
        check_flags(args)
        resolved, clients = resolve(args, toolkit)
        steps = plan(args, resolved)
        if args.dry_run:
            toolkit.out(f"dry run ({args.mode} mode): these steps would run, in order; nothing was changed")
            for number, step in enumerate(steps, 1):
                toolkit.out(f"  {number}. {step.action}")
            return 0
        execute(steps, Context(args, toolkit, resolved, clients))
    except CliError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except ChampionKept as exc:
        toolkit.out(f"done: {exc}")
        return 0
    except WebsiteNotDeployed as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print(f"{prog}: error: {NO_CREDENTIALS}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as exc:
        print(f"{prog}: error: {aws_failure(exc)}", file=sys.stderr)
        return 1
    except (ValueError, ArtifactError, sagemaker_job.DeploymentError) as exc:
        # DataError and SamConfigError are ValueErrors whose message already names the file and the problem.
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"{prog}: interrupted; resources created so far are tagged {PROJECT_TAG_KEY}={PROJECT_TAG_VALUE} "
            "and scripts/cleanup.py removes them",
            file=sys.stderr,
        )
        return 130
    toolkit.out("done")
    return 0
