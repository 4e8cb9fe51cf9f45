"""What the smoke run checks before it creates anything, and what it expects to cost: the machine's tools, the region,
SageMaker's serverless quotas, and an estimate from list prices. Split from :mod:`mysfits.aws.smoke`, which runs the
steps; nothing here creates anything."""

from __future__ import annotations

import argparse

from botocore.exceptions import BotoCoreError, ClientError

from mysfits.aws import build_tools
from mysfits.aws.account import aws_failure
from mysfits.aws.smoke_report import Check

# The AWS developer guide's page "Deploy models with Amazon SageMaker Serverless Inference" lists the regions that
# offer it (21 when this was written). No API answers the question, so the list is kept here; it may be stale.
SERVERLESS_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1",
        "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1", "me-south-1", "sa-east-1",
    }
)  # fmt: skip

# On-demand list prices for us-east-1, the same figures as README's "What it costs" (AWS's pricing pages as read in
# November 2026). Not re-checked from the build machine; they differ by region and change.
PRICE_SOURCE = "AWS pricing pages, us-east-1, as in README (Nov 2026; may be stale)"
NOTEBOOK_PER_HOUR = 0.05  # ml.t3.medium
TRAINING_PER_HOUR = 0.115  # ml.m5.large
SERVERLESS_PER_GB_SECOND = 0.00002  # README: $0.00004/s at 2048 MB


def local_prerequisites(args: argparse.Namespace, tools: build_tools.Tools, repo_url: str | None) -> list[Check]:
    """What this machine must have: the tools `sam build` and `sam deploy` run, a repository to clone, the page."""
    problems, notes = build_tools.build_checks(tools)
    checks = [
        Check(
            "sam build and deploy",
            not problems,
            "; ".join(problems + notes) or f"sam, make and {build_tools.RUNTIME_PYTHON} found",
        )
    ]
    checks.append(
        Check(
            "repository URL",
            repo_url is not None,
            f"the notebook instance will clone {repo_url}"
            if repo_url
            else "no https `origin` remote: pass --repo-url https://github.com/YOU/YOUR-FORK.git",
        )
    )
    if not (args.web_dir / "index.html").is_file():
        checks.append(Check("page", False, f"{args.web_dir} has no index.html; pass --web-dir"))
    if not args.samconfig.is_file():
        checks.append(Check("samconfig", False, f"{args.samconfig} not found; run from the project's root"))
    return checks


def serverless_check(region: str) -> Check:
    offered = region in SERVERLESS_REGIONS
    return Check(
        "Serverless Inference",
        offered,
        f"offered in {region} (per the developer guide's list)"
        if offered
        else f"not offered in {region} per AWS's developer guide; pick one of {', '.join(sorted(SERVERLESS_REGIONS))}",
    )


def quota_check(quotas, memory_mb: int, max_concurrency: int) -> Check:
    """SageMaker's serverless quotas, read by name (the codes are not documented next to the names); a quota of 0,
    or a total concurrency below what the endpoint asks for, stops the run before anything is created."""
    try:
        found = {
            quota["QuotaName"]: quota["Value"]
            for page in quotas.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker")
            for quota in page["Quotas"]
            if "serverless" in quota["QuotaName"].lower()
        }
    except (ClientError, BotoCoreError) as exc:
        return Check("endpoint quota", True, f"could not be read ({aws_failure(exc)}); continuing")
    if not found:
        return Check("endpoint quota", True, "Service Quotas lists no serverless quota for SageMaker here; continuing")
    too_low = [
        name
        for name, value in found.items()
        if value < 1 or ("concurrency" in name.lower() and value < max_concurrency)
    ]
    shown = "; ".join(f"{name}: {value:g}" for name, value in sorted(found.items()))
    if too_low:
        return Check("endpoint quota", False, f"too low for one {memory_mb} MB endpoint: {shown}; ask for more")
    return Check("endpoint quota", True, shown)


def cost_estimate(args: argparse.Namespace) -> list[dict[str, str]]:
    """What one run should cost, assuming it takes about an hour (the notebook instance runs for the whole of it)."""
    gb = args.memory_mb / 1024
    calls = args.calls + 5
    serverless = calls * 0.2 * gb * SERVERLESS_PER_GB_SECOND + 2 * 10 * gb * SERVERLESS_PER_GB_SECOND
    rows = [
        ("notebook instance ml.t3.medium, ~1 h", NOTEBOOK_PER_HOUR, f"${NOTEBOOK_PER_HOUR}/h"),
        ("training job ml.m5.large, ~10 min billed", TRAINING_PER_HOUR / 6, f"${TRAINING_PER_HOUR}/h, per second"),
        (
            f"serverless endpoint {args.memory_mb} MB, {calls} calls and two cold starts",
            serverless,
            f"${SERVERLESS_PER_GB_SECOND:.5f} per GB-second of compute",
        ),
        ("Lambda, API Gateway, S3, CloudFront", 0.01, "per request and per GB: cents at most"),
    ]
    total = sum(value for _, value, _ in rows)
    return [{"item": item, "estimate": f"${value:.3f}", "basis": basis} for item, value, basis in rows] + [
        {"item": "total, if the run takes about an hour", "estimate": f"${total:.2f}", "basis": PRICE_SOURCE}
    ]
