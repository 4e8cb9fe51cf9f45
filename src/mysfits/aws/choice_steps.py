"""The plan's steps for --choices-table: read the visitors' choices as `mysfits retrain` does, archive them, and judge
the new model against the serving one on the held-out choices before anything replaces it.

The new model answers in a batch transform job (mysfits.aws.batch_predict), the serving endpoint answers itself,
and mysfits.loop.judge decides; a challenger that loses stops the run (ChampionKept) with nothing replaced.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from mysfits import samconfig
from mysfits.aws import sagemaker_endpoint, sagemaker_job
from mysfits.aws.steps import Context, Results, Step
from mysfits.cli_base import CliError
from mysfits_api import encoding as encodings


@dataclass(frozen=True)
class ChoiceSplit:
    """Visitors' choices from the table, as ``mysfits retrain`` reads them (mysfits.loop.retrain.learning_data)."""

    learning: Any  # mysfits.loop.retrain.Learning: the rows to learn from, the held-out choices, the follow share
    champion_version: str | None
    """The serving variant's name, as recommendations record it: which choices came since it began serving."""


@dataclass(frozen=True)
class HeldOutAnswers:
    """The new model's label for each held-out choice, and the endpoint it is judged against (both None when no
    model serves yet, so there is nothing to judge)."""

    labels: Any
    endpoint: dict | None


@dataclass(frozen=True)
class Judgement:
    """Champion against challenger on the held-out choices; ``verdict`` is None when no endpoint serves yet."""

    verdict: Any
    promoted: bool


class ChampionKept(Exception):
    """The challenger lost: the run stops before anything that would replace the serving model."""


def choice_steps(args: argparse.Namespace, bucket: str) -> list[Step]:
    if not args.choices_table:
        return []
    from mysfits.loop import retrain

    return [
        Step(
            f"dynamodb:Scan {args.choices_table} (paginated, consistent reads): the visitors' choices with what the "
            f"page showed; sagemaker:DescribeEndpoint {args.endpoint_name} and DescribeEndpointConfig (the serving "
            f"variant's name marks the choices made since it began serving); hold out {retrain.HOLDOUT_PERCENT}% "
            "by a hash of each choice's id, set aside the learning choices that trust in the page may have caused "
            "and cap what any hour, answer vector or Mysfit's rise can weigh, and compare the new choices with the "
            "earlier ones, as mysfits retrain does; stop here, with nothing created, if fewer than "
            f"{retrain.MIN_HOLDOUT} are held out",
            _read_choices,
        ),
        Step(
            f"s3:PutObject s3://{bucket}/{_choices_key(args)} (every chosen row in the workshop's format: five "
            "answers, then the Mysfit's label)",
            _upload_choices,
        ),
    ]


def judge_steps(args: argparse.Namespace) -> list[Step]:
    if not args.choices_table:
        return []
    return [
        Step(
            f"sagemaker:DescribeEndpoint {args.endpoint_name}; if a model serves: sagemaker:CreateModel "
            f"{args.endpoint_name}-judge-<time> from the job's output, s3:PutObject the held-out choices' features, "
            f"sagemaker:CreateTransformJob {args.endpoint_name}-judge-<time> on {args.train_instance_type} "
            "(text/csv in, jsonlines out); wait for it; s3:GetObject its answers; sagemaker:DeleteModel",
            _predict_held_out,
        ),
        Step(
            f"sagemaker:DescribeEndpointConfig (the serving variant names its encoding); sagemaker-runtime:"
            f"InvokeEndpoint {args.endpoint_name} with the held-out choices: the champion's answers. Judge both on "
            "the visitors' taste, choice by choice (mysfits.loop.judge); stop here, with the endpoint and "
            f"samconfig unchanged, unless the new model is better beyond luck at {args.confidence:g} confidence",
            _judge,
        ),
    ]


def _choices_key(args: argparse.Namespace) -> str:
    """Beside the channels, not in one: the job must learn only the training share of the choices."""
    return f"{args.prefix or args.endpoint_name}/choices/choices.csv"


def _read_choices(ctx: Context, _results: Results) -> ChoiceSplit:
    from mysfits.aws.choices_table import DynamoDbChoiceReader
    from mysfits.loop import retrain

    table = ctx.args.choices_table
    choices = list(DynamoDbChoiceReader(ctx.aws.dynamodb, table).choices())
    endpoint = _serving_endpoint(ctx)
    version = None if endpoint is None else serving_variant(ctx.aws.sagemaker, endpoint)
    try:
        learning = retrain.learning_data(choices, ctx.args.seed, version)
    except retrain.TooFewChoices as exc:
        raise CliError(f"--choices-table {table}: too few choices to judge a new model: {exc}") from None
    ctx.say(
        f"  {len(choices):,} choices: {learning.rows.rows:,} to learn from ({learning.set_aside:,} set aside as "
        f"following the page), {learning.held.rows:,} held out; {learning.follow.describe()}"
    )
    for line in (learning.bounds.describe() + "\n" + learning.shift.describe()).splitlines():
        ctx.say(f"  {line}")
    return ChoiceSplit(learning, version)


def _upload_choices(ctx: Context, results: Results) -> None:

    from mysfits.model import dataset as ds

    every = results.get(ChoiceSplit).learning.every.as_dataset()
    body = ds.to_csv_bytes(every)  # the workshop's format, as `mysfits choices export` writes it
    key = _choices_key(ctx.args)
    ctx.aws.s3.put_object(Bucket=ctx.resolved.bucket, Key=key, Body=body, ContentType="text/csv")
    ctx.say(f"  wrote s3://{ctx.resolved.bucket}/{key} ({every.rows:,} rows)")


def serving_variant(sm, endpoint: dict) -> str:
    """The serving variant's name: the model version the API stores with each recommendation it answers."""
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    return config["ProductionVariants"][0]["VariantName"]


def serving_encoding(sm, endpoint: dict) -> str | None:
    """The encoding the endpoint's model expects, from its variant's name (``<encoding>-<12 hex>``, as this script
    names variants); None for an endpoint deployed otherwise."""
    from mysfits_api import encoding as encodings

    prefix = serving_variant(sm, endpoint).rsplit("-", 1)[0]
    return prefix if prefix in encodings.ENCODINGS else None


def _serving_endpoint(ctx: Context) -> dict | None:
    endpoint = sagemaker_endpoint.describe_endpoint_or_none(ctx.aws.sagemaker, ctx.args.endpoint_name)
    if endpoint is None or endpoint["EndpointStatus"] in sagemaker_endpoint.FAILED:
        return None
    return endpoint


def _predict_held_out(ctx: Context, results: Results) -> HeldOutAnswers:
    from mysfits.aws import batch_predict
    from mysfits.model import knn

    args = ctx.args
    endpoint = _serving_endpoint(ctx)
    if endpoint is None:
        ctx.say(f"  no model serves at {args.endpoint_name}: nothing to judge against, so no batch transform")
        return HeldOutAnswers(None, None)
    trained, held = results.get(sagemaker_job.TrainingResult), results.get(ChoiceSplit).learning.held
    labels = batch_predict.predict(
        ctx.aws.sagemaker,
        ctx.aws.s3,
        trained,
        role_arn=ctx.resolved.role,
        endpoint_name=args.endpoint_name,
        bucket=ctx.resolved.bucket,
        prefix=args.prefix or args.endpoint_name,
        features=knn.encode_rows(held.X, trained.encoding),
        instance_type=args.train_instance_type,
        report=ctx.say,
        sleep=ctx.toolkit.sleep,
    )
    return HeldOutAnswers(labels, endpoint)


def _judge(ctx: Context, results: Results) -> Judgement:
    from mysfits.loop import judge
    from mysfits.model import knn

    args, split = ctx.args, results.get(ChoiceSplit)
    learning = split.learning
    trained = results.get(sagemaker_job.TrainingResult)
    answers = results.get(HeldOutAnswers)
    endpoint = answers.endpoint
    if endpoint is None:
        ctx.say(f"  endpoint {args.endpoint_name} serves no model: the new one is deployed without a comparison")
        return Judgement(None, True)
    encoding = serving_encoding(ctx.aws.sagemaker, endpoint) or samconfig.read_overrides(args.samconfig).get(
        samconfig.ENCODING_PARAMETER, encodings.DEFAULT
    )
    held = learning.held
    champion = sagemaker_endpoint.predict_through_endpoint(
        ctx.aws.runtime, args.endpoint_name, knn.encode_rows(held.X, encoding)
    )
    verdict = judge.judge(
        held,
        answers.labels,
        champion,
        learning.follow,
        confidence=args.confidence,
        min_gain=args.min_gain,
        champion_version=split.champion_version,
    )
    for line in verdict.summary().splitlines():
        ctx.say(f"  {line}")
    if not verdict.promoted:
        raise ChampionKept(
            f"the new model ({trained.job_name}) is not better than the serving one beyond luck on the held-out "
            f"choices; endpoint {args.endpoint_name} and {args.samconfig} are unchanged"
        )
    if learning.shift.detected and not args.accept_shift:
        raise ChampionKept(
            f"the new model ({trained.job_name}) won, but the choices shifted (above), so a person decides: if the "
            f"change is real, run again with --accept-shift; endpoint {args.endpoint_name} and {args.samconfig} "
            "are unchanged"
        )
    return Judgement(verdict, True)
