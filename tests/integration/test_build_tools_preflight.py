"""Issue 32, item 3: `sam build` and `sam deploy` run after the paid steps, so the tools they need are checked first.

The machine is described by :class:`mysfits.aws.build_tools.Tools` (where each tool is, what a Python says its
version is); everything else is real, under moto, and every AWS call is recorded.
"""

from __future__ import annotations

import pytest

from mysfits.aws.build_tools import Tools
from mysfits.aws.train_and_deploy import Toolkit, main
from tests.aws_calls import record_aws_calls
from tests.conftest import FAKE_AWS_REGION as REGION
from tests.iam.scenarios import QUOTAS, quotas_answered
from tests.integration.test_train_and_deploy import NOTEBOOK_STAND_IN, SAMCONFIG


def machine(*missing: str, python313: tuple[int, int] | None = (3, 13)) -> Tools:
    return Tools(
        which=lambda name: None if name in missing else f"/usr/bin/{name}",
        version=lambda python: python313 if python.endswith("python3.13") else (3, 11),
    )


def run(session, tmp_path, tools: Tools, *extra: str) -> tuple[int, list[str], list]:
    session.client("cloudformation").create_stack(StackName="mysfits-notebook", TemplateBody=NOTEBOOK_STAND_IN)
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    lines: list[str] = []
    toolkit = Toolkit(session_factory=lambda region: session, out=lines.append, sleep=lambda _: None, tools=tools)
    argv = [
        "--mode", "sagemaker", "--region", REGION, "--notebook-stack", "mysfits-notebook",
        "--data", str(tmp_path / "answers.csv"), "--samconfig", str(tmp_path / "samconfig.toml"), "--no-logs",
        "--serverless", "--deploy-api", *extra,
    ]  # fmt: skip
    with quotas_answered(session, QUOTAS), record_aws_calls() as calls:
        code = main(argv, toolkit)
    return code, lines, calls


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
@pytest.mark.parametrize(
    ("missing", "named"),
    [(("sam",), "the SAM CLI is not installed"), (("make",), "make is not installed: apt-get install make")],
)
def test_a_machine_that_cannot_build_is_refused_before_any_aws_call(
    moto_session, tmp_path, capsys, missing, named, dry_run
):
    code, _, calls = run(moto_session, tmp_path, machine(*missing), *(["--dry-run"] if dry_run else []))
    err = capsys.readouterr().err
    assert code == 2 and named in err and "checked before anything is created or uploaded" in err
    assert err.count("\n") == 1
    assert calls == [], "nothing was asked of AWS, let alone created or uploaded"
    assert not (tmp_path / "answers.csv").exists(), "not even the data was generated"
    assert moto_session.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []


@pytest.mark.parametrize(
    ("tools", "why"),
    [
        (machine("python3.13"), "python3.13 is not on PATH"),
        (machine(python313=None), "python3.13 is on PATH but does not run as Python 3.13"),
    ],
    ids=["absent", "pyenv shim that does not run"],
)
def test_without_python313_the_run_goes_on_and_says_what_it_costs(moto_session, tmp_path, tools, why):
    code, lines, _ = run(moto_session, tmp_path, tools, "--dry-run")
    assert code == 0
    (note,) = [line for line in lines if line.startswith("note: python3.13")]
    assert why in note and "without bytecode, which costs each cold start about 0.2 to 0.35 s" in note


def test_a_machine_with_everything_gets_no_note(moto_session, tmp_path):
    code, lines, _ = run(moto_session, tmp_path, machine(), "--dry-run")
    assert code == 0 and not [line for line in lines if line.startswith("note:")]


def test_the_local_mode_and_runs_without_deploy_api_need_no_build_tools(moto_session, tmp_path):
    """Only --deploy-api runs sam; a training-only run on a machine without it is not refused."""
    (tmp_path / "samconfig.toml").write_text(SAMCONFIG)
    moto_session.client("cloudformation").create_stack(StackName="mysfits-notebook", TemplateBody=NOTEBOOK_STAND_IN)
    toolkit = Toolkit(session_factory=lambda region: moto_session, out=lambda _: None, tools=machine("sam", "make"))
    argv = ["--mode", "sagemaker", "--region", REGION, "--notebook-stack", "mysfits-notebook", "--dry-run"]
    with quotas_answered(moto_session, QUOTAS):
        assert main([*argv, "--samconfig", str(tmp_path / "samconfig.toml")], toolkit) == 0
