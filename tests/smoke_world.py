"""The offline world that scripts/smoke_aws.py runs against in tests: moto for the control plane, real HTTP for what
a visitor touches.

What stands in for what:
- moto: CloudFormation, S3, SageMaker (with UpdateEndpoint added), CloudFront, STS, the Tagging API; the SageMaker SDK
  really submits the training job, which moto marks done at once.
- the endpoint: a local endpoint serving a model trained on the same kind of data (tests/iam/scenarios.workspace).
- `sam build` / `sam deploy`: a recording runner; its deploys create the website stack and the API stack in moto
  with their templates' outputs, whose URLs point at the two local servers below.
- the API: the local gateway running the real handler from template.yaml, over HTTP.
- CloudFront: a small server that hands out the website bucket's objects (what origin access control lets it read).
- Service Quotas: a canned ListServiceQuotas answer, given before the call leaves botocore (moto has no such call).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from botocore.exceptions import ClientError

from mysfits.aws import smoke, website
from mysfits.aws.train_and_deploy import Toolkit
from mysfits.local.gateway.template import load_template
from mysfits.local.http_server import BackgroundServer
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.iam import scenarios
from tests.iam.policy import StackValues
from tests.integration.test_train_and_deploy import RecordingRunner, api_stand_in, make_distribution, website_stand_in

ROOT = Path(__file__).resolve().parents[1]

VALUES = StackValues(region=REGION, bucket="mysfits-smoke-notebook-databucket-test", stack_name=smoke.NOTEBOOK_STACK)
QUOTAS = scenarios.QUOTAS


def notebook_stand_in(path: Path) -> str:
    """notebook-template.yaml's parameters, read from the real file, with stand-in resources (moto cannot create the
    real ones) and the outputs the scripts read."""
    assert path.name == "notebook-template.yaml", path
    parameters = load_template(ROOT / path.name)["Parameters"]
    stand_in = json.loads(scenarios.notebook_stack_stand_in(VALUES))
    stand_in["Parameters"] = parameters
    stand_in["Outputs"]["ResourcePrefix"] = {"Value": {"Ref": "ProjectName"}}
    return json.dumps(stand_in)


class BucketSite:
    """CloudFront in front of the website bucket: GET /key answers the object, / answers index.html."""

    def __init__(self, s3, bucket):
        self.s3, self.bucket = s3, bucket

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        key = scope["path"].lstrip("/") or "index.html"
        try:
            found = self.s3.get_object(Bucket=self.bucket(), Key=key)
            status, body, kind = 200, found["Body"].read(), found["ContentType"]
        except (ClientError, LookupError):
            status, body, kind = 404, b"not found", "text/plain"
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", kind.encode())]})
        await send({"type": "http.response.body", "body": body})


class SamStandIn(RecordingRunner):
    """`sam deploy` creates the website stack or the API stack, whose outputs point at the local servers."""

    def __init__(self, cfn, cloudwatch, bodies: dict[str, tuple[str, str]]):
        super().__init__()
        self.cfn, self.bodies = cfn, bodies  # kind of deploy -> (stack name, template body)
        self.cloudwatch = cloudwatch

    def __call__(self, argv, cwd=None) -> int:
        code = super().__call__(argv, cwd)
        if code == 0 and self.kind(argv) in self.bodies:
            name, body = self.bodies[self.kind(argv)]
            self.cfn.create_stack(StackName=name, TemplateBody=body)
            if self.kind(argv) == "deploy":
                self.create_alarms(name)
        return code

    def create_alarms(self, stack: str) -> None:
        """template.yaml's alarms, as its deploy creates them (moto's CloudFormation has no AWS::CloudWatch::Alarm)."""
        from mysfits.aws.alarm_checks import alarm_names

        for name in alarm_names(stack):
            self.cloudwatch.put_metric_alarm(
                AlarmName=name, Namespace="MythicalMysfits", MetricName="StoreRefusals", Statistic="Sum", Period=300,
                EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
            )  # fmt: skip


class World:
    def __init__(self, session, tmp: Path, gateway_url: str, site_url: str):
        self.session, self.tmp, self.site_url = session, tmp, site_url
        cfn = session.client("cloudformation")
        self.distribution = make_distribution(session.client("cloudfront"))
        self.sam = SamStandIn(
            cfn,
            session.client("cloudwatch"),
            {
                "website": (website.stack_name(smoke.API_STACK), website_stand_in(self.distribution, site_url)),
                "deploy": (smoke.API_STACK, api_stand_in(gateway_url, origin=site_url)),
            },
        )
        self.samconfig = tmp / "samconfig.toml"
        self.samconfig.write_text((ROOT / "samconfig.toml").read_text())
        self.lines: list[str] = []

    def run(self, *extra: str, answers: str = "y") -> tuple[int, dict]:
        toolkit = smoke.SmokeToolkit(
            deploy=Toolkit(
                session_factory=lambda region: self.session,
                runner=self.sam,
                out=self.lines.append,
                sleep=lambda _: None,
            ),
            notebook_template=notebook_stand_in,
            ask=lambda _: answers,
            browser=lambda: None,
            require_https=False,
            which=lambda name: f"/usr/bin/{name}",
        )
        argv = ["--region", REGION, "--repo-url", "https://example.com/mysfits.git", "--rows", "3000"]
        argv += ["--samconfig", str(self.samconfig), "--web-dir", str(ROOT / "web"), "--calls", "12"]
        argv += ["--report-dir", str(self.tmp / "report"), *extra]
        code = smoke.main(argv, toolkit)
        return code, json.loads((self.tmp / "report" / "smoke-aws.json").read_text())

    def leftovers(self) -> list[str]:
        sm = self.session.client("sagemaker")
        cfn = self.session.client("cloudformation")
        names = [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
        names += [m["ModelName"] for m in sm.list_models()["Models"]]
        names += [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
        stacks = [s["StackName"] for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
        return names + stacks


# The name the local gateway gives the function's table (the resource's logical id). On AWS the table is named
# after the stack, and the function's writes to it are made with the function's role, not the deployer's.
FUNCTION_TABLE = "ChoicesTable"


def _choices_table(session) -> None:
    """The stack's choices table, as template.yaml declares it, under the name the local gateway gives the function
    (a resource's logical id): the function then writes moto's DynamoDB through its real store."""
    table = load_template(ROOT / "template.yaml")["Resources"]["ChoicesTable"]["Properties"]
    session.client("dynamodb").create_table(
        TableName=FUNCTION_TABLE,
        BillingMode=table["BillingMode"],
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
    )


@contextlib.contextmanager
def smoke_world(moto_session, tmp_path: Path) -> Iterator[World]:
    """Everything the smoke run talks to, offline (see the module docstring); used by its tests and by
    tests/iam/deployer_permissions.py, which records the run's calls."""
    from mysfits.local.gateway.server import GatewaySettings, build_gateway

    environment = dict(os.environ)  # the gateway sets the function's environment in this process
    # The handler makes its sagemaker-runtime client at import, for the endpoint of that moment: import it afresh.
    sys.modules.pop("mysfits_api.handler", None)
    s3 = moto_session.client("s3")

    def website_bucket() -> str:
        stack = website.stack_name(smoke.API_STACK)
        outputs = moto_session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        return next(o["OutputValue"] for o in outputs["Outputs"] if o["OutputKey"] == "WebsiteBucketName")

    with (
        scenarios.workspace(
            moto_session, VALUES, tmp_path, endpoint_name=smoke.ENDPOINT, notebook_stack=False, quotas=None
        ),
        BackgroundServer(BucketSite(s3, website_bucket)) as site,
    ):
        _choices_table(moto_session)
        settings = GatewaySettings(
            template=ROOT / "template.yaml",
            sagemaker_runtime_url=os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"],
            parameter_overrides={"SageMakerEndpointName": smoke.ENDPOINT, "AllowedOrigin": site.url},
            region=REGION,
        )
        try:
            quotas = json.loads(json.dumps(QUOTAS))  # a test may change the answer
            with BackgroundServer(build_gateway(settings)) as gateway, scenarios.quotas_answered(moto_session, quotas):
                world = World(moto_session, tmp_path, gateway.url, site.url)
                world.quotas = quotas
                yield world
        finally:
            os.environ.clear()
            os.environ.update(environment)
            sys.modules.pop("mysfits_api.handler", None)
