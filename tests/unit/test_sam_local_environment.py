"""`mysfits sam-local` keeps the shell from deciding the function's environment behind the template's back."""

from pathlib import Path

from mysfits.local.sam_local.cli import function_variables, tool_env

REPO = Path(__file__).resolve().parents[2]


def test_the_projects_template_declares_what_the_handler_reads():
    declared = function_variables(REPO / "template.yaml")
    assert {"SAGEMAKER_ENDPOINT_NAME", "MODEL_ENCODING", "ALLOWED_ORIGIN", "CHOICES_TABLE_NAME"} <= declared


def test_globals_and_each_functions_own_variables_are_both_found(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals:\n  Function:\n    Environment:\n      Variables:\n        SHARED: one\n"
        "Resources:\n"
        "  A:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      Environment:\n        Variables:\n          OWN: !Ref AWS::Region\n"
        "  Bucket:\n    Type: AWS::S3::Bucket\n"
        "    Properties:\n      Environment:\n        Variables:\n          NOT_A_FUNCTION: x\n"
    )
    assert function_variables(template) == {"SHARED", "OWN"}


def test_a_broken_template_hides_nothing_and_leaves_the_error_to_sam_build(tmp_path):
    broken = tmp_path / "template.yaml"
    broken.write_text("Resources: [unclosed\n")
    assert function_variables(broken) == frozenset()
    assert function_variables(tmp_path / "missing.yaml") == frozenset()


def test_hidden_names_are_left_out_and_everything_else_is_passed(monkeypatch):
    monkeypatch.setenv("SAGEMAKER_ENDPOINT_NAME", "from-the-shell")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    env = tool_env("run-1", frozenset({"SAGEMAKER_ENDPOINT_NAME"}))
    assert "SAGEMAKER_ENDPOINT_NAME" not in env
    assert env["AWS_REGION"] == "eu-west-1"
    assert "SAGEMAKER_ENDPOINT_NAME" in tool_env()
