"""The new model's answers for the held-out choices, from a SageMaker batch transform job, before it serves anyone.

The judge (mysfits.loop.judge) compares champion and challenger choice by choice, so it needs each model's own
prediction for every held-out choice, not the job's single ``test:accuracy``. The champion answers through its
endpoint; the challenger has no endpoint yet, and creating one only to judge it would take minutes and bill by the
hour. A batch transform job runs the trained model once over a CSV in S3 and writes one JSON line per row
(``{"predicted_label": 3.0}``, the built-in kNN's jsonlines answer), then its instance goes away. The model made for
it is deleted afterwards; the deploy step makes its own if the challenger wins.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np
from botocore.exceptions import ClientError

from mysfits.aws import PROJECT_TAGS, polling, sagemaker_job

Report = Callable[[str], None]
POLL_SECONDS = 30
TIMEOUT_SECONDS = 60 * 60
"""A few thousand rows take minutes; an hour means something is wrong, and the run stops with what SageMaker says."""
FAILED = {"Failed", "Stopped"}


def predict(
    sm,
    s3,
    result: sagemaker_job.TrainingResult,
    *,
    role_arn: str,
    endpoint_name: str,
    bucket: str,
    prefix: str,
    features: np.ndarray,
    instance_type: str,
    report: Report,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> np.ndarray:
    """Labels the trained model gives ``features`` (already encoded as it was trained), in row order."""
    name = sagemaker_job.resource_names(f"{endpoint_name}-judge")
    key = f"{prefix}/judge/{name}/input/held-out.csv"
    output = f"{prefix}/judge/{name}/output"
    body = "".join(",".join(str(int(v)) for v in row) + "\n" for row in np.asarray(features))
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="text/csv")
    report(f"  creating model {name} to answer {len(features):,} held-out choices in a batch transform job")
    sagemaker_job.create_model(sm, name, result, role_arn)
    try:
        sagemaker_job.call_when_visible(
            lambda: sm.create_transform_job(
                TransformJobName=name,
                ModelName=name,
                BatchStrategy="MultiRecord",
                TransformInput={
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{key}"}},
                    "ContentType": "text/csv",
                    "SplitType": "Line",
                },
                TransformOutput={
                    "S3OutputPath": f"s3://{bucket}/{output}",
                    "Accept": "application/jsonlines",
                    "AssembleWith": "Line",
                },
                TransformResources={"InstanceType": instance_type, "InstanceCount": 1},
                Tags=list(PROJECT_TAGS),
            ),
            f"model {name}",
            report=report,
            sleep=sleep,
        )
        _wait(sm, name, report=report, sleep=sleep, clock=clock)
        return _read_labels(s3, bucket, output, len(features), name)
    finally:
        _delete_model(sm, name, report)


def _delete_model(sm, name: str, report: Report) -> None:
    """Best effort: a model left behind costs nothing, and `mysfits aws cleanup` finds it by its project tag."""
    try:
        sm.delete_model(ModelName=name)
    except ClientError as exc:
        report(f"  could not delete model {name} ({exc.response['Error']['Message']}); cleanup will find it")
        return
    report(f"  deleted model {name}")


def _wait(sm, name: str, *, report: Report, sleep, clock) -> None:
    watch = polling.Watch(
        name=f"batch transform job {name}",
        describe=lambda: sm.describe_transform_job(TransformJobName=name),
        status=lambda d: d["TransformJobStatus"],
        done=lambda d: d["TransformJobStatus"] == "Completed",
        failure=lambda d: d.get("FailureReason", "no reason given") if d["TransformJobStatus"] in FAILED else None,
    )
    polling.settle(
        watch,
        report=report,
        error=sagemaker_job.DeploymentError,
        sleep=sleep,
        clock=clock,
        poll_seconds=POLL_SECONDS,
        timeout_seconds=TIMEOUT_SECONDS,
        hint="; check the SageMaker console's batch transform jobs",
    )


def _read_labels(s3, bucket: str, output: str, rows: int, name: str) -> np.ndarray:
    """The job writes ``<input file>.out`` under the output path; each line is one row's jsonlines answer."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{output}/").get("Contents", [])
    outs = [item["Key"] for item in listed if item["Key"].endswith(".out")]
    if len(outs) != 1:
        raise sagemaker_job.DeploymentError(
            f"batch transform job {name} completed but left {len(outs)} .out files under s3://{bucket}/{output}/"
        )
    text = s3.get_object(Bucket=bucket, Key=outs[0])["Body"].read().decode("utf-8")
    try:
        labels = [round(float(json.loads(line)["predicted_label"])) for line in text.splitlines() if line.strip()]
    except (ValueError, KeyError, TypeError) as exc:
        raise sagemaker_job.DeploymentError(
            f"batch transform job {name} wrote answers that are not kNN jsonlines: {text[:200]!r}"
        ) from exc
    if len(labels) != rows:
        raise sagemaker_job.DeploymentError(f"batch transform job {name} answered {len(labels)} rows of {rows}")
    return np.asarray(labels, dtype=np.int64)
