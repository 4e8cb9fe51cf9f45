"""notebook-template.yaml: cfn-lint, plus least-privilege rules of our own that cfn-lint does not enforce.

The IAM checks use cfn-lint's copy of the Service Authorization Reference (which resource types each action
supports), so "this action needs Resource '*'" is a fact looked up in data, not our claim.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "notebook-template.yaml"
PROJECT_TAG = {"Key": "Project", "Value": "mythical-mysfits-recommendations"}


def cfn_lint_binary() -> str:
    beside_python = Path(sys.executable).parent / "cfn-lint"
    found = str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")
    assert found, "cfn-lint is not installed (it is in the [dev] extra)"
    return found


@cache
def template() -> dict:
    parsed, problems = decode_str(TEMPLATE.read_text())
    assert not problems, problems
    return parsed


@cache
def iam_reference() -> dict:
    import cfnlint.data.AdditionalSpecs as specs

    return json.loads((Path(specs.__file__).parent / "Policies.json").read_text())


def resources_of_type(kind: str) -> dict[str, dict]:
    return {name: res for name, res in template()["Resources"].items() if res["Type"] == kind}


def role_statements() -> list[dict]:
    """Every statement of the role's policy; the conditional CodeCommit one is unwrapped from its Fn::If."""
    statements = []
    for policy in resources_of_type("AWS::IAM::RolePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                _condition, when_true, _when_false = statement["Fn::If"]
                statement = when_true
            statements.append(statement)
    return statements


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def sub_text(value) -> str:
    """The text of a Resource: a plain string, a Fn::Sub string, or a readable name for Fn::GetAtt."""
    if isinstance(value, str):
        return value
    if "Fn::Sub" in value:
        return value["Fn::Sub"]
    if "Fn::GetAtt" in value:
        return "GetAtt:" + ".".join(as_list(value["Fn::GetAtt"]))
    raise AssertionError(f"unexpected Resource form {value!r}")


def resource_types(action: str) -> list[str]:
    service, name = action.split(":")
    entry = iam_reference()[service]["Actions"].get(name.lower())
    assert entry is not None, f"{action} is not an IAM action"
    return entry.get("Resources", [])


def test_cfn_lint_passes():
    result = subprocess.run([cfn_lint_binary(), str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_is_really_checking_this_template(tmp_path):
    """Guards the test above: a misspelt action in a copy of our template must fail."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("sagemaker:DescribeEndpoint\n", "sagemaker:DescribeEndpoints\n"))
    result = subprocess.run([cfn_lint_binary(), str(broken)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "describeendpoints" in result.stdout.lower()


def test_no_wildcard_actions():
    for statement in role_statements():
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{statement.get('Sid')}: wildcard action {action}"


def test_star_resources_only_for_actions_without_resource_level_permissions():
    allowed_with_condition = {"cloudwatch:PutMetricData"}
    for statement in role_statements():
        if statement["Resource"] != "*":
            continue
        for action in as_list(statement["Action"]):
            if action in allowed_with_condition:
                assert statement.get("Condition"), f"{action} on '*' needs its namespace condition"
                continue
            assert resource_types(action) == [], (
                f"{statement['Sid']}: {action} supports resource-level permissions, so it must not be on '*'"
            )


SAGEMAKER_ARN = re.compile(
    r"^arn:\$\{AWS::Partition\}:sagemaker:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(?P<type>[a-z-]+)/\$\{ProjectName\}-\*$"
)


def test_every_sagemaker_action_is_scoped_to_the_project_prefix_and_a_type_it_supports():
    scoped = 0
    for statement in role_statements():
        actions = [a for a in as_list(statement["Action"]) if a.startswith("sagemaker:")]
        if not actions or statement["Resource"] == "*":
            continue
        for resource in as_list(statement["Resource"]):
            match = SAGEMAKER_ARN.match(sub_text(resource))
            assert match, f"{statement['Sid']}: {sub_text(resource)} is not a {{ProjectName}}- scoped SageMaker ARN"
            for action in actions:
                assert match["type"] in resource_types(action), f"{action} does not apply to {match['type']} ARNs"
                scoped += 1
    assert scoped >= 15


def test_invoke_endpoint_is_only_on_endpoint_arns():
    holders = [s for s in role_statements() if "sagemaker:InvokeEndpoint" in as_list(s["Action"])]
    assert holders
    for statement in holders:
        for resource in as_list(statement["Resource"]):
            assert ":endpoint/${ProjectName}-*" in sub_text(resource)


def test_s3_access_is_only_the_data_bucket():
    for statement in role_statements():
        if not any(a.startswith("s3:") for a in as_list(statement["Action"])):
            continue
        for resource in as_list(statement["Resource"]):
            text = sub_text(resource)
            assert text in {"GetAtt:DataBucket.Arn", "${DataBucket.Arn}/*"}, f"{statement['Sid']}: {text}"


def test_pass_role_is_only_this_role_only_to_sagemaker():
    holders = [s for s in role_statements() if "iam:PassRole" in as_list(s["Action"])]
    assert len(holders) == 1
    (statement,) = holders
    assert as_list(statement["Action"]) == ["iam:PassRole"]
    assert statement["Resource"] == {"Fn::GetAtt": ["NotebookRole", "Arn"]}
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_role_is_assumable_only_by_sagemaker_in_this_account():
    (role,) = resources_of_type("AWS::IAM::Role").values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert "ManagedPolicyArns" not in role["Properties"], "managed policies would bypass the scoping tested here"


def test_bucket_is_encrypted_private_and_owner_enforced():
    bucket = template()["Resources"]["DataBucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    block = bucket["PublicAccessBlockConfiguration"]
    assert set(block) == {"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"}
    assert all(value is True for value in block.values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in bucket


def test_bucket_policy_denies_plain_http():
    (policy,) = resources_of_type("AWS::S3::BucketPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    deny = [s for s in statements if s["Effect"] == "Deny" and s["Condition"] == insecure]
    assert deny and deny[0]["Principal"] == "*"
    assert {sub_text(r) for r in deny[0]["Resource"]} == {"GetAtt:DataBucket.Arn", "${DataBucket.Arn}/*"}
    assert all(s["Effect"] == "Deny" for s in statements), "the bucket policy must grant nothing"


def test_notebook_instance_is_hardened_and_current():
    (notebook,) = resources_of_type("AWS::SageMaker::NotebookInstance").values()
    props = notebook["Properties"]
    assert props["PlatformIdentifier"].startswith("notebook-al2023-"), "tests/templates/test_service_model.py says why"
    assert props["RootAccess"] == "Disabled"
    assert props["InstanceMetadataServiceConfiguration"] == {"MinimumInstanceMetadataServiceVersion": "2"}
    allowed = template()["Parameters"]["NotebookInstanceType"]["AllowedValues"]
    older_families = re.compile(r"^ml\.(t2|m4|m5|c4|c5|p2|p3)\.")
    assert not [t for t in allowed if older_families.match(t)]
    assert props["LifecycleConfigName"]


def test_every_taggable_resource_carries_the_project_tag():
    taggable = {"AWS::S3::Bucket", "AWS::IAM::Role", "AWS::SageMaker::NotebookInstance", "AWS::CodeCommit::Repository"}
    for name, res in template()["Resources"].items():
        if res["Type"] in taggable:
            assert PROJECT_TAG in res["Properties"]["Tags"], name


def test_codecommit_is_optional_and_its_outputs_follow():
    repo = template()["Resources"]["CodeRepository"]
    assert repo["Condition"] == "WithCodeCommit"
    outputs = template()["Outputs"]
    for name in ("CloneUrlHttp", "CloneUrlSsh", "CloneUrlGrc"):
        assert outputs[name]["Condition"] == "WithCodeCommit"
    assert {"RoleArn", "BucketName", "NotebookUrl"} <= set(outputs)


def rendered_lifecycle_script(clone_url: str) -> str:
    (config,) = resources_of_type("AWS::SageMaker::NotebookInstanceLifecycleConfig").values()
    (hook,) = config["Properties"]["OnStart"]
    text, _variables = hook["Content"]["Fn::Base64"]["Fn::Sub"]
    return text.replace("${ProjectName}", "mysfits").replace("${CloneUrl}", clone_url)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_lifecycle_script_is_valid_bash_and_installs_the_package(tmp_path):
    script = rendered_lifecycle_script("https://example.invalid/mysfits.git")
    assert "${" not in script, "a ${...} left in the script would be an unresolved Fn::Sub variable"
    outer = tmp_path / "on-start.sh"
    outer.write_text(script)
    inner = tmp_path / "setup.sh"
    inner.write_text(script.split("<<'SETUP'\n", 1)[1].split("\nSETUP\n", 1)[0])
    for path in (outer, inner):
        result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"
    assert "git clone 'https://example.invalid/mysfits.git' mysfits" in inner.read_text()
    assert 'pip install --quiet -e "mysfits[aws]"' in inner.read_text()
    assert "nohup" in script, "the slow part must run in the background (lifecycle scripts time out at 5 minutes)"
