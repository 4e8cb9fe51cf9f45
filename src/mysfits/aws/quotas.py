"""What an account must allow before a SageMaker run starts: the quotas it will use and the kNN image for its region.

Fresh accounts often have a quota of 0 for SageMaker instances, and the SDK's image table does not cover every region
SageMaker runs in. Both used to surface only after the data was uploaded (issue 18, items 4 and 5). These checks read
only, so ``--dry-run`` runs them too.

SageMaker's quotas are read by name: the names follow one pattern ("ml.m5.large for training job usage", "... for
endpoint usage"), while their codes are not documented next to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from mysfits.aws.account import aws_failure

CONSOLE = "https://console.aws.amazon.com/servicequotas/home/services/sagemaker/quotas"


@dataclass(frozen=True)
class Need:
    """One quota the plan uses, and how much of it."""

    name: str
    amount: float


def needs(train_instance_type: str, endpoint: object) -> list[Need]:
    """The quotas a run uses: one training instance, then one endpoint instance or serverless capacity."""
    wanted = [Need(f"{train_instance_type} for training job usage", 1)]
    instance_type = getattr(endpoint, "instance_type", None)
    if instance_type:
        wanted.append(Need(f"{instance_type} for endpoint usage", getattr(endpoint, "instance_count", 1)))
    else:
        wanted.append(Need("serverless endpoint concurrency", getattr(endpoint, "max_concurrency", 1)))
    return wanted


def sagemaker_quotas(quotas) -> dict[str, tuple[str, float]]:
    """Quota name (lowercase) -> (code, value), for every SageMaker quota the account lists."""
    return {
        quota["QuotaName"].lower(): (quota["QuotaCode"], quota["Value"])
        for page in quotas.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker")
        for quota in page["Quotas"]
    }


def quota_problems(quotas, wanted: list[Need]) -> tuple[list[str], list[str]]:
    """(problems, notes): a problem is a quota below what the plan needs, with how to raise it; a note is a quota
    that could not be read, which does not stop the run (the create call would name it)."""
    try:
        found = sagemaker_quotas(quotas)
    except (ClientError, BotoCoreError) as exc:
        return [], [f"SageMaker quotas could not be read ({aws_failure(exc)}); not checked"]
    problems, notes = [], []
    for need in wanted:
        if need.name.startswith("serverless"):
            matches = {n: v for n, v in found.items() if "serverless" in n and "concurrency" in n}
        else:
            matches = {need.name.lower(): found[need.name.lower()]} if need.name.lower() in found else {}
        if not matches:
            notes.append(f"Service Quotas lists no quota named {need.name!r} here; not checked")
        for name, (code, value) in sorted(matches.items()):
            if value < need.amount:
                problems.append(
                    f"quota {name!r} is {value:g}, the run needs {need.amount:g}: raise it at {CONSOLE}/{code} "
                    f"or with: aws service-quotas request-service-quota-increase --service-code sagemaker "
                    f"--quota-code {code} --desired-value {need.amount:g}"
                )
    return problems, notes


def image_problem(region: str) -> str | None:
    """None when the SDK knows the built-in kNN image for ``region``; otherwise what to do. Needs no credentials:
    the SDK reads its own table."""
    from mysfits.aws.sagemaker_job import knn_image_uri

    try:
        knn_image_uri(region)
    except ValueError as exc:
        return (
            f"the SageMaker SDK has no built-in kNN image for region {region} ({exc}); pick a region it lists, "
            "for example us-east-1 or eu-west-1"
        )
    return None
