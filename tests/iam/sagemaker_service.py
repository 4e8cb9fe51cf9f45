"""The authorizations that follow from a recorded SageMaker call without being API calls of our code.

Two kinds, both derived from the parameters the code really sent:

- the caller's own: ``iam:PassRole`` for the role handed to SageMaker (the API reference of CreateTrainingJob and
  CreateModel: "the caller of this API must have the iam:PassRole permission"), and the tagging action that the
  Service Authorization Reference lists as a dependent action when a create call carries ``Tags``;
- SageMaker's, made with the role it was passed (the RoleArn documentation of CreateTrainingJob and CreateModel, and
  the developer guide's "SageMaker roles"): a training job reads its input channels, writes its output path, pulls
  its image from ECR, writes CloudWatch Logs and publishes metrics; a model deployed to an endpoint reads its
  artifact, pulls its image, and the endpoint writes its logs and metrics.

Where SageMaker picks a name itself (a log stream, the model file under the output path) the name here is a
representative one in the documented place; the role's policy must allow any such name, so any one will do.
"""

from __future__ import annotations

from urllib.parse import urlparse

from tests.aws_calls import AwsCall
from tests.iam.authorization import ACCOUNT, PARTITION, Check, _service, resource_arns

SAGEMAKER = "sagemaker.amazonaws.com"
TRAINING_LOGS = "/aws/sagemaker/TrainingJobs"
TRAINING_METRICS = "/aws/sagemaker/TrainingJobs"
TRANSFORM_LOGS = "/aws/sagemaker/TransformJobs"
ENDPOINT_METRICS = "/aws/sagemaker/Endpoints"


def _s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def _object(bucket: str, key: str) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}/{key}"


def _ecr_pull(image: str, why: str) -> list[Check]:
    """ECR image pull: a registry login (no resource type, "*") and three reads on the image's repository."""
    registry, _, path = image.partition("/")
    account, _dkr, _ecr, region = registry.split(".")[:4]
    repository = path.split("@")[0].split(":")[0]
    arn = f"arn:{PARTITION}:ecr:{region}:{account}:repository/{repository}"
    return [
        Check("ecr:GetAuthorizationToken", "*", why),
        *(
            Check(action, arn, why)
            for action in ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
        ),
    ]


def _logs(region: str, group: str, stream: str, why: str) -> list[Check]:
    group_arn = f"arn:{PARTITION}:logs:{region}:{ACCOUNT}:log-group:{group}"
    stream_arn = f"{group_arn}:log-stream:{stream}"
    return [
        Check("logs:CreateLogGroup", group_arn, why),
        Check("logs:DescribeLogStreams", group_arn, why),
        Check("logs:CreateLogStream", stream_arn, why),
        Check("logs:PutLogEvents", stream_arn, why),
    ]


def _metrics(namespace: str, why: str) -> Check:
    return Check("cloudwatch:PutMetricData", "*", why, (("cloudwatch:namespace", namespace),))


def _pass_role(role_arn: str, call: AwsCall) -> Check:
    return Check("iam:PassRole", role_arn, f"{call} passes its role", (("iam:PassedToService", SAGEMAKER),))


def _tagging(call: AwsCall) -> list[Check]:
    """The Service Authorization Reference names a tagging action as a dependent action of a create with tags."""
    if not call.params.get("Tags"):
        return []
    action = f"{call.signing_name}:{call.operation}"
    privilege = _service(call.signing_name)["privileges"].get(call.operation, {})
    dependent = {
        d for entry in privilege.get("resource_types", {}).values() for d in entry["dependent_actions"] if "Tag" in d
    }
    own = resource_arns(action, call, call.params)
    return [Check(tag_action, arn, f"{call} tags what it creates") for tag_action in sorted(dependent) for arn in own]


def caller_checks(call: AwsCall) -> list[Check]:
    """What the caller needs beyond the call's own action."""
    checks = _tagging(call)
    for parameter in ("RoleArn", "ExecutionRoleArn"):
        if call.service == "sagemaker" and parameter in call.params:
            checks.append(_pass_role(call.params[parameter], call))
    return checks


def role_checks(call: AwsCall, uploaded: dict[str, list[str]]) -> list[Check]:
    """What SageMaker does with the role that ``call`` passed or uses; ``uploaded`` maps bucket -> keys put there."""
    if call.service != "sagemaker":
        return []
    handler = {
        "CreateTrainingJob": _training_job,
        "CreateTransformJob": _transform_job,
        "CreateModel": _model,
        "CreateEndpoint": _endpoint,
        "UpdateEndpoint": _endpoint,
    }.get(call.operation)
    return handler(call, uploaded) if handler else []


def _training_job(call: AwsCall, uploaded: dict[str, list[str]]) -> list[Check]:
    params, job, region = call.params, call.params["TrainingJobName"], call.region
    why = f"training job {job} (SageMaker, with the role {params['RoleArn']})"
    checks: list[Check] = []
    for channel in params.get("InputDataConfig", []):
        bucket, prefix = _s3(channel["DataSource"]["S3DataSource"]["S3Uri"])
        checks.append(Check("s3:ListBucket", f"arn:{PARTITION}:s3:::{bucket}", why, (("s3:prefix", prefix),)))
        keys = [k for k in uploaded.get(bucket, []) if k.startswith(prefix)] or [prefix + "part-0.csv"]
        checks.extend(Check("s3:GetObject", _object(bucket, key), why) for key in keys)
    outputs = {"OutputDataConfig": "output/model.tar.gz"}
    outputs |= {"DebugHookConfig": "debug-output/index", "ProfilerConfig": "profiler-output/system/0.json"}
    for parameter, suffix in outputs.items():
        if parameter in params:
            bucket, prefix = _s3(params[parameter]["S3OutputPath"])
            key = f"{prefix.rstrip('/')}/{job}/{suffix}".lstrip("/")
            checks.append(Check("s3:PutObject", _object(bucket, key), why))
    checks += _ecr_pull(params["AlgorithmSpecification"]["TrainingImage"], why)
    checks += _logs(region, TRAINING_LOGS, f"{job}/algo-1-1700000000", why)
    checks.append(_metrics(TRAINING_METRICS, why))
    return checks


def _transform_job(call: AwsCall, uploaded: dict[str, list[str]]) -> list[Check]:
    """A batch transform job reads its input and writes ``<input name>.out`` with the model's execution role (the
    project's models all use the notebook role), and logs as a training job does."""
    params, job, region = call.params, call.params["TransformJobName"], call.region
    why = f"batch transform job {job} (SageMaker, with model {params['ModelName']}'s role)"
    bucket, prefix = _s3(params["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"])
    checks = [Check("s3:ListBucket", f"arn:{PARTITION}:s3:::{bucket}", why, (("s3:prefix", prefix),))]
    keys = [k for k in uploaded.get(bucket, []) if k.startswith(prefix)] or [prefix]
    checks.extend(Check("s3:GetObject", _object(bucket, key), why) for key in keys)
    out_bucket, out_prefix = _s3(params["TransformOutput"]["S3OutputPath"])
    checks.extend(
        Check("s3:PutObject", _object(out_bucket, f"{out_prefix.rstrip('/')}/{key.rsplit('/', 1)[-1]}.out"), why)
        for key in keys
    )
    checks += _logs(region, TRANSFORM_LOGS, f"{job}/i-0123456789abcdef0", why)
    return checks


def _model(call: AwsCall, _uploaded: dict[str, list[str]]) -> list[Check]:
    params = call.params
    why = f"model {params['ModelName']} on an endpoint (SageMaker, with the role {params['ExecutionRoleArn']})"
    containers = [params["PrimaryContainer"]] if "PrimaryContainer" in params else params.get("Containers", [])
    checks: list[Check] = []
    for container in containers:
        if container.get("ModelDataUrl"):
            checks.append(Check("s3:GetObject", _object(*_s3(container["ModelDataUrl"])), why))
        checks += _ecr_pull(container["Image"], why)
    return checks


def _endpoint(call: AwsCall, _uploaded: dict[str, list[str]]) -> list[Check]:
    name = call.params["EndpointName"]
    why = f"endpoint {name} serving {call.params['EndpointConfigName']} (SageMaker, with its model's role)"
    return [
        *_logs(call.region, f"/aws/sagemaker/Endpoints/{name}", "AllTraffic/i-0123456789abcdef0", why),
        _metrics(ENDPOINT_METRICS, why),
    ]
