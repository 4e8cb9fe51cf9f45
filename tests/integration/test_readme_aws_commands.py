"""Issue 32, item 2: every command in the README's "Deploy to AWS" block runs as written, read from the README itself.

The commands run in a copy of the project (a git clone of a fork, with an https ``origin``), through the same
``main`` functions ``.venv/bin/mysfits aws ...`` forwards to, against moto. The SageMaker SDK really submits the
training jobs (moto's jobs learn from their channels here, tests/moto_training_jobs.py), a local endpoint answers
sagemaker-runtime, and `sam` is stood in for by :class:`SamStandIn`, which creates in moto the stacks `sam deploy`
would (moto cannot deploy the real templates). Step 3 needs visitors' choices, so before it the API's table gets
some, as visitors of the deployed page would write them.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from mysfits.aws import cleanup_cli, notebook_stack, train_and_deploy
from mysfits.aws.cli import forward
from mysfits.model import dataset as ds
from tests import choice_rows
from tests.iam import scenarios
from tests.iam.policy import StackValues
from tests.integration.test_train_and_deploy import make_distribution, website_stand_in

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
API_STACK = "mysfits-recommendations"


def aws_commands(readme: str) -> list[str]:
    """The shell commands of the first ```bash block under "## Deploy to AWS", continuation lines joined."""
    section = readme.split("\n## Deploy to AWS\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands, pending = [], ""
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            commands.append(pending.strip())
            pending = ""
    return commands


COMMANDS = aws_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def test_each_command_is_one_that_make_install_provides():
    """Nothing activates the virtualenv and Debian has no `python`: each command names .venv/bin's own program."""
    assert len(COMMANDS) >= 7
    for command in COMMANDS:
        argv = shlex.split(command)
        assert argv[0] == ".venv/bin/mysfits", command
        assert forward(argv[1:]) is not None, f"`mysfits {' '.join(argv[1:3])}` is not a command"
    # The console script that `make install` (pip install -e .) puts into .venv/bin.
    assert 'mysfits = "mysfits.cli:main"' in (ROOT / "pyproject.toml").read_text()


API_WITH_TABLE = json.dumps(
    {
        "Resources": {
            "ChoicesTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "recommendationId", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "recommendationId", "KeyType": "HASH"}],
                },
            }
        },
        "Outputs": {
            "RecommendationsApiUrl": {"Value": "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"},
            "ApiAllowedOrigin": {"Value": "*"},
            "ChoicesTableName": {"Value": {"Ref": "ChoicesTable"}},
        },
    }
)


class SamStandIn:
    """`sam build` succeeds; `sam deploy` creates the website's or the API's stand-in stack if it is not there."""

    def __init__(self, session):
        self.session = session
        self.calls: list[list[str]] = []

    def __call__(self, argv, cwd=None) -> int:
        self.calls.append(list(argv))
        if argv[1] != "deploy":
            return 0
        cfn = self.session.client("cloudformation")
        website = "--config-env" in argv and argv[argv.index("--config-env") + 1] == "website"
        stack = argv[argv.index("--stack-name") + 1] if "--stack-name" in argv else API_STACK
        if any(
            s["StackName"] == stack for s in cfn.list_stacks()["StackSummaries"] if "DELETE" not in s["StackStatus"]
        ):
            return 0
        body = website_stand_in(make_distribution(self.session.client("cloudfront"))) if website else API_WITH_TABLE
        cfn.create_stack(StackName=stack, TemplateBody=body)
        return 0


def project_copy(tmp_path: Path, data: Path) -> Path:
    """What a clone of a fork holds after `make install` (and `make run`, which wrote data/answers.csv)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("samconfig.toml", "notebook-template.yaml", "template.yaml", "website-template.yaml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "web", project / "web")
    (project / "data").mkdir()
    shutil.copy(data, project / "data" / "answers.csv")
    git = ["git", "-C", str(project)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://github.com/example/mysfits-fork.git"], check=True)
    return project


@pytest.mark.slow
def test_every_command_of_the_readme_aws_section_runs_as_written(moto_session, tmp_path, monkeypatch):
    from tests.moto_training_jobs import training_jobs_that_train

    values = StackValues(region=REGION, bucket="mysfits-notebook-databucket-test")
    monkeypatch.setenv("AWS_REGION", REGION)  # the README's `export AWS_REGION=...`
    sam = SamStandIn(moto_session)
    lines: list[str] = []
    seams = {
        "notebook": lambda argv, prog: notebook_stack.main(
            argv,
            notebook_stack.NotebookToolkit(
                session_factory=lambda region: moto_session,
                out=lines.append,
                sleep=lambda _: None,
                template_text=lambda path: scenarios.notebook_stack_stand_in(values),
                waiter_config={"Delay": 1, "MaxAttempts": 2},
            ),
            prog,
        ),
        "train-and-deploy": lambda argv, prog: train_and_deploy.main(
            argv,
            train_and_deploy.Toolkit(
                session_factory=lambda region: moto_session,
                runner=sam,
                out=lines.append,
                sleep=lambda _: None,
                interactive=lambda: False,
            ),
            prog,
        ),
        "cleanup": lambda argv, prog: cleanup_cli.main(
            argv, session=moto_session, ask=lambda _: "y", sleep=lambda _: None, out=lines.append, prog=prog
        ),
    }
    with (
        scenarios.workspace(moto_session, values, tmp_path, notebook_stack=False) as ws,
        training_jobs_that_train(),
    ):
        monkeypatch.chdir(project_copy(tmp_path, ws.data))
        for command in COMMANDS:
            argv = shlex.split(command)[1:]
            if "--choices-table" in argv:
                table = moto_session.client("cloudformation").describe_stacks(StackName=API_STACK)["Stacks"][0]
                (name,) = [o["OutputValue"] for o in table["Outputs"] if o["OutputKey"] == "ChoicesTableName"]
                choice_rows.record_choices(moto_session.client("dynamodb"), name, ds.generate(1_000, seed=31))
            lines.append(f"$ {command}")
            code = seams[argv[1]](argv[2:], f"mysfits aws {argv[1]}")
            assert code == 0, f"{command}\n" + "\n".join(lines)

    text = "\n".join(lines)
    assert "SourceRepositoryUrl=https://github.com/example/mysfits-fork.git" in text
    assert "choices table mysfits-recommendations-ChoicesTable" in text, "step 3 found the table by itself"
    # Step 4 took everything back: no stacks, no endpoint; the choices table is kept, as the README says.
    cfn, sm = moto_session.client("cloudformation"), moto_session.client("sagemaker")
    assert [s for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"] == []
    assert sm.list_endpoints()["Endpoints"] == []
    assert "will keep table mysfits-recommendations-ChoicesTable" in text
