"""What a fresh account would refuse, found before anything is created or uploaded (issue 18, items 4 and 5): a
SageMaker quota of 0, or a region without the built-in kNN image. Service Quotas is answered by botocore's Stubber,
on a real client; the image lookup is the SDK's own table."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from mysfits.aws.train_and_deploy import Toolkit, main
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.iam.scenarios import QUOTAS, quotas_answered
from tests.integration.test_train_and_deploy import NOTEBOOK_STAND_IN


def _quota(name: str, code: str, value: float) -> dict:
    return {"ServiceCode": "sagemaker", "QuotaName": name, "QuotaCode": code, "Value": value}


class _QuotasOnly:
    """A session that makes only the Service Quotas client; a dry run must ask AWS for nothing else."""

    def __init__(self, client):
        self._client = client

    def client(self, name: str):
        assert name == "service-quotas", f"a dry run created a {name} client"
        return self._client


def _dry_run(tmp_path, quotas: list[dict], *extra: str) -> tuple[int, Stubber]:
    client = boto3.client("service-quotas", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response("list_service_quotas", {"Quotas": quotas}, {"ServiceCode": "sagemaker"})
    toolkit = Toolkit(session_factory=lambda region: _QuotasOnly(client), out=lambda _: None)
    argv = ["--mode", "sagemaker", "--region", REGION, "--bucket", "b", "--role", "arn:aws:iam::1:role/r"]
    argv += ["--data", str(tmp_path / "answers.csv"), "--samconfig", str(tmp_path / "samconfig.toml"), "--dry-run"]
    with stubber:
        code = main([*argv, *extra], toolkit)
    stubber.assert_no_pending_responses()
    return code, stubber


def test_dry_run_names_a_zero_training_quota_and_how_to_raise_it(tmp_path, capsys):
    quotas = [
        _quota("ml.m5.large for training job usage", "L-TRAIN", 0.0),
        _quota("ml.m5.large for endpoint usage", "L-ENDPT", 1.0),
    ]
    code, _ = _dry_run(tmp_path, quotas)
    err = capsys.readouterr().err
    assert code == 2
    assert "'ml.m5.large for training job usage' is 0, the run needs 1" in err
    assert "--quota-code L-TRAIN --desired-value 1" in err and "servicequotas/home/services/sagemaker" in err
    assert "endpoint usage" not in err, "a quota that is high enough is not reported"
    assert list(tmp_path.iterdir()) == [], "a dry run writes nothing"


def test_dry_run_names_a_zero_endpoint_quota_for_the_chosen_instance(tmp_path, capsys):
    quotas = [
        _quota("ml.m5.large for training job usage", "L-TRAIN", 1.0),
        _quota("ml.c5.xlarge for endpoint usage", "L-C5", 0.0),
    ]
    code, _ = _dry_run(tmp_path, quotas, "--instance-type", "ml.c5.xlarge")
    assert code == 2
    assert "'ml.c5.xlarge for endpoint usage' is 0" in capsys.readouterr().err


def test_dry_run_checks_serverless_concurrency_against_the_endpoints(tmp_path, capsys):
    name = "Maximum total concurrency that can be allocated across all serverless endpoints"
    quotas = [_quota("ml.m5.large for training job usage", "L-TRAIN", 1.0), _quota(name, "L-SLC", 3.0)]
    code, _ = _dry_run(tmp_path, quotas, "--serverless", "--max-concurrency", "5")
    assert code == 2
    assert "is 3, the run needs 5" in capsys.readouterr().err
    code, _ = _dry_run(tmp_path, quotas, "--serverless", "--max-concurrency", "2")
    assert code == 0


def test_dry_run_passes_when_the_quotas_allow_the_plan(tmp_path, capsys):
    quotas = [
        _quota("ml.m5.large for training job usage", "L-TRAIN", 1.0),
        _quota("ml.m5.large for endpoint usage", "L-ENDPT", 1.0),
    ]
    code, _ = _dry_run(tmp_path, quotas)
    assert code == 0, capsys.readouterr().err


@pytest.mark.parametrize("region", ["mx-central-1", "ap-southeast-7"])
def test_a_region_without_the_knn_image_stops_before_any_aws_call(tmp_path, capsys, region):
    """SageMaker lists these regions, but the SDK's image table has no kNN image for them (checked against the
    installed SDK; a later SDK may add them, and then this test names the region to drop)."""
    import botocore.session

    assert region in botocore.session.get_session().get_available_regions("sagemaker")

    def no_session(_region):
        raise AssertionError("no AWS client may be made for a region the run cannot use")

    argv = ["--mode", "sagemaker", "--region", region, "--bucket", "b", "--role", "arn:aws:iam::1:role/r"]
    argv += ["--data", str(tmp_path / "answers.csv"), "--samconfig", str(tmp_path / "samconfig.toml")]
    for extra in (["--dry-run"], []):
        assert main([*argv, *extra], Toolkit(session_factory=no_session, out=lambda _: None)) == 2
        err = capsys.readouterr().err
        assert f"no built-in kNN image for region {region}" in err and err.count("\n") == 1


def test_a_zero_quota_stops_a_real_run_before_the_upload(moto_session, tmp_path, capsys, small_data):
    cfn, s3 = moto_session.client("cloudformation"), moto_session.client("s3")
    cfn.create_stack(StackName="mysfits-notebook", TemplateBody=NOTEBOOK_STAND_IN)
    bucket = next(
        o["OutputValue"]
        for o in cfn.describe_stacks(StackName="mysfits-notebook")["Stacks"][0]["Outputs"]
        if o["OutputKey"] == "BucketName"
    )
    zero = {"Quotas": [dict(q, Value=0.0) if "training" in q["QuotaName"] else q for q in QUOTAS["Quotas"]]}
    argv = ["--mode", "sagemaker", "--region", REGION, "--notebook-stack", "mysfits-notebook", "--no-logs"]
    argv += ["--data", str(small_data.path), "--samconfig", str(tmp_path / "samconfig.toml")]
    with quotas_answered(moto_session, zero):
        code = main(argv, Toolkit(session_factory=lambda region: moto_session, out=lambda _: None))
    assert code == 2
    assert "training job usage' is 0" in capsys.readouterr().err
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0, "nothing may be uploaded"
    assert moto_session.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []


def test_a_quota_never_changed_is_read_from_aws_defaults(tmp_path, capsys):
    """Issue 32, item 9: ListServiceQuotas lists only applied values. A quota this account never changed is missing
    there, and its default (ListAWSDefaultServiceQuotas) decides: here 0, so the run stops before anything."""
    client = boto3.client("service-quotas", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    applied = [_quota("ml.m5.large for endpoint usage", "L-ENDPT", 1.0)]
    defaults = [_quota("ml.m5.large for training job usage", "L-TRAIN", 0.0), *applied]
    stubber.add_response("list_service_quotas", {"Quotas": applied}, {"ServiceCode": "sagemaker"})
    stubber.add_response("list_aws_default_service_quotas", {"Quotas": defaults}, {"ServiceCode": "sagemaker"})
    toolkit = Toolkit(session_factory=lambda region: _QuotasOnly(client), out=lambda _: None)
    argv = ["--mode", "sagemaker", "--region", REGION, "--bucket", "b", "--role", "arn:aws:iam::1:role/r"]
    argv += ["--data", str(tmp_path / "answers.csv"), "--samconfig", str(tmp_path / "samconfig.toml"), "--dry-run"]
    with stubber:
        assert main(argv, toolkit) == 2
    stubber.assert_no_pending_responses()
    err = capsys.readouterr().err
    assert "'ml.m5.large for training job usage' is 0 (AWS's default: never changed in this account)" in err
    assert "--quota-code L-TRAIN" in err


def test_the_serverless_quota_is_matched_by_its_code_not_by_words_of_its_name(tmp_path, capsys):
    """Another quota whose name holds "serverless" and "concurrency" is not the account-wide total; the total is
    found by its code even under another name."""
    quotas = [
        _quota("ml.m5.large for training job usage", "L-TRAIN", 1.0),
        _quota("Maximum concurrency of a single serverless endpoint variant", "L-OTHER", 3.0),
        _quota("Total serverless concurrency (renamed)", "L-96300102", 10.0),
    ]
    code, _ = _dry_run(tmp_path, quotas, "--serverless", "--max-concurrency", "5")
    assert code == 0, capsys.readouterr().err
    quotas[2] = dict(quotas[2], Value=4.0)
    code, _ = _dry_run(tmp_path, quotas, "--serverless", "--max-concurrency", "5")
    assert code == 2 and "'Total serverless concurrency (renamed)' is 4, the run needs 5" in capsys.readouterr().err
