"""Train SageMaker's built-in kNN: the channels, the training job, and the model made from its output.

Training goes through the SageMaker Python SDK 2.x (``Estimator`` with the built-in image), imported inside the
function that needs it: it is large, slow to import, and its 3.x line dropped ``Estimator``. Serving the result
under a stable endpoint name is :mod:`mysfits.aws.sagemaker_endpoint`.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
from botocore.exceptions import ClientError

from mysfits.aws import PROJECT_TAGS
from mysfits.model import knn
from mysfits_api import encoding as encodings
from mysfits_api.questionnaire import N_QUESTIONS

Report = Callable[[str], None]
CSV_WITH_LABEL = "text/csv;label_size=1"


class DeploymentError(RuntimeError):
    """A SageMaker job or endpoint ended in failure; the message carries SageMaker's FailureReason."""


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


def not_found(exc: ClientError) -> bool:
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
            if delay is None or not not_found(exc):
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
