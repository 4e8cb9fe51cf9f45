"""``scripts/train_and_deploy.py``: from data to a serving endpoint, locally or on SageMaker, in one command.

Both modes end the same way: the endpoint name is written into samconfig.toml, so a plain ``sam deploy`` (or
``--deploy-api``) points the Lambda at it. The run is a list of steps, each described by the AWS action it takes;
``--dry-run`` prints that list and stops, so what is printed is exactly what a real run would do, in order.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mysfits import endpoint_name, samconfig
from mysfits.aws import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, sagemaker_job
from mysfits.aws.account import aws_failure, resolve_region
from mysfits.cli_base import CliError, OneLineParser, positive_int
from mysfits.model.artifact import ArtifactError

DEFAULT_DATA = Path("data/answers.csv")
DEFAULT_MODEL = Path("models/mysfits-knn.json")
DEFAULT_SAMCONFIG = Path("samconfig.toml")
DEFAULT_WEB = Path("web")
API_URL_OUTPUT = "RecommendationsApiUrl"
WEB_BUCKET_OUTPUT = "WebsiteBucketName"
WEB_URL_OUTPUT = "WebsiteUrl"
WEB_DISTRIBUTION_OUTPUT = "WebsiteDistributionId"
API_ORIGIN_OUTPUT = "ApiAllowedOrigin"
WEBSITE_PARAMETER = "DeployWebsite"
# One wildcard path is billed as one path, and it also covers the scripts and styles, which are cached for minutes.
INVALIDATION_PATHS = ("/*",)
# Uploaded after the assets, in this order, so the new page never refers to something not yet there.
LAST_UPLOADS = ("config.json", "index.html")
EVALUATION_BATCH = 500

Runner = Callable[[Sequence[str]], int]


# --- the seams: everything that reaches outside the process -------------------------------------------------------


def run_command(argv: Sequence[str], cwd: Path | None = None) -> int:
    """Run a tool with the terminal attached (sam deploy may ask to confirm its change set)."""
    return subprocess.run(list(argv), cwd=cwd, check=False).returncode  # noqa: S603 - argv list, no shell


@dataclass
class Toolkit:
    """What the run needs from the outside world; tests swap in moto-backed sessions and a recording runner."""

    session_factory: Callable[[str], object] = field(default=None)  # type: ignore[assignment]
    trainer: Callable[..., sagemaker_job.TrainingResult] = sagemaker_job.train_with_sdk
    runner: Callable[[Sequence[str], Path | None], int] = run_command
    out: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep

    def session(self, region: str):
        if self.session_factory is not None:
            return self.session_factory(region)
        import boto3

        return boto3.Session(region_name=region)


@dataclass(frozen=True)
class AwsClients:
    """Created once per run from one session, then passed to the functions that call AWS."""

    session: object
    s3: object
    sagemaker: object
    runtime: object
    cloudformation: object
    sts: object
    cloudfront: object

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
        )


# --- flags --------------------------------------------------------------------------------------------------------


def build_parser(prog: str = "train_and_deploy.py") -> argparse.ArgumentParser:
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
    data.add_argument("--tune", action="store_true", help="choose k and sample size on a validation split (locally)")
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
        help="then upload web/ (with a config.json naming the API) to the stack's website bucket; "
        "web/config.json itself is left as it is",
    )
    common.add_argument("--web-dir", type=Path, default=DEFAULT_WEB, help="the static page (default %(default)s)")
    common.add_argument("--dry-run", action="store_true", help="print every action, AWS or local, and take none")
    return parser


def _check_flags(args: argparse.Namespace) -> None:
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
    }
    if args.mode == "local":
        used = [flag for flag, value in sagemaker_only.items() if value]
        if used:
            raise CliError(f"{', '.join(used)} only apply with --mode sagemaker (the local mode uses no AWS)")
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


# --- the steps ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    action: str
    run: Callable[[], None]


@dataclass
class Run:
    """The state that later steps read from earlier ones."""

    args: argparse.Namespace
    toolkit: Toolkit
    region: str | None = None
    clients: AwsClients | None = None
    bucket: str | None = None
    role: str | None = None
    train: object = None
    test: object = None
    k: int = 0
    sample_size: int = 0
    training: sagemaker_job.TrainingResult | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def say(self, message: str) -> None:
        self.toolkit.out(message)


def _root(args: argparse.Namespace) -> Path:
    """SAM runs where samconfig.toml is (the project root), whatever the current directory."""
    return args.samconfig.resolve().parent


def _data_steps(run: Run) -> list[Step]:
    args = run.args
    if args.data.exists():
        return []

    def generate() -> None:
        from mysfits.model import dataset as ds

        ds.generate_file(args.data, args.rows, args.seed, args.signal)

    return [Step(f"generate {args.rows:,} answers (seed {args.seed}, signal {args.signal}) into {args.data}", generate)]


def _samconfig_step(run: Run) -> Step:
    args = run.args

    def write() -> None:
        run.overrides = samconfig.set_endpoint_name(args.samconfig, args.endpoint_name)

    return Step(
        f"write SageMakerEndpointName={args.endpoint_name} into {args.samconfig} "
        "[default.deploy.parameters].parameter_overrides (other overrides kept)",
        write,
    )


def local_steps(run: Run) -> list[Step]:
    args = run.args

    def train() -> None:
        from mysfits.model.cli import train_from_args
        from mysfits.model.evaluation import format_report

        model = train_from_args(args)
        run.say(format_report(model.metrics))

    tuned = ", tuned on a validation split" if args.tune else ""
    return [
        *_data_steps(run),
        Step(
            f"train the kNN locally (k={args.k}, sample_size={args.sample_size:,}{tuned}), evaluate on the test "
            f"split, and write {args.model} atomically: a local endpoint serving that file reloads it",
            train,
        ),
        _samconfig_step(run),
    ]


def _prepare_split(run: Run) -> None:
    from mysfits.model import dataset as ds
    from mysfits.model import training

    data = ds.load_csv(run.args.data)
    run.train, run.test = ds.split(data, test_fraction=0.1, seed=run.args.seed)
    run.k, run.sample_size = run.args.k, run.args.sample_size
    if run.args.tune:
        run.k, run.sample_size, _results = training.tune(run.train, run.args.seed)
        run.say(f"  tuned locally: k={run.k}, sample_size={run.sample_size:,}")
    run.say(f"  {run.train.rows:,} training rows, {run.test.rows:,} test rows")


def sagemaker_steps(run: Run) -> list[Step]:
    args = run.args
    endpoint = args.endpoint_name
    prefix = args.prefix or endpoint
    bucket = run.bucket or args.bucket or f"<BucketName output of stack {args.notebook_stack}>"
    role = run.role or args.role or f"<RoleArn output of stack {args.notebook_stack}>"
    train_key, test_key = f"{prefix}/data/train/train.csv", f"{prefix}/data/test/test.csv"
    capacity = capacity_from(args)
    channels: dict[str, str] = {}
    tag = f"{PROJECT_TAG_KEY}={PROJECT_TAG_VALUE}"

    def upload(split: str, key: str) -> Callable[[], None]:
        def put() -> None:
            data = run.train if split == "train" else run.test
            body = sagemaker_job.training_csv(data.X, data.y)
            channels[split] = sagemaker_job.upload_channel(run.clients.s3, run.bucket, key, body)

        return put

    def train() -> None:
        spec = sagemaker_job.TrainingSpec(
            region=run.region,
            role_arn=run.role,
            bucket=run.bucket,
            base_job_name=endpoint,
            prefix=prefix,
            instance_type=args.train_instance_type,
            k=run.k,
            sample_size=min(run.sample_size, run.train.rows),
        )
        run.training = run.toolkit.trainer(
            spec, run.clients.session, channels["train"], channels["test"], logs=not args.no_logs
        )
        shown = ", ".join(f"{name}={value:.4f}" for name, value in sorted(run.training.metrics.items()))
        run.say(f"  training job {run.training.job_name} done: {run.training.model_data_url} {shown}")

    def deploy() -> None:
        sagemaker_job.deploy(
            run.clients.sagemaker, endpoint, run.training, run.role, capacity, report=run.say, sleep=run.toolkit.sleep
        )

    def evaluate() -> None:
        from mysfits.model.evaluation import format_report, write_confusion_png

        metrics = sagemaker_job.evaluate_endpoint(
            run.clients.runtime, endpoint, run.test.X, run.test.y, run.train.y, batch_size=EVALUATION_BATCH
        )
        run.say(f"through endpoint {endpoint} ({metrics['endpoint']['requests']} requests):")
        run.say(format_report(metrics))
        if args.confusion:
            write_confusion_png(metrics, args.confusion)

    hyper = "the tuned k and sample_size" if args.tune else f"k={args.k}, sample_size={args.sample_size:,}"
    return [
        *_data_steps(run),
        Step(
            f"split {args.data} 90/10 (seed {args.seed})" + (", tune k and sample_size locally" if args.tune else ""),
            lambda: _prepare_split(run),
        ),
        Step(f"s3:PutObject s3://{bucket}/{train_key} (train split as CSV, label first)", upload("train", train_key)),
        Step(f"s3:PutObject s3://{bucket}/{test_key} (test split as CSV, label first)", upload("test", test_key)),
        Step(
            f"sagemaker:CreateTrainingJob {endpoint}-<time>: built-in kNN on {args.train_instance_type}, {hyper}, "
            f"predictor_type=classifier, feature_dim=5, channels train+test ({sagemaker_job.CSV_WITH_LABEL}), "
            f"role {role}, output s3://{bucket}/{prefix}/output, tag {tag}; wait for it",
            train,
        ),
        Step(
            f"sagemaker:CreateModel and sagemaker:CreateEndpointConfig {endpoint}-<time> ({capacity.describe()}), "
            f"tag {tag}; sagemaker:DescribeEndpoint {endpoint}: sagemaker:CreateEndpoint if it does not exist, "
            "else sagemaker:UpdateEndpoint in place (or, when switching between real-time and serverless, which "
            "SageMaker cannot update, sagemaker:DeleteEndpoint and CreateEndpoint under the same name: the API "
            "answers 5xx for those minutes); wait for InService; then delete the replaced config and model. "
            "If a step fails, the new model and config are deleted again",
            deploy,
        ),
        Step(
            f"sagemaker-runtime:InvokeEndpoint {endpoint}: the test split as text/csv, {EVALUATION_BATCH} rows per "
            "request; report accuracy and per-Mysfit precision/recall",
            evaluate,
        ),
        _samconfig_step(run),
    ]


def _sam_binary() -> str:
    beside_python = Path(sys.executable).parent / "sam"
    found = shutil.which("sam") or (str(beside_python) if beside_python.exists() else None)
    if not found:
        raise CliError("the SAM CLI is not installed: pip install aws-sam-cli (it is in the [dev] extra)")
    return found


def _stack_name(args: argparse.Namespace) -> str:
    if args.api_stack:
        return args.api_stack
    name = samconfig.read_setting(args.samconfig, "deploy", "stack_name")
    if not name:
        raise CliError(f"no stack_name in {args.samconfig}; pass --api-stack NAME")
    return name


def api_steps(run: Run) -> list[Step]:
    args = run.args
    root = _root(args)
    stack = _stack_name(args) if args.deploy_api else ""

    def sam(*words: str) -> Callable[[], None]:
        def call() -> None:
            argv = [_sam_binary(), *words]
            if words[0] == "deploy":
                argv += ["--region", run.region, "--parameter-overrides", *samconfig.cli_overrides(run.overrides)]
                if args.api_stack:
                    argv += ["--stack-name", args.api_stack]
            code = run.toolkit.runner(argv, root)
            if code != 0:
                raise CliError(f"sam {words[0]} failed with exit code {code}; its output is above")

        return call

    def read_outputs() -> None:
        from mysfits.aws.cleanup import stack_outputs

        run.outputs = stack_outputs(run.clients.cloudformation, stack)
        if API_URL_OUTPUT not in run.outputs:
            raise CliError(f"stack {stack} has no {API_URL_OUTPUT} output; is it this project's template.yaml?")
        run.say(f"  API: {run.outputs[API_URL_OUTPUT]}")
        if API_ORIGIN_OUTPUT in run.outputs:
            run.say(f"  it accepts browser calls from: {run.outputs[API_ORIGIN_OUTPUT]}")
        if WEB_BUCKET_OUTPUT in run.outputs and not args.deploy_web:
            run.say(f"  the website bucket stays empty until a run with --deploy-web uploads {args.web_dir}")

    if not args.deploy_api:
        return []
    overrides = "the samconfig overrides with SageMakerEndpointName=" + args.endpoint_name
    return [
        Step(f"run `sam build` in {root}", sam("build")),
        Step(
            f"run `sam deploy` (stack {stack}, region {run.region or '<region>'}) with --parameter-overrides = "
            f"{overrides} (a CLI override list replaces samconfig's, so all are passed)",
            sam("deploy"),
        ),
        Step(f"cloudformation:DescribeStacks {stack}: read its outputs and print {API_URL_OUTPUT}", read_outputs),
    ]


def web_steps(run: Run) -> list[Step]:
    args = run.args
    if not args.deploy_web:
        return []
    switched_off = samconfig.read_overrides(args.samconfig).get(WEBSITE_PARAMETER) == "false"
    if switched_off:
        raise CliError(
            f"--deploy-web needs the stack's website, but {args.samconfig} sets {WEBSITE_PARAMETER}=false; "
            f"set it to true, or host {args.web_dir} yourself"
        )

    def upload() -> None:
        bucket = run.outputs.get(WEB_BUCKET_OUTPUT)
        if not bucket:
            raise CliError(
                f"the API stack has no {WEB_BUCKET_OUTPUT} output: deploy it with {WEBSITE_PARAMETER}=true, "
                f"or host {args.web_dir} yourself"
            )
        config = page_config(args.web_dir, run.outputs[API_URL_OUTPUT])
        count = upload_site(run.clients.s3, args.web_dir, bucket, config)
        run.say(f"  uploaded {count} files to s3://{bucket}/ (config.json: apiBaseUrl {run.outputs[API_URL_OUTPUT]})")

    def invalidate() -> None:
        distribution = run.outputs.get(WEB_DISTRIBUTION_OUTPUT)
        if distribution:
            invalidation = invalidate_site(run.clients.cloudfront, distribution)
            run.say(f"  invalidation {invalidation} of {', '.join(INVALIDATION_PATHS)} on {distribution} started")
        else:
            run.say(f"  no {WEB_DISTRIBUTION_OUTPUT} output: nothing to invalidate")
        run.say(f"website: {run.outputs.get(WEB_URL_OUTPUT, '(no ' + WEB_URL_OUTPUT + ' output)')}")

    return [
        Step(
            f"s3:PutObject every file under {args.web_dir} into the stack's {WEB_BUCKET_OUTPUT}, index.html last; "
            f"config.json is generated from {args.web_dir / 'config.json'} with apiBaseUrl = {API_URL_OUTPUT} "
            "(the file in the repository is not changed)",
            upload,
        ),
        Step(
            f"cloudfront:CreateInvalidation {' '.join(INVALIDATION_PATHS)} on the stack's {WEB_DISTRIBUTION_OUTPUT}, "
            f"so visitors get the new page; then print {WEB_URL_OUTPUT}",
            invalidate,
        ),
    ]


def page_config(web_dir: Path, api_url: str) -> bytes:
    """The deployed config.json: the committed one (which serves the local stack) with the API's URL filled in."""
    path = web_dir / "config.json"
    try:
        config = json.loads(path.read_text("utf-8")) if path.exists() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"{path} is not readable JSON ({exc}); it is the base of the deployed config.json") from None
    if not isinstance(config, dict):
        raise CliError(f"{path} must hold a JSON object, found {type(config).__name__}")
    return (json.dumps({**config, "apiBaseUrl": api_url}, indent=2) + "\n").encode()


def _content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    textual = guessed.startswith("text/") or guessed in {"application/javascript", "application/json"}
    return f"{guessed}; charset=utf-8" if textual else guessed


def site_keys(web_dir: Path) -> list[str]:
    """The object keys to upload, in order: assets first, then config.json, then index.html.

    A visitor who gets the new index.html then finds what it refers to. Hidden files (.DS_Store) stay home.
    """
    files = (p.relative_to(web_dir).as_posix() for p in web_dir.rglob("*") if p.is_file())
    assets = sorted(key for key in files if key not in LAST_UPLOADS and not key.rsplit("/", 1)[-1].startswith("."))
    return [*assets, *LAST_UPLOADS]


def upload_site(s3, web_dir: Path, bucket: str, config: bytes) -> int:
    """Upload the page with content types and cache lifetimes set, since S3 serves whatever it was given.

    config.json and index.html are revalidated on every visit (CloudFront still keeps them for its 1 s minimum), so
    a deploy shows at once; the rest may be cached for five minutes. config.json is the generated one.
    """
    keys = site_keys(web_dir)
    for key in keys:
        body = config if key == "config.json" else (web_dir / key).read_bytes()
        cache = "no-cache" if key in LAST_UPLOADS else "max-age=300"
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=_content_type(key), CacheControl=cache)
    return len(keys)


def invalidate_site(cloudfront, distribution_id: str) -> str:
    """Ask CloudFront to drop its cached copies; returns the invalidation id (it completes within minutes)."""
    response = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(INVALIDATION_PATHS), "Items": list(INVALIDATION_PATHS)},
            "CallerReference": f"mysfits-{uuid.uuid4()}",
        },
    )
    return response["Invalidation"]["Id"]


# --- preflight and main ---------------------------------------------------------------------------------------


def preflight(run: Run) -> None:
    """Check credentials, the bucket and the role before anything is created, so failures are early and plain."""
    args = run.args
    clients = run.clients
    try:
        identity = clients.sts.get_caller_identity()
    except NoCredentialsError:
        raise CliError(
            "no AWS credentials found: run `aws configure` or set AWS_PROFILE (or use --mode local)"
        ) from None
    except ClientError as exc:
        raise CliError(f"AWS rejected the credentials: {exc.response['Error']['Message']}") from None
    run.say(f"AWS account {identity['Account']}, region {run.region}")
    if args.notebook_stack:
        from mysfits.aws.cleanup import CleanupError, stack_outputs

        try:
            outputs = stack_outputs(clients.cloudformation, args.notebook_stack)
        except CleanupError as exc:
            raise CliError(f"{exc}; create it from notebook-template.yaml or pass --bucket and --role") from None
        run.bucket, run.role = outputs.get("BucketName"), args.role or outputs.get("RoleArn")
        prefix = outputs.get("ResourcePrefix")
        if prefix and not args.endpoint_name.startswith(prefix + "-"):
            raise CliError(
                f"--endpoint-name {args.endpoint_name} must start with {prefix}- : the notebook stack's role may "
                "only manage SageMaker resources with that prefix"
            )
    else:
        run.bucket, run.role = args.bucket, args.role
    if not run.bucket:
        raise CliError("no bucket: pass --bucket NAME or --notebook-stack STACK (notebook-template.yaml)")
    if not run.role:
        raise CliError("no SageMaker execution role: pass --role ARN or --notebook-stack STACK")
    try:
        clients.s3.head_bucket(Bucket=run.bucket)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in {"404", "NoSuchBucket", "NotFound"}:
            raise CliError(f"bucket {run.bucket} does not exist (create it, or use the notebook stack's)") from None
        raise CliError(f"cannot use bucket {run.bucket}: {code} {exc.response['Error']['Message']}") from None


def plan(run: Run) -> list[Step]:
    steps = local_steps(run) if run.args.mode == "local" else sagemaker_steps(run)
    return steps + api_steps(run) + web_steps(run)


def main(argv: Sequence[str] | None = None, toolkit: Toolkit | None = None, prog: str = "train_and_deploy.py") -> int:
    toolkit = toolkit or Toolkit()
    args = build_parser(prog).parse_args(argv)
    run = Run(args, toolkit)
    try:
        _check_flags(args)
        if args.mode == "sagemaker":
            run.region = resolve_region(args.region)
            if not args.dry_run:
                run.clients = AwsClients.create(toolkit.session(run.region))
                preflight(run)
        steps = plan(run)
        if args.dry_run:
            toolkit.out(f"dry run ({args.mode} mode): these steps would run, in order; nothing was changed")
            for number, step in enumerate(steps, 1):
                toolkit.out(f"  {number}. {step.action}")
            return 0
        for number, step in enumerate(steps, 1):
            toolkit.out(f"[{number}/{len(steps)}] {step.action}")
            step.run()
    except CliError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print(f"{prog}: error: no AWS credentials found: run `aws configure` or set AWS_PROFILE", file=sys.stderr)
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
