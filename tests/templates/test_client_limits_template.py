"""Issue 29 on AWS: the WAF web ACL that limits each source address, as CloudFormation receives it (after SAM).

It must limit the same routes with the same parameters as the local gateway does, answer as the local gateway does
(429, Retry-After, the CORS origin, the same JSON fields), sit on the API's stage, keep no addresses, and go away with
PerClientLimitsEnabled=false.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest

from mysfits.local.gateway.client_limits import ROUTE_PARAMETERS, SWITCH_PARAMETER, WINDOW_S, Rate, refusal_body
from tests.templates.sam_template import cfn_template

WAF_LOWEST_LIMIT = 10  # AWS WAF developer guide, rate-based rule high-level settings
WAF_WINDOWS = (60, 120, 300, 600)


@pytest.fixture(scope="module")
def template() -> dict:
    return cfn_template()


def acl(template: dict) -> dict:
    return template["Resources"]["ClientLimitsWebAcl"]


def rules_by_parameter(template: dict) -> dict[str, dict]:
    return {
        rule["Statement"]["RateBasedStatement"]["Limit"]["Ref"]: rule for rule in acl(template)["Properties"]["Rules"]
    }


def _transform(value: str, transformations: list[dict]) -> str:
    for step in sorted(transformations, key=lambda t: t["Priority"]):
        value = {"NONE": lambda v: v, "URL_DECODE": unquote, "LOWERCASE": str.lower}[step["Type"]](value)
    return value


def matches(statement: dict, method: str, path: str) -> bool:
    """WAF's verdict for the statements the template uses (AndStatement, ByteMatchStatement on the method or the
    URI path); any other kind fails the test, so that this stand-in cannot quietly drift from the template."""
    if "AndStatement" in statement:
        return all(matches(s, method, path) for s in statement["AndStatement"]["Statements"])
    byte_match = statement["ByteMatchStatement"]
    (field,) = byte_match["FieldToMatch"]
    value = _transform({"Method": method, "UriPath": path}[field], byte_match["TextTransformations"])
    wanted = byte_match["SearchString"]
    return {"EXACTLY": value == wanted, "CONTAINS": wanted in value}[byte_match["PositionalConstraint"]]


def test_each_limited_route_has_a_rule_on_the_parameter_the_local_gateway_reads(template):
    rules = rules_by_parameter(template)
    assert set(rules) == set(ROUTE_PARAMETERS.values())
    for (method, path), parameter in ROUTE_PARAMETERS.items():
        statement = rules[parameter]["Statement"]["RateBasedStatement"]
        assert statement["EvaluationWindowSec"] == WINDOW_S
        assert statement["AggregateKeyType"] == "IP"
        scope = statement["ScopeDownStatement"]
        # What API Gateway's stage receives: the path starts with the stage name.
        assert matches(scope, method, f"/v1{path}")
        assert matches(scope, method, f"/v1{path.upper()}") and matches(
            scope, method, f"/v1{path[:-1]}%{ord(path[-1]):X}"
        )
        assert not matches(scope, "OPTIONS", f"/v1{path}"), "a browser's preflight is not counted"
        assert not matches(scope, "GET", "/v1/questionnaire")
        others = [p for (_, p) in ROUTE_PARAMETERS if p != path]
        assert not any(matches(scope, method, f"/v1{other}") for other in others)


def test_a_limited_request_gets_429_with_retry_after_cors_and_the_local_gateways_json(template):
    properties = acl(template)["Properties"]
    parameters = template["Parameters"]
    for (method, path), parameter in ROUTE_PARAMETERS.items():
        response = rules_by_parameter(template)[parameter]["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
        assert headers["Access-Control-Allow-Origin"] == {"Ref": "AllowedOrigin"}
        assert headers["Access-Control-Expose-Headers"] == "Retry-After"
        assert int(headers["Retry-After"]) == WINDOW_S
        body = properties["CustomResponseBodies"][response["CustomResponseBodyKey"]]
        assert body["ContentType"] == "APPLICATION_JSON"
        limit = parameters[parameter]["Default"]
        text = re.sub(r"\$\{(\w+)\}", lambda m: str(parameters[m.group(1)]["Default"]), body["Content"]["Fn::Sub"])
        local = json.loads(refusal_body(method, path, Rate(int(limit), WINDOW_S, parameter)))
        assert json.loads(text) == local


def test_the_acl_sits_on_the_apis_stage_and_both_follow_the_switch(template):
    resources = template["Resources"]
    association = resources["ClientLimitsWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ClientLimitsWebAcl", "Arn"]}
    arn = association["ResourceArn"]["Fn::Sub"]
    assert arn.endswith("::/restapis/${RecommendationsApi}/stages/${RecommendationsApiv1Stage}")
    assert resources["RecommendationsApiv1Stage"]["Type"] == "AWS::ApiGateway::Stage"
    assert acl(template)["Properties"]["Scope"] == "REGIONAL"
    for name in ("ClientLimitsWebAcl", "ClientLimitsWebAclAssociation"):
        assert resources[name]["Condition"] == "ClientsLimited"
    assert template["Conditions"]["ClientsLimited"] == {"Fn::Equals": [{"Ref": SWITCH_PARAMETER}, "true"]}
    assert template["Parameters"][SWITCH_PARAMETER]["Default"] == "true"
    assert template["Parameters"][SWITCH_PARAMETER]["AllowedValues"] == ["true", "false"]


def test_no_addresses_are_kept_only_counts(template):
    properties = acl(template)["Properties"]
    configs = [properties["VisibilityConfig"], *(rule["VisibilityConfig"] for rule in properties["Rules"])]
    assert all(config["SampledRequestsEnabled"] is False for config in configs)
    assert "LoggingConfiguration" not in {r["Type"].split("::")[-1] for r in template["Resources"].values()}


def test_the_limits_are_ones_waf_accepts(template):
    for parameter in ROUTE_PARAMETERS.values():
        spec = template["Parameters"][parameter]
        assert spec["Type"] == "Number"
        assert spec["MinValue"] >= WAF_LOWEST_LIMIT <= spec["Default"]
    assert WINDOW_S in WAF_WINDOWS
