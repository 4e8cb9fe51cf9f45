"""The optional website in template.yaml: private bucket, CloudFront with origin access control, and the CORS origin.

Security checks run on the CloudFormation that samtranslator produces (what is deployed). What a parameter choice
creates is worked out the way CloudFormation does it: conditions evaluated from the parameter values, resources and
outputs whose condition is false dropped, and each ``Fn::If`` replaced by its chosen branch. Conditions and values are
evaluated by the local gateway's resolver, so the gateway is checked against the same template on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import tomlkit

from mysfits.local.gateway.intrinsics import Resolver
from mysfits.local.gateway.parameters import resolve_parameters
from mysfits.samconfig import parse_overrides
from tests.templates.sam_template import ROOT, cfn_template, sam_template, translate

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
# What the gateway's resolver renders for an attribute of a resource that only exists once deployed.
DISTRIBUTION_ORIGIN = "https://WebsiteDistribution.DomainName"


# --- CloudFormation's view of one parameter choice -------------------------------------------------------------


def resolver_for(template: dict, **values: str) -> Resolver:
    parameters = resolve_parameters(template, values, "test")
    return Resolver(parameters=parameters, resources=template["Resources"], conditions=template["Conditions"])


def chosen(value, resolver: Resolver):
    """``value`` with every Fn::If replaced by the branch CloudFormation would take; other intrinsics kept."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            condition, if_true, if_false = value["Fn::If"]
            return chosen(if_true if resolver.condition(condition, "test") else if_false, resolver)
        return {key: chosen(item, resolver) for key, item in value.items()}
    if isinstance(value, list):
        return [chosen(item, resolver) for item in value]
    return value


def deployed(template: dict, **values: str) -> tuple[dict, dict]:
    """The resources and outputs CloudFormation would create for these parameter values."""
    resolver = resolver_for(template, **values)

    def kept(section: dict) -> dict:
        return {
            name: chosen(item, resolver)
            for name, item in section.items()
            if "Condition" not in item or resolver.condition(item["Condition"], f"{name}.Condition")
        }

    return kept(template["Resources"]), kept(template["Outputs"])


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


def dangling(resources: dict, outputs: dict, template: dict) -> set[str]:
    known = set(resources) | set(template.get("Parameters", {}))
    found = set(references(resources)) | set(references(outputs))
    return {name for name in found if not name.startswith("AWS::") and name not in known}


# --- what is created, and what the API trusts ------------------------------------------------------------------


def test_the_website_is_on_by_default_and_complete():
    resources, outputs = deployed(cfn_template())
    assert WEBSITE_TYPES <= {r["Type"] for r in resources.values()}
    assert WEBSITE_OUTPUTS <= set(outputs)
    assert dangling(resources, outputs, cfn_template()) == set()


@pytest.mark.parametrize("origin", ["", "*", "https://mysfits.example.com"])
def test_deploy_website_false_creates_no_website_and_leaves_no_reference_to_it(origin):
    template = cfn_template()
    resources, outputs = deployed(template, DeployWebsite="false", AllowedOrigin=origin)
    assert not WEBSITE_TYPES & {r["Type"] for r in resources.values()}
    assert not WEBSITE_OUTPUTS & set(outputs)
    assert {"RecommendationsApi", "RecommendationsFunction", "RecommendationsApiv1Stage"} <= set(resources)
    assert {"RecommendationsApiUrl", "ApiAllowedOrigin"} <= set(outputs)
    assert dangling(resources, outputs, template) == set()


def test_the_dangling_check_sees_a_reference_to_a_resource_that_was_not_created():
    template = cfn_template()
    template["Outputs"]["WebsiteUrl"].pop("Condition")
    resources, outputs = deployed(template, DeployWebsite="false")
    assert dangling(resources, outputs, template) == {"WebsiteDistribution"}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, DISTRIBUTION_ORIGIN),
        ({"AllowedOrigin": "https://mysfits.example.com"}, "https://mysfits.example.com"),
        ({"AllowedOrigin": "*"}, "*"),
        ({"DeployWebsite": "false"}, "*"),
        ({"DeployWebsite": "false", "AllowedOrigin": "http://127.0.0.1:3000"}, "http://127.0.0.1:3000"),
    ],
)
def test_cors_the_function_and_the_output_agree_on_the_allowed_origin(values, expected):
    """The preflight (API Gateway's mock) and the real responses (the handler) must name the same origin."""
    template = sam_template()
    resolver = resolver_for(template, **values)
    cors = template["Resources"]["RecommendationsApi"]["Properties"]["Cors"]["AllowOrigin"]
    env = template["Resources"]["RecommendationsFunction"]["Properties"]["Environment"]["Variables"]["ALLOWED_ORIGIN"]
    output = template["Outputs"]["ApiAllowedOrigin"]["Value"]
    assert resolver.resolve(cors, "cors") == f"'{expected}'", "SAM wants the origin in single quotes"
    assert resolver.resolve(env, "env") == expected
    assert resolver.resolve(output, "output") == expected
    # API Gateway's own errors (403 unknown route, 413, 429, 502, 504) must carry the same origin (issue 12).
    responses = template["Resources"]["RecommendationsApi"]["Properties"]["GatewayResponses"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        header = responses[kind]["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"]
        assert resolver.resolve(header, kind) == f"'{expected}'", kind


def test_the_api_redeploys_its_stage_when_only_a_parameter_changes(monkeypatch):
    """The CORS origin is an unresolved !If in the API body; without AlwaysDeploy its deployment id never changes."""
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
    _, bucket = only(cfn_template(), "AWS::S3::Bucket")
    properties = bucket["Properties"]
    assert bucket["Condition"] == "WebsiteOn"
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
    template = cfn_template()
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
    _, oac = only(cfn_template(), "AWS::CloudFront::OriginAccessControl")
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )


def test_the_distribution_reads_the_bucket_through_the_oac_over_https_only():
    _, distribution = only(cfn_template(), "AWS::CloudFront::Distribution")
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
    parameter = sam_template()["Parameters"]["WebsitePriceClass"]
    assert parameter["Default"] == "PriceClass_100"
    assert set(parameter["AllowedValues"]) == {"PriceClass_100", "PriceClass_200", "PriceClass_All"}


def test_website_outputs_exist_only_with_the_website_and_the_url_is_https():
    outputs = sam_template()["Outputs"]
    for name in WEBSITE_OUTPUTS:
        assert outputs[name]["Condition"] == "WebsiteOn", name
    assert outputs["WebsiteUrl"]["Value"] == {"Fn::Sub": "https://${WebsiteDistribution.DomainName}"}
    assert outputs["WebsiteBucketName"]["Value"] == {"Ref": "WebsiteBucket"}
    assert outputs["WebsiteDistributionId"]["Value"] == {"Ref": "WebsiteDistribution"}


# --- locally there is no distribution ---------------------------------------------------------------------------


def local_overrides(command: str) -> dict[str, str]:
    config = tomlkit.loads((ROOT / "samconfig.toml").read_text()).unwrap()
    return parse_overrides(config["default"][command]["parameters"]["parameter_overrides"], command)


@pytest.mark.parametrize("command", ["local_start_api", "local_invoke"])
def test_sam_local_sections_switch_the_website_off(command):
    assert local_overrides(command) == {"DeployWebsite": "false"}


@pytest.mark.sam
def test_sam_clis_local_providers_resolve_the_origin_without_a_distribution():
    """What `sam local start-api` (with Docker) would serve, worked out by SAM CLI itself, no container needed."""
    from samcli.lib.providers.api_provider import ApiProvider
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    def origins(overrides: dict[str, str]) -> tuple[str, str]:
        stacks, _ = SamLocalStackProvider.get_stacks(str(ROOT / "template.yaml"), parameter_overrides=overrides)
        function = SamFunctionProvider(stacks).get("RecommendationsFunction")
        return ApiProvider(stacks).api.cors.allow_origin, function.environment["Variables"]["ALLOWED_ORIGIN"]

    assert origins(local_overrides("local_start_api")) == ("*", "*")
    with_website = origins({})
    assert with_website[0] == with_website[1] and "WebsiteDistribution" in with_website[0], "the check is not blind"
