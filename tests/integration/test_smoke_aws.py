"""scripts/smoke_aws.py end to end, offline: moto for the control plane, and real HTTP for what a visitor touches.

What stands in for what:
- moto: CloudFormation, S3, SageMaker (with UpdateEndpoint added), CloudFront, STS, the Tagging API; the SageMaker SDK
  really submits the training job, which moto marks done at once.
- the endpoint: a local endpoint serving a model trained on the same kind of data (tests/iam/scenarios.workspace).
- `sam build` / `sam deploy`: a recording runner; its deploy creates the API stack in moto with template.yaml's
  outputs, whose URLs point at the two local servers below.
- the API: the local gateway running the real handler from template.yaml, over HTTP.
- CloudFront: a small server that hands out the website bucket's objects (what origin access control lets it read).
- Service Quotas: a canned ListServiceQuotas answer, given before the call leaves botocore (moto has no such call).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from mysfits.aws import smoke
from mysfits.aws.train_and_deploy import Toolkit
from mysfits.local.gateway.template import load_template
from mysfits.local.http_server import BackgroundServer
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.iam import scenarios
from tests.iam.policy import StackValues
from tests.integration.test_train_and_deploy import RecordingRunner, api_stand_in, clean_env, make_distribution

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "smoke_aws.py"
VALUES = StackValues(region=REGION, bucket="mysfits-smoke-notebook-databucket-test", stack_name=smoke.NOTEBOOK_STACK)
QUOTAS = {
    "Quotas": [
        {"QuotaName": "Maximum number of serverless endpoints", "Value": 50.0},
        {"QuotaName": "Maximum total concurrency that can be allocated across all serverless endpoints", "Value": 10.0},
        {"QuotaName": "ml.m5.large for endpoint usage", "Value": 2.0},
    ]
}


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
    """`sam deploy` creates the API stack (template.yaml's outputs, pointing at the local servers)."""

    def __init__(self, cfn, stack_body: str):
        super().__init__()
        self.cfn, self.stack_body = cfn, stack_body

    def __call__(self, argv, cwd=None) -> int:
        code = super().__call__(argv, cwd)
        if argv[1] == "deploy":
            self.cfn.create_stack(StackName=smoke.API_STACK, TemplateBody=self.stack_body)
        return code


class World:
    def __init__(self, session, tmp: Path, gateway_url: str, site_url: str):
        self.session, self.tmp = session, tmp
        cfn = session.client("cloudformation")
        self.distribution = make_distribution(session.client("cloudfront"))
        self.sam = SamStandIn(cfn, api_stand_in(self.distribution, gateway_url, site_url))
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


@contextlib.contextmanager
def quotas_answered(session, answer: dict):
    """ListServiceQuotas answered before it leaves botocore, as a Stubber would (clients are made inside the run)."""

    from botocore.awsrequest import AWSResponse

    def canned(**_):
        return (AWSResponse("https://servicequotas.amazonaws.com/", 200, {}, None), answer)

    session.events.register("before-call.service-quotas.ListServiceQuotas", canned)
    try:
        yield
    finally:
        session.events.unregister("before-call.service-quotas.ListServiceQuotas", canned)


@pytest.fixture
def world(moto_session, tmp_path):
    from mysfits.local.gateway.server import GatewaySettings, build_gateway

    environment = dict(os.environ)  # the gateway sets the function's environment in this process
    # The handler makes its sagemaker-runtime client at import, for the endpoint of that moment: import it afresh.
    sys.modules.pop("mysfits_api.handler", None)
    s3 = moto_session.client("s3")

    def website_bucket() -> str:
        outputs = moto_session.client("cloudformation").describe_stacks(StackName=smoke.API_STACK)["Stacks"][0]
        return next(o["OutputValue"] for o in outputs["Outputs"] if o["OutputKey"] == "WebsiteBucketName")

    with (
        scenarios.workspace(moto_session, VALUES, tmp_path, endpoint_name=smoke.ENDPOINT, notebook_stack=False),
        BackgroundServer(BucketSite(s3, website_bucket)) as site,
    ):
        settings = GatewaySettings(
            template=ROOT / "template.yaml",
            sagemaker_runtime_url=os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"],
            parameter_overrides={"SageMakerEndpointName": smoke.ENDPOINT, "AllowedOrigin": site.url},
            region=REGION,
        )
        try:
            quotas = json.loads(json.dumps(QUOTAS))  # a test may change the answer
            with BackgroundServer(build_gateway(settings)) as gateway, quotas_answered(moto_session, quotas):
                world = World(moto_session, tmp_path, gateway.url, site.url)
                world.quotas = quotas
                yield world
        finally:
            os.environ.clear()
            os.environ.update(environment)
            sys.modules.pop("mysfits_api.handler", None)


@pytest.mark.slow
def test_a_full_run_checks_everything_and_leaves_nothing(world):
    samconfig_before = world.samconfig.read_text()
    code, report = world.run("--yes")
    text = "\n".join(world.lines)
    assert code == 0, text
    assert [s["result"] for s in report["steps"]] == ["passed"] * 8, report["steps"]
    assert report["failed_step"] is None and report["outcome"] == "passed"
    checks = {c["name"]: c["ok"] for s in report["steps"] for c in s["checks"]}
    assert checks == {
        "contract": True, "cold start": True, "CORS on the answer": True, "bad input": True,
        "CORS preflight": True, "latency": True, "HTTPS": True, "page": True, "config.json": True,
    }  # fmt: skip
    assert report["latency"]["calls"] == 12 and report["latency"]["p95_ms"] >= report["latency"]["p50_ms"] > 0
    # sam deploy ran unattended, tagged, for the smoke stack and endpoint.
    (build, _), (deploy, _) = world.sam.calls
    assert build[1:] == ["build"]
    assert deploy[-3:] == ["--no-confirm-changeset", "--tags", "Project=mythical-mysfits-recommendations"]
    assert "SageMakerEndpointName=mysfits-smoke-knn" in deploy and "mysfits-smoke-api" in deploy
    # Everything of the run is gone, samconfig.toml is as it was, and the report hides the account.
    assert world.leftovers() == []
    assert world.samconfig.read_text() == samconfig_before
    assert report["leftovers"] == []
    raw = (world.tmp / "report" / "smoke-aws.json").read_text() + (world.tmp / "report" / "smoke-aws.md").read_text()
    assert "123456789012" not in raw and "<account>" in raw


def test_the_checks_fail_when_the_page_points_elsewhere(world):
    """The website check reads what was uploaded: a config.json naming another API fails it (and only it)."""
    from mysfits.aws import website

    real = website.page_config
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(website, "page_config", lambda web_dir, url: real(web_dir, "https://elsewhere.example/v1"))
        code, report = world.run("--yes")
    assert code == 1
    assert report["failed_step"] == "website checks"
    assert [s["result"] for s in report["steps"]][-2:] == ["passed", "passed"], "teardown and leftover check ran"
    assert world.leftovers() == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "step",
    ["earlier leftovers", "notebook stack", "train and serve", "API and website", "API checks", "website checks"],
)
@pytest.mark.parametrize("failure", [RuntimeError("injected"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_failure_at_any_step_still_tears_down_and_is_named(world, monkeypatch, step, failure):
    original = smoke.steps

    def with_failure(run):
        planned = original(run)

        def boom(_run, _record):
            raise failure

        return [smoke.SmokeStep(s.name, s.action, boom) if s.name == step else s for s in planned]

    monkeypatch.setattr(smoke, "steps", with_failure)
    code, report = world.run("--yes")
    results = {s["name"]: s["result"] for s in report["steps"]}
    assert report["failed_step"] == step
    assert results[step] == ("interrupted" if isinstance(failure, KeyboardInterrupt) else "failed")
    assert results["teardown"] == "passed" and results["leftover check"] == "passed"
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 1)
    assert world.leftovers() == []


@pytest.mark.slow
def test_a_second_run_cleans_up_what_a_crashed_one_left(world, monkeypatch):
    """The first run is stopped during its teardown (a second Ctrl-C), so its resources stay; the next run deletes
    them before it creates anything, and ends clean."""
    from mysfits.aws import cleanup_cli

    real_cleanup, calls = cleanup_cli.main, []

    def second_call_interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_cleanup(*args, **kwargs)

    monkeypatch.setattr(cleanup_cli, "main", second_call_interrupted)
    original = smoke.steps
    monkeypatch.setattr(smoke, "steps", lambda run: [s for s in original(run) if s.name != "website checks"])
    code, report = world.run("--yes")
    assert code == 130 and report["steps"][-2]["result"] == "interrupted"
    left = world.leftovers()
    assert smoke.NOTEBOOK_STACK in left and smoke.API_STACK in left and smoke.ENDPOINT in left

    monkeypatch.setattr(cleanup_cli, "main", real_cleanup)
    world.sam.calls.clear()
    code, report = world.run("--yes")
    assert code == 0, "\n".join(world.lines)
    first = report["steps"][0]
    assert first["name"] == "earlier leftovers" and "deleted" in first["detail"]
    assert world.leftovers() == []


def test_nothing_is_created_without_a_yes(world):
    code, report = world.run(answers="n")
    assert code == 1 and report["outcome"] == "not confirmed, nothing created"
    assert world.leftovers() == [] and world.sam.calls == []


def test_a_missing_prerequisite_stops_before_anything_is_created(world):
    world.quotas["Quotas"] = [{"QuotaName": "Maximum number of serverless endpoints", "Value": 0.0}]
    code, report = world.run("--yes")
    assert code == 2
    quota = next(c for c in report["prerequisites"] if c["name"] == "endpoint quota")
    assert not quota["ok"] and "Maximum number of serverless endpoints: 0" in quota["line"]
    assert world.leftovers() == [] and world.sam.calls == []


def test_dry_run_prints_the_plan_and_calls_no_aws(tmp_path):
    """No credentials exist in this environment, so any AWS call would fail the run."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--region", REGION, "--repo-url", "https://example.com/m.git",
         "--samconfig", str(ROOT / "samconfig.toml"), "--web-dir", str(ROOT / "web"),
         "--report-dir", str(tmp_path / "report")],
        cwd=tmp_path, capture_output=True, text=True, env=clean_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for expected in (
        "cloudformation:CreateStack mysfits-smoke-notebook",
        "sagemaker:CreateTrainingJob mysfits-smoke-knn-<time>",
        "serverless, 1024 MB",
        "`sam deploy` (stack mysfits-smoke-api",
        "teardown: scripts/cleanup.py --prefix mysfits-smoke",
        "total, if the run takes about an hour",
    ):
        assert expected in result.stdout, expected
    report = json.loads((tmp_path / "report" / "smoke-aws.json").read_text())
    assert report["outcome"] == "dry run, nothing created"
    assert {s["result"] for s in report["steps"]} == {"skipped"}
    credentials = next(c for c in report["prerequisites"] if c["name"] == "credentials")
    assert credentials["line"] == "not checked: a dry run calls no AWS"


def test_a_region_without_serverless_inference_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--region", "il-central-1", "--repo-url", "https://e.com/m.git",
         "--samconfig", str(ROOT / "samconfig.toml"), "--report-dir", str(tmp_path / "r")],
        cwd=tmp_path, capture_output=True, text=True, env=clean_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert "MISSING Serverless Inference: not offered in il-central-1" in result.stdout
