"""Reading routes, CORS and function settings from a SAM template, as the local gateway does."""

from pathlib import Path

import pytest

from mysfits.local.gateway.intrinsics import IntrinsicError, Resolver
from mysfits.local.gateway.parameters import ParameterError, samconfig_overrides
from mysfits.local.gateway.template import TemplateError, TemplateSyntaxError, load_api, load_template
from mysfits.samconfig import SamConfigError, parse_overrides

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gateway"
TEMPLATE = FIXTURES / "template.yaml"


def test_short_tags_become_long_form():
    template = load_template(TEMPLATE)
    variables = template["Resources"]["EchoFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["GREETING"] == {"Ref": "Greeting"}
    assert variables["MODE"] == {"Fn::If": ["IsProd", "production", "development"]}
    assert variables["TABLE"] == {"Fn::GetAtt": ["EchoApi", "RootResourceId"]}


def test_routes_environment_and_cors_come_from_the_template_and_defaults():
    api = load_api(TEMPLATE, {}, "test")
    assert sorted((r.method, r.resource) for r in api.routes) == [
        ("ANY", "/files/{proxy+}"),
        ("GET", "/fail/{how}"),
        ("GET", "/items/latest"),
        ("GET", "/items/{id}"),
        ("POST", "/echo"),
    ]
    function = api.functions["EchoFunction"]
    assert function.code_uri == FIXTURES / "handlers"
    assert (function.timeout_s, function.memory_mb, function.runtime) == (2, 256, "python3.13")
    assert function.environment == {
        "SHARED": "from-globals",
        "GREETING": "hello",
        "MODE": "development",
        "ENDPOINT_ARN": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint",
        "DEBUG": "true",
        "TABLE": "EchoApi.RootResourceId",
    }
    rest_api = api.routes[0].api
    assert rest_api.stage == "dev"
    assert rest_api.binary_media_types == ("application/octet-stream",)
    assert rest_api.cors.allow_origin == "*"
    assert rest_api.cors.preflight_headers(["POST"]) == [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "OPTIONS,POST"),
        ("Access-Control-Allow-Headers", "Content-Type"),
        ("Access-Control-Max-Age", "600"),
    ]
    assert rest_api.gateway_response_headers("DEFAULT_5XX", 502) == [("Access-Control-Allow-Origin", "*")]
    assert rest_api.gateway_response_headers("MISSING_AUTHENTICATION_TOKEN", 403) == []


def test_overrides_reach_conditions_cors_and_environment():
    api = load_api(TEMPLATE, {"Stage": "prod", "AllowedOrigin": "http://a.example", "EndpointName": "x-1"}, "test")
    function = api.functions["EchoFunction"]
    assert function.environment["MODE"] == "production"
    assert function.environment["ENDPOINT_ARN"].endswith(":endpoint/x-1")
    assert api.routes[0].api.cors.allow_origin == "http://a.example"
    assert api.routes[0].api.stage == "prod"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Stage": "qa"}, "Stage='qa' is not one of dev, prod"),
        ({"EndpointName": "Mixed-Case"}, "EndpointName='Mixed-Case': lowercase letters, digits and hyphens"),
        ({"Nope": "1"}, "Nope not declared in the template"),
    ],
)
def test_bad_parameter_values_are_named(overrides, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(")):
        load_api(TEMPLATE, overrides, "test")


@pytest.mark.parametrize(
    ("method", "path", "resource", "params"),
    [
        ("GET", "/items/latest", "/items/latest", {}),
        ("GET", "/items/42", "/items/{id}", {"id": "42"}),
        ("DELETE", "/files/a/b/c.txt", "/files/{proxy+}", {"proxy": "a/b/c.txt"}),
        ("POST", "/echo", "/echo", {}),
    ],
)
def test_route_matching_prefers_the_most_specific_path(method, path, resource, params):
    api = load_api(TEMPLATE, {}, "test")
    route, found = api.find(method, path)
    assert (route.resource, found) == (resource, params)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/echo"), ("POST", "/items/1"), ("GET", "/items/1/x"), ("GET", "/")]
)
def test_unknown_routes_find_nothing(method, path):
    assert load_api(TEMPLATE, {}, "test").find(method, path) is None


def test_samconfig_sections_merge_global_then_deploy():
    assert samconfig_overrides(FIXTURES / "samconfig.toml") == {
        "Greeting": "hi there",
        "AllowedOrigin": "http://page.example",
    }
    assert samconfig_overrides(FIXTURES / "samconfig.toml", "other") == {
        "Stage": "prod",
        "EndpointName": "other-endpoint",
    }
    assert samconfig_overrides(FIXTURES / "missing.toml") == {}


def test_override_strings_accept_quotes_and_the_long_form():
    assert parse_overrides('A=1 B="two words"', "test") == {"A": "1", "B": "two words"}
    assert parse_overrides("ParameterKey=C,ParameterValue=x=y", "test") == {"C": "x=y"}
    # As in SAM CLI: a string that holds the long form drops its short pairs (the gateway used to keep them).
    assert parse_overrides('A=1 B="two words" ParameterKey=C,ParameterValue=x=y', "test") == {"C": "x=y"}
    with pytest.raises(SamConfigError, match=r"samconfig\.toml: 'oops' is not Key=Value"):
        parse_overrides("oops", "samconfig.toml")


def test_broken_samconfig_names_the_file(tmp_path):
    config = tmp_path / "samconfig.toml"
    config.write_text("[default.deploy.parameters\n")
    with pytest.raises(SamConfigError, match=r"samconfig\.toml: not valid TOML"):
        samconfig_overrides(config)


def test_template_errors_name_the_file_and_place(tmp_path):
    with pytest.raises(TemplateSyntaxError, match="no template here"):
        load_template(tmp_path / "template.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources:\n  A: [unclosed\n")
    with pytest.raises(TemplateSyntaxError, match=r"(?s)broken\.yaml: not valid YAML.*line 2"):
        load_template(broken)
    http_api = tmp_path / "http.yaml"
    http_api.write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: m.h\n"
        "      Events:\n        E:\n          Type: HttpApi\n          Properties: {Path: /x, Method: get}\n"
    )
    with pytest.raises(TemplateError, match=r"Resources\.F\.Properties\.Events\.E: HttpApi events"):
        load_api(http_api, {}, "test")


def test_implicit_api_takes_cors_from_globals(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Globals:\n  Api:\n    Cors: \"'https://site.example'\"\n"
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: m.h\n"
        "      Events:\n        E:\n          Type: Api\n          Properties: {Path: /x, Method: get}\n"
    )
    api = load_api(template, {}, "test")
    assert api.routes[0].api.logical_id == "ServerlessRestApi"
    assert api.routes[0].api.stage == "Prod"
    assert api.routes[0].api.cors.allow_origin == "https://site.example"
    assert api.routes[0].api.cors.preflight_headers(["GET"])[1] == ("Access-Control-Allow-Methods", "GET,OPTIONS")


def test_intrinsics_that_need_a_stack_are_refused_with_the_location():
    resolver = Resolver(parameters={"P": "v"})
    assert resolver.resolve({"Fn::Sub": ["${P}-${X}-${!Literal}", {"X": {"Ref": "P"}}]}, "here") == "v-v-${Literal}"
    assert resolver.resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}, "here") == {"B": 1}
    with pytest.raises(IntrinsicError, match=r"Env\.X\.Fn::ImportValue: Fn::ImportValue needs a deployed stack"):
        resolver.resolve({"X": {"Fn::ImportValue": "shared"}}, "Env")
    with pytest.raises(IntrinsicError, match="Ref to 'Missing', which is neither a parameter nor a resource"):
        resolver.resolve({"Ref": "Missing"}, "Env")
