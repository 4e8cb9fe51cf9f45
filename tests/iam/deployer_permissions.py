"""Generate docs/deployer-permissions.md and docs/deployer-policy.json: what the person deploying this project needs.

The deploying user runs, from their machine, ``aws cloudformation deploy`` of notebook-template.yaml, ``sam deploy`` of
template.yaml, ``scripts/train_and_deploy.py --mode sagemaker --deploy-api --deploy-web`` and
``scripts/cleanup.py --delete-stacks``. Nothing in the lists is written by hand; each action comes from one of:

- CloudFormation acting with the user's credentials: the create, read, update and delete handler permissions of every
  resource type in both templates (template.yaml after SAM's translation, and the SAM CLI's own managed-bucket stack),
  from the resource schemas that cfn-lint ships;
- the SAM CLI's own calls: its managed bucket stack, the artifact upload and the change-set deploy, run from the SAM
  CLI's code under moto and recorded;
- the scripts' calls: recorded from the same scenarios as the IAM coverage test, plus the deploy and clean-up steps.

    python -m tests.iam.deployer_permissions          # rewrite both files
    python -m tests.iam.deployer_permissions --check  # exit 1 if they are out of date
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.aws_calls import AwsCall, record_aws_calls
from tests.iam.authorization import action_exists, checks_for, resource_types
from tests.iam.sagemaker_service import caller_checks

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployer-permissions.md"
POLICY = ROOT / "docs" / "deployer-policy.json"
HANDLERS = ("create", "read", "update", "delete")
REGION = "eu-west-1"


@cache
def _schemas() -> tuple[Path, dict[str, str]]:
    import cfnlint.data.schemas as schemas

    base = Path(schemas.__file__).parent
    return base, json.loads((base / "providers" / "us-east-1.json").read_text())


def handler_permissions(resource_type: str) -> set[str]:
    base, index = _schemas()
    schema = json.loads((base / "resources" / f"{index[resource_type]}.json").read_text())
    handlers = schema.get("handlers", {})
    return {permission for name in HANDLERS for permission in handlers.get(name, {}).get("permissions", [])}


# Every template a deployer deploys, by path from the repository's root. A template with a Transform is read as
# CloudFormation sees it, after SAM's translation. Adding a template is one line here.
TEMPLATES = ("notebook-template.yaml", "template.yaml", "website-template.yaml")
SAM_MANAGED_STACK = "the SAM CLI's managed bucket stack"


def deployed_templates() -> dict[str, dict]:
    """Template name -> its resources as CloudFormation creates them (SAM's managed bucket stack included)."""
    from samtranslator.yaml_helper import yaml_parse

    from tests.templates.sam_template import translate

    templates = {}
    for name in TEMPLATES:
        template = yaml_parse((ROOT / name).read_text("utf-8"))
        templates[name] = translate(template) if "Transform" in template else template
    templates[SAM_MANAGED_STACK] = _sam_managed_stack_template()
    return templates


def template_resource_types() -> dict[str, set[str]]:
    """Resource type -> the templates that declare it (template.yaml as CloudFormation sees it, after SAM)."""
    types: dict[str, set[str]] = defaultdict(set)
    for name, template in deployed_templates().items():
        for resource in template["Resources"].values():
            types[resource["Type"]].add(name)
    return types


def _sam_managed_stack_template() -> dict:
    from samcli.lib.bootstrap.bootstrap import _get_stack_template
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(_get_stack_template())


def sam_deploy_calls(session) -> list[AwsCall]:
    """What ``sam deploy --resolve-s3`` calls, from the SAM CLI's own code: the managed bucket stack, the artifact
    upload (deduplicated by content hash) and the change-set deploy with its waits."""
    from samcli.commands.exceptions import UserException
    from samcli.lib.bootstrap.bootstrap import manage_stack
    from samcli.lib.deploy.deployer import Deployer
    from samcli.lib.package.s3_uploader import S3Uploader

    template = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    with record_aws_calls() as calls:
        try:
            manage_stack(profile=None, region=REGION)
        except UserException:
            pass  # moto drops the outputs of a stack made from a change set; SAM's calls up to here are recorded
    (bucket,) = [b["Name"] for b in session.client("s3").list_buckets()["Buckets"] if "samclisourcebucket" in b["Name"]]
    with record_aws_calls() as more, tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "function.zip"
        artifact.write_bytes(b"PK\x05\x06" + bytes(18))
        uploader = S3Uploader(session.client("s3"), bucket, prefix="mysfits-recommendations", no_progressbar=True)
        uploader.upload_with_dedup(str(artifact))
        deployer = Deployer(session.client("cloudformation"), client_sleep=0)
        # The stand-in stack for the scripts takes the real name; only the actions matter here, not the ARNs.
        stack = "mysfits-recommendations-sam"
        result, kind = deployer.create_and_wait_for_changeset(
            stack, template, [], ["CAPABILITY_IAM"], None, [], uploader, []
        )
        deployer.execute_changeset(result["Id"], stack, disable_rollback=False)
        deployer.wait_for_execute(stack, kind, disable_rollback=False)
        deployer.get_stack_outputs(stack, echo=False)
    return calls + more + sam_redeploy_calls(deployer, uploader, stack) + sam_refused_create_calls(deployer, uploader)


def sam_redeploy_calls(deployer, uploader, stack: str) -> list[AwsCall]:
    """The paths a real account takes after the first deploy (issue 18, item 2): ``sam deploy`` on a stack that exists
    (SAM reads the deployed template's parameters with GetTemplateSummary first), and a deploy that fails and rolls
    back (SAM streams the stack's events and reads its status until the waiter gives up)."""
    from samcli.commands.deploy.exceptions import DeployFailedError

    template = json.dumps(
        {
            "Parameters": {"Origin": {"Type": "String", "Default": "*"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Queue": {"Type": "AWS::SQS::Queue"}},
        }
    )
    with record_aws_calls() as calls:
        result, kind = deployer.create_and_wait_for_changeset(
            stack, template, [{"ParameterKey": "Origin", "ParameterValue": "https://example.org"}],
            ["CAPABILITY_IAM"], None, [], uploader, [],
        )  # fmt: skip
        if kind != "UPDATE":
            raise RuntimeError(f"the second deploy of {stack} was a {kind}, not an update")
        deployer.execute_changeset(result["Id"], stack, disable_rollback=False)
        _roll_back(stack)  # moto applies change sets at once and never fails them
        try:
            deployer.wait_for_execute(stack, kind, disable_rollback=False)
        except DeployFailedError:
            pass
        else:
            raise RuntimeError("SAM did not report the rolled-back deploy as failed")
    return calls


def sam_refused_create_calls(deployer, uploader) -> list[AwsCall]:
    """The website stack's path on a new account (issue 18, item 3): CloudFront refuses the distribution, the create
    rolls back, and ``--on-failure DELETE`` has SAM delete the stack so that the next try starts clean."""
    from samcli.commands.deploy.exceptions import DeployFailedError

    stack = "mysfits-recommendations-website"
    template = json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}})
    with record_aws_calls() as calls:
        result, kind = deployer.create_and_wait_for_changeset(stack, template, [], [], None, [], uploader, [])
        deployer.execute_changeset(result["Id"], stack, disable_rollback=False)
        _roll_back(stack, "ROLLBACK_COMPLETE")
        try:
            deployer.wait_for_execute(stack, kind, disable_rollback=False)
        except DeployFailedError:
            deployer.rollback_delete_stack(stack)  # what `sam deploy --on-failure DELETE` does next
        else:
            raise RuntimeError("SAM did not report the refused create as failed")
    return calls


def _roll_back(stack: str, status: str = "UPDATE_ROLLBACK_COMPLETE") -> None:
    from moto.cloudformation.models import cloudformation_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION]
    (found,) = [s for s in backend.stacks.values() if s.name == stack]
    found.status = status


def script_calls(session, tmp: Path) -> list[AwsCall]:
    """train_and_deploy (with --choices-table once) --deploy-api --deploy-web (sam itself stood in for) and cleanup
    --delete-stacks."""
    from mysfits.aws.train_and_deploy import Toolkit, main
    from tests.iam import scenarios
    from tests.iam.policy import StackValues
    from tests.integration.test_train_and_deploy import (
        SAMCONFIG,
        RecordingRunner,
        api_stand_in,
        make_distribution,
        website_stand_in,
    )
    from tests.moto_training_jobs import training_jobs_that_train

    values = StackValues(region=REGION, bucket="mysfits-notebook-databucket-test")
    (tmp / "samconfig.toml").write_text(SAMCONFIG)
    web = tmp / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html>")
    distribution = make_distribution(session.client("cloudfront"))
    cfn = session.client("cloudformation")
    cfn.create_stack(StackName="mysfits-recommendations", TemplateBody=api_stand_in())
    cfn.create_stack(StackName="mysfits-recommendations-website", TemplateBody=website_stand_in(distribution))
    with scenarios.workspace(session, values, tmp) as ws:
        # Created real-time, switched to serverless (delete and create), then updated in place by the run below.
        with scenarios.training_logs_present():
            calls = scenarios.train_and_deploy(ws, logs=True)
        calls += scenarios.train_and_deploy(ws, "--serverless")
        # Learning from visitors' choices: the table's Scan, the export, and the judgement against the endpoint.
        with training_jobs_that_train():
            calls += scenarios.train_and_deploy(
                ws, "--serverless", "--choices-table", scenarios.choices_table(session, 1_000)
            )
        toolkit = Toolkit(session_factory=lambda region: session, runner=RecordingRunner(), out=lambda _: None)
        argv = [
            "--mode", "sagemaker", "--region", REGION, "--notebook-stack", values.stack_name, "--data", str(ws.data),
            "--sample-size", str(scenarios.SAMPLE_SIZE), "--no-logs", "--samconfig", str(tmp / "samconfig.toml"),
            "--web-dir", str(web), "--deploy-api", "--deploy-web", "--serverless",
        ]  # fmt: skip
        with record_aws_calls() as deploy_calls:
            assert main(argv, toolkit) == 0
        calls += deploy_calls
        calls += rollback_calls(session, tmp / "samconfig.toml", values.role_arn)
        calls += scenarios.cleanup_script(ws, "--delete-stacks")
        calls += failed_create_then_retry_calls(session, ws, tmp)
    return calls


def rollback_calls(session, samconfig: Path, role_arn: str) -> list[AwsCall]:
    """Issue 33: `mysfits aws rollback` after a promotion in place: the endpoint back to the config the promotion
    kept, then the API stack's ModelEncoding alone by a change set on its deployed template. The promotion (a one-hot
    model on the same serverless capacity) is made here, unrecorded, so that the rollback has an encoding to change
    whatever the runs above decided; the stand-in API stack is given template.yaml's parameters for it."""
    from datetime import datetime, timezone

    from mysfits.aws import rollback, sagemaker_endpoint
    from mysfits.aws.sagemaker_job import TrainingResult
    from tests.integration.test_aws_rollback import api_stand_in

    sm = session.client("sagemaker")
    serving = sm.describe_endpoint(EndpointName="mysfits-knn")
    config = sm.describe_endpoint_config(EndpointConfigName=serving["EndpointConfigName"])
    serverless = config["ProductionVariants"][0].get("ServerlessConfig")
    capacity = (
        sagemaker_endpoint.Serverless(serverless["MemorySizeInMB"], serverless["MaxConcurrency"])
        if serverless
        else sagemaker_endpoint.RealTime()
    )
    job = "mysfits-knn-2030-01-01-00-00-00-000"
    promoted = TrainingResult(
        job, f"s3://mysfits-notebook-databucket-test/mysfits-knn/output/{job}/output/model.tar.gz",
        "438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1", encoding="one-hot",
    )  # fmt: skip
    sagemaker_endpoint.deploy(
        sm, "mysfits-knn", promoted, role_arn, capacity, report=lambda _: None,
        now=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )  # fmt: skip
    cfn = session.client("cloudformation")
    cfn.update_stack(
        StackName="mysfits-recommendations",
        TemplateBody=api_stand_in(),
        Parameters=[
            {"ParameterKey": "ModelEncoding", "ParameterValue": "one-hot"},
            {"ParameterKey": "SageMakerEndpointName", "ParameterValue": "mysfits-knn"},
            {"ParameterKey": "LogLevel", "ParameterValue": "INFO"},
        ],
    )
    lines: list[str] = []
    argv = ["--region", REGION, "--samconfig", str(samconfig), "--api-stack", "mysfits-recommendations"]
    with record_aws_calls() as calls:
        code = rollback.main(argv, session=session, sleep=lambda _: None, out=lines.append)
    if code != 0 or not any("ModelEncoding one-hot -> " in line for line in lines):
        raise RuntimeError("the recorded rollback did not run as planned:\n" + "\n".join(lines))
    return calls


def failed_create_then_retry_calls(session, ws, tmp: Path) -> list[AwsCall]:
    """Issue 32: the README's commands on a new account whose first API create fails, then the same command again.

    ``mysfits aws notebook`` makes the training stack; the first run's API create rolls back (CloudFormation's part
    is stood in for, and left out of the record); the retry reuses the training job and the endpoint, reads the
    account's quota defaults for a quota never changed, deletes the ROLLBACK_COMPLETE stack, looks up API Gateway's
    logging role and deploys; then ``cleanup --delete-stacks --delete-data`` finds the table by name and tag."""
    from mysfits.aws import notebook_stack
    from mysfits.aws.train_and_deploy import Toolkit, main
    from tests.iam import scenarios
    from tests.integration.test_failed_first_deploy import CloudFormationStandIn, write_model_files

    (tmp / "retry").mkdir()
    with record_aws_calls() as calls:
        toolkit = notebook_stack.NotebookToolkit(
            session_factory=lambda region: session,
            out=lambda _: None,
            template_text=lambda path: scenarios.notebook_stack_stand_in(ws.values),
            waiter_config={"Delay": 1, "MaxAttempts": 2},
        )
        template = tmp / "retry" / "notebook-template.yaml"
        template.write_text("the stand-in is used instead")
        argv = ["--region", REGION, "--template-file", str(template), "--repo-url", "https://github.com/you/fork.git"]
        assert notebook_stack.main(argv, toolkit) == 0
    without_training = {"Quotas": [q for q in scenarios.QUOTAS["Quotas"] if "training" not in q["QuotaName"]]}
    for fail in (True, False):
        if not fail:
            write_model_files(session)
        runner = CloudFormationStandIn(session, fail_creates=fail)
        runner.attempts = 0 if fail else 1
        toolkit = Toolkit(
            session_factory=lambda region: session, runner=runner, out=lambda _: None, sleep=lambda _: None,
            interactive=lambda: False,
        )  # fmt: skip
        argv = [
            "--mode", "sagemaker", "--region", REGION, "--notebook-stack", ws.values.stack_name,
            "--data", str(ws.data), "--sample-size", str(scenarios.SAMPLE_SIZE), "--no-logs", "--serverless",
            "--samconfig", str(tmp / "samconfig.toml"), "--deploy-api",
        ]  # fmt: skip
        with scenarios.quotas_answered(session, without_training, scenarios.QUOTAS), record_aws_calls() as more:
            runner.recorded = more
            code = main(argv, toolkit)
        if code != (2 if fail else 0):
            raise RuntimeError(f"the {'failed' if fail else 'retried'} run ended with exit code {code}")
        calls += more
    calls += scenarios.cleanup_script(ws, "--delete-stacks", "--delete-data")
    return calls


def smoke_calls(session, tmp: Path) -> list[AwsCall]:
    """scripts/smoke_aws.py --yes from start to teardown, in the same offline world as its own tests."""
    from moto.moto_api._internal.models import moto_api_backend

    from tests.smoke_world import smoke_world

    moto_api_backend.reset()  # a fresh account: the runs above used the same stand-ins (the distribution, say)
    (tmp / "smoke").mkdir()
    with smoke_world(session, tmp / "smoke") as world, record_aws_calls() as calls:
        code, report = world.run("--yes")
    if code != 0:
        raise RuntimeError(f"the recorded smoke run failed ({report['outcome']}):\n" + "\n".join(world.lines))
    return [call for call in calls if not _made_by_the_function(call) and not _made_by_cloudformation(call)]


def _made_by_cloudformation(call: AwsCall) -> bool:
    """The smoke world's stand-in for `sam deploy` creates template.yaml's alarms itself (moto's CloudFormation has
    no AWS::CloudWatch::Alarm); on AWS, CloudFormation creates them, with the handler permissions listed above."""
    return call.service == "cloudwatch" and call.operation == "PutMetricAlarm"


def _made_by_the_function(call: AwsCall) -> bool:
    """The smoke run's requests reach the function in this process, so its writes to the choices table are recorded
    too; on AWS the function makes them with its own role (template.yaml's KeepRecommendationsAndChoices)."""
    from tests.smoke_world import FUNCTION_TABLE

    return call.service == "dynamodb" and call.params.get("TableName") == FUNCTION_TABLE


@dataclass(frozen=True)
class UnusedProperty:
    """Handler permissions of ``resource_type`` that serve only ``paths``, which no template sets."""

    resource_type: str
    paths: tuple[str, ...]  # dotted property paths under Properties; "[]" steps into every item of a list
    actions: tuple[str, ...]
    why: str


# The resource schemas list a handler's permissions for every property a resource could have. These are the ones
# that serve only properties our templates leave out; the generator drops them for that resource type (another type
# may still need the same action). tests/iam/test_deployer_scope.py fails when a template starts setting one of
# the paths: then delete its line here, regenerate, and the actions come back.
UNUSED_PROPERTIES = (
    UnusedProperty(
        "AWS::DynamoDB::Table",
        ("ContributorInsightsSpecification", "GlobalSecondaryIndexes[].ContributorInsightsSpecification"),
        ("iam:CreateServiceLinkedRole",),
        "DynamoDB creates its one service-linked role, AWSServiceRoleForDynamoDBCloudWatchContributorInsights, when "
        "Contributor Insights is first turned on (DynamoDB developer guide, Contributor_Insights_IAM); the table "
        "leaves it off, and a role/mysfits-* scope could never match that role's aws-service-role/ path anyway",
    ),
    UnusedProperty(
        "AWS::Lambda::Function", ("VpcConfig",),
        ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"),
        "Lambda checks the subnets and security groups only when it attaches the function to a VPC; ours runs "
        "outside one (it calls SageMaker's public endpoint). The delete handler's ec2:DescribeNetworkInterfaces stays.",
    ),
    UnusedProperty(
        "AWS::Lambda::Function", ("FileSystemConfigs",),
        ("elasticfilesystem:DescribeMountTargets", "s3files:ListMountTargets"),
        "mount targets matter only for a function that mounts a file system",
    ),
    UnusedProperty(
        "AWS::Lambda::Function", ("KmsKeyArn", "Code.SourceKMSKeyArn"),
        ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"),
        "without a customer managed key Lambda encrypts the environment and the code with a key of its own",
    ),
    UnusedProperty(
        "AWS::Lambda::Function", ("CodeSigningConfigArn",),
        (
            "lambda:GetCodeSigningConfig", "lambda:PutFunctionCodeSigningConfig",
            "lambda:DeleteFunctionCodeSigningConfig",
        ),
        "the function has no code-signing configuration to attach, read or detach",
    ),
    UnusedProperty(
        "AWS::Lambda::Function", ("Layers",), ("lambda:GetLayerVersion",), "the function uses no layers",
    ),
    UnusedProperty(
        "AWS::Lambda::Function", ("FunctionScalingConfig",), ("lambda:PutFunctionScalingConfig",),
        "scaling settings apply to a function on a capacity provider; ours runs on Lambda's default compute (the "
        "Service Authorization Reference makes lambda:PassCapacityProvider a dependent of CreateFunction: it stays)",
    ),
    UnusedProperty(
        "AWS::SNS::Topic", ("DataProtectionPolicy",), ("sns:GetDataProtectionPolicy", "sns:PutDataProtectionPolicy"),
        "a data protection policy audits or masks sensitive data in messages; the alarm topic has none",
    ),
    UnusedProperty(
        "AWS::SNS::Topic", ("DeliveryStatusLogging",), ("iam:PassRole",),
        "SNS is passed a role only to log delivery status to CloudWatch Logs; the alarm topic logs none",
    ),
    UnusedProperty(
        "AWS::SageMaker::NotebookInstance", ("SubnetId", "SecurityGroupIds"),
        (
            "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
        ),
        "SageMaker puts a network interface in the account's VPC only for a notebook given a subnet; ours uses "
        "SageMaker's own network (DirectInternetAccess)",
    ),
    UnusedProperty(
        "AWS::SageMaker::NotebookInstance", ("KmsKeyId",), ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey"),
        "the notebook's volume is encrypted with SageMaker's own key unless a customer managed key is named",
    ),
    UnusedProperty(
        "AWS::DynamoDB::Table", ("KinesisStreamSpecification",),
        (
            "kinesis:DescribeStream", "kinesis:PutRecords", "dynamodb:EnableKinesisStreamingDestination",
            "dynamodb:DisableKinesisStreamingDestination", "dynamodb:UpdateKinesisStreamingDestination",
        ),
        "the table streams no changes to Kinesis",
    ),
    UnusedProperty(
        "AWS::DynamoDB::Table", ("ImportSourceSpecification",),
        (
            "dynamodb:ImportTable", "dynamodb:DescribeImport", "s3:GetObject", "s3:GetObjectMetadata", "s3:ListBucket",
            "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
            "logs:PutLogEvents", "logs:PutRetentionPolicy",
        ),
        "an import reads the source objects from S3 and logs its errors to CloudWatch; the table starts empty",
    ),
    UnusedProperty(
        "AWS::DynamoDB::Table", ("ResourcePolicy",), ("dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy"),
        "the table has no resource-based policy (the read handler's GetResourcePolicy stays)",
    ),
    UnusedProperty(
        "AWS::Logs::LogGroup", ("DataProtectionPolicy",),
        ("logs:PutDataProtectionPolicy", "logs:CreateLogDelivery", "firehose:TagDeliveryStream", "s3:REST.PUT.OBJECT"),
        "a data protection policy masks data and may send its findings to Firehose or S3; ours have none (the "
        "read and delete handlers' Get/DeleteDataProtectionPolicy stay)",
    ),
    UnusedProperty(
        "AWS::Logs::LogGroup", ("KmsKeyId",), ("logs:AssociateKmsKey", "logs:DisassociateKmsKey"),
        "the groups are encrypted with CloudWatch Logs' own key",
    ),
    UnusedProperty(
        "AWS::Logs::LogGroup", ("FieldIndexPolicies",), ("logs:PutIndexPolicy", "logs:DeleteIndexPolicy"),
        "no field indexes",
    ),
    UnusedProperty(
        "AWS::Logs::LogGroup", ("ResourcePolicyDocument",), ("logs:PutResourcePolicy", "logs:DeleteResourcePolicy"),
        "no resource policy on the groups",
    ),
    UnusedProperty(
        "AWS::Logs::LogGroup", ("BearerTokenAuthenticationEnabled",), ("logs:PutBearerTokenAuthentication",),
        "nothing sends logs with a bearer token",
    ),
    UnusedProperty(
        "AWS::Logs::LogGroup", ("DeletionProtectionEnabled",), ("logs:PutLogGroupDeletionProtection",),
        "the groups are deleted with their stack",
    ),
    UnusedProperty(
        "AWS::S3::Bucket", ("MetadataTableConfiguration", "MetadataConfiguration"),
        (
            "s3tables:CreateNamespace", "s3tables:CreateTable", "s3tables:CreateTableBucket", "s3tables:GetTable",
            "s3tables:GetTableMetadataLocation", "s3tables:PutTableBucketPolicy", "s3tables:PutTableEncryption",
            "s3tables:PutTablePolicy", "s3tables:UpdateTableMetadataLocation",
            "s3:CreateBucketMetadataTableConfiguration", "s3:DeleteBucketMetadataTableConfiguration",
            "s3:UpdateBucketMetadataAnnotationTableConfiguration",
            "s3:UpdateBucketMetadataInventoryTableConfiguration", "s3:UpdateBucketMetadataJournalTableConfiguration",
        ),
        "S3 Metadata keeps a bucket's object metadata in S3 Tables; no bucket turns it on",
    ),
    UnusedProperty(
        "AWS::S3::Bucket", ("ReplicationConfiguration",),
        ("iam:PassRole", "s3:PutReplicationConfiguration", "s3:PutBucketReplication"),
        "replication passes its role to S3; no bucket replicates",
    ),
    UnusedProperty(
        "AWS::S3::Bucket", ("AbacStatus",), ("s3:PutBucketAbac",),
        "attribute-based access control stays off (the read handler's GetBucketAbac stays)",
    ),
    UnusedProperty(
        "AWS::CloudFront::Distribution", ("DistributionConfig.Origins[].VpcOriginConfig",),
        ("cloudfront:GetVpcOrigin",),
        "the only origin is the website bucket, not a VPC origin",
    ),
    UnusedProperty(
        "AWS::CloudFront::Distribution",
        ("DistributionConfig.Staging", "DistributionConfig.ContinuousDeploymentPolicyId"),
        ("cloudfront:UpdateDistributionWithStagingConfig",),
        "no staging distribution or continuous deployment",
    ),
    UnusedProperty(
        "AWS::ApiGateway::RestApi", ("BodyS3Location",), ("s3:GetObject",),
        "SAM puts the API's definition inline (Body), so API Gateway reads nothing from S3",
    ),
    UnusedProperty(
        "AWS::ApiGateway::RestApi", ("Policy",), ("apigateway:UpdateRestApiPolicy",), "the API has no resource policy",
    ),
    UnusedProperty(
        "AWS::CodeCommit::Repository", ("Code",), ("s3:GetObject", "s3:GetObjectVersion"),
        "the repository starts empty instead of from a zip file in S3",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class OtherTargets:
    """Handler permissions of ``resource_type`` for the services its ``prop`` could name but ours does not: only the
    actions of ``services`` stay. Every template's value must start with ``arn_prefix``."""

    resource_type: str
    prop: str
    services: tuple[str, ...]
    arn_prefix: str
    why: str


# A WebACLAssociation's schema lists what associating a web ACL with any kind of resource needs (load balancers,
# AppSync, Cognito, App Runner, Amplify, Verified Access...); ours names the API's stage.
# tests/iam/test_deployer_scope.py fails when a template associates a web ACL with something else.
OTHER_TARGETS = (
    OtherTargets(
        "AWS::WAFv2::WebACLAssociation", "ResourceArn", ("wafv2", "apigateway"), "arn:${AWS::Partition}:apigateway:",
        "the web ACL is put on the REST API's stage (apigateway:SetWebACL); the other services' association "
        "actions serve load balancers, AppSync and Cognito, App Runner, Amplify and Verified Access",
    ),
)  # fmt: skip


def _arn_text(value: object) -> str:
    """The literal start of an ARN written as a string or a Fn::Sub (whose variables stay as they are)."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else str(sub[0])
    return value if isinstance(value, str) else ""


def other_targets_named(templates: dict[str, dict]) -> list[str]:
    """Each place a template points a resource that OTHER_TARGETS covers at a service it leaves out."""
    found = []
    for entry in OTHER_TARGETS:
        for name, template in templates.items():
            for logical_id, resource in template["Resources"].items():
                if resource["Type"] != entry.resource_type:
                    continue
                value = _arn_text(resource.get("Properties", {}).get(entry.prop))
                if not value.startswith(entry.arn_prefix):
                    found.append(
                        f"{name}: {logical_id}'s {entry.prop} is not {entry.arn_prefix}...: extend OTHER_TARGETS in "
                        f"tests/iam/deployer_permissions.py to that service's actions and regenerate"
                    )
    return found


# Resource types that exist only when a template's parameter turns them on (their resources carry a Condition that
# is false by default). Their actions go to a policy of their own, which a deployer adds only with that parameter.
OPT_IN = {
    "AWS::CodeCommit::Repository": (
        "CreateCodeCommitRepository=true in notebook-template.yaml",
        ROOT / "docs" / "deployer-policy-codecommit.json",
    ),
}


def _property_set(properties: dict, path: str) -> bool:
    """Whether ``path`` (dotted, "[]" for every list item) names a value in ``properties``."""
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    value = properties.get(head.removesuffix("[]")) if isinstance(properties, dict) else None
    if value is None:
        return False
    if not rest:
        return True
    items = value if many and isinstance(value, list) else [value]
    return any(_property_set(item, rest) for item in items)


def unused_properties_set(templates: dict[str, dict]) -> list[str]:
    """Each place a template sets a property that UNUSED_PROPERTIES says no template sets."""
    found = []
    for entry in UNUSED_PROPERTIES:
        for name, template in templates.items():
            for logical_id, resource in template["Resources"].items():
                if resource["Type"] != entry.resource_type:
                    continue
                for path in entry.paths:
                    if _property_set(resource.get("Properties", {}), path):
                        found.append(
                            f"{name}: {logical_id} sets {path}, so it needs {', '.join(entry.actions)} again: remove "
                            f"that entry from UNUSED_PROPERTIES in tests/iam/deployer_permissions.py and regenerate"
                        )
    return found


def kept_handler_permissions(resource_type: str) -> set[str]:
    dropped = {a for e in UNUSED_PROPERTIES if e.resource_type == resource_type for a in e.actions}
    kept = handler_permissions(resource_type) - dropped
    for entry in OTHER_TARGETS:
        if entry.resource_type == resource_type:
            kept = {a for a in kept if a.split(":")[0] in entry.services}
    return kept


def _handler_reason(resource_type: str, templates: set[str]) -> str:
    return f"CloudFormation handler of {resource_type} ({', '.join(sorted(templates))})"


def _call_actions(calls: list[AwsCall], source: str) -> dict[str, set[str]]:
    actions: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        for check in checks_for(call) + caller_checks(call):
            actions[check.action].add(f"{source}: {call.service}.{call.operation}")
    return actions


RECORDED_SOURCES = ("sam deploy", "scripts", "smoke run")


_recorded: tuple[tuple[str, list[AwsCall]], ...] | None = None


def recorded_calls(session, tmp: Path) -> tuple[tuple[str, list[AwsCall]], ...]:
    """Each of RECORDED_SOURCES with the calls it made under moto. Recorded once per process: the scenarios are
    deterministic, take half a minute, and both the committed lists and the scoped policy's check read them."""
    global _recorded
    if _recorded is None:
        _recorded = (
            ("sam deploy", sam_deploy_calls(session)),
            ("scripts", script_calls(session, tmp)),
            ("smoke run", smoke_calls(session, tmp)),
        )
    return _recorded


def collect(session, tmp: Path) -> dict[str, set[str]]:
    """IAM action -> why the deploying user needs it."""
    needed: dict[str, set[str]] = defaultdict(set)
    for resource_type, templates in sorted(template_resource_types().items()):
        for action in kept_handler_permissions(resource_type):
            needed[action].add(_handler_reason(resource_type, templates))
    for source, calls in recorded_calls(session, tmp):
        for action, reasons in _call_actions(calls, source).items():
            needed[action] |= reasons
    return needed


def unexplained_actions(actions: set[str], reasons: dict[str, set[str]]) -> list[str]:
    """Actions that neither a kept handler permission of a template's resource type nor a recorded call explains."""
    types = template_resource_types()
    unexplained = []
    for action in sorted(actions):
        handlers = [t for t in types if action in kept_handler_permissions(t)]
        recorded = [r for r in reasons.get(action, ()) if r.split(":")[0] in RECORDED_SOURCES]
        if not handlers and not recorded:
            unexplained.append(action)
    return unexplained


# CloudFormation names what it creates after the stack (role/<stack>-<logical id>-<suffix>, a bucket
# <stack>-<logical id>-<suffix> in lowercase, a function <stack>-<logical id>-<suffix>, and so on), and the project's
# stacks start with "mysfits-". Where the template names a resource itself (the notebook, its lifecycle
# configuration) or the scripts do (training jobs, models, endpoint configs, endpoints), the name starts with the
# notebook template's ProjectName, "mysfits" by default. The SAM CLI's own stack and bucket have fixed names.
PREFIX = "mysfits-"
SAM_STACK = "aws-sam-cli-managed-default"
SAGEMAKER_TYPES = (
    "training-job", "transform-job", "model", "endpoint-config", "endpoint", "notebook-instance",
    "notebook-instance-lifecycle-config",
)  # fmt: skip
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"


@dataclass(frozen=True)
class Scope:
    resources: tuple[str, ...]
    how: str  # for the document
    condition: dict | None = None


SCOPES = {
    "apigateway": Scope(
        (
            "arn:aws:apigateway:*::/restapis",
            "arn:aws:apigateway:*::/restapis/*",
            "arn:aws:apigateway:*::/account",
            "arn:aws:apigateway:*::/tags/*",
        ),
        "REST APIs and what lives under them (deployments, stages), the account's logging setting, and tags. API "
        "Gateway's ARNs are paths with generated ids, so no name prefix is possible; custom domains, API keys, usage "
        "plans and VPC links are out.",
    ),
    "cloudformation": Scope(
        (
            f"arn:aws:cloudformation:*:*:stack/{PREFIX}*/*",
            f"arn:aws:cloudformation:*:*:stack/{SAM_STACK}/*",
            "arn:aws:cloudformation:*:aws:transform/Serverless-2016-10-31",
        ),
        f"stacks named `{PREFIX}*` and the SAM CLI's `{SAM_STACK}`, plus SAM's transform, which a change set of "
        "template.yaml uses.",
    ),
    "cloudfront": Scope(
        (
            "arn:aws:cloudfront::*:distribution/*",
            "arn:aws:cloudfront::*:origin-access-control/*",
            "arn:aws:cloudfront::*:connection-group/*",
        ),
        "distributions, origin access controls and connection groups. Their ids are generated, so this names the "
        "resource types only: for these actions it is no narrower than `*`, which is said here rather than hidden.",
    ),
    "cloudwatch": Scope(
        (f"arn:aws:cloudwatch:*:*:alarm:{PREFIX}*", f"arn:aws:cloudwatch::*:dashboard/{PREFIX}*"),
        f"alarms and dashboards named `{PREFIX}*` (the API stack's `<stack>-<what>` alarms and its "
        "`<stack>-operations` dashboard).",
    ),
    "codecommit": Scope(
        (f"arn:aws:codecommit:*:*:{PREFIX}*",), f"repositories named `{PREFIX}*` (`<ProjectName>-recommendations`)."
    ),
    "dynamodb": Scope(
        (f"arn:aws:dynamodb:*:*:table/{PREFIX}*",),
        f"tables named `{PREFIX}*` (the API stack's `<stack>-ChoicesTable-<suffix>`).",
    ),
    "iam": Scope(
        (f"arn:aws:iam::*:role/{PREFIX}*",),
        f"roles named `{PREFIX}*`; `iam:PassRole` has a statement of its own with `iam:PassedToService`.",
    ),
    "kms": Scope(
        ("arn:aws:kms:*:*:key/*",),
        "keys, only when DynamoDB uses them for the caller (`kms:ViaService`): the choices table is encrypted with "
        "the AWS managed key `aws/dynamodb`, whose id differs per account and region. Untried: if a deploy is "
        "refused a KMS action, this condition is the first suspect.",
        {"StringLike": {"kms:ViaService": "dynamodb.*.amazonaws.com"}},
    ),
    "lambda": Scope((f"arn:aws:lambda:*:*:function:{PREFIX}*",), f"functions named `{PREFIX}*`."),
    "logs": Scope(
        (f"arn:aws:logs:*:*:log-group:{PREFIX}*",),
        f"log groups named `{PREFIX}*` (the stack's function and access-log groups); reading a training job's log "
        f"has a statement of its own on `{TRAINING_LOG_GROUP}`.",
    ),
    "s3": Scope(
        (
            f"arn:aws:s3:::{PREFIX}*",
            f"arn:aws:s3:::{PREFIX}*/*",
            f"arn:aws:s3:::{SAM_STACK}-*",
            f"arn:aws:s3:::{SAM_STACK}-*/*",
        ),
        f"buckets named `{PREFIX}*` (the notebook stack's data bucket, the website bucket) and the SAM CLI's managed "
        "bucket, and their objects; reads included.",
    ),
    "sns": Scope(
        (f"arn:aws:sns:*:*:{PREFIX}*",),
        f"topics named `{PREFIX}*` (the API stack's alarm topic, `<stack>-AlarmTopic-<suffix>`, when AlarmEmail is "
        "set).",
    ),
    "wafv2": Scope(
        (
            f"arn:aws:wafv2:*:*:regional/webacl/{PREFIX}*/*",
            f"arn:aws:wafv2:*:*:regional/rulegroup/{PREFIX}*/*",
            "arn:aws:apigateway:*::/restapis/*/stages/*",
        ),
        f"regional web ACLs named `{PREFIX}*` (the API stack's `<stack>-client-limits`); REST API stages, which "
        "associating, reading and removing a web ACL also authorize against (their ids are generated, so no prefix); "
        "and rule groups of that name for the two permission-policy actions the association's handler lists (the "
        "project has none).",
    ),
    "sagemaker": Scope(
        tuple(f"arn:aws:sagemaker:*:*:{kind}/{PREFIX}*" for kind in SAGEMAKER_TYPES),
        "training jobs, models, endpoint configs, endpoints, the notebook and its lifecycle configuration named "
        f"`{PREFIX}*` (the notebook template's ProjectName is `mysfits` by default; another prefix needs this edited).",
    ),
}
# Actions with resources of their own, different from their service's scope.
ACTION_SCOPES = {
    "logs:DescribeLogStreams": (
        "LogsFindTrainingJobLogStreams",
        (f"arn:aws:logs:*:*:log-group:{TRAINING_LOG_GROUP}", f"arn:aws:logs:*:*:log-group:{TRAINING_LOG_GROUP}:*"),
    ),
    "logs:GetLogEvents": (
        "LogsReadTrainingJobLogs",
        (f"arn:aws:logs:*:*:log-group:{TRAINING_LOG_GROUP}:log-stream:{PREFIX}*",),
    ),
    # A dependent of CreateFunction in the Service Authorization Reference, checked against a capacity provider only
    # when the function names one (ours names none).
    "lambda:PassCapacityProvider": (
        "LambdaPassProjectCapacityProviders",
        (f"arn:aws:lambda:*:*:capacity-provider:{PREFIX}*",),
    ),
}
PASSED_TO = ["apigateway.amazonaws.com", "lambda.amazonaws.com", "sagemaker.amazonaws.com"]


def access_level(action: str) -> str:
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":")
    # One entry per resource type the action takes; they share the access level.
    return get_action_data(service, name)[service][0]["access_level"]


def _statements(service: str, actions: list[str]) -> list[dict]:
    """A service's actions as statements: those the Service Authorization Reference gives no resource type on
    ``*`` (IAM accepts nothing else for them), ``iam:PassRole`` limited to the project's roles and to the services
    that take them, the few in ACTION_SCOPES on their own resources, and the rest on the service's Scope."""
    sid = service.replace("-", "").capitalize()
    unscoped = [a for a in actions if not resource_types(a)]
    own = [a for a in actions if a in ACTION_SCOPES]
    rest = [a for a in actions if a not in unscoped and a not in own and a != "iam:PassRole"]
    statements = []
    if unscoped:
        statements.append({"Sid": f"{sid}NoResourceType", "Effect": "Allow", "Action": unscoped, "Resource": "*"})
    if rest:
        if service not in SCOPES:
            raise ValueError(f"{service} has actions with resource types ({', '.join(rest)}): add it to SCOPES")
        scope = SCOPES[service]
        statement = {"Sid": f"{sid}Project", "Effect": "Allow", "Action": rest, "Resource": list(scope.resources)}
        if scope.condition:
            statement["Condition"] = scope.condition
        statements.append(statement)
    for action in own:
        own_sid, resources = ACTION_SCOPES[action]
        statements.append({"Sid": own_sid, "Effect": "Allow", "Action": [action], "Resource": list(resources)})
    if "iam:PassRole" in actions:
        statements.append(
            {
                "Sid": "IamPassProjectRoles",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": list(SCOPES["iam"].resources),
                "Condition": {"StringEquals": {"iam:PassedToService": PASSED_TO}},
            }
        )
    return statements


def policy_document(actions: list[str]) -> str:
    by_service: dict[str, list[str]] = defaultdict(list)
    for action in sorted(actions, key=str.lower):
        by_service[action.split(":")[0]].append(action)
    statements = []
    for service, service_actions in sorted(by_service.items()):
        statements += _statements(service, service_actions)
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2) + "\n"


def _opt_in_type(reasons: set[str]) -> str | None:
    """The opt-in resource type that alone explains an action, if any."""
    for resource_type in OPT_IN:
        prefix = f"CloudFormation handler of {resource_type} ("
        if reasons and all(r.startswith(prefix) for r in reasons):
            return resource_type
    return None


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(needed: dict[str, set[str]]) -> tuple[str, dict[Path, str]]:
    """The document, and each policy file's text by path."""
    from tests.iam.deployer_audit import ACCEPTED

    unknown = sorted(a for a in needed if not action_exists(a))
    needed = {a: why for a, why in needed.items() if a not in unknown}
    opt_in: dict[str, list[str]] = defaultdict(list)
    main_actions = []
    for action, reasons in needed.items():
        kind = _opt_in_type(reasons)
        (opt_in[kind] if kind else main_actions).append(action)
    policies = {POLICY: policy_document(main_actions)}
    for kind, actions in sorted(opt_in.items()):
        policies[OPT_IN[kind][1]] = policy_document(actions)
    templates = ", ".join(f"`{t}`" for t in TEMPLATES)
    lines = [
        "# Permissions for the person who deploys this project",
        "",
        f"Generated by `python -m tests.iam.deployer_permissions` from the templates ({templates}), the SAM CLI's",
        "code and the scripts' recorded AWS calls; a test fails when this file or a policy file is out of date. Do",
        "not edit by hand.",
        "",
        "They cover `aws cloudformation deploy` of `notebook-template.yaml`, `sam deploy --resolve-s3` of",
        "`template.yaml`, `sam deploy --config-env website` of `website-template.yaml` (a refused create",
        "included, which SAM deletes again), `scripts/train_and_deploy.py --mode sagemaker --deploy-api",
        "--deploy-web` and",
        "`scripts/cleanup.py --delete-stacks`, and `scripts/smoke_aws.py` (which runs all of these), run with your",
        "own credentials (the notebook's role is separate and much narrower).",
        "[`deployer-policy.json`](deployer-policy.json) holds them as one policy you can attach.",
        *(
            f"[`{path.name}`]({path.name}) is a second policy, needed only with {OPT_IN[kind][0]}."
            for kind, (_, path) in sorted(OPT_IN.items())
            if path in policies
        ),
        "",
        "How to read it:",
        "",
        "- CloudFormation creates, updates and deletes the stacks' resources with your credentials, so each resource",
        "  type's handler permissions are listed, from the resource schemas cfn-lint ships, except those that serve",
        "  only properties no template sets (the next section). A test fails if a template starts setting one.",
        "- Every statement is scoped to the project's resources where IAM allows it (the table below): name your",
        f"  stacks `{PREFIX}...`. Only actions for which the Service Authorization Reference lists no resource type",
        "  are on `*`, in statements whose name ends in `NoResourceType`.",
        "- CodeCommit: the notebook template creates a repository only with CreateCodeCommitRepository=true (off by",
        "  default; AWS no longer offers CodeCommit to new customers). Its actions are in a separate policy file,",
        "  so that the usual deployer never holds them; attach it too if you turn the repository on.",
        "- Nothing here has been tried against a real account: the calls were recorded under moto, including the",
        "  paths a real account takes that moto alone does not (the SDK's log streaming with a log stream present,",
        "  `sam deploy` on an existing stack, a deploy that rolls back); tests/iam/test_recorded_paths.py holds them,",
        "  and checks every recorded call against the scoped policy's resources. Which handler permissions a",
        "  handler skips when a property is unset was judged from the schemas and AWS's documentation, not measured.",
        "- cloudsplaining and parliament audit the policy offline in tests/iam/test_deployer_audit.py; the findings",
        "  they still report, and why each is accepted, are listed below. The audit cannot see one thing: whoever",
        f"  holds this policy can create a `{PREFIX}*` role with any permissions and pass it to Lambda or SageMaker,",
        "  which is what deploying the stacks requires. Give the deployer a permissions boundary if that matters.",
        "- Not done yet: the policy has not been tried in a real account, and the name prefix is fixed at",
        f"  `{PREFIX}` (a stack or ProjectName outside it is refused).",
        *(
            [
                f"- Left out, as they are not IAM actions in the Service Authorization Reference: "
                f"{', '.join(f'`{a}`' for a in unknown)}."
            ]
            if unknown
            else []
        ),
        "",
        "## How each service is scoped",
        "",
        "| service | resources |",
        "|---|---|",
        *(f"| {service} | {_cell(scope.how)} |" for service, scope in sorted(SCOPES.items())),
        *(
            f"| `{action}` alone | {', '.join(f'`{r}`' for r in resources)} ({sid}) |"
            for action, (sid, resources) in sorted(ACTION_SCOPES.items())
        ),
        "",
        "## Handler permissions left out: properties no template sets",
        "",
        "| resource type | properties | actions left out | why |",
        "|---|---|---|---|",
        *(
            f"| {e.resource_type} | {', '.join(f'`{p}`' for p in e.paths)} | "
            f"{', '.join(f'`{a}`' for a in e.actions)} | {_cell(e.why)} |"
            for e in UNUSED_PROPERTIES
        ),
        "",
        "A resource that can point at many kinds of resource keeps only the actions for the kind ours names:",
        "",
        "| resource type | property | actions kept | why |",
        "|---|---|---|---|",
        *(
            f"| {e.resource_type} | `{e.prop}` (`{e.arn_prefix}...`) | those of {', '.join(e.services)} | "
            f"{_cell(e.why)} |"
            for e in OTHER_TARGETS
        ),
        "",
        "An action left out for one resource type stays when another type's handler or a recorded call needs it.",
        "",
        "## Audit findings accepted",
        "",
        "| tool | finding | subject | why it stays |",
        "|---|---|---|---|",
        *(
            f"| {tool} | {kind} | `{subject}` | {_cell(why)} |"
            for (tool, kind, subject), why in sorted(ACCEPTED.items())
        ),
        "",
        "## Actions",
        "",
        "| action | policy | why |",
        "|---|---|---|",
    ]
    for action in sorted(needed, key=str.lower):
        kind = _opt_in_type(needed[action])
        where = OPT_IN[kind][1].name if kind else POLICY.name
        lines.append(f"| `{action}` | {where} | {'; '.join(sorted(needed[action]))} |")
    return "\n".join(lines) + "\n", policies


def generate() -> tuple[str, dict[Path, str]]:
    """Run the recording scenarios under moto, with credentials that reach nothing else."""
    import os
    from unittest import mock

    import boto3
    from moto import mock_aws

    fake = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }
    with mock.patch.dict(os.environ, fake), mock_aws(), tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("AWS_PROFILE", None)
        return render(collect(boto3.Session(region_name=REGION), Path(tmp)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files are out of date")
    args = parser.parse_args(argv)
    doc, policies = generate()
    files = {DOC: doc, **policies}
    stale_opt_in = [path for _, path in OPT_IN.values() if path not in policies and path.exists()]
    if args.check:
        stale = [p.name for p, text in files.items() if not p.exists() or p.read_text() != text]
        stale += [p.name for p in stale_opt_in]
        if stale:
            print(f"out of date: {', '.join(stale)}; run python -m tests.iam.deployer_permissions", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
    for path in stale_opt_in:
        path.unlink()
    print(f"wrote {', '.join(str(p.relative_to(ROOT)) for p in files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
