"""scripts/train_and_deploy.py --choices-table: visitors' choices join the SageMaker training data, and the new model
replaces the serving one only when the held-out choices show it is better beyond luck (mysfits.loop.judge).

Real: the script, the SageMaker SDK, every boto3 client, the choices written by the API's own DynamoDB store, and
the serving endpoint's answers (a local endpoint speaking the SageMaker Runtime protocol). moto: the control plane
and DynamoDB; its training jobs learn and its batch transform jobs answer through tests/moto_training_jobs.py, so
the new model's answers on the held-out choices are real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mysfits.aws.train_and_deploy import Toolkit, main
from mysfits.loop import retrain
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import save_model
from mysfits.samconfig import read_overrides
from tests import choice_rows
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.iam.scenarios import QUOTAS, _sdk_without_pauses, quotas_answered
from tests.integration.test_train_and_deploy import NOTEBOOK_STAND_IN, SAMCONFIG, RecordingRunner
from tests.moto_training_jobs import training_jobs_that_train
from tests.moto_update_endpoint import moto_update_endpoint
from tests.smoke_world import _choices_table

ENDPOINT = "mysfits-knn"
SERVING_CONFIG = "mysfits-knn-serving"


@pytest.fixture
def aws(moto_session):
    with (
        quotas_answered(moto_session, QUOTAS),
        moto_update_endpoint(),
        training_jobs_that_train() as jobs,
        _sdk_without_pauses(),  # moto's job is done at once; the SDK's 5 s polls would only cost time
    ):
        moto_session.client("cloudformation").create_stack(StackName="mysfits-notebook", TemplateBody=NOTEBOOK_STAND_IN)
        _choices_table(moto_session)
        yield moto_session, jobs


def record_choices(session, data: ds.Dataset) -> None:
    choice_rows.record_choices(session.client("dynamodb"), "ChoicesTable", data)


def serving_endpoint(session, variant: str = "ordinal-0123456789ab") -> None:
    """The endpoint an earlier run left serving (its model is whatever the local endpoint serves)."""
    sm = session.client("sagemaker")
    sm.create_model(
        ModelName=SERVING_CONFIG,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/mysfits-notebook-NotebookRole",
        PrimaryContainer={"Image": "438346466558.dkr.ecr.eu-west-1.amazonaws.com/knn:1", "ModelDataUrl": "s3://b/m"},
    )
    sm.create_endpoint_config(
        EndpointConfigName=SERVING_CONFIG,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": SERVING_CONFIG,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=SERVING_CONFIG)


def run(session, tmp_path: Path, data: Path, *extra: str) -> tuple[int, str, RecordingRunner]:
    lines: list[str] = []
    runner = RecordingRunner()
    toolkit = Toolkit(session_factory=lambda region: session, runner=runner, out=lines.append, sleep=lambda _: None)
    argv = [
        "--mode", "sagemaker", "--region", REGION, "--notebook-stack", "mysfits-notebook", "--data", str(data),
        "--sample-size", "5000", "--k", "20", "--no-logs", "--samconfig", str(tmp_path / "samconfig.toml"),
        "--choices-table", "ChoicesTable", *extra,
    ]  # fmt: skip
    return main(argv, toolkit), "\n".join(lines), runner


def uniform_base(tmp_path: Path) -> Path:
    """The workshop's situation: base rows with no signal at all."""
    return ds.write_csv(ds.generate(10_000, seed=5, signal=0.0), tmp_path / "uniform.csv")


def held_out_accuracy(model, choices: ds.Dataset) -> float:
    return float(np.mean(training.predict(np.frombuffer(model.table, np.uint8), choices.X) == choices.y))


def test_a_better_model_from_choices_replaces_the_serving_one(aws, tmp_path, monkeypatch):
    from mysfits.local.endpoint import server

    session, jobs = aws
    visitors = ds.generate(1_000, seed=21)
    record_choices(session, visitors)
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    serving_endpoint(session)
    # The serving model learned from the uniform base alone: about one in twelve.
    champion = training.train_model(ds.load_csv(uniform_base(tmp_path)), k=20, sample_size=5_000, seed=1)
    champion_file = save_model(champion, tmp_path / "champion.json")
    with server.serve_in_thread(str(champion_file), name=ENDPOINT, port=0) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoint.url)
        # Ten rows per choice, not the default million rows: moto's S3 and training jobs would take minutes.
        code, text, _ = run(session, tmp_path, tmp_path / "uniform.csv", "--recombine", "10")
    assert code == 0, text

    # The choices went to S3 in the workshop's format, all of them, outside the training channels.
    s3 = session.client("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"])
    exported = s3.get_object(Bucket=bucket, Key=f"{ENDPOINT}/choices/choices.csv")["Body"].read().decode()
    assert len(exported.splitlines()) == 1_000
    assert {len(line.split(",")) for line in exported.splitlines()} == {6}

    # The job learned from the learning share, recombined ten times over (plus about 10/1000 of the base), and was
    # tested on the held-out share as it is.
    train_csv = s3.get_object(Bucket=bucket, Key=f"{ENDPOINT}/data/train/train.csv")["Body"].read().decode()
    test_csv = s3.get_object(Bucket=bucket, Key=f"{ENDPOINT}/data/test/test.csv")["Body"].read().decode()
    held_out = len(test_csv.splitlines())
    assert 1_000 * 0.12 < held_out < 1_000 * 0.28
    learned = 1_000 - held_out
    assert 10 * learned <= len(train_csv.splitlines()) <= 10 * learned + 10_000 * 0.9 * 0.02
    (challenger,) = jobs.values()
    assert challenger > 0.5

    # The comparison was printed (from the batch transform's answers), the new model deployed, and samconfig and
    # sam deploy follow it; the model made for the transform job is gone again.
    assert f"judged on {held_out:,} held-out choices" in text
    assert "promoted: the challenger is better than the champion beyond luck" in text
    assert "batch transform job mysfits-knn-judge-" in text and "deleted model mysfits-knn-judge-" in text
    models = session.client("sagemaker").list_models()["Models"]
    assert not [m for m in models if "-judge-" in m["ModelName"]]
    sm = session.client("sagemaker")
    serving = sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    assert serving != SERVING_CONFIG
    assert read_overrides(tmp_path / "samconfig.toml")["SageMakerEndpointName"] == ENDPOINT


def test_a_worse_model_leaves_the_endpoint_and_samconfig_alone(aws, tmp_path, monkeypatch, model_path):
    """A challenger whose k equals its sample (every answer gets the same majority vote) against a good champion:
    it loses on the held-out choices, and nothing is replaced, deployed or rewritten."""
    from mysfits.local.endpoint import server

    session, jobs = aws
    record_choices(session, ds.generate(1_000, seed=22))
    samconfig_text = SAMCONFIG
    (tmp_path / "samconfig.toml").write_text(samconfig_text)
    serving_endpoint(session)
    with server.serve_in_thread(str(model_path), name=ENDPOINT, port=0) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoint.url)
        code, text, runner = run(
            session, tmp_path, uniform_base(tmp_path), "--k", "1000", "--sample-size", "1000", "--deploy-api"
        )
    assert code == 0, text
    assert "kept the champion" in text
    assert f"endpoint {ENDPOINT} and {tmp_path / 'samconfig.toml'} are unchanged" in text
    sm = session.client("sagemaker")
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == SERVING_CONFIG
    assert len(sm.list_endpoint_configs()["EndpointConfigs"]) == 1
    assert (tmp_path / "samconfig.toml").read_text() == samconfig_text
    assert runner.calls == []
    assert len(jobs) == 1


def test_too_few_choices_stop_before_anything_is_created(aws, tmp_path, capsys):
    session, jobs = aws
    record_choices(session, ds.generate(retrain.minimum_choices() // 2, seed=23))
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    code, _, _ = run(session, tmp_path, uniform_base(tmp_path))
    assert code == 2
    error = capsys.readouterr().err
    assert "--choices-table ChoicesTable: too few choices to judge a new model" in error
    assert error.count("\n") == 1
    assert not jobs
    s3 = session.client("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"])
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_with_no_endpoint_yet_the_model_is_deployed_without_a_comparison(aws, tmp_path, monkeypatch, model_path):
    from mysfits.local.endpoint import server

    session, _ = aws
    record_choices(session, ds.generate(1_000, seed=24))
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    with server.serve_in_thread(str(model_path), name=ENDPOINT, port=0) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoint.url)
        code, text, _ = run(session, tmp_path, uniform_base(tmp_path))
    assert code == 0, text
    assert f"no model serves at {ENDPOINT}: nothing to judge against, so no batch transform" in text
    assert f"endpoint {ENDPOINT} serves no model: the new one is deployed without a comparison" in text
    assert session.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "InService"


def test_the_champion_is_scored_in_its_own_encoding(aws, tmp_path, monkeypatch):
    """A one-hot model serving, an ordinal challenger: the champion's rows are sent one-hot, as its variant says
    (sent as the challenger's five features, the endpoint would refuse them and the run would stop)."""
    from mysfits.local.endpoint import server

    session, _ = aws
    visitors = ds.generate(1_000, seed=25)
    record_choices(session, visitors)
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    serving_endpoint(session, variant="one-hot-0123456789ab")
    clean = ds.generate(12_000, seed=26)
    champion = training.train_model(clean, k=20, sample_size=5_000, seed=1, encoding="one-hot")
    champion_file = save_model(champion, tmp_path / "champion.json")
    with server.serve_in_thread(str(champion_file), name=ENDPOINT, port=0) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoint.url)
        # An ordinal challenger that loses (k = its sample), so the run ends at the comparison: after a deploy the
        # stand-in endpoint would still serve the one-hot champion.
        code, text, _ = run(session, tmp_path, uniform_base(tmp_path), "--k", "1000", "--sample-size", "1000")
    assert code == 0, text
    assert "kept the champion" in text
    # The figure printed for the serving model is the one-hot champion's own accuracy on the held-out choices (no
    # exploration in these rows, so taste is what they chose).
    from mysfits.aws.choices_table import DynamoDbChoiceReader

    _, judge = retrain.split_choices(list(DynamoDbChoiceReader(session.client("dynamodb"), "ChoicesTable").choices()))
    assert f"champion {held_out_accuracy(champion, judge.as_dataset()):.2%}" in text


def test_the_dry_run_shows_the_choice_steps_in_order(aws, tmp_path):
    session, jobs = aws
    lines: list[str] = []
    toolkit = Toolkit(session_factory=lambda region: session, out=lines.append)
    argv = [
        "--mode", "sagemaker", "--region", REGION, "--notebook-stack", "mysfits-notebook", "--dry-run",
        "--samconfig", str(tmp_path / "samconfig.toml"), "--choices-table", "ChoicesTable", "--confidence", "0.9",
    ]  # fmt: skip
    assert main(argv, toolkit) == 0
    text = "\n".join(lines)
    steps = ["dynamodb:Scan ChoicesTable", "choices/choices.csv", "CreateTrainingJob", "CreateTransformJob",
             "better beyond luck at 0.9 confidence", "sagemaker:CreateModel and",
             "SageMakerEndpointName=mysfits-knn"]  # fmt: skip
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)
    assert not jobs


def test_local_mode_refuses_the_choices_table(tmp_path, capsys):
    code = main(["--choices-table", "ChoicesTable", "--samconfig", str(tmp_path / "samconfig.toml")])
    assert code == 2
    assert "--choices-table only apply with --mode sagemaker" in capsys.readouterr().err


def test_visitors_who_trust_the_page_do_not_freeze_the_loop_on_aws_either(aws, tmp_path, monkeypatch):
    """Half the visitors adopt what a uniform model showed them: the old judge credited that model with their
    adoptions and kept every challenger out. The batch transform's answers are judged on taste, and the new model
    replaces it."""
    from mysfits.local.endpoint import server
    from tests.loop_support import visitors

    session, _ = aws
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    serving_endpoint(session)
    champion = training.train_model(ds.load_csv(uniform_base(tmp_path)), k=20, sample_size=5_000, seed=1)
    trusting = visitors(ds.generate(1_500, seed=27), np.frombuffer(champion.table, np.uint8), follow=0.5, rate=0.1,
                        seed=8, version="ordinal-0123456789ab")  # fmt: skip
    choice_rows.record_exposed(session.client("dynamodb"), "ChoicesTable", trusting)
    with server.serve_in_thread(str(save_model(champion, tmp_path / "champion.json")), name=ENDPOINT, port=0) as ep:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", ep.url)
        code, text, _ = run(session, tmp_path, tmp_path / "uniform.csv")
    assert code == 0, text
    assert "of visitors adopt what they are shown" in text
    assert "promoted: the challenger is better than the champion beyond luck" in text
    assert session.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] != SERVING_CONFIG


def test_random_adopts_never_replace_a_good_model_on_aws(aws, tmp_path, monkeypatch, model_path):
    from mysfits.local.endpoint import server
    from mysfits.model.artifact import load_model
    from tests.loop_support import random_adopters

    session, _ = aws
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    serving_endpoint(session)
    good = np.frombuffer(load_model(model_path).table, np.uint8)
    noise = random_adopters(ds.generate(1_500, seed=28), good, rate=0.1, seed=9)
    choice_rows.record_exposed(session.client("dynamodb"), "ChoicesTable", noise)
    with server.serve_in_thread(str(model_path), name=ENDPOINT, port=0) as ep:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", ep.url)
        code, text, runner = run(session, tmp_path, uniform_base(tmp_path), "--deploy-api")
    assert code == 0, text
    assert "kept the champion" in text
    assert session.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == SERVING_CONFIG
    assert runner.calls == []


def test_a_flood_of_one_mysfit_is_capped_and_stops_the_run_until_accept_shift(aws, tmp_path, monkeypatch):
    """Issue 29's defences on the AWS path: 1,500 honest choices under an earlier model, then under the serving one
    1,500 more and 1,200 adopts of Rujin for random answers. The new model learns the capped rows and wins against
    the weak champion, but the choices shifted: the endpoint and samconfig stay as they were until the same run is
    repeated with --accept-shift."""
    from mysfits.local.endpoint import server
    from tests.loop_support import visitors

    session, jobs = aws
    samconfig_text = SAMCONFIG
    (tmp_path / "samconfig.toml").write_text(samconfig_text)
    serving_endpoint(session)
    champion = training.train_model(ds.load_csv(uniform_base(tmp_path)), k=20, sample_size=5_000, seed=1)
    table = np.frombuffer(champion.table, np.uint8)
    before = visitors(ds.generate(1_500, seed=31), table, follow=0.0, rate=0.1, seed=1, version="ordinal-000000000000",
                      prefix="before")  # fmt: skip
    since = visitors(ds.generate(1_500, seed=32), table, follow=0.0, rate=0.1, seed=2, version="ordinal-0123456789ab",
                     prefix="since")  # fmt: skip
    flood_rows = ds.Dataset(ds.generate(1_200, seed=33).X, np.full(1_200, 11, np.uint8))
    flood = visitors(flood_rows, table, follow=0.0, rate=0.1, seed=3, version="ordinal-0123456789ab", prefix="flood")
    choice_rows.record_exposed(session.client("dynamodb"), "ChoicesTable", before + since + flood)
    with server.serve_in_thread(str(save_model(champion, tmp_path / "champion.json")), name=ENDPOINT, port=0) as ep:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", ep.url)
        code, text, _ = run(session, tmp_path, tmp_path / "uniform.csv")
        assert code == 0, text
        assert "from a sudden rise (Rujin " in text
        assert "the choices shifted (1,500 choices before ordinal-0123456789ab served against 2,700 since):" in text
        assert "promoted: the challenger is better than the champion beyond luck" in text
        assert "the choices shifted (above), so a person decides" in text
        sm = session.client("sagemaker")
        assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == SERVING_CONFIG
        assert (tmp_path / "samconfig.toml").read_text() == samconfig_text
        code, text, _ = run(session, tmp_path, tmp_path / "uniform.csv", "--accept-shift")
    assert code == 0, text
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] != SERVING_CONFIG
    assert len(jobs) == 2
