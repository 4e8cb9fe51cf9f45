"""What the function tells CloudWatch about its visitors: recommendations, adoptions and how often the adopted
Mysfit was the one shown, per model version, as CloudWatch embedded metric format (EMF) lines in its log.

Why EMF through Powertools: the function already logs to CloudWatch Logs, and EMF turns a log line into metrics with
no PutMetricData call, no extra permission and no time spent waiting on a metrics API in the request.

Each adoption's ``Accepted`` is 1 when the visitor adopted the Mysfit the page showed first and 0 otherwise, so its
Average over a period *is* the acceptance rate and its SampleCount the number of adoptions. ``ModelPickAccepted`` is
the same figure counted only on recommendations that were not drawn at random: exploration shows a drawn Mysfit to
about one visitor in eleven, and a promotion should be read on what the model itself showed (docs/operations.md).

Dimensions stay few: every metric is published under ``service`` alone (what the alarms watch) and under
``service`` and ``ModelVersion`` (the endpoint variant that answered, ``<encoding>-<12 hex>``), which gains one
value per promotion. The store's refusals carry ``service`` only. The namespace is template.yaml's
``MetricsNamespace`` mapping; a test keeps the two equal.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from mysfits_api.choices import Choice

NAMESPACE = "MythicalMysfits"
SERVICE = "mysfits-recommendations"
VERSION_DIMENSION = "ModelVersion"
UNKNOWN_VERSION = "unknown"
RECOMMENDATIONS, ADOPTIONS, ACCEPTED, MODEL_PICK_ACCEPTED, STORE_REFUSALS = NAMES = (
    "Recommendations",
    "Adoptions",
    "Accepted",
    "ModelPickAccepted",
    "StoreRefusals",
)
"""Every metric the function publishes; template.yaml's alarms and dashboard use no other (a test checks)."""

metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def _by_version(model_version: str | None) -> None:
    metrics.add_dimensions(**{"service": SERVICE, VERSION_DIMENSION: model_version or UNKNOWN_VERSION})


def recommended(model_version: str | None) -> None:
    _by_version(model_version)
    metrics.add_metric(name=RECOMMENDATIONS, unit=MetricUnit.Count, value=1)


def adopted(choice: Choice) -> None:
    _by_version(choice.recommendation.model_version)
    metrics.add_metric(name=ADOPTIONS, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=ACCEPTED, unit=MetricUnit.Count, value=int(choice.accepted))
    if not choice.recommendation.randomized:
        metrics.add_metric(name=MODEL_PICK_ACCEPTED, unit=MetricUnit.Count, value=int(choice.accepted))


def store_refused(operation: str) -> None:
    """A write the choices store did not take (unavailable, throttled, too slow): the recommendation was answered
    without an id, or the choice was answered 503. ``operation`` is logged beside it, not a dimension."""
    with single_metric(
        name=STORE_REFUSALS,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_metadata(key="operation", value=operation)


def flush() -> None:
    """Write this invocation's metrics as one EMF line, if it made any (a questionnaire or a refused request makes
    none, and Powertools warns on an empty flush)."""
    if metrics.metric_set:
        metrics.flush_metrics()
    # Either way nothing may reach the next invocation: a dimension set added by a request that then failed, or,
    # with metrics turned off (the local gateway does), everything, since Powertools then writes nothing and keeps
    # what it did not write, so a long-running `mysfits serve` would grow without end.
    metrics.clear_metrics()
