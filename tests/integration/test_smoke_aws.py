"""scripts/smoke_aws.py end to end, offline: moto for the control plane, and real HTTP for what a visitor touches.
tests/smoke_world.py builds that world and says what stands in for what."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mysfits.aws import smoke
from mysfits.aws.alarm_checks import alarm_names
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.integration.test_train_and_deploy import clean_env
from tests.smoke_world import smoke_world

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "smoke_aws.py"


@pytest.fixture
def world(moto_session, tmp_path):
    with smoke_world(moto_session, tmp_path) as built:
        yield built


@pytest.mark.slow
def test_a_full_run_checks_everything_and_leaves_nothing(world):
    samconfig_before = world.samconfig.read_text()
    code, report = world.run("--yes")
    text = "\n".join(world.lines)
    assert code == 0, text
    assert [s["result"] for s in report["steps"]] == ["passed"] * 9, report["steps"]
    assert report["failed_step"] is None and report["outcome"] == "passed"
    # Serverless inference running the built-in kNN is not stated in AWS's docs: a passing run says it showed it.
    assert len(report["findings"]) == 1 and "serverless inference ran the built-in kNN" in report["findings"][0]
    assert "## Findings" in (world.tmp / "report" / "smoke-aws.md").read_text()
    checks = {c["name"]: c["ok"] for s in report["steps"] for c in s["checks"]}
    assert checks == {
        "contract": True, "choice round trip": True, "cold start": True, "CORS on the answer": True, "bad input": True,
        "CORS preflight": True, "latency": True, "HTTPS": True, "page": True, "config.json": True,
        **{f"alarm {name}": True for name in alarm_names("mysfits-smoke-api")},
    }  # fmt: skip
    assert report["latency"]["calls"] == 12 and report["latency"]["p95_ms"] >= report["latency"]["p50_ms"] > 0
    # sam deploy ran unattended, tagged, for the smoke stack and endpoint.
    (build, _), (web_deploy, _), (deploy, _) = world.sam.calls
    assert build[1:] == ["build"]
    for words in (web_deploy, deploy):
        assert words[-3:] == ["--no-confirm-changeset", "--tags", "Project=mythical-mysfits-recommendations"]
    assert "mysfits-smoke-api-website" in web_deploy and "website-template.yaml" in web_deploy
    assert "SageMakerEndpointName=mysfits-smoke-knn" in deploy and "mysfits-smoke-api" in deploy
    assert f"AllowedOrigin={world.site_url}" in deploy, "the API allows the page's origin"
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
    [
        "earlier leftovers",
        "notebook stack",
        "train and serve",
        "API and website",
        "API checks",
        "website checks",
        "alarms",
    ],
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
@pytest.mark.parametrize("problem", ["firing", "missing"])
def test_an_alarm_that_fires_or_is_missing_fails_the_run_naming_it(world, problem):
    """Issue 33: the run's own traffic must not trip an alarm, and a deploy must create every one."""
    cloudwatch = world.session.client("cloudwatch")
    original = world.sam.create_alarms

    def then_break(stack: str) -> None:
        original(stack)
        name = f"{stack}-api-5xx-rate"
        if problem == "firing":
            cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed: 2 of 3")
        else:
            cloudwatch.delete_alarms(AlarmNames=[name])

    world.sam.create_alarms = then_break
    code, report = world.run("--yes")
    assert code == 1 and report["failed_step"] == "alarms"
    (step,) = [s for s in report["steps"] if s["name"] == "alarms"]
    failed = {c["name"]: c["line"] for c in step["checks"] if not c["ok"]}
    expected = "in ALARM: Threshold Crossed: 2 of 3" if problem == "firing" else "missing: the API stack did not"
    assert list(failed) == ["alarm mysfits-smoke-api-api-5xx-rate"]
    assert failed["alarm mysfits-smoke-api-api-5xx-rate"].startswith(expected)
    assert [s["result"] for s in report["steps"]][-2:] == ["passed", "passed"], "teardown and leftover check ran"


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
    assert code == 1 and report["outcome"] == "not confirmed, nothing created" and report["findings"] == []
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


def test_the_choice_check_fails_when_the_api_kept_no_recommendation():
    from mysfits.aws.smoke_checks import check_choice

    check = check_choice("http://127.0.0.1:9", {"recommendedMysfit": "x"}, {})
    assert check.name == "choice round trip" and not check.ok and "no recommendationId" in check.line
