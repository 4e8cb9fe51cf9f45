"""Issue 33: template.yaml's alarms, notification topic and dashboard watch what is really published.

AWS's own metrics are checked against the names and dimensions AWS documents (docs/operations.md cites them) and
against what the translated template creates (the REST API's name, the stage, the function); the function's own
metrics against what src/mysfits_api/metrics.py writes. cfn-lint, checkov and `sam validate` run in the other tests
of this folder."""

from __future__ import annotations

import json
import re

import pytest

from mysfits.aws import alarm_checks
from mysfits_api import metrics
from tests.templates.sam_template import ROOT, cfn_template, sam_template

ALARMS = {
    "ApiServerErrorRateAlarm": "api-5xx-rate",
    "ApiLatencyAlarm": "api-p99-latency",
    "FunctionErrorsAlarm": "function-errors",
    "FunctionThrottlesAlarm": "function-throttles",
    "EndpointErrorsAlarm": "endpoint-5xx",
    "StoreRefusalsAlarm": "store-refusals",
    "AcceptanceAlarm": "acceptance-drop",
}
"""Logical id -> the name after ``<stack>-`` (what docs/operations.md's sections and the smoke run use)."""
AWS_METRICS = {
    "AWS/ApiGateway": ({"5XXError", "Count", "Latency", "4XXError", "IntegrationLatency"}, {"ApiName", "Stage"}),
    "AWS/Lambda": ({"Errors", "Throttles", "Invocations", "ConcurrentExecutions"}, {"FunctionName"}),
}
"""The metric names and dimensions AWS documents for a REST API stage and a function (API Gateway's "dimensions and
metrics" page, Lambda's "metrics" page)."""


@pytest.fixture(scope="module")
def resources() -> dict:
    return sam_template()["Resources"]


def _alarms(template: dict) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def _metric_stats(alarm: dict) -> list[dict]:
    """Each metric an alarm reads, as ``{"Namespace", "MetricName", "Dimensions"}``, plain or inside metric math."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return [{k: props[k] for k in ("Namespace", "MetricName", "Dimensions")}]
    return [query["MetricStat"]["Metric"] for query in props.get("Metrics", []) if "MetricStat" in query]


def test_every_alarm_is_named_after_the_stack_and_documented(resources):
    alarms = _alarms({"Resources": resources})
    assert set(alarms) == set(ALARMS)
    assert sorted(ALARMS.values()) == sorted(alarm_checks.ALARMS), "the smoke run checks the template's alarms"
    runbook = (ROOT / "docs" / "operations.md").read_text("utf-8")
    for logical_id, suffix in ALARMS.items():
        assert alarms[logical_id]["Properties"]["AlarmName"] == {"Fn::Sub": f"${{AWS::StackName}}-{suffix}"}
        assert f"### {suffix}" in runbook, f"docs/operations.md has no section for {suffix}"


def test_every_alarm_notifies_the_topic_only_when_an_address_is_given(resources):
    for logical_id in ALARMS:
        props = resources[logical_id]["Properties"]
        for key in ("AlarmActions", "OKActions"):
            assert props[key] == {"Fn::If": ["AlarmsNotify", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}
        assert props["TreatMissingData"] == "notBreaching", "no traffic is not an outage"
    topic = resources["AlarmTopic"]
    assert topic["Condition"] == "AlarmsNotify"
    assert topic["Properties"]["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]
    assert sam_template()["Conditions"]["AlarmsNotify"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert sam_template()["Parameters"]["AlarmEmail"]["Default"] == ""


def test_nothing_of_it_outlives_the_stack(resources):
    """`mysfits aws cleanup --delete-stacks` deletes the API stack; the alarms, topic and dashboard go with it."""
    for logical_id in [*ALARMS, "AlarmTopic", "OperationsDashboard"]:
        assert "DeletionPolicy" not in resources[logical_id], logical_id


@pytest.mark.parametrize("address", ["", "ops@example.com", "a.b+alarms@mail.example.co.uk"])
def test_the_alarm_address_accepts_nothing_or_an_address(address):
    assert re.fullmatch(sam_template()["Parameters"]["AlarmEmail"]["AllowedPattern"], address)


@pytest.mark.parametrize("address", ["ops", "ops@", "@example.com", "a b@example.com", "ops@example"])
def test_the_alarm_address_refuses_what_is_not_one(address):
    assert not re.fullmatch(sam_template()["Parameters"]["AlarmEmail"]["AllowedPattern"], address)


def test_aws_metrics_use_documented_names_and_the_stacks_own_dimensions(resources):
    translated = cfn_template()["Resources"]
    (api,) = [r for r in translated.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    (stage,) = [r for r in translated.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert api["Properties"]["Name"] == {"Ref": "AWS::StackName"}, "ApiName is the REST API's name"
    seen = set()
    for alarm in _alarms(cfn_template()).values():
        for metric in _metric_stats(alarm):
            namespace = metric["Namespace"]
            if namespace == metrics.NAMESPACE:
                continue
            names, dimensions = AWS_METRICS[namespace]
            assert metric["MetricName"] in names
            given = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert set(given) == dimensions
            if namespace == "AWS/ApiGateway":
                assert given["ApiName"] == {"Ref": "AWS::StackName"}
                assert given["Stage"] == {"Ref": next(k for k, v in translated.items() if v is stage)}
            else:
                assert given["FunctionName"] == {"Ref": "RecommendationsFunction"}
            seen.add((namespace, metric["MetricName"]))
    assert seen == {
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Count"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
    }


def test_the_latency_alarm_watches_p99_and_the_error_alarm_a_share(resources):
    latency = resources["ApiLatencyAlarm"]["Properties"]
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p99", {"Ref": "LatencyAlarmP99Milliseconds"})
    rate = resources["ApiServerErrorRateAlarm"]["Properties"]
    (expression,) = [m for m in rate["Metrics"] if m.get("ReturnData")]
    assert expression["Expression"] == "IF(requests >= 10, errors / requests, 0)"
    stats = {m["Id"]: m["MetricStat"]["Stat"] for m in rate["Metrics"] if "MetricStat" in m}
    assert stats == {"errors": "Sum", "requests": "SampleCount"}, "Count's SampleCount is the number of requests"


def test_the_endpoint_alarm_follows_every_variant_of_the_one_endpoint(resources):
    props = resources["EndpointErrorsAlarm"]["Properties"]
    (query,) = props["Metrics"]
    sql = " ".join(query["Expression"]["Fn::Sub"].split())
    assert sql == (
        'SELECT SUM(Invocation5XXErrors) FROM SCHEMA("AWS/SageMaker", EndpointName, VariantName) '
        "WHERE EndpointName = '${SageMakerEndpointName}'"
    )
    assert query["Period"] == 300


def test_the_functions_own_metrics_are_ones_it_writes_under_its_service(resources):
    template = sam_template()
    used = set()
    for alarm in _alarms(template).values():
        for metric in _metric_stats(alarm):
            if metric["Namespace"] == metrics.NAMESPACE:
                assert metric["MetricName"] in metrics.NAMES
                assert metric["Dimensions"] == [{"Name": "service", "Value": metrics.SERVICE}]
                used.add(metric["MetricName"])
    assert used == {metrics.STORE_REFUSALS, metrics.MODEL_PICK_ACCEPTED}
    body = _dashboard(template)
    for name in re.findall(r'MetricName=\\?"(\w+)\\?"', body) + re.findall(r'"MythicalMysfits", "(\w+)"', body):
        if name in metrics.NAMES or not name[0].isupper():
            continue
        assert name in {
            "Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency", "ModelSetupTime",
            "ThrottledRequests", "SystemErrors",
        }, name  # fmt: skip
    assert f"{{{metrics.NAMESPACE},{metrics.VERSION_DIMENSION},service}}" in body


def test_the_acceptance_alarm_reads_the_model_picks_rate_only_once_enough_adoptions_came(resources):
    props = resources["AcceptanceAlarm"]["Properties"]
    queries = {m["Id"]: m for m in props["Metrics"]}
    assert queries["acceptance"]["Expression"] == "IF(adoptions >= 30, rate, 1)"
    assert queries["rate"]["MetricStat"]["Stat"] == "Average"
    assert queries["adoptions"]["MetricStat"]["Stat"] == "SampleCount"
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in queries.values() if "MetricStat" in q} == {
        metrics.MODEL_PICK_ACCEPTED
    }
    assert (props["ComparisonOperator"], props["Threshold"]) == (
        "LessThanThreshold",
        {"Ref": "AcceptanceAlarmThreshold"},
    )


def _dashboard(template: dict) -> str:
    return template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]


def test_the_dashboard_is_json_and_shows_every_alarm_and_the_functions_log(resources):
    body = _dashboard(sam_template())
    names = set(re.findall(r"\$\{([A-Za-z0-9:.]+)\}", body))
    substituted = re.sub(r"\$\{([A-Za-z0-9:.]+)\}", lambda m: "0.25" if "Threshold" in m[1] else "x", body)
    document = json.loads(substituted)
    (alarm_widget,) = [w for w in document["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(ALARMS)
    assert {f"{logical_id}.Arn" for logical_id in ALARMS} <= names
    assert [w["type"] for w in document["widgets"]].count("log") == 1
    assert "SOURCE '${RecommendationsLogGroup}' |" in body, "the query reads the function's own log group"
    for widget in document["widgets"]:
        assert {"x", "y", "width", "height"} <= set(widget), widget
    # Every name the body substitutes exists in the template (a parameter, a resource or a pseudo parameter).
    template = sam_template()
    known = set(template["Parameters"]) | set(template["Resources"]) | {"AWS::Region", "AWS::StackName"}
    for name in names:
        assert name.split(".")[0] in known, name
