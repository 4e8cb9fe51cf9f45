"""template.yaml, samconfig.toml and env.json against each other and against the handler they deploy."""

from __future__ import annotations

import ast
import json
import re
import shlex

import pytest
import tomlkit

from mysfits_api import encoding as encodings
from tests.api_support import LambdaContext, event_with, imported_handler
from tests.templates.sam_template import ROOT, cfn_template, sam_template

API_GATEWAY_LIMIT_S = 29


@pytest.fixture(scope="module")
def handler():
    with imported_handler() as module:
        yield module


@pytest.fixture(scope="module")
def template():
    return sam_template()


def function(template: dict) -> dict:
    return template["Resources"]["RecommendationsFunction"]


def pattern(template: dict, name: str) -> re.Pattern:
    return re.compile(template["Parameters"][name]["AllowedPattern"])


@pytest.mark.parametrize("name", ["mysfits-knn", "a", "knn-2025-06-01-12-00", "x" * 63, "a--b"])
def test_endpoint_names_sagemaker_would_create_in_lowercase_pass(template, name):
    assert pattern(template, "SageMakerEndpointName").fullmatch(name)


@pytest.mark.parametrize("name", ["Mysfits-KNN", "mysfits_knn", "-knn", "knn-", "", "x" * 64, "knn.v1"])
def test_endpoint_names_an_arn_scoped_policy_could_miss_are_refused(template, name):
    assert not pattern(template, "SageMakerEndpointName").fullmatch(name)


@pytest.mark.parametrize("origin", ["*", "https://d111111abcdef8.cloudfront.net", "http://127.0.0.1:3000"])
def test_allowed_origin_accepts_origins_and_any(template, origin):
    assert pattern(template, "AllowedOrigin").fullmatch(origin)


@pytest.mark.parametrize("origin", ["https://example.com/", "example.com", "'*'", "https://a.com/path", " ", ""])
def test_allowed_origin_refuses_what_is_not_an_origin(template, origin):
    assert not pattern(template, "AllowedOrigin").fullmatch(origin)


def test_the_parameter_defaults_satisfy_their_own_patterns(template):
    for name, parameter in template["Parameters"].items():
        if "AllowedPattern" in parameter:
            assert re.fullmatch(parameter["AllowedPattern"], str(parameter["Default"])), name


def test_function_runtime_and_handler(template):
    globals_ = template["Globals"]["Function"]
    assert (globals_["Runtime"], globals_["Architectures"], globals_["Tracing"]) == ("python3.13", ["arm64"], "Active")
    properties = function(template)["Properties"]
    module_path, _, attribute = properties["Handler"].rpartition(".")
    source = ROOT / properties["CodeUri"] / (module_path.replace(".", "/") + ".py")
    defined = {node.name for node in ast.parse(source.read_text()).body if isinstance(node, ast.FunctionDef)}
    assert attribute in defined


def test_the_function_environment_covers_what_the_handler_requires(template):
    source = (ROOT / "src/mysfits_api/handler.py").read_text()
    required = set(re.findall(r'_(?:required_env|positive_seconds|encoding)\("([A-Z_]+)"\)', source))
    variables = function(template)["Properties"]["Environment"]["Variables"]
    assert required == {"SAGEMAKER_ENDPOINT_NAME", "MODEL_ENCODING", "ALLOWED_ORIGIN", "ENDPOINT_READ_TIMEOUT_S"}
    assert required <= set(variables)
    assert variables["SAGEMAKER_ENDPOINT_NAME"] == {"Ref": "SageMakerEndpointName"}
    assert "AllowedOrigin" in json.dumps(variables["ALLOWED_ORIGIN"])  # the choice itself: test_template_website.py
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert variables["ENDPOINT_READ_TIMEOUT_S"] == {"Ref": "EndpointReadTimeoutSeconds"}
    assert variables["MODEL_ENCODING"] == {"Ref": "ModelEncoding"}
    assert template["Parameters"]["ModelEncoding"]["AllowedValues"] == list(encodings.ENCODINGS)


def test_the_worst_endpoint_call_fits_in_the_function_timeout_and_api_gateway(template, handler):
    """With the longest read timeout the template accepts, the handler still answers before Lambda and API Gateway
    give up, so a slow endpoint gets our JSON 504 with CORS rather than a bare gateway error."""
    attempts = handler.MAX_ATTEMPTS
    # Standard-mode retries wait at most 2**(n-1) s before retry n.
    backoff = sum(2 ** (retry - 1) for retry in range(1, attempts))
    longest_read = template["Parameters"]["EndpointReadTimeoutSeconds"]["MaxValue"]
    worst = attempts * (handler.CONNECT_TIMEOUT_S + longest_read) + backoff
    timeout = template["Globals"]["Function"]["Timeout"]
    assert worst + 3 <= timeout < API_GATEWAY_LIMIT_S


def test_the_endpoint_and_the_choices_write_fit_in_the_function_timeout_together(template, handler):
    """Issue 32, item 6: a recommendation waits for the endpoint, then writes to the choices table. Both at their
    worst, each with its retries and standard-mode backoff, must still leave the handler time to answer (a margin
    of 1 s), or a slow endpoint plus a slow table ends as the gateway's bare 5xx without CORS."""

    def worst(attempts: int, connect: float, read: float) -> float:
        return attempts * (connect + read) + sum(2 ** (retry - 1) for retry in range(1, attempts))

    endpoint = worst(
        handler.MAX_ATTEMPTS,
        handler.CONNECT_TIMEOUT_S,
        template["Parameters"]["EndpointReadTimeoutSeconds"]["MaxValue"],
    )
    config = handler.STORE_CLIENT_CONFIG
    store = worst(config.retries["total_max_attempts"], config.connect_timeout, config.read_timeout)
    assert endpoint + store + 1 <= template["Globals"]["Function"]["Timeout"] < API_GATEWAY_LIMIT_S


def test_the_default_read_timeout_leaves_room_for_a_serverless_cold_start(template):
    """Defect found in review: a 5 s read timeout turned the first request after idle into a 504. SageMaker does not
    publish a cold-start bound, so the default is generous; the README says it has not been measured on AWS."""
    parameter = template["Parameters"]["EndpointReadTimeoutSeconds"]
    assert parameter["MinValue"] <= parameter["Default"] <= parameter["MaxValue"]
    assert parameter["Default"] >= 15


def test_every_template_route_reaches_a_handler_route(template, handler):
    routes = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in function(template)["Properties"]["Events"].values()
    }
    assert routes == {("POST", "/recommendations"), ("POST", "/choices"), ("GET", "/questionnaire")}
    for method, path in routes:
        response = handler.lambda_handler(event_with("{}", method=method, path=path), LambdaContext())
        assert response["statusCode"] != 404, (method, path)


def test_the_api_has_cors_from_the_parameter_and_stage_throttling(template):
    api = template["Resources"]["RecommendationsApi"]["Properties"]
    assert "AllowedOrigin" in json.dumps(api["Cors"]["AllowOrigin"])
    assert "POST" in api["Cors"]["AllowMethods"] and "OPTIONS" in api["Cors"]["AllowMethods"]
    (setting,) = api["MethodSettings"]
    assert setting["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    for event in function(template)["Properties"]["Events"].values():
        assert event["Properties"]["RestApiId"] == {"Ref": "RecommendationsApi"}


def test_outputs_give_the_api_url_ending_in_the_stage_and_the_function_name(template):
    stage = template["Resources"]["RecommendationsApi"]["Properties"]["StageName"]
    outputs = template["Outputs"]
    assert outputs["RecommendationsApiUrl"]["Value"]["Fn::Sub"].endswith(
        f".execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{stage}"
    )
    assert outputs["RecommendationsFunctionName"]["Value"] == {"Ref": "RecommendationsFunction"}


def test_samconfig_has_the_conventional_keys_and_valid_overrides(template):
    config = tomlkit.loads((ROOT / "samconfig.toml").read_text()).unwrap()
    assert config["version"] == 0.1
    assert config["default"]["validate"]["parameters"]["lint"] is True
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["stack_name"] and deploy["resolve_s3"] is True
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    overrides = dict(item.split("=", 1) for item in shlex.split(deploy["parameter_overrides"]))
    assert overrides["SageMakerEndpointName"] == "mysfits-knn"
    for name, value in overrides.items():
        parameter = template["Parameters"][name]
        if "AllowedPattern" in parameter:
            assert re.fullmatch(parameter["AllowedPattern"], value), name
        if "AllowedValues" in parameter:
            assert value in parameter["AllowedValues"], name


def test_env_json_only_sets_variables_sam_local_will_apply(template):
    """`sam local` ignores env.json entries the template does not declare, silently."""
    env = json.loads((ROOT / "env.json").read_text())
    assert set(env) == {"RecommendationsFunction"}
    declared = set(function(template)["Properties"]["Environment"]["Variables"])
    assert set(env["RecommendationsFunction"]) <= declared
    assert env["RecommendationsFunction"]["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"].startswith("http")


def test_the_only_stage_is_the_throttled_one():
    """SAM adds a stage named "Stage" through the deployment unless told not to; it would bypass the throttling."""
    resources = cfn_template()["Resources"].values()
    assert not [r for r in resources if r["Type"] == "AWS::ApiGateway::Deployment" and "StageName" in r["Properties"]]
    (stage,) = [r["Properties"] for r in resources if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["StageName"] == "v1"
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
