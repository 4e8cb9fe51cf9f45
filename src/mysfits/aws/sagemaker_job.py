"""Train SageMaker's built-in kNN and serve it from a stable endpoint name.

Training goes through the SageMaker Python SDK 2.x (``Estimator`` with the built-in image), imported inside the
function that needs it: it is large, slow to import, and its 3.x line dropped ``Estimator``. Deployment is plain
boto3 calls on a client passed in by the caller, because the part that matters (create the endpoint the first
time, then swap a new endpoint config in with ``update_endpoint`` so the API keeps its endpoint name) is a few
control-plane calls that are easier to reason about, and to test, without the SDK's Predictor layer.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
from botocore.exceptions import ClientError

from mysfits.aws import PROJECT_TAGS, polling
from mysfits.model import knn
from mysfits_api import encoding as encodings
from mysfits_api.questionnaire import N_QUESTIONS

Report = Callable[[str], None]
CSV_WITH_LABEL = "text/csv;label_size=1"
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
FAILED = {"Failed", "OutOfService", "UpdateRollbackFailed"}


class DeploymentError(RuntimeError):
    """A SageMaker job or endpoint ended in failure; the message carries SageMaker's FailureReason."""


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


@dataclass(frozen=True)
class TrainingSpec:
    """What the built-in kNN job needs. ``k`` and ``sample_size`` mean the same as in the local trainer."""

    region: str
    role_arn: str
    bucket: str
    base_job_name: str
    prefix: str = "mysfits"
    instance_type: str = "ml.m5.large"
    k: int = 10
    sample_size: int = 100_000
    encoding: str = encodings.DEFAULT
    inputs_tag: tuple[str, str] | None = None
    """(key, value) tagged on the job besides the project tag, so a rerun can find it (mysfits.aws.resume)."""

    def hyperparameters(self) -> dict[str, str | int]:
        """``feature_dim`` follows the encoding: the built-in kNN refuses rows of any other width."""
        return {
            "k": self.k,
            "sample_size": self.sample_size,
            "predictor_type": "classifier",
            "feature_dim": encodings.feature_dim(self.encoding),
        }

    @property
    def output_path(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/output"


@dataclass(frozen=True)
class TrainingResult:
    job_name: str
    model_data_url: str
    image_uri: str
    metrics: dict[str, float] = field(default_factory=dict)
    encoding: str = encodings.DEFAULT

    @property
    def variant_name(self) -> str:
        """The team's production variant name, ``<encoding>-<first 12 hex of a model hash>``: the local endpoint sends
        the same shape, and the Lambda stores it as the model version of each recommendation. Here the hash is of
        the model data URL, which names one training job's output."""
        return variant_name(self.encoding, self.model_data_url)


def variant_name(encoding: str, model_source: str) -> str:
    """``<encoding>-<12 hex>``; SageMaker allows letters, digits and hyphens, up to 63 characters."""
    return f"{encoding}-{hashlib.sha256(model_source.encode()).hexdigest()[:12]}"


def training_csv(answers: np.ndarray, labels: np.ndarray, encoding: str = encodings.DEFAULT) -> bytes:
    """The built-in kNN's CSV input: no header, the label first, then the answers' features under ``encoding``.

    SageMaker never sees the answers themselves, so the encoding happens here, with the same definition the
    Lambda applies to a visitor's answers before it calls the endpoint.
    """
    answers = np.asarray(answers)
    labels = np.asarray(labels)
    if answers.ndim != 2 or answers.shape[1] != N_QUESTIONS or len(answers) != len(labels):
        raise ValueError(f"expected n x {N_QUESTIONS} answers and n labels, got {answers.shape} and {labels.shape}")
    features = knn.encode_rows(answers, encoding)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([labels, features]).astype(np.int64), fmt="%d", delimiter=",")
    return buffer.getvalue().encode()


def upload_channel(s3, bucket: str, key: str, body: bytes) -> str:
    """Put one channel file and return the channel's S3 prefix (the job reads every object under it)."""
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
    return f"s3://{bucket}/{key.rsplit('/', 1)[0]}/"


def knn_image_uri(region: str) -> str:
    """The built-in kNN image for ``region``, from the SDK's own table (no AWS call); ValueError when it has none."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    from sagemaker import image_uris  # lazy: the SDK is only needed on the AWS path

    return image_uris.retrieve("knn", region)


def train_with_sdk(
    spec: TrainingSpec, boto_session, train_uri: str, test_uri: str, *, logs: bool = True
) -> TrainingResult:
    """Run the built-in kNN training job with the SDK's generic Estimator and wait for it.

    The ``test`` channel makes the job report ``test:accuracy`` on the held-out split.
    """
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import sagemaker
    from sagemaker.estimator import Estimator
    from sagemaker.exceptions import UnexpectedStatusException
    from sagemaker.inputs import TrainingInput

    session = sagemaker.Session(boto_session=boto_session, default_bucket=spec.bucket)
    image_uri = knn_image_uri(spec.region)
    estimator = Estimator(
        image_uri=image_uri,
        role=spec.role_arn,
        instance_count=1,
        instance_type=spec.instance_type,
        output_path=spec.output_path,
        base_job_name=spec.base_job_name,
        sagemaker_session=session,
        hyperparameters=spec.hyperparameters(),
        tags=[dict(tag) for tag in PROJECT_TAGS]
        + ([{"Key": spec.inputs_tag[0], "Value": spec.inputs_tag[1]}] if spec.inputs_tag else []),
    )
    channels = {
        "train": TrainingInput(train_uri, content_type=CSV_WITH_LABEL, distribution="ShardedByS3Key"),
        "test": TrainingInput(test_uri, content_type=CSV_WITH_LABEL, distribution="FullyReplicated"),
    }
    try:
        estimator.fit(channels, wait=True, logs="All" if logs else "None")
    except UnexpectedStatusException as exc:
        job = estimator.latest_training_job
        reason = _training_failure(session.sagemaker_client, job.name) if job else str(exc)
        raise DeploymentError(f"training job failed: {reason}") from exc
    job_name = estimator.latest_training_job.name
    description = session.sagemaker_client.describe_training_job(TrainingJobName=job_name)
    metrics = {m["MetricName"]: float(m["Value"]) for m in description.get("FinalMetricDataList", [])}
    model_data_url = description["ModelArtifacts"]["S3ModelArtifacts"]
    return TrainingResult(job_name, model_data_url, image_uri, metrics, spec.encoding)


def _training_failure(sm, job_name: str) -> str:
    description = sm.describe_training_job(TrainingJobName=job_name)
    return f"{job_name} is {description['TrainingJobStatus']}: {description.get('FailureReason', 'no reason given')}"


def resource_names(endpoint_name: str, now: datetime | None = None) -> str:
    """A name for this deployment's model and endpoint config: the endpoint name plus a UTC time stamp.

    It keeps the endpoint's prefix (the IAM policy allows only that prefix) and stays within 63 characters.
    """
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    return f"{endpoint_name[: 63 - len(stamp) - 1].rstrip('-')}-{stamp}"


# A create that names a resource made a moment ago can be refused with "Could not find ...": SageMaker's control
# plane is eventually consistent. These delays bound the retries to about half a minute.
CONSISTENCY_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 15.0)


def _not_found(exc: ClientError) -> bool:
    """SageMaker's answer for a name it does not know: missing, already deleted, or not visible yet."""
    error = exc.response["Error"]
    return error["Code"] == "ValidationException" and error.get("Message", "").startswith("Could not find")


def call_when_visible(
    call: Callable[[], object], what: str, *, report: Report, sleep: Callable[[float], None] = time.sleep
) -> object:
    """Run a control-plane call that refers to a resource created just before, retrying while it is not visible."""
    delays = iter(CONSISTENCY_DELAYS_S)
    while True:
        try:
            return call()
        except ClientError as exc:
            delay = next(delays, None)
            if delay is None or not _not_found(exc):
                raise
            report(f"  {what} is not visible to SageMaker yet; retrying in {delay:.0f} s")
            sleep(delay)


def create_model(sm, name: str, result: TrainingResult, role_arn: str) -> str:
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=role_arn,
        PrimaryContainer={"Image": result.image_uri, "ModelDataUrl": result.model_data_url},
        Tags=list(PROJECT_TAGS),
    )
    return name


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
        if _not_found(exc):
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
    # Never the config now serving: two deploys stamped in the same second share a name.
    retired = retire_endpoint_config(sm, previous, keep_models={name}, report=report) if previous != name else ()
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


def predict_through_endpoint(runtime, endpoint_name: str, features: np.ndarray, batch_size: int = 500) -> np.ndarray:
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
