"""``scripts/train_and_deploy.py`` (``mysfits aws train-and-deploy``): from data to a serving endpoint in one command.

Both modes end the same way: the endpoint name is written into samconfig.toml, so a plain ``sam deploy`` (or
``--deploy-api``) points the Lambda at it.

The run is a plan: :func:`plan` turns the flags (and what was looked up before it: region, bucket, role, stack name)
into a list of steps, each described by the action it takes, and does nothing else. ``--dry-run`` prints that list
and stops, so what is printed is exactly what a real run does, in order. Each step returns one frozen value (the
split, an S3 channel, the training job, the stack outputs...) that later steps look up by its type in
:class:`Results`; nothing else passes between them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mysfits import endpoint_name, samconfig
from mysfits.aws import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, quotas, sagemaker_job, website
from mysfits.aws.account import NO_CREDENTIALS, aws_failure, caller_account, resolve_region
from mysfits.cli_base import CliError, OneLineParser, positive_int
from mysfits.model.artifact import ArtifactError
from mysfits_api import encoding as encodings

DEFAULT_DATA = Path("data/answers.csv")
DEFAULT_MODEL = Path("models/mysfits-knn.json")
DEFAULT_SAMCONFIG = Path("samconfig.toml")
DEFAULT_WEB = Path("web")
API_URL_OUTPUT = "RecommendationsApiUrl"
WEB_BUCKET_OUTPUT = website.BUCKET_OUTPUT
WEB_URL_OUTPUT = website.URL_OUTPUT
WEB_DISTRIBUTION_OUTPUT = website.DISTRIBUTION_OUTPUT
API_ORIGIN_OUTPUT = "ApiAllowedOrigin"
ORIGIN_PARAMETER = "AllowedOrigin"
EVALUATION_BATCH = 500

T = TypeVar("T")


# --- the seams: everything that reaches outside the process -------------------------------------------------------


def run_command(argv: Sequence[str], cwd: Path | None = None) -> int:
    """Run a tool with the terminal attached (sam deploy may ask to confirm its change set)."""
    return subprocess.run(list(argv), cwd=cwd, check=False).returncode  # noqa: S603 - argv list, no shell


def boto3_session(region: str) -> Any:
    import boto3

    return boto3.Session(region_name=region)


@dataclass(frozen=True)
class Toolkit:
    """What the run needs from the outside world; tests swap in moto-backed sessions and a recording runner."""

    session_factory: Callable[[str], Any] = boto3_session
    trainer: Callable[..., sagemaker_job.TrainingResult] = sagemaker_job.train_with_sdk
    runner: Callable[[Sequence[str], Path | None], int] = run_command
    out: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class AwsClients:
    """Created once per run from one session, then passed to the functions that call AWS."""

    session: Any
    s3: Any
    sagemaker: Any
    runtime: Any
    cloudformation: Any
    sts: Any
    cloudfront: Any
    quotas: Any
    dynamodb: Any

    @classmethod
    def create(cls, session) -> AwsClients:
        return cls(
            session,
            session.client("s3"),
            session.client("sagemaker"),
            session.client("sagemaker-runtime"),
            session.client("cloudformation"),
            session.client("sts"),
            session.client("cloudfront"),
            session.client("service-quotas"),
            session.client("dynamodb"),
        )


# --- flags --------------------------------------------------------------------------------------------------------


def build_parser(prog: str = "train_and_deploy.py") -> argparse.ArgumentParser:
    from mysfits.model import dataset as ds
    from mysfits.model import training
    from mysfits.model.retrain_cli import add_challenge_flags

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
        help="the API stack's choices table (output ChoicesTableName): learn from visitors' choices too, and replace "
        "the serving model only if the new one is no worse on held-out choices",
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


def capacity_from(args: argparse.Namespace) -> sagemaker_job.Capacity:
    if args.serverless:
        try:
            return sagemaker_job.Serverless(args.memory_mb or 2048, args.max_concurrency or 5)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    return sagemaker_job.RealTime(args.instance_type or "ml.m5.large")


# --- what is known before the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """What the plan needs beyond the flags, looked up once before it: in a dry run, only what needs no AWS."""

    data_missing: bool = False
    region: str | None = None
    bucket: str | None = None
    role: str | None = None
    api_stack: str = ""


@dataclass(frozen=True)
class Context:
    """What every step may read: the flags, the outside world, and what was resolved before the plan."""

    args: argparse.Namespace
    toolkit: Toolkit
    resolved: Resolved
    clients: AwsClients | None = None

    def say(self, message: str) -> None:
        self.toolkit.out(message)

    @property
    def aws(self) -> AwsClients:
        if self.clients is None:
            raise RuntimeError("this step calls AWS, but the run was planned without clients")
        return self.clients


def resolve(args: argparse.Namespace, toolkit: Toolkit) -> tuple[Resolved, AwsClients | None]:
    """Whether the data exists; for SageMaker also the region, then (unless a dry run) credentials, bucket and role;
    then the API stack's name."""
    if args.mode == "local":
        return Resolved(data_missing=not args.data.exists()), None
    region = resolve_region(args.region)
    image_problem = quotas.image_problem(region)
    if image_problem:
        raise CliError(image_problem)
    clients, bucket, role = None, args.bucket, args.role
    if args.dry_run:
        # Read-only, and only with credentials: without them the dry run still lists its steps.
        check_quotas(args, toolkit.session_factory(region).client("service-quotas"), toolkit.out)
    else:
        clients = AwsClients.create(toolkit.session_factory(region))
        bucket, role = preflight(args, clients, region, toolkit.out)
        check_quotas(args, clients.quotas, toolkit.out)
    api_stack = _stack_name(args) if args.deploy_api else ""
    return Resolved(not args.data.exists(), region, bucket, role, api_stack), clients


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


# --- what steps hand on -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    train: Any  # mysfits.model.dataset.Dataset (numpy is imported only when a step runs)
    test: Any
    k: int
    sample_size: int
    encoding: str


@dataclass(frozen=True)
class ChoiceSplit:
    """Visitors' choices from the table, split as ``mysfits retrain`` splits them: ``judge`` is never trained on."""

    learn: Any  # mysfits.model.dataset.Dataset
    judge: Any
    total: int


@dataclass(frozen=True)
class Judgement:
    """Champion against challenger on the held-out choices; ``champion`` is None when no endpoint serves yet."""

    champion: float | None
    challenger: float
    promoted: bool


class ChampionKept(Exception):
    """The challenger lost: the run stops before anything that would replace the serving model."""


@dataclass(frozen=True)
class LocalModel:
    """What the local training wrote: its encoding goes into samconfig.toml beside the endpoint name."""

    encoding: str


@dataclass(frozen=True)
class TrainChannel:
    uri: str


@dataclass(frozen=True)
class TestChannel:
    uri: str


@dataclass(frozen=True)
class Overrides:
    """Every parameter override in samconfig.toml after the endpoint name was written."""

    values: Mapping[str, str]


@dataclass(frozen=True)
class StackOutputs:
    values: Mapping[str, str]


@dataclass(frozen=True)
class WebsiteStack:
    """The website stack's outputs, after its deploy succeeded."""

    values: Mapping[str, str]


@dataclass(frozen=True)
class WebsiteRefused:
    """The website stack's deploy failed (and SAM deleted what it had created); the API is deployed regardless."""

    stack: str
    exit_code: int


class WebsiteNotDeployed(Exception):
    """The API is deployed but the page is not: the run ends with exit code 1 and says what to do."""


class Results:
    """What the steps so far returned, one value per type; a step reads what it needs by type, nothing else."""

    def __init__(self, *values: object):
        self._by_type: dict[type, object] = {}
        for value in values:
            self.add(value)

    def add(self, value: object) -> None:
        if value is not None:
            self._by_type[type(value)] = value

    def find(self, kind: type[T]) -> T | None:
        value = self._by_type.get(kind)
        return value if isinstance(value, kind) else None

    def get(self, kind: type[T]) -> T:
        value = self._by_type.get(kind)
        if not isinstance(value, kind):
            raise LookupError(f"no {kind.__name__} yet: a step ran before the one that makes it")
        return value


@dataclass(frozen=True)
class Step:
    action: str
    run: Callable[[Context, Results], object]


# --- the plan -----------------------------------------------------------------------------------------------------


def plan(args: argparse.Namespace, resolved: Resolved) -> list[Step]:
    """Flags (and what :func:`resolve` looked up) in, steps out: it reads no file, calls no AWS, runs nothing."""
    steps = local_steps(args, resolved) if args.mode == "local" else sagemaker_steps(args, resolved)
    return steps + api_steps(args, resolved) + web_steps(args)


def _data_steps(args: argparse.Namespace, resolved: Resolved) -> list[Step]:
    if not resolved.data_missing:
        return []
    action = f"generate {args.rows:,} answers (seed {args.seed}, signal {args.signal}) into {args.data}"
    return [Step(action, _generate)]


def _samconfig_step(args: argparse.Namespace) -> Step:
    encoding = "the tuned encoding" if args.tune else args.encoding
    return Step(
        f"write SageMakerEndpointName={args.endpoint_name} and {samconfig.ENCODING_PARAMETER}=<{encoding}> into "
        f"{args.samconfig} [default.deploy.parameters].parameter_overrides (other overrides kept)",
        _write_samconfig,
    )


def local_steps(args: argparse.Namespace, resolved: Resolved) -> list[Step]:
    tuned = ", tuned on a validation split" if args.tune else ""
    return [
        *_data_steps(args, resolved),
        Step(
            f"train the kNN locally ({args.encoding}, k={args.k}, sample_size={args.sample_size:,}{tuned}), "
            "evaluate on the test "
            f"split, and write {args.model} atomically: a local endpoint serving that file reloads it",
            _train_locally,
        ),
        _samconfig_step(args),
    ]


def sagemaker_steps(args: argparse.Namespace, resolved: Resolved) -> list[Step]:
    endpoint, prefix = args.endpoint_name, args.prefix or args.endpoint_name
    bucket = resolved.bucket or f"<BucketName output of stack {args.notebook_stack}>"
    role = resolved.role or f"<RoleArn output of stack {args.notebook_stack}>"
    capacity = capacity_from(args)
    tag = f"{PROJECT_TAG_KEY}={PROJECT_TAG_VALUE}"
    hyper = (
        "the tuned encoding, k and sample_size"
        if args.tune
        else f"{args.encoding}, k={args.k}, sample_size={args.sample_size:,}"
    )
    return [
        *_data_steps(args, resolved),
        *_choice_steps(args, bucket),
        Step(
            f"split {args.data} 90/10 (seed {args.seed})"
            + (
                f"; the training rows become the learning choices (x{args.recombine} recombined) plus "
                f"{args.recombine}/{args.choices_weight:g} of the base training rows, the test rows become the "
                "held-out choices"
                if args.choices_table
                else ""
            )
            + (", tune the encoding, k and sample_size locally" if args.tune else ""),
            _split,
        ),
        Step(
            f"s3:PutObject s3://{bucket}/{_key(args, 'train')} (train split as CSV, label first, features encoded)",
            _upload_train,
        ),
        Step(
            f"s3:PutObject s3://{bucket}/{_key(args, 'test')} (test split as CSV, label first, features encoded)",
            _upload_test,
        ),
        Step(
            f"sagemaker:CreateTrainingJob {endpoint}-<time>: built-in kNN on {args.train_instance_type}, {hyper}, "
            "predictor_type=classifier, feature_dim=<5 ordinal, 40 one-hot>, "
            f"channels train+test ({sagemaker_job.CSV_WITH_LABEL}), "
            f"role {role}, output s3://{bucket}/{prefix}/output, tag {tag}; wait for it",
            _train_on_sagemaker,
        ),
        *_judge_steps(args),
        Step(
            f"sagemaker:CreateModel and sagemaker:CreateEndpointConfig {endpoint}-<time> ({capacity.describe()}), "
            f"tag {tag}; sagemaker:DescribeEndpoint {endpoint}: sagemaker:CreateEndpoint if it does not exist, "
            "else sagemaker:UpdateEndpoint in place (or, when switching between real-time and serverless, which "
            "SageMaker cannot update, sagemaker:DeleteEndpoint and CreateEndpoint under the same name: the API "
            "answers 5xx for those minutes); wait for InService; then delete the replaced config and model. "
            "If a step fails, the new model and config are deleted again",
            _deploy,
        ),
        Step(
            f"sagemaker-runtime:InvokeEndpoint {endpoint}: the test split as text/csv, {EVALUATION_BATCH} rows per "
            "request; report accuracy and per-Mysfit precision/recall",
            _evaluate,
        ),
        _samconfig_step(args),
    ]


def _choice_steps(args: argparse.Namespace, bucket: str) -> list[Step]:
    if not args.choices_table:
        return []
    from mysfits.model import retrain

    return [
        Step(
            f"dynamodb:Scan {args.choices_table} (paginated, consistent reads): the visitors' choices; hold out "
            f"{retrain.HOLDOUT_PERCENT}% by a hash of each choice's id, as mysfits retrain does; stop here, with "
            f"nothing created, if fewer than {retrain.MIN_HOLDOUT} are held out",
            _read_choices,
        ),
        Step(
            f"s3:PutObject s3://{bucket}/{_choices_key(args)} (every chosen row in the workshop's format: five "
            "answers, then the Mysfit's label)",
            _upload_choices,
        ),
    ]


def _judge_steps(args: argparse.Namespace) -> list[Step]:
    if not args.choices_table:
        return []
    return [
        Step(
            f"sagemaker:DescribeEndpoint {args.endpoint_name} and its config (the serving variant names its "
            f"encoding); sagemaker-runtime:InvokeEndpoint {args.endpoint_name} with the held-out choices: the "
            "champion's accuracy. The job's test:accuracy is the challenger's on the same choices. Stop here, "
            f"with the endpoint and samconfig unchanged, if the challenger is worse by more than {args.margin:g}",
            _judge,
        )
    ]


def api_steps(args: argparse.Namespace, resolved: Resolved) -> list[Step]:
    """With --deploy-web the page's stack goes first, so that the API's deploy can allow its origin; its failure
    (a new account may be refused CloudFront) is noted and the API is deployed all the same."""
    if not args.deploy_api:
        return []
    overrides = "the samconfig overrides with SageMakerEndpointName=" + args.endpoint_name
    stack = resolved.api_stack
    web_stack = website.stack_name(stack)
    website_steps = [
        Step(
            f"run `sam deploy --config-env {website.CONFIG_ENV}` of {website.TEMPLATE} (stack {web_stack}: the "
            "page's private bucket and CloudFront distribution; a failed create is deleted again, and the API's "
            "deploy goes on without it)",
            _deploy_website,
        ),
        Step(
            f"write the website's {WEB_URL_OUTPUT} as {ORIGIN_PARAMETER} into {args.samconfig}, so the API accepts "
            f"calls from the page (if the website failed, {ORIGIN_PARAMETER} stays as it is)",
            _allow_website_origin,
        ),
    ]
    return [
        Step(f"run `sam build` in {_root(args)}", _sam_build),
        *(website_steps if args.deploy_web else []),
        Step(
            f"run `sam deploy` (stack {stack}, region {resolved.region or '<region>'}) with --parameter-overrides = "
            f"{overrides} (a CLI override list replaces samconfig's, so all are passed)",
            _sam_deploy,
        ),
        Step(f"cloudformation:DescribeStacks {stack}: read its outputs and print {API_URL_OUTPUT}", _read_outputs),
    ]


def web_steps(args: argparse.Namespace) -> list[Step]:
    if not args.deploy_web:
        return []
    return [
        Step(
            f"s3:PutObject every file under {args.web_dir} into the website stack's {WEB_BUCKET_OUTPUT}, index.html "
            "last; "
            f"config.json is generated from {args.web_dir / 'config.json'} with apiBaseUrl = {API_URL_OUTPUT} "
            "(the file in the repository is not changed)",
            _upload_site,
        ),
        Step(
            f"cloudfront:CreateInvalidation {' '.join(website.INVALIDATION_PATHS)} on the website stack's "
            f"{WEB_DISTRIBUTION_OUTPUT}, so visitors get the new page; then print {WEB_URL_OUTPUT}",
            _invalidate,
        ),
    ]


# --- the steps: each reads the context and earlier results, and returns its own ------------------------------------


def _root(args: argparse.Namespace) -> Path:
    """SAM runs where samconfig.toml is (the project root), whatever the current directory."""
    return args.samconfig.resolve().parent


def _key(args: argparse.Namespace, split: str) -> str:
    return f"{args.prefix or args.endpoint_name}/data/{split}/{split}.csv"


def _choices_key(args: argparse.Namespace) -> str:
    """Beside the channels, not in one: the job must learn only the training share of the choices."""
    return f"{args.prefix or args.endpoint_name}/choices/choices.csv"


def _generate(ctx: Context, _results: Results) -> None:
    from mysfits.model import dataset as ds

    ds.generate_file(ctx.args.data, ctx.args.rows, ctx.args.seed, ctx.args.signal, preferences=ctx.args.preferences)


def _write_samconfig(ctx: Context, results: Results) -> Overrides:
    encoding = results.get(LocalModel).encoding if ctx.args.mode == "local" else results.get(Split).encoding
    return Overrides(samconfig.set_model(ctx.args.samconfig, ctx.args.endpoint_name, encoding))


def _train_locally(ctx: Context, _results: Results) -> LocalModel:
    from mysfits.model import training
    from mysfits.model.evaluation import format_report
    from mysfits.progress import Progress

    args = ctx.args
    run = training.TrainingRun(
        args.data, args.model, args.confusion, args.k, args.sample_size, args.seed, args.tune, args.encoding
    )
    model = run.run(Progress())
    ctx.say(format_report(model.metrics))
    return LocalModel(model.encoding)


def _split(ctx: Context, results: Results) -> Split:
    from mysfits.model import dataset as ds
    from mysfits.model import retrain, training

    args = ctx.args
    train, test = ds.split(ds.load_csv(args.data), test_fraction=0.1, seed=args.seed)
    choices = results.find(ChoiceSplit)
    if choices is not None:
        train, kept = retrain.training_mix(train, choices.learn, args.choices_weight, args.seed, args.recombine)
        test = choices.judge
        ctx.say(f"  {choices.learn.rows:,} learning choices (x{args.recombine} recombined) and {kept:,} base rows")
    encoding, k, sample_size = args.encoding, args.k, args.sample_size
    if args.tune:
        tuned = training.tune(train, args.seed)
        encoding, k, sample_size = tuned.encoding, tuned.k, tuned.sample_size
        ctx.say(f"  tuned locally: encoding={encoding}, k={k}, sample_size={sample_size:,}")
    ctx.say(f"  {train.rows:,} training rows, {test.rows:,} test rows")
    return Split(train, test, k, sample_size, encoding)


def _read_choices(ctx: Context, _results: Results) -> ChoiceSplit:
    from mysfits.aws.choices_table import DynamoDbChoiceReader
    from mysfits.model import retrain

    table = ctx.args.choices_table
    choices = list(DynamoDbChoiceReader(ctx.aws.dynamodb, table).choices())
    try:
        learn, judge = retrain.split_choices(choices)
    except retrain.TooFewChoices as exc:
        raise CliError(f"--choices-table {table}: too few choices to judge a new model: {exc}") from None
    ctx.say(f"  {len(choices):,} choices: {learn.rows:,} to learn from, {judge.rows:,} held out")
    return ChoiceSplit(learn, judge, len(choices))


def _upload_choices(ctx: Context, results: Results) -> None:
    import numpy as np

    from mysfits.model import dataset as ds

    choices = results.get(ChoiceSplit)
    every = ds.Dataset(
        np.concatenate([choices.learn.X, choices.judge.X]), np.concatenate([choices.learn.y, choices.judge.y])
    )
    body = ds.to_csv_bytes(every)  # the workshop's format, as `mysfits choices export` writes it
    key = _choices_key(ctx.args)
    ctx.aws.s3.put_object(Bucket=ctx.resolved.bucket, Key=key, Body=body, ContentType="text/csv")
    ctx.say(f"  wrote s3://{ctx.resolved.bucket}/{key} ({choices.total:,} rows)")


def _upload_train(ctx: Context, results: Results) -> TrainChannel:
    split = results.get(Split)
    body = sagemaker_job.training_csv(split.train.X, split.train.y, split.encoding)
    return TrainChannel(sagemaker_job.upload_channel(ctx.aws.s3, ctx.resolved.bucket, _key(ctx.args, "train"), body))


def _upload_test(ctx: Context, results: Results) -> TestChannel:
    split = results.get(Split)
    body = sagemaker_job.training_csv(split.test.X, split.test.y, split.encoding)
    return TestChannel(sagemaker_job.upload_channel(ctx.aws.s3, ctx.resolved.bucket, _key(ctx.args, "test"), body))


def _train_on_sagemaker(ctx: Context, results: Results) -> sagemaker_job.TrainingResult:
    args, split = ctx.args, results.get(Split)
    spec = sagemaker_job.TrainingSpec(
        region=ctx.resolved.region,
        role_arn=ctx.resolved.role,
        bucket=ctx.resolved.bucket,
        base_job_name=args.endpoint_name,
        prefix=args.prefix or args.endpoint_name,
        instance_type=args.train_instance_type,
        k=split.k,
        sample_size=min(split.sample_size, split.train.rows),
        encoding=split.encoding,
    )
    train, test = results.get(TrainChannel).uri, results.get(TestChannel).uri
    trained = ctx.toolkit.trainer(spec, ctx.aws.session, train, test, logs=not args.no_logs)
    shown = ", ".join(f"{name}={value:.4f}" for name, value in sorted(trained.metrics.items()))
    ctx.say(f"  training job {trained.job_name} done: {trained.model_data_url} {shown}")
    return trained


def serving_encoding(sm, endpoint: dict) -> str | None:
    """The encoding the endpoint's model expects, from its variant's name (``<encoding>-<12 hex>``, as this script
    names variants); None for an endpoint deployed otherwise."""
    from mysfits_api import encoding as encodings

    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    prefix = config["ProductionVariants"][0]["VariantName"].rsplit("-", 1)[0]
    return prefix if prefix in encodings.ENCODINGS else None


def _judge(ctx: Context, results: Results) -> Judgement:
    import numpy as np

    from mysfits.model import knn, retrain

    args, judge = ctx.args, results.get(ChoiceSplit).judge
    trained = results.get(sagemaker_job.TrainingResult)
    challenger = trained.metrics.get("test:accuracy")
    if challenger is None:
        raise sagemaker_job.DeploymentError(
            f"training job {trained.job_name} reported no test:accuracy, so the new model cannot be judged; "
            "nothing was deployed"
        )
    endpoint = sagemaker_job.describe_endpoint_or_none(ctx.aws.sagemaker, args.endpoint_name)
    if endpoint is None or endpoint["EndpointStatus"] in sagemaker_job.FAILED:
        state = "does not exist" if endpoint is None else f"is {endpoint['EndpointStatus']}"
        ctx.say(f"  endpoint {args.endpoint_name} {state}: no model to compare with; the new one is deployed")
        return Judgement(None, challenger, True)
    encoding = serving_encoding(ctx.aws.sagemaker, endpoint) or samconfig.read_overrides(args.samconfig).get(
        samconfig.ENCODING_PARAMETER, encodings.DEFAULT
    )
    predicted = sagemaker_job.predict_through_endpoint(
        ctx.aws.runtime, args.endpoint_name, knn.encode_rows(judge.X, encoding), EVALUATION_BATCH
    )
    champion = float(np.mean(predicted == judge.y))
    won = retrain.promoted(champion, challenger, args.margin)
    ctx.say(
        f"  held-out accuracy on {judge.rows:,} choices: serving model {champion:.2%}, new model {challenger:.2%} "
        f"(margin {args.margin:.2%}): {'promoted' if won else 'kept the serving model'}"
    )
    if not won:
        raise ChampionKept(
            f"the new model ({trained.job_name}) is worse than the serving one on held-out choices by more than "
            f"{args.margin:.2%}; endpoint {args.endpoint_name} and {args.samconfig} are unchanged"
        )
    return Judgement(champion, challenger, True)


def _deploy(ctx: Context, results: Results) -> None:
    trained = results.get(sagemaker_job.TrainingResult)
    sagemaker_job.deploy(
        ctx.aws.sagemaker,
        ctx.args.endpoint_name,
        trained,
        ctx.resolved.role,
        capacity_from(ctx.args),
        report=ctx.say,
        sleep=ctx.toolkit.sleep,
    )


def _evaluate(ctx: Context, results: Results) -> None:
    from mysfits.model.evaluation import format_report, write_confusion_png

    endpoint, split = ctx.args.endpoint_name, results.get(Split)
    metrics = sagemaker_job.evaluate_endpoint(
        ctx.aws.runtime,
        endpoint,
        split.test.X,
        split.test.y,
        split.train.y,
        batch_size=EVALUATION_BATCH,
        encoding=split.encoding,
    )
    ctx.say(f"through endpoint {endpoint} ({metrics['endpoint']['requests']} requests):")
    ctx.say(format_report(metrics))
    if ctx.args.confusion:
        write_confusion_png(metrics, ctx.args.confusion)


def _sam_binary() -> str:
    beside_python = Path(sys.executable).parent / "sam"
    found = shutil.which("sam") or (str(beside_python) if beside_python.exists() else None)
    if not found:
        raise CliError("the SAM CLI is not installed: pip install aws-sam-cli (it is in the [dev] extra)")
    return found


def _sam(ctx: Context, words: list[str]) -> None:
    code = ctx.toolkit.runner([_sam_binary(), *words], _root(ctx.args))
    if code != 0:
        raise CliError(f"sam {words[0]} failed with exit code {code}; its output is above")


def _sam_build(ctx: Context, _results: Results) -> None:
    _sam(ctx, ["build"])


def _sam_deploy(ctx: Context, results: Results) -> None:
    overrides = samconfig.cli_overrides(dict(results.get(Overrides).values))
    words = ["deploy", "--region", str(ctx.resolved.region), "--parameter-overrides", *overrides]
    if ctx.args.api_stack:
        words += ["--stack-name", ctx.args.api_stack]
    _sam(ctx, words)


def _read_outputs(ctx: Context, _results: Results) -> StackOutputs:
    from mysfits.aws.cleanup import stack_outputs

    stack = ctx.resolved.api_stack
    outputs = stack_outputs(ctx.aws.cloudformation, stack)
    if API_URL_OUTPUT not in outputs:
        raise CliError(f"stack {stack} has no {API_URL_OUTPUT} output; is it this project's template.yaml?")
    ctx.say(f"  API: {outputs[API_URL_OUTPUT]}")
    if API_ORIGIN_OUTPUT in outputs:
        ctx.say(f"  it accepts browser calls from: {outputs[API_ORIGIN_OUTPUT]}")
    return StackOutputs(outputs)


def _deploy_website(ctx: Context, _results: Results) -> WebsiteStack | WebsiteRefused:
    """Deploy the page's stack; a failure is handed on, not raised, so that the API is deployed all the same.

    ``--on-failure DELETE`` removes a stack whose creation failed: left in ROLLBACK_COMPLETE it could be neither
    updated nor recreated, and the next run after a CloudFront refusal would fail for that reason instead.
    ``--no-fail-on-empty-changeset`` makes a rerun with nothing new a success.
    """
    from mysfits.aws.cleanup import stack_outputs

    stack = website.stack_name(ctx.resolved.api_stack)
    words = [
        "deploy", "--config-env", website.CONFIG_ENV, "--template-file", website.TEMPLATE, "--stack-name", stack,
        "--region", str(ctx.resolved.region), "--on-failure", "DELETE", "--no-fail-on-empty-changeset",
    ]  # fmt: skip
    code = ctx.toolkit.runner([_sam_binary(), *words], _root(ctx.args))
    if code != 0:
        ctx.say(f"  the website stack {stack} failed (sam deploy exit code {code}); deploying the API without it")
        return WebsiteRefused(stack, code)
    outputs = stack_outputs(ctx.aws.cloudformation, stack)
    for name in (WEB_BUCKET_OUTPUT, WEB_URL_OUTPUT, WEB_DISTRIBUTION_OUTPUT):
        if name not in outputs:
            raise CliError(f"stack {stack} has no {name} output; is it this project's {website.TEMPLATE}?")
    ctx.say(f"  page: {outputs[WEB_URL_OUTPUT]} (bucket {outputs[WEB_BUCKET_OUTPUT]})")
    return WebsiteStack(outputs)


def _allow_website_origin(ctx: Context, results: Results) -> Overrides | None:
    site = results.find(WebsiteStack)
    if site is None:
        kept = results.get(Overrides).values.get(ORIGIN_PARAMETER, "the template's default, *")
        ctx.say(f"  no website: {ORIGIN_PARAMETER} stays {kept}")
        return None
    origin = site.values[WEB_URL_OUTPUT]
    return Overrides(samconfig.set_override(ctx.args.samconfig, ORIGIN_PARAMETER, origin))


def website_guidance(refused: WebsiteRefused, web_dir: Path) -> str:
    """What to do when the page's stack failed. The usual cause on a new account is CloudFront's verification."""
    return (
        f"the API is deployed, but the website stack {refused.stack} failed (sam deploy exit code "
        f'{refused.exit_code}; its events are above), so {web_dir} was not uploaded. If an event reads "Your '
        'account must be verified before you can add new CloudFront resources", CloudFront is not yet enabled '
        "for this account: open an AWS Support case (Account and billing) that quotes the message, and once AWS "
        "confirms, run the same command again. SAM deleted the failed stack, so the next run creates it afresh. "
        "Any other reason is in the events above"
    )


def _upload_site(ctx: Context, results: Results) -> None:
    refused = results.find(WebsiteRefused)
    if refused is not None:
        raise WebsiteNotDeployed(website_guidance(refused, ctx.args.web_dir))
    site, api_url = results.get(WebsiteStack).values, results.get(StackOutputs).values[API_URL_OUTPUT]
    bucket, web_dir = site[WEB_BUCKET_OUTPUT], ctx.args.web_dir
    config = website.page_config(web_dir, api_url)
    count = website.upload_site(ctx.aws.s3, web_dir, bucket, config)
    ctx.say(f"  uploaded {count} files to s3://{bucket}/ (config.json: apiBaseUrl {api_url})")


def _invalidate(ctx: Context, results: Results) -> None:
    outputs = results.get(WebsiteStack).values
    distribution = outputs.get(WEB_DISTRIBUTION_OUTPUT)
    if distribution:
        invalidation = website.invalidate_site(ctx.aws.cloudfront, distribution)
        ctx.say(f"  invalidation {invalidation} of {', '.join(website.INVALIDATION_PATHS)} on {distribution} started")
    else:
        ctx.say(f"  no {WEB_DISTRIBUTION_OUTPUT} output: nothing to invalidate")
    ctx.say(f"website: {outputs.get(WEB_URL_OUTPUT, '(no ' + WEB_URL_OUTPUT + ' output)')}")


# --- main ---------------------------------------------------------------------------------------------------------


def execute(steps: Sequence[Step], ctx: Context, results: Results | None = None) -> Results:
    """Run the steps in order, numbered as they run; each one's value is handed on to the rest."""
    results = results or Results()
    for number, step in enumerate(steps, 1):
        ctx.say(f"[{number}/{len(steps)}] {step.action}")
        results.add(step.run(ctx, results))
    return results


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
