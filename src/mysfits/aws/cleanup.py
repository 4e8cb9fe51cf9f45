"""Take an account back to $0 running: delete this project's SageMaker resources, and optionally its stacks.

A resource is this project's when its name starts with the project's prefix *and* it carries the project tag. The
prefix comes first: it is free to check, and the notebook role may read tags only on resources with that prefix, so
asking for every resource's tags in a busy account would fail on the first foreign one. The tag then keeps away
whatever merely shares the prefix. Every delete treats "already gone" as success, so a second run (or a run after a
partial failure) simply finishes the job, and one delete that fails does not stop the others: endpoints, which bill,
go first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from botocore.exceptions import ClientError

from mysfits.aws import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, RESOURCE_PREFIX, polling

Report = Callable[[str], None]


class CleanupError(RuntimeError):
    """A delete that AWS refused for a reason other than "already gone"."""


@dataclass(frozen=True)
class Kind:
    """How to list, name and delete one SageMaker resource type."""

    name: str  # the resource type as it appears in the ARN
    list_operation: str
    list_key: str
    name_key: str
    arn_key: str
    delete_operation: str

    def delete(self, sm, name: str) -> None:
        getattr(sm, self.delete_operation)(**{self.name_key: name})


# Endpoints first: deleting them stops the billing; configs and models cost nothing but clutter.
KINDS = (
    Kind("endpoint", "list_endpoints", "Endpoints", "EndpointName", "EndpointArn", "delete_endpoint"),
    Kind(
        "endpoint-config",
        "list_endpoint_configs",
        "EndpointConfigs",
        "EndpointConfigName",
        "EndpointConfigArn",
        "delete_endpoint_config",
    ),
    Kind("model", "list_models", "Models", "ModelName", "ModelArn", "delete_model"),
)


@dataclass(frozen=True)
class Resource:
    kind: Kind
    name: str
    arn: str

    def __str__(self) -> str:
        return f"{self.kind.name} {self.name}"


def _listed(sm, kind: Kind, prefix: str) -> Iterator[dict]:
    # NameContains narrows the listing on the server; the startswith check makes it a true prefix match.
    for page in sm.get_paginator(kind.list_operation).paginate(NameContains=prefix):
        yield from (item for item in page[kind.list_key] if item[kind.name_key].startswith(f"{prefix}-"))


NOT_OURS = {"AccessDeniedException", "AccessDenied"}
"""ListTags refused: the role may read tags only on this project's resources, so the resource belongs to others."""


def _is_tagged(sm, arn: str, key: str, value: str) -> bool:
    try:
        for page in sm.get_paginator("list_tags").paginate(ResourceArn=arn):
            if any(tag["Key"] == key and tag["Value"] == value for tag in page["Tags"]):
                return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] in NOT_OURS or _already_gone(exc):
            return False
        raise
    return False


def find_project_resources(
    sm, key: str = PROJECT_TAG_KEY, value: str = PROJECT_TAG_VALUE, *, prefix: str = RESOURCE_PREFIX
) -> list[Resource]:
    """Every endpoint, endpoint config and model named ``<prefix>-...`` that carries the project tag, in the order
    they should be deleted."""
    return [
        Resource(kind, item[kind.name_key], item[kind.arn_key])
        for kind in KINDS
        for item in _listed(sm, kind, prefix)
        if _is_tagged(sm, item[kind.arn_key], key, value)
    ]


def _already_gone(exc: ClientError) -> bool:
    error = exc.response["Error"]
    return error["Code"] in {"ValidationException", "ResourceNotFound"} and (
        "Could not find" in error["Message"] or "does not exist" in error["Message"]
    )


def delete_resource(sm, resource: Resource) -> bool:
    """Delete one resource; False when it was already gone."""
    try:
        resource.kind.delete(sm, resource.name)
    except ClientError as exc:
        if _already_gone(exc):
            return False
        raise CleanupError(f"could not delete {resource}: {exc.response['Error']['Message']}") from exc
    return True


def delete_resources(sm, resources: list[Resource], report: Report) -> list[Resource]:
    """Delete each resource in turn; a refusal is reported and the rest still go, then the refusals are raised."""
    deleted, refused = [], []
    for resource in resources:
        try:
            gone = delete_resource(sm, resource)
        except CleanupError as exc:
            report(str(exc))
            refused.append(str(exc))
            continue
        if gone:
            report(f"deleted {resource}")
            deleted.append(resource)
        else:
            report(f"{resource} was already gone")
    if refused:
        raise CleanupError(f"{len(refused)} of {len(resources)} deletes failed; the first: {refused[0]}")
    return deleted


def stack_status(cfn, stack_name: str) -> dict | None:
    """The stack's description, or None when it does not exist (or is already deleted)."""
    try:
        (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ValidationError" and "does not exist" in exc.response["Error"]["Message"]:
            return None
        raise
    return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack


def stack_outputs(cfn, stack_name: str) -> dict[str, str]:
    stack = stack_status(cfn, stack_name)
    if stack is None:
        raise CleanupError(f"stack {stack_name} does not exist in this region")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def empty_bucket(s3, bucket: str, report: Report) -> int:
    """Delete every object (and every version, if versioning was ever on) so CloudFormation can delete the bucket."""
    removed = 0
    try:
        pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchBucket":
            return 0
        raise
    for page in pages:
        keys = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            result = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if result.get("Errors"):
                first = result["Errors"][0]
                raise CleanupError(f"could not empty s3://{bucket}: {first['Key']}: {first['Message']}")
            removed += len(batch)
    report(f"emptied s3://{bucket} ({removed} object versions)")
    return removed


def delete_stack(
    cfn,
    stack_name: str,
    report: Report,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    poll_seconds: float = 10.0,
    timeout_seconds: float = 1800.0,
) -> bool:
    """Delete a stack and wait, printing status changes; False when it did not exist."""
    stack = stack_status(cfn, stack_name)
    if stack is None:
        report(f"stack {stack_name} was already gone")
        return False
    stack_id = stack["StackId"]  # the id still resolves after deletion, the name does not
    cfn.delete_stack(StackName=stack_name)
    polling.settle(
        polling.Watch(
            name=f"stack {stack_name}",
            describe=lambda: cfn.describe_stacks(StackName=stack_id)["Stacks"][0],
            status=lambda s: s["StackStatus"],
            done=lambda s: s["StackStatus"] == "DELETE_COMPLETE",
            failure=lambda s: (
                s.get("StackStatusReason", "no reason given") if s["StackStatus"] == "DELETE_FAILED" else None
            ),
        ),
        report=report,
        error=CleanupError,
        sleep=sleep,
        clock=clock,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )
    report(f"deleted stack {stack_name}")
    return True


def delete_table(dynamodb, table: str, report: Report) -> bool:
    """Delete the choices table the API stack retained; False when it was already gone."""
    try:
        dynamodb.delete_table(TableName=table)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            report(f"table {table} was already gone")
            return False
        raise
    report(f"deleted table {table} and the visitors' choices in it")
    return True
