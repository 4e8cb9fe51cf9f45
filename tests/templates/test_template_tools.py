"""The real tools on the real files: sam validate --lint, cfn-lint on the translation, sam build, generate-event."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import sam_build
from tests.api_support import EVENTS_DIR, HANDLER_ENV
from tests.templates.sam_template import ROOT, cfn_template


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, **kwargs)


@pytest.mark.sam
def test_sam_validate_lint():
    result = run(
        [sam_build.sam_cli(), "validate", "--lint", "--template-file", "template.yaml"],
        cwd=ROOT,
        env=sam_build.tool_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_passes_on_the_translated_template(tmp_path):
    translated = tmp_path / "template.json"
    translated.write_text(json.dumps(cfn_template(), indent=1))
    result = run([str(Path(sys.executable).with_name("cfn-lint")), str(translated)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_is_not_blind(tmp_path):
    """A translated template with a broken reference must fail, or the check above proves nothing."""
    broken = cfn_template()
    broken["Resources"]["RecommendationsFunction"]["Properties"]["Role"] = {"Fn::GetAtt": ["NoSuchRole", "Arn"]}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    assert run([str(Path(sys.executable).with_name("cfn-lint")), str(path)]).returncode != 0


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return sam_build.sam_build(tmp_path_factory.mktemp("sam") / "build")


@pytest.mark.sam
@pytest.mark.slow
def test_sam_build_ships_the_handler_compiled_and_no_heavy_dependencies(built):
    assert (built / "mysfits_api/handler.py").is_file()
    assert (built / "mysfits_api/__pycache__/handler.cpython-313.pyc").is_file()
    assert (built / "aws_lambda_powertools/__pycache__/__init__.cpython-313.pyc").is_file()
    top_level = {path.name for path in built.iterdir()}
    assert not top_level & {"numpy", "sagemaker", "boto3", "botocore", "Makefile", "requirements.txt"}
    # Only the Lambda's own package ships: the model, the local stand-ins and the AWS tooling stay home.
    assert "mysfits" not in top_level
    ours = {path.name for path in built.iterdir() if path.is_dir() and path.name.startswith("mysfits")}
    assert ours == {"mysfits_api"}
    assert not list(built.rglob("*.cpython-311.pyc")), "bytecode from the dev environment leaked into the package"


@pytest.mark.sam
@pytest.mark.slow
def test_the_built_package_imports_and_answers_under_python313(built, tmp_path):
    """Import the artifact as the runtime would (its boto3, nothing else) and serve GET /questionnaire."""
    sdk = sam_build.runtime_sdk(tmp_path / "sdk")
    probe = (
        "import json, sys\n"
        "import mysfits_api.handler as h\n"
        "event = json.load(open(sys.argv[1]))\n"
        "class Context: function_name='f'; memory_limit_in_mb=512; invoked_function_arn='arn'; aws_request_id='r'\n"
        "response = h.lambda_handler(event, Context())\n"
        "print(json.dumps({'status': response['statusCode'], 'version': list(sys.version_info[:2]),"
        " 'heavy': sorted(m for m in ('numpy', 'sagemaker', 'awscrt') if m in sys.modules)}))\n"
    )
    env = sam_build.runtime_env(built, sdk, **{**HANDLER_ENV, "POWERTOOLS_LOG_LEVEL": "WARNING"})
    result = run([sam_build.runtime_python(), "-c", probe, str(EVENTS_DIR / "get-questionnaire.json")], env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"status": 200, "version": [3, 13], "heavy": []}


@pytest.mark.sam
@pytest.mark.slow
def test_sam_build_works_without_python313_and_says_what_the_missing_bytecode_costs(tmp_path):
    """Issue 32, item 3: with no working python3.13 (pyenv's shim fails when PYENV_VERSION leaves 3.13 out), the
    build fetches the packages with the scripts' own Python, ships source only, and says so; the package still
    imports and answers under the runtime's Python."""
    from mysfits.aws.build_tools import BUILD_PYTHON_VARIABLE

    env = {**sam_build.tool_env(), "PYENV_VERSION": "3.11.7", BUILD_PYTHON_VARIABLE: sys.executable}
    (tmp_path / "sam").mkdir()
    built = sam_build.sam_build(tmp_path / "sam" / "build", env=env)
    log = (tmp_path / "sam" / "build.log").read_text()
    assert "no working python3.13 here" in log and "ships without bytecode" in log
    assert (built / "mysfits_api/handler.py").is_file() and (built / "aws_lambda_powertools").is_dir()
    assert not list(built.rglob("*.pyc"))
    test_the_built_package_imports_and_answers_under_python313(built, tmp_path)


@pytest.mark.sam
@pytest.mark.slow
def test_the_committed_events_are_what_sam_generates(tmp_path):
    result = run([sys.executable, str(ROOT / "scripts/generate_events.py"), "--out", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    committed = sorted(path.name for path in EVENTS_DIR.glob("*.json"))
    assert sorted(path.name for path in tmp_path.glob("*.json")) == committed
    for name in committed:
        assert json.loads((tmp_path / name).read_text()) == json.loads((EVENTS_DIR / name).read_text()), name
