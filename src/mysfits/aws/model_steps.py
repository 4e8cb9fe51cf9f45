"""The plan's steps from data to a serving endpoint: generate or read the answers, train (locally or on SageMaker),
deploy, evaluate through the endpoint, and write samconfig.toml. With --choices-table, the visitors' choices and the
judgement of the new model against the serving one come from mysfits.aws.choice_steps."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any

from mysfits import samconfig
from mysfits.aws import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, choice_steps, resume, sagemaker_endpoint, sagemaker_job
from mysfits.aws.steps import Context, Overrides, Resolved, Results, Step
from mysfits.cli_base import CliError

EVALUATION_BATCH = sagemaker_endpoint.EVALUATION_BATCH


@dataclass(frozen=True)
class Split:
    train: Any  # mysfits.model.dataset.Dataset (numpy is imported only when a step runs)
    test: Any
    k: int
    sample_size: int
    encoding: str


@dataclass(frozen=True)
class LocalModel:
    """What the local training wrote: its encoding goes into samconfig.toml beside the endpoint name."""

    encoding: str


@dataclass(frozen=True)
class TrainChannel:
    uri: str
    digest: str = ""  # sha256 of the uploaded bytes: part of what a rerun matches an earlier job by


@dataclass(frozen=True)
class TestChannel:
    uri: str
    digest: str = ""


def capacity_from(args: argparse.Namespace) -> sagemaker_endpoint.Capacity:
    if args.serverless:
        try:
            return sagemaker_endpoint.Serverless(args.memory_mb or 2048, args.max_concurrency or 5)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    return sagemaker_endpoint.RealTime(args.instance_type or "ml.m5.large")


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
        *choice_steps.choice_steps(args, bucket),
        Step(
            f"split {args.data} 90/10 (seed {args.seed})"
            + (
                f"; the training rows become the learning choices ({_recombined(args)}) plus "
                f"that factor/{args.choices_weight:g} of the base training rows, the test rows become the "
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
            f"sagemaker:ListTrainingJobs {endpoint}-*, Completed: reuse a job tagged {resume.INPUTS_TAG}=<digest of "
            "both channels, the hyperparameters, image and instance> whose model is still in S3 (a rerun after a "
            f"failure pays for no second training); else sagemaker:CreateTrainingJob {endpoint}-<time>: "
            f"built-in kNN on {args.train_instance_type}, {hyper}, "
            "predictor_type=classifier, feature_dim=<5 ordinal, 40 one-hot>, "
            f"channels train+test ({sagemaker_job.CSV_WITH_LABEL}), "
            f"role {role}, output s3://{bucket}/{prefix}/output, tag {tag}; wait for it",
            _train_on_sagemaker,
        ),
        *choice_steps.judge_steps(args),
        Step(
            f"sagemaker:CreateModel and sagemaker:CreateEndpointConfig {endpoint}-<time> ({capacity.describe()}), "
            f"tag {tag} (nothing at all if {endpoint} already serves this model on this capacity); "
            f"sagemaker:DescribeEndpoint {endpoint}: sagemaker:CreateEndpoint if it does not exist, "
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


def _key(args: argparse.Namespace, split: str) -> str:
    return f"{args.prefix or args.endpoint_name}/data/{split}/{split}.csv"


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


def _recombined(args) -> str:
    if args.recombine is not None:
        return f"x{args.recombine} recombined"
    from mysfits.loop import retrain

    return f"recombined into about {retrain.RECOMBINE_ROWS:,} rows"


def _split(ctx: Context, results: Results) -> Split:
    from mysfits.loop import retrain
    from mysfits.model import dataset as ds
    from mysfits.model import training

    args = ctx.args
    train, test = ds.split(ds.load_csv(args.data), test_fraction=0.1, seed=args.seed)
    choices = results.find(choice_steps.ChoiceSplit)
    if choices is not None:
        learning = choices.learning
        factor = retrain.recombine_factor(args.recombine, learning.rows.rows)
        pool = learning.pool.as_dataset()
        train, kept = retrain.training_mix(train, learning.rows, args.choices_weight, args.seed, factor, pool)
        test = learning.held.as_dataset()
        ctx.say(f"  {learning.rows.rows:,} learning choices (x{factor} recombined) and {kept:,} base rows")
    encoding, k, sample_size = args.encoding, args.k, args.sample_size
    if args.tune:
        tuned = training.tune(train, args.seed)
        encoding, k, sample_size = tuned.encoding, tuned.k, tuned.sample_size
        ctx.say(f"  tuned locally: encoding={encoding}, k={k}, sample_size={sample_size:,}")
    ctx.say(f"  {train.rows:,} training rows, {test.rows:,} test rows")
    return Split(train, test, k, sample_size, encoding)


def _upload_train(ctx: Context, results: Results) -> TrainChannel:
    split = results.get(Split)
    body = sagemaker_job.training_csv(split.train.X, split.train.y, split.encoding)
    uri = sagemaker_job.upload_channel(ctx.aws.s3, ctx.resolved.bucket, _key(ctx.args, "train"), body)
    return TrainChannel(uri, resume.body_digest(body))


def _upload_test(ctx: Context, results: Results) -> TestChannel:
    split = results.get(Split)
    body = sagemaker_job.training_csv(split.test.X, split.test.y, split.encoding)
    uri = sagemaker_job.upload_channel(ctx.aws.s3, ctx.resolved.bucket, _key(ctx.args, "test"), body)
    return TestChannel(uri, resume.body_digest(body))


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
    train, test = results.get(TrainChannel), results.get(TestChannel)
    digest = resume.inputs_digest(spec, {"train": train.digest, "test": test.digest})
    trained = resume.find_training(ctx.aws.sagemaker, ctx.aws.s3, spec, digest)
    if trained is not None:
        ctx.say(
            f"  training job {trained.job_name} already trained these inputs (same data, hyperparameters and "
            "instance): its model is reused, not paid for again"
        )
    else:
        spec = dataclasses.replace(spec, inputs_tag=(resume.INPUTS_TAG, digest))
        trained = ctx.toolkit.trainer(spec, ctx.aws.session, train.uri, test.uri, logs=not args.no_logs)
    shown = ", ".join(f"{name}={value:.4f}" for name, value in sorted(trained.metrics.items()))
    ctx.say(f"  training job {trained.job_name} done: {trained.model_data_url} {shown}")
    return trained


def _deploy(ctx: Context, results: Results) -> None:
    trained = results.get(sagemaker_job.TrainingResult)
    if resume.already_serving(ctx.aws.sagemaker, ctx.args.endpoint_name, trained, capacity_from(ctx.args)):
        ctx.say(
            f"  endpoint {ctx.args.endpoint_name} already serves {trained.model_data_url} on this capacity: "
            "left as it is"
        )
        return
    sagemaker_endpoint.deploy(
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
    metrics = sagemaker_endpoint.evaluate_endpoint(
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
