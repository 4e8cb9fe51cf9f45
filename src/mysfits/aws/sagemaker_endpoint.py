"""Serve a trained kNN from a stable endpoint name, and ask it for answers.

Deployment is plain boto3 calls on a client passed in by the caller, because the part that matters (create the
endpoint the first time, then swap a new endpoint config in with ``update_endpoint`` so the API keeps its endpoint
name) is a few control-plane calls that are easier to reason about, and to test, without the SDK's Predictor layer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from botocore.exceptions import ClientError

from mysfits.aws import PROJECT_TAGS, polling
from mysfits.aws.sagemaker_job import (
    DeploymentError,
    Report,
    TrainingResult,
    call_when_visible,
    create_model,
    not_found,
    resource_names,
)
from mysfits.model import knn
from mysfits_api import encoding as encodings

SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
FAILED = {"Failed", "OutOfService", "UpdateRollbackFailed"}
EVALUATION_BATCH = 500
"""CSV rows per InvokeEndpoint request when asking an endpoint about many rows: well under the 6 MB payload limit."""


@dataclass(frozen=True)
class RealTime:
    """Instances that run all the time and are billed per hour whether or not requests come."""

    instance_type: str = "ml.m5.large"
    instance_count: int = 1

    def variant(self, model_name: str, variant_name: str) -> dict:
        return {
            "VariantName": variant_name,
            "ModelName": model_name,
            "InstanceType": self.instance_type,
            "InitialInstanceCount": self.instance_count,
            "InitialVariantWeight": 1.0,
        }

    def describe(self) -> str:
        return f"real-time, {self.instance_count} x {self.instance_type}"


@dataclass(frozen=True)
class Serverless:
    """Billed per request and per GB-second of compute; cold starts add latency after idle periods."""

    memory_mb: int = 2048
    max_concurrency: int = 5

    def __post_init__(self) -> None:
        if self.memory_mb not in SERVERLESS_MEMORY_MB:
            allowed = ", ".join(map(str, SERVERLESS_MEMORY_MB))
            raise ValueError(f"--memory-mb must be one of {allowed}, got {self.memory_mb}")
        if not 1 <= self.max_concurrency <= 200:
            raise ValueError(f"serverless max concurrency must be 1..200, got {self.max_concurrency}")

    def variant(self, model_name: str, variant_name: str) -> dict:
        return {
            "VariantName": variant_name,
            "ModelName": model_name,
            "ServerlessConfig": {"MemorySizeInMB": self.memory_mb, "MaxConcurrency": self.max_concurrency},
        }

    def describe(self) -> str:
        return f"serverless, {self.memory_mb} MB, up to {self.max_concurrency} concurrent requests"


Capacity = RealTime | Serverless


def create_endpoint_config(sm, name: str, model_name: str, capacity: Capacity, variant_name: str) -> str:
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[capacity.variant(model_name, variant_name)],
        Tags=list(PROJECT_TAGS),
    )
    return name


def describe_endpoint_or_none(sm, endpoint_name: str) -> dict | None:
    try:
        return sm.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as exc:
        if not_found(exc):
            return None
        raise


def serves_serverless(sm, endpoint: dict) -> bool:
    """Whether an endpoint runs on serverless capacity rather than instances.

    An InService endpoint's description says so in its variants; the endpoint config is asked only when the
    description has none.
    """
    variants = endpoint.get("ProductionVariants")
    if variants:
        return any("CurrentServerlessConfig" in variant for variant in variants)
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    return any("ServerlessConfig" in variant for variant in config["ProductionVariants"])


def _poll_endpoint(
    sm,
    endpoint_name: str,
    done: Callable[[dict | None], bool],
    failed: Callable[[dict], bool],
    *,
    report: Report,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    poll_seconds: float,
    timeout_seconds: float,
) -> dict | None:
    """Describe the endpoint until ``done`` (None: it is gone), printing each status change; ``failed`` or the
    timeout raise with SageMaker's reason."""

    def failure(description: dict | None) -> str | None:
        if description is None:
            return "it no longer exists"
        return description.get("FailureReason", "no reason given") if failed(description) else None

    watch = polling.Watch(
        name=f"endpoint {endpoint_name}",
        describe=lambda: describe_endpoint_or_none(sm, endpoint_name),
        status=lambda d: d["EndpointStatus"] if d else "deleted",
        done=done,
        failure=failure,
    )
    return polling.settle(
        watch,
        report=report,
        error=DeploymentError,
        sleep=sleep,
        clock=clock,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
        hint="; check the SageMaker console",
    )


def wait_for_endpoint(
    sm,
    endpoint_name: str,
    *,
    report: Report,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    poll_seconds: float = 30.0,
    timeout_seconds: float = 3600.0,
) -> dict:
    """Wait until the endpoint is InService; Failed, Deleting or gone raise with SageMaker's reason."""
    settled = _poll_endpoint(
        sm,
        endpoint_name,
        lambda d: d is not None and d["EndpointStatus"] == "InService",
        lambda d: d["EndpointStatus"] in FAILED or d["EndpointStatus"] == "Deleting",
        report=report,
        sleep=sleep,
        clock=clock,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )
    assert settled is not None  # done() only accepts a description
    return settled


def wait_for_endpoint_deleted(
    sm,
    endpoint_name: str,
    *,
    report: Report,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 1800.0,
) -> None:
    """Wait until the endpoint is gone; any status but Deleting on the way (a failed delete) raises."""
    _poll_endpoint(
        sm,
        endpoint_name,
        lambda d: d is None,
        lambda d: d["EndpointStatus"] != "Deleting",
        report=report,
        sleep=sleep,
        clock=clock,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )


@dataclass(frozen=True)
class Deployment:
    endpoint_name: str
    endpoint_config_name: str
    model_name: str
    created: bool
    replaced_config: str | None
    retired: tuple[str, ...] = ()


def deploy(
    sm,
    endpoint_name: str,
    result: TrainingResult,
    role_arn: str,
    capacity: Capacity,
    *,
    report: Report,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Deployment:
    """Serve a trained model under a stable endpoint name, so the API never needs a new name.

    The endpoint is created the first time and updated in place afterwards. SageMaker cannot update an endpoint
    between real-time and serverless capacity, so such a switch deletes the endpoint and creates it again under
    the same name (the API answers 5xx meanwhile). If any step fails, the model and endpoint config made by this
    run are deleted again, unless the endpoint ended up serving them.
    """
    name = resource_names(endpoint_name, now)
    created: list[str] = []
    try:
        report(f"creating model {name} from {result.model_data_url}")
        create_model(sm, name, result, role_arn)
        created.append("model")
        report(f"creating endpoint config {name} ({capacity.describe()})")
        call_when_visible(
            lambda: create_endpoint_config(sm, name, name, capacity, result.variant_name),
            f"model {name}",
            report=report,
            sleep=sleep,
        )
        created.append("endpoint-config")
        call_when_visible(
            lambda: sm.describe_endpoint_config(EndpointConfigName=name),
            f"endpoint config {name}",
            report=report,
            sleep=sleep,
        )
        return _serve(sm, endpoint_name, name, capacity, report, sleep)
    except Exception:
        _undo(sm, endpoint_name, name, created, report, sleep)
        raise


def _serve(
    sm, endpoint_name: str, name: str, capacity: Capacity, report: Report, sleep: Callable[[float], None]
) -> Deployment:
    existing = describe_endpoint_or_none(sm, endpoint_name)
    status = existing and existing["EndpointStatus"]
    if status and status not in FAILED | {"InService", "Deleting"}:
        report(f"endpoint {endpoint_name} is {status}; waiting for it to settle before updating")
        existing = _settle(sm, endpoint_name, report, sleep)
        status = existing["EndpointStatus"]
    previous = None
    if status in FAILED:
        reason = existing.get("FailureReason", "no reason given")
        report(f"endpoint {endpoint_name} is {status} ({reason}); deleting and recreating it")
        sm.delete_endpoint(EndpointName=endpoint_name)
        status = "Deleting"
    elif status == "InService" and serves_serverless(sm, existing) != isinstance(capacity, Serverless):
        previous = existing["EndpointConfigName"]
        before, after = ("serverless", "real-time") if isinstance(capacity, RealTime) else ("real-time", "serverless")
        report(
            f"endpoint {endpoint_name} is {before} and the new config is {after}: SageMaker cannot update an "
            f"endpoint between the two, so it is deleted and created again under the same name. Until it is "
            f"InService again (usually several minutes) the API answers 5xx."
        )
        sm.delete_endpoint(EndpointName=endpoint_name)
        status = "Deleting"
    if status == "Deleting":
        wait_for_endpoint_deleted(sm, endpoint_name, report=report, sleep=sleep)
        existing = None

    if existing is None:
        report(f"creating endpoint {endpoint_name}")
        call_when_visible(
            lambda: sm.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=name, Tags=list(PROJECT_TAGS)),
            f"endpoint config {name}",
            report=report,
            sleep=sleep,
        )
        wait_for_endpoint(sm, endpoint_name, report=report, sleep=sleep)
        retired = (
            retire_endpoint_config(sm, previous, keep_models={name}, report=report)
            if previous and previous != name
            else ()
        )
        return Deployment(endpoint_name, name, name, created=True, replaced_config=previous, retired=retired)

    previous = existing["EndpointConfigName"]
    report(f"updating endpoint {endpoint_name} in place: {previous} -> {name}")
    call_when_visible(
        lambda: sm.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=name),
        f"endpoint config {name}",
        report=report,
        sleep=sleep,
    )
    settled = wait_for_endpoint(sm, endpoint_name, report=report, sleep=sleep)
    if settled["EndpointConfigName"] != name:
        raise DeploymentError(
            f"endpoint {endpoint_name} rolled back to {settled['EndpointConfigName']}: "
            f"{settled.get('FailureReason', 'no reason given')}"
        )
    # The config it replaced stays, with its model, so that `mysfits aws rollback` can serve it again; only the
    # earlier configs beyond the newest KEPT_CONFIGS go. Never the config now serving: two deploys stamped in the same
    # second share a name.
    retired = retire_beyond(sm, endpoint_name, serving=name, report=report)
    return Deployment(endpoint_name, name, name, created=False, replaced_config=previous, retired=retired)


def _settle(sm, endpoint_name: str, report: Report, sleep: Callable[[float], None]) -> dict:
    try:
        return wait_for_endpoint(sm, endpoint_name, report=report, sleep=sleep)
    except DeploymentError:
        return sm.describe_endpoint(EndpointName=endpoint_name)


def _undo(
    sm, endpoint_name: str, name: str, created: list[str], report: Report, sleep: Callable[[float], None]
) -> None:
    """Delete what a failed deployment created, so a failed run leaves nothing billing and nothing behind.

    An endpoint that this run created and that failed is deleted too; one that serves the new config is left
    alone (it was the point of the run), and an endpoint that rolled back keeps serving its old config.
    """
    if not created:
        return
    try:
        endpoint = describe_endpoint_or_none(sm, endpoint_name)
        status = endpoint and endpoint["EndpointStatus"]
        if status and status not in FAILED | {"InService"}:
            report(
                f"endpoint {endpoint_name} is still {status}; kept the new model and config {name} for it. "
                "If it fails, scripts/cleanup.py removes them"
            )
            return
        if endpoint and endpoint["EndpointConfigName"] == name:
            if status == "InService":
                report(f"endpoint {endpoint_name} serves {name}; kept it, its config and its model")
                return
            report(f"deleting the failed endpoint {endpoint_name}")
            sm.delete_endpoint(EndpointName=endpoint_name)
            wait_for_endpoint_deleted(sm, endpoint_name, report=report, sleep=sleep)
        if "endpoint-config" in created:
            sm.delete_endpoint_config(EndpointConfigName=name)
            report(f"deleted the new endpoint config {name}, since the deployment failed")
        sm.delete_model(ModelName=name)
        report(f"deleted the new model {name}, since the deployment failed")
    except (ClientError, DeploymentError) as exc:
        detail = exc.response["Error"]["Message"] if isinstance(exc, ClientError) else str(exc)
        report(
            f"could not delete what the failed deployment created ({detail}); "
            "scripts/cleanup.py removes everything tagged for this project"
        )


KEPT_CONFIGS = 3
"""Earlier endpoint configs (each with its model) kept after an in-place update, for `mysfits aws rollback`. A kept
config costs nothing while no endpoint serves it; its model's artifact stays in the bucket either way."""


def deployment_configs(sm, endpoint_name: str) -> list[dict]:
    """The endpoint configs this project made for ``endpoint_name`` (named by :func:`resource_names`), newest
    first, as ListEndpointConfigs summarises them."""
    stem = resource_names(endpoint_name, datetime(2000, 1, 1))[: -len("-20000101-000000")]
    own = re.compile(rf"{re.escape(stem)}-\d{{8}}-\d{{6}}")
    found: list[dict] = []
    token = None
    while True:
        page = sm.list_endpoint_configs(
            NameContains=stem, SortBy="CreationTime", SortOrder="Descending",
            **({"NextToken": token} if token else {}),
        )  # fmt: skip
        found += [c for c in page["EndpointConfigs"] if own.fullmatch(c["EndpointConfigName"])]
        token = page.get("NextToken")
        if not token:
            return sorted(found, key=lambda c: c["CreationTime"], reverse=True)


def retire_beyond(sm, endpoint_name: str, *, serving: str, report: Report) -> tuple[str, ...]:
    """Delete the earlier configs (and their models) beyond the newest :data:`KEPT_CONFIGS`; never ``serving``."""
    earlier = [c["EndpointConfigName"] for c in deployment_configs(sm, endpoint_name)]
    earlier = [name for name in earlier if name != serving]
    retired: tuple[str, ...] = ()
    for old in earlier[KEPT_CONFIGS:]:
        retired += retire_endpoint_config(sm, old, keep_models={serving}, report=report)
    return retired


def retire_endpoint_config(sm, config_name: str, *, keep_models: set[str], report: Report) -> tuple[str, ...]:
    """Delete the config the endpoint no longer uses, and its models, so old versions do not pile up."""
    try:
        config = sm.describe_endpoint_config(EndpointConfigName=config_name)
    except ClientError:
        return ()
    models = [v["ModelName"] for v in config["ProductionVariants"] if v["ModelName"] not in keep_models]
    sm.delete_endpoint_config(EndpointConfigName=config_name)
    report(f"deleted the previous endpoint config {config_name}")
    for model in models:
        try:
            sm.delete_model(ModelName=model)
            report(f"deleted the previous model {model}")
        except ClientError as exc:
            report(f"kept model {model}: {exc.response['Error']['Message']}")
    return (config_name, *models)


def predict_through_endpoint(
    runtime, endpoint_name: str, features: np.ndarray, batch_size: int = EVALUATION_BATCH
) -> np.ndarray:
    """Ask the endpoint for labels, ``batch_size`` CSV rows per request (well under the 6 MB payload limit)."""
    features = np.asarray(features)
    predictions: list[int] = []
    for start in range(0, len(features), batch_size):
        chunk = features[start : start + batch_size]
        body = "\n".join(",".join(str(int(v)) for v in row) for row in chunk).encode()
        response = runtime.invoke_endpoint(
            EndpointName=endpoint_name, ContentType="text/csv", Accept="application/json", Body=body
        )
        payload = json.loads(response["Body"].read())
        batch = [round(float(p["predicted_label"])) for p in payload["predictions"]]
        if len(batch) != len(chunk):
            raise DeploymentError(f"endpoint {endpoint_name} answered {len(batch)} predictions for {len(chunk)} rows")
        predictions.extend(batch)
    return np.asarray(predictions, dtype=np.int64)


def evaluate_endpoint(
    runtime,
    endpoint_name: str,
    test_X: np.ndarray,
    test_y: np.ndarray,
    train_y: np.ndarray,
    batch_size: int = 500,
    encoding: str = encodings.DEFAULT,
) -> dict:
    """The same metrics as the local trainer reports, but computed from the endpoint's answers on the test split.

    ``test_X`` holds answers; they are sent encoded as the model was trained, as the Lambda sends them.
    """
    from mysfits.model.evaluation import evaluate

    predicted = predict_through_endpoint(runtime, endpoint_name, knn.encode_rows(test_X, encoding), batch_size)
    metrics = evaluate(np.asarray(test_y), predicted, np.asarray(train_y))
    metrics["endpoint"] = {"name": endpoint_name, "requests": -(-len(test_y) // batch_size), "batch_size": batch_size}
    return metrics
