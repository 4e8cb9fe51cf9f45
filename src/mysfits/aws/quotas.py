"""What an account must allow before a SageMaker run starts: the quotas it will use and the kNN image for its region.

Fresh accounts often have a quota of 0 for SageMaker instances, and the SDK's image table does not cover every region
SageMaker runs in. Both used to surface only after the data was uploaded (issue 18, items 4 and 5). These checks read
only, so ``--dry-run`` runs them too.

SageMaker's instance quotas are matched by name: their names follow one pattern ("ml.m5.large for training job usage",
"... for endpoint usage"), while their codes are not published next to them. The serverless concurrency quota is
matched by its code, L-96300102 (from Service Quotas console links in public repositories; AWS's docs do not list
it), then by its full name. ListServiceQuotas returns only quotas with an applied value, so a quota never changed in
this account is missing from it: its AWS default (ListAWSDefaultServiceQuotas) is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from mysfits.aws.account import aws_failure

CONSOLE = "https://console.aws.amazon.com/servicequotas/home/services/sagemaker/quotas"


SERVERLESS_CONCURRENCY = "Maximum total concurrency that can be allocated across all serverless endpoints"
SERVERLESS_CONCURRENCY_CODE = "L-96300102"


@dataclass(frozen=True)
class Need:
    """One quota the plan uses, and how much of it."""

    name: str
    amount: float
    code: str | None = None


def needs(train_instance_type: str, endpoint: object) -> list[Need]:
    """The quotas a run uses: one training instance, then one endpoint instance or serverless capacity."""
    wanted = [Need(f"{train_instance_type} for training job usage", 1)]
    instance_type = getattr(endpoint, "instance_type", None)
    if instance_type:
        wanted.append(Need(f"{instance_type} for endpoint usage", getattr(endpoint, "instance_count", 1)))
    else:
        amount = getattr(endpoint, "max_concurrency", 1)
        wanted.append(Need(SERVERLESS_CONCURRENCY, amount, SERVERLESS_CONCURRENCY_CODE))
    return wanted


def _listed(quotas, operation: str) -> list[dict]:
    return [
        quota for page in quotas.get_paginator(operation).paginate(ServiceCode="sagemaker") for quota in page["Quotas"]
    ]


def _match(need: Need, listed: list[dict]) -> dict | None:
    """By code when the need has one, else (or failing that) by the whole name, case aside."""
    by_code = [q for q in listed if need.code and q["QuotaCode"] == need.code]
    by_name = [q for q in listed if q["QuotaName"].lower() == need.name.lower()]
    return (by_code or by_name or [None])[0]


def quota_problems(quotas, wanted: list[Need]) -> tuple[list[str], list[str]]:
    """(problems, notes): a problem is a quota below what the plan needs, with how to raise it; a note is a quota
    that could not be read, which does not stop the run (the create call would name it)."""
    try:
        applied = _listed(quotas, "list_service_quotas")
    except (ClientError, BotoCoreError) as exc:
        return [], [f"SageMaker quotas could not be read ({aws_failure(exc)}); not checked"]
    problems, notes, defaults = [], [], []
    if any(_match(need, applied) is None for need in wanted):
        try:
            defaults = _listed(quotas, "list_aws_default_service_quotas")
        except (ClientError, BotoCoreError) as exc:
            notes.append(f"SageMaker's default quotas could not be read ({aws_failure(exc)})")
    for need in wanted:
        quota, kind = _match(need, applied), ""
        if quota is None:
            quota, kind = _match(need, defaults), " (AWS's default: never changed in this account)"
        if quota is None:
            notes.append(f"Service Quotas lists no quota named {need.name!r} here; not checked")
            continue
        name, code, value = quota["QuotaName"], quota["QuotaCode"], quota["Value"]
        if value < need.amount:
            problems.append(
                f"quota {name!r} is {value:g}{kind}, the run needs {need.amount:g}: raise it at {CONSOLE}/{code} "
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
