"""``mysfits aws notebook`` under moto: the README's step 1 without the `aws` CLI, and safe to run again."""

from __future__ import annotations

import json

import pytest

from mysfits.aws import notebook_stack
from tests.aws_calls import record_aws_calls
from tests.iam import scenarios
from tests.iam.policy import StackValues

REGION = "eu-west-1"
VALUES = StackValues(region=REGION, bucket="mysfits-notebook-databucket-test")


def stand_in() -> str:
    """notebook-template.yaml's outputs, and the parameter the command sets."""
    template = json.loads(scenarios.notebook_stack_stand_in(VALUES))
    template["Parameters"] = {"SourceRepositoryUrl": {"Type": "String", "Default": ""}}
    return json.dumps(template)


def run(session, tmp_path, *argv: str) -> tuple[int, list[str], list]:
    template = tmp_path / "notebook-template.yaml"
    template.write_text("stands in for the real template, which moto cannot create")
    lines: list[str] = []
    toolkit = notebook_stack.NotebookToolkit(
        session_factory=lambda region: session,
        out=lines.append,
        sleep=lambda _: None,
        template_text=lambda path: stand_in(),
        waiter_config={"Delay": 1, "MaxAttempts": 2},
    )
    with record_aws_calls() as calls:
        code = notebook_stack.main(["--region", REGION, "--template-file", str(template), *argv], toolkit)
    return code, lines, calls


def _status(session, stack: str, status: str) -> None:
    from moto.cloudformation.models import cloudformation_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    (found,) = [s for s in cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].stacks.values() if s.name == stack]
    found.status = status


def test_creates_the_stack_with_a_delete_on_failure_and_prints_its_outputs(moto_session, tmp_path):
    code, lines, calls = run(moto_session, tmp_path, "--repo-url", "https://github.com/you/fork.git")
    assert code == 0, lines
    (create,) = [c for c in calls if c.operation == "CreateStack"]
    assert create.params["OnFailure"] == "DELETE" and create.params["Capabilities"] == ["CAPABILITY_IAM"]
    assert create.params["Parameters"] == [
        {"ParameterKey": "SourceRepositoryUrl", "ParameterValue": "https://github.com/you/fork.git"}
    ]
    assert f"  BucketName: {VALUES.bucket}" in lines


def test_a_failed_create_left_by_another_tool_is_deleted_then_created_again(moto_session, tmp_path):
    moto_session.client("cloudformation").create_stack(StackName="mysfits-notebook", TemplateBody=stand_in())
    _status(moto_session, "mysfits-notebook", "ROLLBACK_COMPLETE")
    code, lines, calls = run(moto_session, tmp_path, "--repo-url", "https://github.com/you/fork.git")
    assert code == 0, lines
    assert any("stack mysfits-notebook is ROLLBACK_COMPLETE: its first create failed" in line for line in lines)
    operations = [c.operation for c in calls if c.operation in {"DeleteStack", "CreateStack", "UpdateStack"}]
    assert operations == ["DeleteStack", "CreateStack"]


def test_running_it_again_updates_in_place_and_keeps_the_repository(moto_session, tmp_path):
    assert run(moto_session, tmp_path, "--repo-url", "https://github.com/you/fork.git")[0] == 0
    code, lines, calls = run(moto_session, tmp_path)  # no origin remote in tmp_path: the stack's value is kept
    assert code == 0, lines
    (update,) = [c for c in calls if c.operation == "UpdateStack"]
    assert update.params["Parameters"] == [{"ParameterKey": "SourceRepositoryUrl", "UsePreviousValue": True}]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "no repository for the notebook to clone: pass --repo-url"),
        (("--repo-url", "git@github.com:you/fork.git"), "--repo-url must be an https git URL"),
    ],
)
def test_without_a_repository_nothing_is_created(moto_session, tmp_path, capsys, argv, message):
    code, _, calls = run(moto_session, tmp_path, *argv)
    assert code == 2 and message in capsys.readouterr().err
    assert not [c for c in calls if c.operation == "CreateStack"]


def test_the_dry_run_calls_no_aws(moto_session, tmp_path):
    code, lines, calls = run(moto_session, tmp_path, "--repo-url", "https://github.com/you/fork.git", "--dry-run")
    assert code == 0 and calls == []
    assert any("OnFailure=DELETE" in line for line in lines)
