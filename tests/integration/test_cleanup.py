"""scripts/cleanup.py under moto: it deletes exactly the tagged resources, asks first, and a second run is a no-op.

moto runs the SageMaker, S3 and CloudFormation control planes in-process; the clients are real boto3 clients.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse

from mysfits.aws import PROJECT_TAGS
from mysfits.aws.cleanup import delete_stack, delete_table, empty_bucket, find_project_resources
from mysfits.aws.cleanup_cli import main
from tests.conftest import FAKE_AWS_REGION as REGION

ROLE = "arn:aws:iam::123456789012:role/mysfits-notebook"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws(moto_session):
    return moto_session


TOPIC_STACK = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
STACK_WITH_BUCKET = json.dumps(
    {
        "Resources": {"DataBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"BucketName": {"Value": {"Ref": "DataBucket"}}},
    }
)

# website-template.yaml's stack, as far as clean-up cares: a bucket named by WebsiteBucketName.
WEBSITE_STACK = json.dumps(
    {
        "Resources": {"WebsiteBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"WebsiteBucketName": {"Value": {"Ref": "WebsiteBucket"}}},
    }
)


def make_endpoint(sm, name: str, tagged: bool) -> None:
    tags = list(PROJECT_TAGS) if tagged else [{"Key": "Project", "Value": "someone-else"}]
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1"},
        Tags=tags,
    )
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
        Tags=tags,
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)


def names(sm) -> dict[str, list[str]]:
    return {
        "endpoints": sorted(e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]),
        "configs": sorted(c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]),
        "models": sorted(m["ModelName"] for m in sm.list_models()["Models"]),
    }


def test_finds_only_tagged_resources_endpoints_first(aws):
    sm = aws.client("sagemaker")
    make_endpoint(sm, "mysfits-knn", tagged=True)
    make_endpoint(sm, "mysfits-other-team", tagged=False)
    found = find_project_resources(sm)
    assert [str(r) for r in found] == ["endpoint mysfits-knn", "endpoint-config mysfits-knn", "model mysfits-knn"]


def refuse(sm, operation: str, field: str, refused: Callable[[str], bool], message: str) -> list[str]:
    """Answer ``operation`` with AccessDenied when the request's ``field`` matches, as IAM would, without reaching
    moto; the other requests go through. Returns every value of ``field`` that was asked for."""
    asked: list[str] = []

    def intercept(params, **_):
        value = json.loads(params["body"])[field]
        asked.append(value)
        if not refused(value):
            return None
        error = {"Code": "AccessDeniedException", "Message": message}
        return AWSResponse("https://sagemaker", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    sm.meta.events.register(f"before-call.sagemaker.{operation}", intercept)
    return asked


def refuse_list_tags_for(sm, arn_fragment: str) -> list[str]:
    """ListTags refused for matching ARNs, as outside the notebook role's prefix."""
    return refuse(sm, "ListTags", "ResourceArn", lambda arn: arn_fragment in arn, "not authorized: sagemaker:ListTags")


def test_tags_are_read_only_on_resources_with_the_prefix(aws):
    sm = aws.client("sagemaker")
    make_endpoint(sm, "mysfits-knn", tagged=True)
    make_endpoint(sm, "fraud-model", tagged=False)
    make_endpoint(sm, "team-mysfits-copy", tagged=True)
    asked = refuse_list_tags_for(sm, "nothing-is-refused")
    found = find_project_resources(sm)
    assert [r.name for r in found] == ["mysfits-knn"] * 3
    assert asked and all(arn.rsplit("/", 1)[1] == "mysfits-knn" for arn in asked), asked


def test_a_foreign_resource_whose_tags_are_refused_is_not_ours_and_the_rest_is_deleted(aws, capsys):
    """In an account shared with others, the role may not read tags outside its prefix; that must not stop clean-up."""
    sm = aws.client("sagemaker")
    make_endpoint(sm, "mysfits-knn", tagged=True)
    make_endpoint(sm, "mysfits-legacy-by-another-team", tagged=False)
    refuse_list_tags_for(sm, "mysfits-legacy")
    assert main(["--region", REGION, "--yes"], session=_SessionWith(aws, sm)) == 0
    assert names(sm)["endpoints"] == ["mysfits-legacy-by-another-team"]
    assert "deleted 3 SageMaker resources" in capsys.readouterr().out


def test_a_custom_prefix_is_honoured(aws):
    sm = aws.client("sagemaker")
    make_endpoint(sm, "mysfits-knn", tagged=True)
    make_endpoint(sm, "demo-knn", tagged=True)
    assert [r.name for r in find_project_resources(sm, prefix="demo")] == ["demo-knn"] * 3


def test_one_refused_delete_does_not_stop_the_others(aws, capsys):
    sm = aws.client("sagemaker")
    make_endpoint(sm, "mysfits-a", tagged=True)
    make_endpoint(sm, "mysfits-b", tagged=True)

    refuse(sm, "DeleteEndpoint", "EndpointName", lambda name: name == "mysfits-a", "explicit deny")
    assert main(["--region", REGION, "--yes"], session=_SessionWith(aws, sm)) == 1
    captured = capsys.readouterr()
    assert names(sm)["endpoints"] == ["mysfits-a"]
    assert "could not delete endpoint mysfits-a: explicit deny" in captured.out
    assert "1 of 6 deletes failed" in captured.err


class _SessionWith:
    """The moto session, but handing out one given SageMaker client (with its event hooks) to the script."""

    def __init__(self, session, sm):
        self._session, self._sm = session, sm

    def client(self, name: str):
        return self._sm if name == "sagemaker" else self._session.client(name)


def test_yes_deletes_everything_tagged_and_a_second_run_finds_nothing(aws, capsys):
    sm = aws.client("sagemaker")
    make_endpoint(sm, "mysfits-knn", tagged=True)
    make_endpoint(sm, "mysfits-knn-20250101-000000", tagged=True)
    make_endpoint(sm, "keep-me", tagged=False)

    assert main(["--region", REGION, "--yes"], session=aws) == 0
    first = capsys.readouterr().out
    assert len(re.findall(r"^deleted (endpoint|endpoint-config|model) ", first, re.M)) == 6, first
    assert "deleted 6 SageMaker resources" in first
    assert names(sm) == {"endpoints": ["keep-me"], "configs": ["keep-me"], "models": ["keep-me"]}

    assert main(["--region", REGION, "--yes"], session=aws) == 0
    second = capsys.readouterr().out
    assert "nothing of this project's is left" in second and "deleted " not in second
    assert names(sm)["endpoints"] == ["keep-me"]


def test_without_yes_it_asks_and_a_no_deletes_nothing(aws, capsys, monkeypatch):
    sm = aws.client("sagemaker")
    make_endpoint(sm, "mysfits-knn", tagged=True)
    answers = iter(["n"])
    assert main(["--region", REGION], session=aws, ask=lambda prompt: next(answers)) == 1
    assert "endpoint mysfits-knn" in capsys.readouterr().out
    assert names(sm)["endpoints"] == ["mysfits-knn"]


def test_dry_run_lists_and_deletes_nothing(aws, capsys):
    sm = aws.client("sagemaker")
    make_endpoint(sm, "mysfits-knn", tagged=True)
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="mysfits-recommendations", TemplateBody=TOPIC_STACK)
    argv = ["--region", REGION, "--dry-run", "--api-stack", "mysfits-recommendations", "--notebook-stack", "nb"]
    assert main(argv, session=aws) == 0
    out = capsys.readouterr().out
    assert "would delete endpoint mysfits-knn" in out and "would delete stack mysfits-recommendations" in out
    assert "stack nb does not exist" in out
    assert names(sm)["models"] == ["mysfits-knn"]
    assert cfn.describe_stacks(StackName="mysfits-recommendations")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_stacks_are_deleted_after_their_bucket_is_emptied_and_twice_is_fine(aws, capsys):
    cfn, s3 = aws.client("cloudformation"), aws.client("s3")
    cfn.create_stack(StackName="mysfits-notebook", TemplateBody=STACK_WITH_BUCKET)
    cfn.create_stack(StackName="mysfits-recommendations", TemplateBody=TOPIC_STACK)
    cfn.create_stack(StackName="mysfits-recommendations-website", TemplateBody=WEBSITE_STACK)
    bucket = cfn.describe_stacks(StackName="mysfits-notebook")["Stacks"][0]["Outputs"][0]["OutputValue"]
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"mysfits-knn/data/{i}.csv", Body=b"1,1,1,1,1,1\n")
    (website,) = cfn.describe_stacks(StackName="mysfits-recommendations-website")["Stacks"][0]["Outputs"]
    for key in ("index.html", "config.json"):
        s3.put_object(Bucket=website["OutputValue"], Key=key, Body=b"{}")

    argv = [
        "--region",
        REGION,
        "--yes",
        "--api-stack",
        "mysfits-recommendations",
        "--notebook-stack",
        "mysfits-notebook",
    ]
    assert main(argv, session=aws, sleep=lambda _: None) == 0
    out = capsys.readouterr().out
    assert f"emptied s3://{bucket} (3 object versions)" in out
    assert f"emptied s3://{website['OutputValue']} (2 object versions)" in out
    assert out.index(f"emptied s3://{website['OutputValue']}") < out.index(
        "deleted stack mysfits-recommendations-website"
    ), "the page's stack is found from the API stack's name, and its bucket emptied first"
    assert "deleted stack mysfits-recommendations\n" in out and "deleted stack mysfits-notebook" in out
    assert [s["StackName"] for s in cfn.list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]] == []

    assert main(argv, session=aws, sleep=lambda _: None) == 0
    again = capsys.readouterr().out
    assert "stack mysfits-notebook does not exist" in again and "deleted stack" not in again
    assert "nothing of this project's is left" in again


def test_empty_bucket_handles_a_missing_bucket(aws):
    assert empty_bucket(aws.client("s3"), "no-such-bucket-here", report=lambda _: None) == 0


def test_delete_stack_reports_a_missing_stack(aws):
    lines: list[str] = []
    assert delete_stack(aws.client("cloudformation"), "nope", lines.append) is False
    assert lines == ["stack nope was already gone"]


def test_script_without_credentials_is_one_line_and_nonzero(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT / "src"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cleanup.py"), "--region", REGION, "--yes"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "no AWS credentials" in result.stderr


# template.yaml's API stack as far as the choices table goes: retained when the stack is deleted.
API_STACK_WITH_TABLE = json.dumps(
    {
        "Resources": {
            "ChoicesTable": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "recommendationId", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "recommendationId", "KeyType": "HASH"}],
                },
            }
        },
        "Outputs": {"ChoicesTableName": {"Value": {"Ref": "ChoicesTable"}}},
    }
)


@pytest.mark.parametrize("delete_data", [False, True])
def test_the_choices_table_is_kept_unless_delete_data_says_otherwise(aws, capsys, delete_data):
    cfn, dynamodb = aws.client("cloudformation"), aws.client("dynamodb")
    cfn.create_stack(StackName="mysfits-recommendations", TemplateBody=API_STACK_WITH_TABLE)
    (output,) = cfn.describe_stacks(StackName="mysfits-recommendations")["Stacks"][0]["Outputs"]
    table = output["OutputValue"]
    argv = ["--region", REGION, "--yes", "--api-stack", "mysfits-recommendations"]
    assert main([*argv, "--delete-data"] if delete_data else argv, session=aws, sleep=lambda _: None) == 0
    out = capsys.readouterr().out
    tables = dynamodb.list_tables()["TableNames"]
    if delete_data:
        assert f"will delete table {table}" in out and f"deleted table {table}" in out
        assert table not in tables
    else:
        assert f"will keep table {table}" in out and "--delete-data" in out and f"kept table {table}" in out
        assert "deleted table" not in out
        assert table in tables  # DeletionPolicy: Retain kept it when the stack went


def test_delete_table_treats_a_missing_table_as_gone(aws):
    lines = []
    assert delete_table(aws.client("dynamodb"), "no-such-table", lines.append) is False
    assert lines == ["table no-such-table was already gone"]


def _table(dynamodb, name: str, tagged: bool = True) -> str:
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "recommendationId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "recommendationId", "KeyType": "HASH"}],
        Tags=[{"Key": "Project", "Value": "mythical-mysfits-recommendations"}] if tagged else [],
    )
    return name


def test_delete_data_after_the_stacks_are_gone_finds_the_kept_table_by_name_and_tag(aws, capsys, tmp_path):
    """Issue 32, item 4: README step 4 deletes the stacks and keeps the table; a later --delete-data has no stack
    output to read, so the table is found by its CloudFormation name and the project tag. Tables that only share the
    name, or belong to another stack, are left alone."""
    dynamodb = aws.client("dynamodb")
    kept = _table(dynamodb, "mysfits-recommendations-ChoicesTable-1A2B3C")
    untagged = _table(dynamodb, "mysfits-recommendations-ChoicesTable-NOTOURS", tagged=False)
    other = _table(dynamodb, "mysfits-other-ChoicesTable-9Z")
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text('version = 0.1\n[default.deploy.parameters]\nstack_name = "mysfits-recommendations"\n')
    argv = ["--region", REGION, "--yes", "--delete-stacks", "--samconfig", str(samconfig)]

    assert main(argv, session=aws, sleep=lambda _: None) == 0
    out = capsys.readouterr().out
    assert f"kept: table {kept}" in out and "--delete-data" in out, "a kept table still bills: say so"
    assert main([*argv, "--delete-data"], session=aws, sleep=lambda _: None) == 0
    out = capsys.readouterr().out
    assert f"deleted table {kept}" in out
    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted([untagged, other])
