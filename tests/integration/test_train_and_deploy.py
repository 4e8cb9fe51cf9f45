"""scripts/train_and_deploy.py: local mode for real; SageMaker mode against moto; sam through a recording runner.

What is real and what is not, in SageMaker mode:
- real: the SageMaker Python SDK 2.x building and submitting the training job, every boto3 client and request,
  the S3 uploads, the CloudFormation reads, and the data plane (a real local endpoint speaking the SageMaker
  Runtime protocol, reached by an unmodified sagemaker-runtime client through AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME).
- moto: the control plane. A moto training job does not train anything: it is marked Completed at once and
  points at a model.tar.gz that does not exist. The endpoint therefore serves a model trained locally on the
  same split, which stands in for what the built-in kNN would have produced.
- recorded: the `sam build` / `sam deploy` subprocesses (SAM needs AWS to deploy); the CLI arguments they
  receive are checked, and SAM's own override parser is exercised in tests/unit/test_samconfig.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mysfits.aws import PROJECT_TAGS
from mysfits.aws.stack_steps import StackOutputs, WebsiteStack
from mysfits.aws.steps import Overrides, Results
from mysfits.aws.train_and_deploy import Toolkit, main
from mysfits.model.artifact import load_model
from mysfits.samconfig import read_overrides
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.iam.scenarios import QUOTAS, quotas_answered

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "train_and_deploy.py"

SAMCONFIG = """\
# test fixture shaped like the project's samconfig.toml
version = 0.1

[default.global.parameters]
stack_name = "mysfits-recommendations"

[default.deploy.parameters]
stack_name = "mysfits-recommendations"
capabilities = "CAPABILITY_IAM"
parameter_overrides = "SageMakerEndpointName=old-name AllowedOrigin=* LogLevel=INFO" # keep this comment
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A subprocess environment with no AWS credentials or config at all, so any AWS call would fail."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "src"),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "MPLBACKEND": "Agg",
    }
    env.update(extra)
    return env


def run_script(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(tmp_path, **env),
        timeout=300,
    )


# --- local mode, for real --------------------------------------------------------------------------------------


def test_local_mode_generates_trains_writes_the_model_and_samconfig(tmp_path):
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    result = run_script(
        tmp_path,
        *("--rows", "4000", "--sample-size", "3000", "--seed", "5", "--confusion", "confusion.png"),
        *("--encoding", "one-hot"),
    )
    assert result.returncode == 0, result.stderr
    model = load_model(tmp_path / "models" / "mysfits-knn.json")
    assert model.k == 10 and model.sample_size == 3000
    assert model.encoding == "one-hot" and model.hyperparameters["feature_dim"] == 40
    assert model.training_data["rows"] == 4000
    assert "accuracy on 400 test rows" in result.stdout
    assert (tmp_path / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_overrides(tmp_path / "samconfig.toml") == {
        "SageMakerEndpointName": "mysfits-knn",
        "AllowedOrigin": "*",
        "LogLevel": "INFO",
        "ModelEncoding": "one-hot",  # the Lambda must encode answers as this model was trained
    }
    expected = SAMCONFIG.replace("old-name", "mysfits-knn").replace(
        "LogLevel=INFO", "LogLevel=INFO ModelEncoding=one-hot"
    )
    assert expected == (tmp_path / "samconfig.toml").read_text()


def test_local_mode_refreshes_an_existing_model_in_place(tmp_path, small_data):
    """A second run with other hyperparameters replaces the served file (atomically) and keeps the data file."""
    data = small_data.path
    model_path = tmp_path / "served.json"
    common = ["--data", str(data), "--model", str(model_path), "--samconfig", str(tmp_path / "samconfig.toml")]
    assert main([*common, "--sample-size", "5000"], Toolkit(out=lambda _: None)) == 0
    first = load_model(model_path)
    assert main([*common, "--sample-size", "8000", "--k", "5"], Toolkit(out=lambda _: None)) == 0
    second = load_model(model_path)
    assert (first.k, first.sample_size) == (10, 5000) and (second.k, second.sample_size) == (5, 8000)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "temporary files left behind"


def test_dry_run_takes_no_action_and_needs_no_credentials(tmp_path):
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.html").write_text("<!doctype html>")
    result = run_script(
        tmp_path,
        "--mode", "sagemaker", "--region", REGION, "--notebook-stack", "mysfits-notebook",
        "--serverless", "--memory-mb", "3072", "--deploy-api", "--deploy-web", "--dry-run",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for action in (
        "s3:PutObject s3://<BucketName output of stack mysfits-notebook>/mysfits-knn/data/train/train.csv",
        "sagemaker:CreateTrainingJob mysfits-knn-<time>",
        "serverless, 3072 MB",
        "sagemaker:UpdateEndpoint",
        "sagemaker-runtime:InvokeEndpoint mysfits-knn",
        "SageMakerEndpointName=mysfits-knn",
        "`sam build`",
        "`sam deploy --config-env website` of website-template.yaml (stack mysfits-recommendations-website",
        "write the website's WebsiteUrl as AllowedOrigin into",
        "`sam deploy` (stack mysfits-recommendations, region eu-west-1)",
        "RecommendationsApiUrl",
        "WebsiteBucketName",
        "cloudfront:CreateInvalidation /* on the website stack's WebsiteDistributionId",
    ):
        assert action in out, action
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samconfig.toml", "web"], "a dry run must not write files"
    assert [p.name for p in (tmp_path / "web").iterdir()] == ["index.html"]
    assert (tmp_path / "samconfig.toml").read_text() == SAMCONFIG


# --- one clear line for each mistake ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["--endpoint-name", "Mysfits"], "endpoint name 'Mysfits' is not allowed"),
        (["--k", "0"], "expected a number of at least 1"),
        (["--mode", "cloud"], "invalid choice: 'cloud'"),
        (["--bucket", "b"], "--bucket only apply with --mode sagemaker"),
        (["--mode", "sagemaker", "--serverless", "--instance-type", "ml.m5.large"], "exclude each other"),
        (["--mode", "sagemaker", "--memory-mb", "2048"], "--memory-mb and --max-concurrency need --serverless"),
        (["--mode", "sagemaker", "--region", "eu-west-1", "--serverless", "--memory-mb", "1000", "--dry-run"],
         "--memory-mb must be one of 1024, 2048, 3072, 4096, 5120, 6144, got 1000"),
        (["--mode", "sagemaker", "--region", "moon-1", "--dry-run"], "unknown region 'moon-1'"),
        (["--mode", "sagemaker", "--region", REGION, "--bucket", "b", "--role", "arn:aws:iam::1:role/r"],
         "no AWS credentials found"),
        (["--mode", "sagemaker", "--dry-run"], "no AWS region"),
        (["--mode", "sagemaker", "--region", REGION, "--deploy-api", "--deploy-web", "--dry-run"],
         "--web-dir web has no index.html"),
    ],
)  # fmt: skip
def test_mistakes_are_one_line_and_nonzero(tmp_path, args, expected):
    result = run_script(tmp_path, *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert list(tmp_path.iterdir()) == [], "nothing may be written before the error"


# --- SageMaker mode under moto ---------------------------------------------------------------------------------


NOTEBOOK_STAND_IN = json.dumps(
    {
        "Description": "stand-in with notebook-template.yaml's outputs (moto cannot deploy the real template)",
        "Resources": {"DataBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {
            "BucketName": {"Value": {"Ref": "DataBucket"}},
            "RoleArn": {"Value": "arn:aws:iam::123456789012:role/mysfits-notebook-NotebookRole"},
            "ResourcePrefix": {"Value": "mysfits"},
        },
    }
)
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"


def api_stand_in(api_url: str = API_URL, origin: str = "*") -> str:
    """template.yaml's outputs, named as it names them (moto cannot deploy the real template)."""
    outputs = {"RecommendationsApiUrl": {"Value": api_url}, "ApiAllowedOrigin": {"Value": origin}}
    return json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs})


def website_stand_in(distribution: dict, site_url: str | None = None) -> str:
    """website-template.yaml's outputs. moto's CloudFormation cannot create a distribution, so it is made with
    moto's CloudFront API and its id and domain are written in as literals; ``site_url`` replaces the distribution's
    URL when something local serves the page in its place."""
    outputs = {
        "WebsiteBucketName": {"Value": {"Ref": "WebBucket"}},
        "WebsiteUrl": {"Value": site_url or f"https://{distribution['DomainName']}"},
        "WebsiteDistributionId": {"Value": distribution["Id"]},
    }
    return json.dumps({"Resources": {"WebBucket": {"Type": "AWS::S3::Bucket"}}, "Outputs": outputs})


def make_distribution(cloudfront) -> dict:
    origin = {"Id": "website-bucket", "DomainName": "b.s3.eu-west-1.amazonaws.com"}
    config = {
        "CallerReference": "test",
        "Comment": "stand-in for website-template.yaml's WebsiteDistribution",
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{**origin, "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "website-bucket",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]


def invalidated_paths(cloudfront, distribution_id: str) -> list[list[str]]:
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    return [
        cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"]["InvalidationBatch"][
            "Paths"
        ]["Items"]
        for item in listed
    ]


@pytest.fixture
def moto_aws(moto_session):
    """moto, with Service Quotas answering for an account that can run the project (moto lacks ListServiceQuotas)."""
    with quotas_answered(moto_session, QUOTAS):
        yield moto_session


class RecordingRunner:
    """Records each `sam` command. ``exit_codes`` fails commands by name: "build", "deploy" (the API's), or
    "website" (the deploy with --config-env website)."""

    def __init__(self, exit_codes: dict[str, int] | None = None):
        self.calls: list[tuple[list[str], Path | None]] = []
        self.exit_codes = exit_codes or {}

    @staticmethod
    def kind(argv) -> str:
        return "website" if "--config-env" in argv and "website" in argv else argv[1]

    def __call__(self, argv, cwd=None) -> int:
        self.calls.append((list(argv), cwd))
        return self.exit_codes.get(self.kind(argv), 0)


def test_missing_bucket_is_one_line(moto_aws, tmp_path, capsys):
    toolkit = Toolkit(session_factory=lambda region: moto_aws, out=lambda _: None)
    args = ["--mode", "sagemaker", "--region", REGION, "--bucket", "not-there", "--role", "arn:aws:iam::1:role/r"]
    assert main([*args, "--data", str(tmp_path / "d.csv")], toolkit) == 2
    err = capsys.readouterr().err
    assert (
        err == "train_and_deploy.py: error: bucket not-there does not exist (create it, or use the notebook stack's)\n"
    )


def test_missing_notebook_stack_is_one_line(moto_aws, tmp_path, capsys):
    toolkit = Toolkit(session_factory=lambda region: moto_aws, out=lambda _: None)
    assert main(["--mode", "sagemaker", "--region", REGION, "--notebook-stack", "nope"], toolkit) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stack nope does not exist" in err


def test_endpoint_outside_the_roles_prefix_is_refused(moto_aws, tmp_path, capsys):
    moto_aws.client("cloudformation").create_stack(StackName="mysfits-notebook", TemplateBody=NOTEBOOK_STAND_IN)
    toolkit = Toolkit(session_factory=lambda region: moto_aws, out=lambda _: None)
    argv = ["--mode", "sagemaker", "--region", REGION, "--notebook-stack", "mysfits-notebook", "--endpoint-name", "knn"]
    assert main(argv, toolkit) == 2
    assert "must start with mysfits-" in capsys.readouterr().err


@pytest.mark.slow
def test_sagemaker_mode_trains_deploys_evaluates_and_deploys_the_api(moto_aws, tmp_path, small_data, monkeypatch):
    from mysfits.local.endpoint import server
    from mysfits.model import dataset as ds
    from mysfits.model import training
    from mysfits.model.artifact import save_model

    cfn, s3, sm, cloudfront = (moto_aws.client(n) for n in ("cloudformation", "s3", "sagemaker", "cloudfront"))
    distribution = make_distribution(cloudfront)
    cfn.create_stack(StackName="mysfits-notebook", TemplateBody=NOTEBOOK_STAND_IN)
    cfn.create_stack(StackName="mysfits-recommendations-website", TemplateBody=website_stand_in(distribution))
    site = f"https://{distribution['DomainName']}"
    cfn.create_stack(StackName="mysfits-recommendations", TemplateBody=api_stand_in(origin=site))
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName="mysfits-notebook")["Stacks"][0]["Outputs"]
    }
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>Mysfits</title>")
    (web / "app.js").write_text("console.log('hi')")
    committed_config = '{"apiBaseUrl": "", "requestTimeoutMs": 10000}\n'
    (web / "config.json").write_text(committed_config)

    # The endpoint's model: trained locally on the same training split the script uploads.
    train, test = ds.split(small_data, test_fraction=0.1, seed=ds.DEFAULT_SEED)
    stand_in = training.train_model(train, k=10, sample_size=20_000, seed=3)
    model_file = save_model(stand_in, tmp_path / "stand-in.json")
    runner = RecordingRunner()
    lines: list[str] = []
    with server.serve_in_thread(str(model_file), name="mysfits-knn", port=0) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoint.url)
        toolkit = Toolkit(
            session_factory=lambda region: moto_aws, runner=runner, out=lines.append, sleep=lambda _: None
        )
        argv = [
            "--mode", "sagemaker", "--region", REGION, "--notebook-stack", "mysfits-notebook",
            "--data", str(small_data.path), "--sample-size", "20000", "--no-logs",
            "--samconfig", str(tmp_path / "samconfig.toml"), "--web-dir", str(web),
            "--deploy-api", "--deploy-web",
        ]  # fmt: skip
        assert main(argv, toolkit) == 0, "\n".join(lines)

    text = "\n".join(lines)
    # S3: both channels, label first.
    bucket = outputs["BucketName"]
    train_csv = s3.get_object(Bucket=bucket, Key="mysfits-knn/data/train/train.csv")["Body"].read()
    first = [int(v) for v in train_csv.split(b"\n", 1)[0].split(b",")]
    assert first == [int(train.y[0]), *map(int, train.X[0])]
    assert s3.head_object(Bucket=bucket, Key="mysfits-knn/data/test/test.csv")["ContentLength"] > 0

    # The training job the SDK submitted: built-in kNN image, hyperparameters, channels, tags, role.
    (job_summary,) = sm.list_training_jobs()["TrainingJobSummaries"]
    job = sm.describe_training_job(TrainingJobName=job_summary["TrainingJobName"])
    assert job["TrainingJobName"].startswith("mysfits-knn-")
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith(".dkr.ecr.eu-west-1.amazonaws.com/knn:1")
    assert job["HyperParameters"] == {
        "k": "10",
        "sample_size": "20000",
        "predictor_type": "classifier",
        "feature_dim": "5",
    }
    channels = {c["ChannelName"]: c for c in job["InputDataConfig"]}
    assert set(channels) == {"train", "test"}
    assert channels["train"]["ContentType"] == "text/csv;label_size=1"
    assert channels["test"]["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{bucket}/mysfits-knn/data/test/"
    assert job["RoleArn"] == outputs["RoleArn"]
    tags = sm.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    assert tags[:-1] == list(PROJECT_TAGS)
    assert tags[-1]["Key"] == "mysfits:training-inputs" and len(tags[-1]["Value"]) == 64, "what a rerun finds it by"

    # The endpoint, created (first run) from a tagged model and real-time config.
    described = sm.describe_endpoint(EndpointName="mysfits-knn")
    config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == job["ModelArtifacts"]["S3ModelArtifacts"]
    assert sm.list_tags(ResourceArn=described["EndpointArn"])["Tags"] == list(PROJECT_TAGS)

    # Evaluation went through the endpoint in batches and matches the stand-in model's own accuracy.
    assert "through endpoint mysfits-knn (12 requests)" in text
    table = np.frombuffer(stand_in.table, dtype=np.uint8)
    accuracy = float(np.mean(training.predict(table, test.X) == test.y))
    assert f"accuracy on 6,000 test rows: {accuracy:.2%}" in text

    # samconfig, then sam build, the website's own stack, and the API's deploy that allows the website's origin.
    assert read_overrides(tmp_path / "samconfig.toml")["SageMakerEndpointName"] == "mysfits-knn"
    assert read_overrides(tmp_path / "samconfig.toml")["AllowedOrigin"] == site, "later plain sam deploys keep it"
    (build, build_cwd), (web_deploy, web_cwd), (deploy, _) = runner.calls
    assert build[1:] == ["build"] and build_cwd == tmp_path
    assert web_deploy[1:] == [
        "deploy", "--config-env", "website", "--template-file", "website-template.yaml",
        "--stack-name", "mysfits-recommendations-website", "--region", REGION,
        "--on-failure", "DELETE", "--no-fail-on-empty-changeset", "--no-confirm-changeset",
    ] and web_cwd == tmp_path  # fmt: skip
    assert deploy[1:] == [
        "deploy", "--region", REGION, "--on-failure", "DELETE", "--no-confirm-changeset", "--parameter-overrides",
        "SageMakerEndpointName=mysfits-knn", f"AllowedOrigin={site}", "LogLevel=INFO", "ModelEncoding=ordinal",
        "CreateApiGatewayLoggingRole=true",
    ]  # fmt: skip
    assert f"API: {API_URL}" in text

    # The website bucket got the page with a generated config.json; the repository's own file is untouched.
    assert (web / "config.json").read_text() == committed_config
    web_bucket = cfn.describe_stacks(StackName="mysfits-recommendations-website")["Stacks"][0]["Outputs"]
    web_bucket = next(o["OutputValue"] for o in web_bucket if o["OutputKey"] == "WebsiteBucketName")
    keys = {o["Key"]: o for o in s3.list_objects_v2(Bucket=web_bucket)["Contents"]}
    assert set(keys) == {"index.html", "app.js", "config.json"}
    deployed_config = s3.get_object(Bucket=web_bucket, Key="config.json")
    assert json.loads(deployed_config["Body"].read()) == {"apiBaseUrl": API_URL, "requestTimeoutMs": 10000}
    assert deployed_config["CacheControl"] == "no-cache"
    assert s3.head_object(Bucket=web_bucket, Key="app.js")["ContentType"] in {
        "text/javascript; charset=utf-8",
        "application/javascript; charset=utf-8",
    }

    # CloudFront was told to drop its cached copies, and the site URL was printed.
    assert invalidated_paths(cloudfront, distribution["Id"]) == [["/*"]]
    assert f"website: https://{distribution['DomainName']}" in text


def test_sam_failure_stops_the_run_with_one_line(moto_aws, tmp_path, capsys, small_data):
    """Runs the steps from sam build on, with training and deployment already done (their state is faked)."""
    from mysfits.aws import train_and_deploy as tad

    moto_aws.client("cloudformation").create_stack(StackName="mysfits-notebook", TemplateBody=NOTEBOOK_STAND_IN)
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    runner = RecordingRunner({"build": 1})
    args = tad.build_parser().parse_args(
        ["--mode", "sagemaker", "--region", REGION, "--samconfig", str(tmp_path / "samconfig.toml"), "--deploy-api"]
    )
    resolved = tad.Resolved(region=REGION, api_stack="mysfits-recommendations")
    ctx = tad.Context(args, Toolkit(runner=runner, out=lambda _: None), resolved, tad.AwsClients.create(moto_aws))
    steps = tad.api_steps(args, resolved)
    with pytest.raises(tad.CliError, match="sam build failed with exit code 1; its output is above"):
        tad.execute(steps, ctx, Results(Overrides(read_overrides(tmp_path / "samconfig.toml"))))
    assert runner.calls[0][0][1:] == ["build"]


# --- the website steps on their own (after a deploy; the deploy itself is covered above) --------------------------


def web_run(moto_aws, tmp_path, samconfig_text: str = SAMCONFIG):
    from mysfits.aws import train_and_deploy as tad

    (tmp_path / "samconfig.toml").write_text(samconfig_text)
    web = tmp_path / "web"
    (web / "img").mkdir(parents=True, exist_ok=True)
    (web / "index.html").write_text("<!doctype html><title>Mysfits</title>")
    (web / "img" / "a.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (web / ".DS_Store").write_bytes(b"\0")
    argv = ["--mode", "sagemaker", "--region", REGION, "--samconfig", str(tmp_path / "samconfig.toml")]
    args = tad.build_parser().parse_args([*argv, "--web-dir", str(web), "--deploy-api", "--deploy-web"])
    lines: list[str] = []
    ctx = tad.Context(args, Toolkit(out=lines.append), tad.Resolved(region=REGION), tad.AwsClients.create(moto_aws))
    return tad, ctx, lines


def test_web_steps_upload_in_order_and_invalidate(moto_aws, tmp_path):
    cloudfront, s3 = moto_aws.client("cloudfront"), moto_aws.client("s3")
    distribution = make_distribution(cloudfront)
    tad, ctx, lines = web_run(moto_aws, tmp_path)
    s3.create_bucket(Bucket="web-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    site = {
        "WebsiteBucketName": "web-bucket",
        "WebsiteDistributionId": distribution["Id"],
        "WebsiteUrl": "https://example.cloudfront.net",
    }
    puts: list[str] = []
    ctx.aws.s3.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: puts.append(params["Key"])
    )
    results = Results(StackOutputs({"RecommendationsApiUrl": API_URL}), WebsiteStack(site))
    tad.execute(tad.web_steps(ctx.args), ctx, results)
    assert puts == ["img/a.svg", "config.json", "index.html"], "hidden files stay home; the page goes last"
    assert s3.head_object(Bucket="web-bucket", Key="img/a.svg")["ContentType"] == "image/svg+xml"
    assert s3.head_object(Bucket="web-bucket", Key="index.html")["ContentType"] == "text/html; charset=utf-8"
    # No config.json in web/: the deployed one holds just the API URL.
    assert json.loads(s3.get_object(Bucket="web-bucket", Key="config.json")["Body"].read()) == {"apiBaseUrl": API_URL}
    assert not (tmp_path / "web" / "config.json").exists()
    assert invalidated_paths(cloudfront, distribution["Id"]) == [["/*"]]
    assert "website: https://example.cloudfront.net" in lines


def test_a_refused_website_leaves_the_api_deployed_and_says_what_to_do(moto_aws, tmp_path, capsys):
    """Issue 18, item 3: CloudFront refuses new accounts until AWS verifies them. The page's stack fails on its own,
    the API is deployed all the same (with samconfig's origin), and the run ends with exit 1 and the way out."""
    from mysfits.aws import train_and_deploy as tad

    cfn = moto_aws.client("cloudformation")
    cfn.create_stack(StackName="mysfits-notebook", TemplateBody=NOTEBOOK_STAND_IN)
    cfn.create_stack(StackName="mysfits-recommendations", TemplateBody=api_stand_in())
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(SAMCONFIG)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.html").write_text("<!doctype html>")
    runner, lines = RecordingRunner({"website": 1}), []
    argv = [
        "--mode",
        "sagemaker",
        "--region",
        REGION,
        "--samconfig",
        str(samconfig),
        "--web-dir",
        str(tmp_path / "web"),
    ]
    args = tad.build_parser().parse_args([*argv, "--deploy-api", "--deploy-web"])
    resolved = tad.Resolved(region=REGION, api_stack="mysfits-recommendations")
    toolkit = Toolkit(session_factory=lambda region: moto_aws, runner=runner, out=lines.append)
    ctx = tad.Context(args, toolkit, resolved, tad.AwsClients.create(moto_aws))
    puts: list[str] = []
    ctx.aws.s3.meta.events.register("before-parameter-build.s3.PutObject", lambda params, **_: puts.append("put"))
    steps = tad.api_steps(args, resolved) + tad.web_steps(args)
    with pytest.raises(tad.WebsiteNotDeployed) as refused:
        tad.execute(steps, ctx, Results(Overrides(read_overrides(samconfig))))
    assert [runner.kind(argv) for argv, _ in runner.calls] == ["build", "website", "deploy"], "the API still deploys"
    assert "AllowedOrigin=*" in runner.calls[-1][0], "no website, so samconfig's origin stands"
    assert read_overrides(samconfig)["AllowedOrigin"] == "*"
    assert f"  API: {API_URL}" in lines
    message = str(refused.value)
    assert "the API is deployed, but the website stack mysfits-recommendations-website failed" in message
    assert "Your account must be verified before you can add new CloudFront resources" in message
    assert "AWS Support" in message and "run the same command again" in message
    assert puts == [], "nothing uploaded"


def test_a_website_stack_without_its_outputs_is_one_clear_error(moto_aws, tmp_path):
    tad, ctx, _ = web_run(moto_aws, tmp_path)
    ctx = tad.Context(ctx.args, Toolkit(runner=RecordingRunner(), out=lambda _: None), tad.Resolved(region=REGION,
                      api_stack="mysfits-recommendations"), ctx.clients)  # fmt: skip
    moto_aws.client("cloudformation").create_stack(
        StackName="mysfits-recommendations-website", TemplateBody=api_stand_in()
    )
    from mysfits.aws.stack_steps import _deploy_website

    (deploy_website,) = [s for s in tad.api_steps(ctx.args, ctx.resolved) if s.run is _deploy_website]
    with pytest.raises(tad.CliError, match="stack mysfits-recommendations-website has no WebsiteBucketName output"):
        deploy_website.run(ctx, Results())


def test_a_broken_config_json_is_named(tmp_path):
    from mysfits.aws import website
    from mysfits.cli_base import CliError

    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CliError, match=r"config\.json is not readable JSON"):
        website.page_config(tmp_path, API_URL)
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(CliError, match="must hold a JSON object, found list"):
        website.page_config(tmp_path, API_URL)


def test_the_plan_is_pure_and_steps_hand_on_typed_results(tmp_path):
    """plan() reads no file and calls nothing; a step that needs an earlier result says which one is missing."""
    from mysfits.aws import train_and_deploy as tad

    argv = ["--mode", "sagemaker", "--bucket", "b", "--role", "r", "--samconfig", str(tmp_path / "absent.toml")]
    args = tad.build_parser().parse_args([*argv, "--deploy-api", "--api-stack", "s"])
    resolved = tad.Resolved(data_missing=True, region=REGION, bucket="b", role="r", api_stack="s")
    first, second = tad.plan(args, resolved), tad.plan(args, resolved)
    assert [s.action for s in first] == [s.action for s in second]
    assert first[0].action.startswith("generate 1,000,000 answers") and "`sam deploy` (stack s" in first[-2].action
    assert list(tmp_path.iterdir()) == []
    ctx = tad.Context(args, Toolkit(out=lambda _: None), resolved)
    deploy = next(s for s in first if s.action.startswith("sagemaker:CreateModel"))
    with pytest.raises(LookupError, match="no TrainingResult yet"):
        deploy.run(ctx, Results())


@pytest.mark.parametrize("interactive", [True, False], ids=["terminal", "no-terminal"])
def test_sam_is_told_not_to_prompt_only_when_nobody_can_answer(moto_aws, tmp_path, interactive):
    """Issue 32, item 8: samconfig.toml's confirm_changeset would make an unattended deploy wait for y/N forever."""
    from mysfits.aws import train_and_deploy as tad

    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    runner = RecordingRunner()
    args = tad.build_parser().parse_args(
        ["--mode", "sagemaker", "--region", REGION, "--samconfig", str(tmp_path / "samconfig.toml"), "--deploy-api"]
    )
    resolved = tad.Resolved(region=REGION, api_stack="mysfits-recommendations")
    moto_aws.client("cloudformation").create_stack(StackName="mysfits-recommendations", TemplateBody=api_stand_in())
    toolkit = Toolkit(runner=runner, out=lambda _: None, interactive=lambda: interactive)
    ctx = tad.Context(args, toolkit, resolved, tad.AwsClients.create(moto_aws))
    tad.execute(tad.api_steps(args, resolved), ctx, Results(Overrides(read_overrides(tmp_path / "samconfig.toml"))))
    (deploy,) = [argv for argv, _ in runner.calls if argv[1] == "deploy"]
    assert ("--no-confirm-changeset" in deploy) is not interactive
    assert deploy[deploy.index("--on-failure") + 1] == "DELETE"
