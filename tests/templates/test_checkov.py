"""checkov's CloudFormation checks on the three templates, next to cfn-lint: any finding not fixed or skipped in the
template, with a reason, fails here.

checkov runs four inputs: notebook-template.yaml, website-template.yaml, template.yaml as written (checkov reads
SAM resources, though not all of them), and template.yaml as samtranslator expands it, which is what CloudFormation
deploys. SAM copies a
resource's Metadata onto the main resource it generates (the function, the RestApi) but not onto the others (the
stage), so the skips written on a SAM resource are copied onto everything generated from it before the scan.

checkov lives in its own virtualenv (`make checkov`; see the Makefile for why), found at .venv-checkov or through
the CHECKOV variable.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.templates.sam_template import ROOT, cfn_template, sam_template
from tests.templates.test_notebook_template import template as notebook_template

# One worker runs checkov once for every test here (the module fixture takes it 10 to 20 s a run).
pytestmark = pytest.mark.xdist_group("checkov")

NOTEBOOK_TEMPLATE = ROOT / "notebook-template.yaml"
SAM_TEMPLATE = ROOT / "template.yaml"
WEBSITE_TEMPLATE = ROOT / "website-template.yaml"
TRANSLATED_NAME = "template.translated.json"


def checkov_binary() -> Path:
    binary = Path(os.environ.get("CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))
    if not binary.is_file():
        pytest.fail(f"checkov is not installed at {binary}: run `make checkov` (or set CHECKOV to its path)")
    return binary


def translated_with_sam_skips() -> dict:
    translated = cfn_template()
    for sam_name, sam_resource in sam_template()["Resources"].items():
        skips = sam_resource.get("Metadata", {}).get("checkov")
        if not skips:
            continue
        for name, resource in translated["Resources"].items():
            if name.startswith(sam_name):
                resource.setdefault("Metadata", {}).setdefault("checkov", skips)
    return translated


def run_checkov(directory: Path) -> dict[str, dict]:
    """checkov's CloudFormation results for every template in a directory, keyed by file name."""
    result = subprocess.run(
        [str(checkov_binary()), "-d", str(directory), "--framework", "cloudformation", "-o", "json", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "LOG_LEVEL": "ERROR"},
    )
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    (cloudformation,) = [
        r for r in (report if isinstance(report, list) else [report]) if r["check_type"] == "cloudformation"
    ]
    by_file: dict[str, dict] = {}
    for outcome in ("failed_checks", "skipped_checks", "passed_checks"):
        for check in cloudformation["results"][outcome]:
            name = Path(check["file_path"]).name
            by_file.setdefault(name, {"failed_checks": [], "skipped_checks": [], "passed_checks": []})
            by_file[name][outcome].append(check)
    return by_file


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    directory = tmp_path_factory.mktemp("checkov")
    (directory / NOTEBOOK_TEMPLATE.name).write_text(NOTEBOOK_TEMPLATE.read_text())
    (directory / SAM_TEMPLATE.name).write_text(SAM_TEMPLATE.read_text())
    (directory / WEBSITE_TEMPLATE.name).write_text(WEBSITE_TEMPLATE.read_text())
    (directory / TRANSLATED_NAME).write_text(json.dumps(translated_with_sam_skips(), indent=1))
    return run_checkov(directory)


def describe(check: dict, file_name: str) -> str:
    return f"{check['check_id']} on {check['resource']} in {file_name}: {check['check_name']}"


@pytest.mark.parametrize(
    "file_name", [NOTEBOOK_TEMPLATE.name, SAM_TEMPLATE.name, WEBSITE_TEMPLATE.name, TRANSLATED_NAME]
)
def test_checkov_finds_nothing_unexplained(results, file_name):
    assert file_name in results, f"checkov did not scan {file_name}"
    checks = results[file_name]
    assert checks["passed_checks"], f"checkov ran no check on {file_name}"
    failures = [describe(check, file_name) for check in checks["failed_checks"]]
    assert not failures, "fix these, or skip them in the template with a reason:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    "file_name", [NOTEBOOK_TEMPLATE.name, SAM_TEMPLATE.name, WEBSITE_TEMPLATE.name, TRANSLATED_NAME]
)
def test_every_skip_gives_a_reason(results, file_name):
    for check in results[file_name]["skipped_checks"]:
        comment = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert len(comment.split()) >= 5, f"{describe(check, file_name)} is skipped without a real reason"


def test_the_fixed_findings_stay_fixed(results):
    """The findings fixed rather than skipped: access logging on the stage, a concurrency cap, a versioned bucket."""
    passed = {
        (check["check_id"], check["resource"]) for checks in results.values() for check in checks["passed_checks"]
    }
    assert ("CKV_AWS_76", "AWS::ApiGateway::Stage.RecommendationsApiv1Stage") in passed
    assert ("CKV_AWS_115", "AWS::Lambda::Function.RecommendationsFunction") in passed
    assert ("CKV_AWS_21", "AWS::S3::Bucket.DataBucket") in passed


def test_checkov_is_not_blind(tmp_path):
    """A copy of each template with one fix undone must produce exactly that finding, named."""
    notebook = copy.deepcopy(notebook_template())
    del notebook["Resources"]["DataBucket"]["Properties"]["VersioningConfiguration"]
    (tmp_path / "notebook.json").write_text(json.dumps(notebook))
    translated = translated_with_sam_skips()
    del translated["Resources"]["RecommendationsApiv1Stage"]["Properties"]["AccessLogSetting"]
    (tmp_path / "translated.json").write_text(json.dumps(translated))
    results = run_checkov(tmp_path)
    failed = {(c["check_id"], c["resource"]) for checks in results.values() for c in checks["failed_checks"]}
    assert ("CKV_AWS_21", "AWS::S3::Bucket.DataBucket") in failed
    assert ("CKV_AWS_76", "AWS::ApiGateway::Stage.RecommendationsApiv1Stage") in failed
