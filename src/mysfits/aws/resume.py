"""What an earlier run already paid for, found again so that running the same command after a failure picks up
where it stopped: a training job that trained these very inputs, and an endpoint that already serves its model.

A training job carries a tag with a digest of everything that decides its model (both channels' bytes, the
hyperparameters, the image and the instance type). Tags live with the job in the account, so the next run finds it
from any machine, and a job with other inputs never matches.
"""

from __future__ import annotations

import hashlib
import json

from botocore.exceptions import ClientError

from mysfits.aws import sagemaker_endpoint, sagemaker_job

INPUTS_TAG = "mysfits:training-inputs"
LOOKED_AT = 20
"""Completed jobs of this endpoint examined, newest first: a rerun comes soon after the failure it follows."""


def inputs_digest(spec: sagemaker_job.TrainingSpec, channels: dict[str, str]) -> str:
    """sha256 of what decides the trained model; ``channels`` maps channel name to the sha256 of its bytes."""
    decided = {
        "channels": channels,
        "hyperparameters": {k: str(v) for k, v in spec.hyperparameters().items()},
        "instance_type": spec.instance_type,
        "image": sagemaker_job.knn_image_uri(spec.region),
        "encoding": spec.encoding,
    }
    return hashlib.sha256(json.dumps(decided, sort_keys=True).encode()).hexdigest()


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def find_training(sm, s3, spec: sagemaker_job.TrainingSpec, digest: str) -> sagemaker_job.TrainingResult | None:
    """A Completed job of this endpoint tagged with ``digest`` whose model file is still in S3, or None."""
    summaries = [
        summary
        for page in sm.get_paginator("list_training_jobs").paginate(
            NameContains=spec.base_job_name, StatusEquals="Completed"
        )
        for summary in page["TrainingJobSummaries"]
        if summary["TrainingJobName"].startswith(spec.base_job_name + "-")
    ]
    summaries.sort(key=lambda s: s["CreationTime"], reverse=True)
    for summary in summaries[:LOOKED_AT]:
        tags = sm.list_tags(ResourceArn=summary["TrainingJobArn"])["Tags"]
        if {"Key": INPUTS_TAG, "Value": digest} not in tags:
            continue
        job = sm.describe_training_job(TrainingJobName=summary["TrainingJobName"])
        model_data_url = job["ModelArtifacts"]["S3ModelArtifacts"]
        if not _exists(s3, model_data_url):
            continue
        metrics = {m["MetricName"]: float(m["Value"]) for m in job.get("FinalMetricDataList", [])}
        image = job["AlgorithmSpecification"]["TrainingImage"]
        return sagemaker_job.TrainingResult(job["TrainingJobName"], model_data_url, image, metrics, spec.encoding)
    return None


def _exists(s3, url: str) -> bool:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


def already_serving(sm, endpoint_name: str, result: sagemaker_job.TrainingResult, capacity) -> bool:
    """True when the endpoint is InService with one variant serving ``result``'s model file on ``capacity``: a
    rerun after a failure further on (the API's deploy, say) then leaves the endpoint as it is."""
    endpoint = sagemaker_endpoint.describe_endpoint_or_none(sm, endpoint_name)
    if endpoint is None or endpoint["EndpointStatus"] != "InService":
        return False
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    if len(config["ProductionVariants"]) != 1:
        return False
    (variant,) = config["ProductionVariants"]
    wanted = capacity.variant(variant["ModelName"], variant["VariantName"])
    for key, value in wanted.items():
        found = variant.get(key)
        if isinstance(value, dict) and isinstance(found, dict):
            found = {k: found.get(k) for k in value}  # the description may add keys of its own
        if key != "InitialVariantWeight" and found != value:
            return False
    model = sm.describe_model(ModelName=variant["ModelName"])
    return model.get("PrimaryContainer", {}).get("ModelDataUrl") == result.model_data_url
