"""The page's stack (website-template.yaml: a private bucket served by CloudFront with origin access control) and
the API's CORS origin, now a plain parameter of template.yaml.

The website has a stack of its own (issue 18, item 3): a new account may be refused CloudFront distributions until
AWS verifies it, and inside the API's stack that refusal rolled the API back too. The checks on the API side run on
what samtranslator produces (what is deployed); its values are worked out by the local gateway's resolver, so the
gateway is checked against the same template on the way.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit
from samtranslator.yaml_helper import yaml_parse

from mysfits.aws import website as site
from mysfits.local.gateway.intrinsics import Resolver
from mysfits.local.gateway.parameters import resolve_parameters
from tests.templates.sam_template import ROOT, cfn_template, sam_template, translate

WEBSITE_TEMPLATE = ROOT / "website-template.yaml"
WEBSITE_TYPES = {
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
}
WEBSITE_OUTPUTS = {"WebsiteBucketName", "WebsiteUrl", "WebsiteDistributionId"}
# AWS managed cache policy "CachingOptimized", by the id CloudFront documents for it.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
DISTRIBUTION_ARN = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${WebsiteDistribution}"


def website() -> dict:
    return yaml_parse(WEBSITE_TEMPLATE.read_text("utf-8"))


def references(value) -> Iterator[str]:
    """Every logical name a value refers to through Ref, Fn::GetAtt or a ${...} in Fn::Sub."""
    if isinstance(value, dict):
        if "Ref" in value and len(value) == 1:
            yield value["Ref"]
            return
        if "Fn::GetAtt" in value and len(value) == 1:
            target = value["Fn::GetAtt"]
            yield (target[0] if isinstance(target, list) else target.split(".", 1)[0])
            return
        if "Fn::Sub" in value and len(value) == 1:
            text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                if name not in variables:
                    yield name.split(".", 1)[0]
            yield from references(variables)
            return
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def dangling(template: dict) -> set[str]:
    known = set(template["Resources"]) | set(template.get("Parameters", {}))
    found = set(references(template["Resources"])) | set(references(template.get("Outputs", {})))
    return {name for name in found if not name.startswith("AWS::") and name not in known}


# --- two stacks: the API's holds nothing of the page's ----------------------------------------------------------


def test_the_api_stack_creates_no_bucket_and_no_cloudfront_so_a_refusal_cannot_roll_it_back():
    api = cfn_template()
    assert not {r["Type"] for r in api["Resources"].values()} & WEBSITE_TYPES
    assert not set(api["Outputs"]) & WEBSITE_OUTPUTS
    assert "DeployWebsite" not in api["Parameters"] and "WebsitePriceClass" not in api["Parameters"]
    assert dangling(api) == set()


def test_the_website_stack_is_complete_and_self_contained():
    template = website()
    assert {r["Type"] for r in template["Resources"].values()} == WEBSITE_TYPES
    assert set(template["Outputs"]) == WEBSITE_OUTPUTS
    assert "Transform" not in template, "plain CloudFormation: nothing to package"
    assert "Conditions" not in template
    assert dangling(template) == set()


def test_the_dangling_check_sees_a_reference_to_a_resource_that_is_not_there():
    template = website()
    del template["Resources"]["WebsiteOriginAccessControl"]
    assert dangling(template) == {"WebsiteOriginAccessControl"}


@pytest.mark.parametrize("values", [{}, {"AllowedOrigin": "https://d111111abcdef8.cloudfront.net"},
                                    {"AllowedOrigin": "http://127.0.0.1:3000"}, {"AllowedOrigin": "*"}])  # fmt: skip
def test_cors_the_function_and_the_output_agree_on_the_allowed_origin(values):
    """The preflight (API Gateway's mock), the real responses (the handler), API Gateway's own errors and the
    output must name the same origin; the default lets any page call the API."""
    template = sam_template()
    resolver = Resolver(
        parameters=resolve_parameters(template, values, "test"),
        resources=template["Resources"],
        conditions=template.get("Conditions") or {},
    )
    expected = values.get("AllowedOrigin", "*")
    cors = template["Resources"]["RecommendationsApi"]["Properties"]["Cors"]["AllowOrigin"]
    env = template["Resources"]["RecommendationsFunction"]["Properties"]["Environment"]["Variables"]["ALLOWED_ORIGIN"]
    output = template["Outputs"]["ApiAllowedOrigin"]["Value"]
    assert resolver.resolve(cors, "cors") == f"'{expected}'", "SAM wants the origin in single quotes"
    assert resolver.resolve(env, "env") == expected
    assert resolver.resolve(output, "output") == expected
    responses = template["Resources"]["RecommendationsApi"]["Properties"]["GatewayResponses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"} <= set(responses)
    for kind, response in responses.items():
        headers = response["ResponseParameters"]["Headers"]
        assert resolver.resolve(headers["Access-Control-Allow-Origin"], kind) == f"'{expected}'", kind
        # Issue 32, item 10: a page on another origin reads Retry-After only if the answer exposes it.
        if "Retry-After" in headers:
            assert headers.get("Access-Control-Expose-Headers") == "'Retry-After'", kind
    assert "Retry-After" in responses["THROTTLED"]["ResponseParameters"]["Headers"], "the stage's 429"


def test_the_website_url_output_is_an_origin_the_api_accepts():
    pattern = sam_template()["Parameters"]["AllowedOrigin"]["AllowedPattern"]
    assert website()["Outputs"]["WebsiteUrl"]["Value"] == {"Fn::Sub": "https://${WebsiteDistribution.DomainName}"}
    assert re.fullmatch(pattern, "https://d111111abcdef8.cloudfront.net")


def test_the_api_redeploys_its_stage_when_only_a_parameter_changes(monkeypatch):
    """The CORS origin is an unresolved !Sub in the API body; without AlwaysDeploy its deployment id never changes."""
    from samtranslator.model import apigateway

    def deployment_id(now: float) -> str:
        monkeypatch.setattr(apigateway.time, "time", lambda: now)
        resources = translate(sam_template())["Resources"]
        (name,) = [n for n, r in resources.items() if r["Type"] == "AWS::ApiGateway::Deployment"]
        return name

    assert deployment_id(1_700_000_000) != deployment_id(1_700_000_060)


# --- the bucket: private, encrypted, TLS only, readable by this distribution alone ----------------------------


def only(template: dict, kind: str) -> tuple[str, dict]:
    (found,) = [(name, r) for name, r in template["Resources"].items() if r["Type"] == kind]
    return found


def test_the_bucket_is_private_encrypted_owner_enforced_and_not_a_website():
    _, bucket = only(website(), "AWS::S3::Bucket")
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = properties["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in properties
    assert "AccessControl" not in properties


def test_the_bucket_policy_denies_plain_http_and_lets_only_this_distribution_get_objects():
    template = website()
    _, policy = only(template, "AWS::S3::BucketPolicy")
    assert policy["Properties"]["Bucket"] == {"Ref": "WebsiteBucket"}
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(denies) + len(allows) == len(statements)

    (deny,) = denies
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [{"Fn::GetAtt": ["WebsiteBucket", "Arn"]}, {"Fn::Sub": "${WebsiteBucket.Arn}/*"}]

    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": "${WebsiteBucket.Arn}/*"}
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": DISTRIBUTION_ARN}}}
    assert template["Resources"]["WebsiteDistribution"]["Type"] == "AWS::CloudFront::Distribution"


def test_the_source_arn_renders_as_cloudfront_writes_distribution_arns():
    values = {"AWS::Partition": "aws", "AWS::AccountId": "123456789012", "WebsiteDistribution": "E2QWRUHAPOMQZL"}
    rendered = re.sub(r"\$\{([^}]+)\}", lambda match: values[match.group(1)], DISTRIBUTION_ARN)
    assert rendered == "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL"


# --- the distribution -----------------------------------------------------------------------------------------


def test_origin_access_control_signs_every_request_to_s3():
    _, oac = only(website(), "AWS::CloudFront::OriginAccessControl")
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )


def test_the_distribution_reads_the_bucket_through_the_oac_over_https_only():
    _, distribution = only(website(), "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebsiteBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebsiteOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}, "OAC replaces the legacy identity"
    assert "CustomOriginConfig" not in origin, "an S3 website endpoint origin would need a public bucket"
    assert config["DefaultRootObject"] == "index.html"
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    for behaviour in behaviours:
        assert behaviour["TargetOriginId"] == origin["Id"]
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert set(behaviour["AllowedMethods"]) == {"GET", "HEAD"}
    assert config["DefaultCacheBehavior"]["CachePolicyId"] == CACHING_OPTIMIZED
    assert config["HttpVersion"] == "http2and3"
    assert config["PriceClass"] == {"Ref": "WebsitePriceClass"}
    assert config["Enabled"] is True


def test_the_price_class_defaults_to_the_cheapest():
    parameter = website()["Parameters"]["WebsitePriceClass"]
    assert parameter["Default"] == "PriceClass_100"
    assert set(parameter["AllowedValues"]) == {"PriceClass_100", "PriceClass_200", "PriceClass_All"}


def test_website_outputs_name_the_bucket_the_distribution_and_its_https_url():
    outputs = website()["Outputs"]
    assert outputs["WebsiteUrl"]["Value"] == {"Fn::Sub": "https://${WebsiteDistribution.DomainName}"}
    assert outputs["WebsiteBucketName"]["Value"] == {"Ref": "WebsiteBucket"}
    assert outputs["WebsiteDistributionId"]["Value"] == {"Ref": "WebsiteDistribution"}


# --- how it is deployed: samconfig's website environment -------------------------------------------------------


def samconfig() -> dict:
    return tomlkit.loads((ROOT / "samconfig.toml").read_text()).unwrap()


def test_samconfig_deploys_the_website_stack_beside_the_api_stack():
    """`sam deploy --config-env website` and train_and_deploy.py name the same stack and template."""
    config = samconfig()
    website_env = config["website"]["deploy"]["parameters"]
    api_stack = config["default"]["deploy"]["parameters"]["stack_name"]
    assert website_env["stack_name"] == site.stack_name(api_stack)
    assert (ROOT / website_env["template_file"]).resolve() == WEBSITE_TEMPLATE
    assert website_env["template_file"] == site.TEMPLATE
    assert website_env["on_failure"] == "DELETE", "a refused create must not leave a stack that blocks the next try"


@pytest.mark.sam
def test_sam_cli_reads_the_website_environment_as_deploy_options():
    """SAM CLI's own reader and the deploy command's own options: every key is an option, every value allowed."""
    import click
    from samcli.commands.deploy.command import cli as deploy_command
    from samcli.lib.config.samconfig import SamConfig

    read = SamConfig(str(ROOT)).get_all(["deploy"], "parameters", env="website")
    options = {p.name: p for p in deploy_command.params}
    assert set(read) <= set(options), set(read) - set(options)
    on_failure = options["on_failure"].type
    assert isinstance(on_failure, click.Choice) and read["on_failure"] in on_failure.choices
    assert read["template_file"] == "website-template.yaml"


def test_the_local_sections_set_no_deploy_parameters():
    config = samconfig()
    for command in ("local_start_api", "local_invoke"):
        assert "parameter_overrides" not in config["default"][command]["parameters"], command


@pytest.mark.sam
def test_sam_clis_local_providers_resolve_the_default_origin():
    """What `sam local start-api` (with Docker) would serve, worked out by SAM CLI itself, no container needed."""
    from samcli.lib.providers.api_provider import ApiProvider
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    def origins(overrides: dict[str, str]) -> tuple[str, str]:
        stacks, _ = SamLocalStackProvider.get_stacks(str(ROOT / "template.yaml"), parameter_overrides=overrides)
        function = SamFunctionProvider(stacks).get("RecommendationsFunction")
        return ApiProvider(stacks).api.cors.allow_origin, function.environment["Variables"]["ALLOWED_ORIGIN"]

    assert origins({}) == ("*", "*")
    given = "http://127.0.0.1:3000"
    assert origins({"AllowedOrigin": given}) == (given, given), "the check is not blind"


def test_cfn_lint_passes_on_the_website_template_and_is_not_blind(tmp_path):
    lint = str(Path(sys.executable).with_name("cfn-lint"))
    result = subprocess.run([lint, str(WEBSITE_TEMPLATE)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = website()
    broken["Resources"]["WebsiteDistribution"]["Properties"]["DistributionConfig"]["PriceClass"] = "PriceClass_1"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    assert subprocess.run([lint, str(path)], capture_output=True, timeout=300, check=False).returncode != 0
