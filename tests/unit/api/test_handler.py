"""lambda_handler end to end in-process: proxy event in, proxy response out, with a stubbed real client."""

from __future__ import annotations

import importlib
import io
import json
import sys

import pytest
from botocore import exceptions as boto_errors

from mysfits_api.questionnaire import load_questionnaire
from mysfits_api.recommend import recommendation_for
from tests.api_support import (
    ALLOWED_ORIGIN,
    HANDLER_ENV,
    LambdaContext,
    event_with,
    imported_handler,
    label_payload,
    prediction_body,
    response_headers,
    runtime_client,
)

GOOD_BODY = '{"entry": [3, 1, 4, 1, 5]}'


def call(handler, event):
    response = handler.lambda_handler(event, LambdaContext())
    json.dumps(response)  # what the Lambda runtime does with it
    return response, response_headers(response)


def assert_cors(headers):
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "content-type" in headers["access-control-allow-headers"].lower()


@pytest.fixture
def log(handler, monkeypatch):
    """What the function logs, one JSON object per line, as CloudWatch would receive it."""
    stream = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    return lines


def test_recommends_the_mysfit_for_the_predicted_label(handler, stub):
    stub.add_response("invoke_endpoint", prediction_body(label_payload(3.0)))
    response, headers = call(handler, event_with(GOOD_BODY))
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == recommendation_for(3)
    assert headers["content-type"] == "application/json"
    assert_cors(headers)


def test_accepts_a_base64_body(handler, stub):
    stub.add_response("invoke_endpoint", prediction_body(label_payload(0)))
    response, _ = call(handler, event_with(GOOD_BODY.encode()))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["recommendedMysfit"] == recommendation_for(0)["recommendedMysfit"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ('{"entry": [3, 1, 9, 1, 5]}', 400, "entry[2]"),
        ('{"entry": [3, 1]}', 400, "entry"),
        ('{"nope": 1}', 400, "entry"),
        ("not json", 400, "body"),
        (None, 400, "body"),
        ('{"entry": [3, 1, 4, 1, 5], "pad": "' + "x" * 2000 + '"}', 413, "body"),
    ],
)
def test_bad_input_is_a_4xx_json_error_with_cors(handler, stub, body, status, field):
    response, headers = call(handler, event_with(body))
    assert response["statusCode"] == status
    error = json.loads(response["body"])
    assert error["field"] == field
    assert set(error) == {"message", "field", "allowed", "received"}
    assert_cors(headers)


@pytest.mark.parametrize(
    ("code", "http_status", "status"),
    [("ValidationError", 400, 502), ("ModelError", 424, 502), ("ServiceUnavailable", 503, 503)],
)
def test_endpoint_failures_keep_their_cause_in_the_log_only(handler, stub, log, code, http_status, status):
    stub.add_client_error(
        "invoke_endpoint",
        service_error_code=code,
        service_message="secret-internal-detail",
        http_status_code=http_status,
    )
    response, headers = call(handler, event_with(GOOD_BODY, request_id="req-1234"))
    assert response["statusCode"] == status
    assert "secret-internal-detail" not in response["body"]
    assert set(json.loads(response["body"])) == {"message"}
    assert_cors(headers)
    assert ("retry-after" in headers) == (status == 503)
    (record,) = [line for line in log() if line["message"] == "endpoint call failed"]
    assert record["correlation_id"] == "req-1234"
    assert "secret-internal-detail" in record["cause"]
    assert code in record["cause"]
    assert "exception" not in record  # one line per failure, no traceback


def test_a_timeout_is_a_504(handler, monkeypatch):
    client = runtime_client(retries={"mode": "standard", "total_max_attempts": 1})

    def time_out(request, **_):
        raise boto_errors.ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint", time_out)
    monkeypatch.setattr(handler, "runtime", client)
    response, headers = call(handler, event_with(GOOD_BODY))
    assert response["statusCode"] == 504
    assert_cors(headers)


def test_a_malformed_prediction_is_a_502(handler, stub):
    stub.add_response("invoke_endpoint", prediction_body(label_payload(12)))
    response, headers = call(handler, event_with(GOOD_BODY))
    assert response["statusCode"] == 502
    assert json.loads(response["body"]) == {"message": "the model returned an unusable prediction"}
    assert_cors(headers)


def test_a_bug_of_ours_is_a_json_500_with_cors(handler, monkeypatch, log):
    monkeypatch.setattr(handler, "runtime", object())
    response, headers = call(handler, event_with(GOOD_BODY))
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "internal error"}
    assert_cors(headers)
    assert any(line["message"] == "unhandled error" and "AttributeError" in line["exception"] for line in log())


def test_serves_the_questionnaire(handler):
    response, headers = call(handler, event_with(None, method="GET", path="/questionnaire"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == load_questionnaire().to_dict()
    assert headers["cache-control"] == "public, max-age=300"
    assert_cors(headers)


def test_an_unknown_route_is_a_json_404_with_cors(handler):
    response, headers = call(handler, event_with(None, method="GET", path="/recommendations"))
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"message": "no route for GET /recommendations"}
    assert_cors(headers)


def test_answers_the_preflight(handler):
    response, headers = call(handler, event_with(None, method="OPTIONS"))
    assert response["statusCode"] == 204
    assert_cors(headers)
    assert "POST" in headers["access-control-allow-methods"].split(",")


def test_another_origin_gets_no_cors_grant(handler, stub):
    stub.add_response("invoke_endpoint", prediction_body(label_payload(1)))
    response, headers = call(handler, event_with(GOOD_BODY, origin="https://elsewhere.example"))
    assert response["statusCode"] == 200
    # It is told the one origin the API serves, which a browser on elsewhere.example will refuse to match.
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert headers["vary"] == "Origin"
    assert "access-control-allow-headers" not in headers


@pytest.mark.parametrize("body", [GOOD_BODY, "not json"])
def test_callers_without_an_origin_header_still_see_the_cors_origin(handler, stub, body):
    if body == GOOD_BODY:
        stub.add_response("invoke_endpoint", prediction_body(label_payload(4)))
    response, headers = call(handler, event_with(body, origin=None))
    assert response["statusCode"] in {200, 400}
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_the_client_is_bounded_as_documented(handler):
    config = handler.runtime.meta.config
    assert (config.connect_timeout, config.read_timeout) == (handler.CONNECT_TIMEOUT_S, handler.READ_TIMEOUT_S)
    assert config.retries == {"mode": "standard", "total_max_attempts": handler.MAX_ATTEMPTS}


@pytest.mark.parametrize("missing", ["SAGEMAKER_ENDPOINT_NAME", "ALLOWED_ORIGIN", "ENDPOINT_READ_TIMEOUT_S"])
def test_importing_without_the_template_environment_names_the_variable(handler, monkeypatch, missing):
    for name, value in HANDLER_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    monkeypatch.delitem(sys.modules, "mysfits_api.handler")
    with pytest.raises(RuntimeError, match=missing):
        importlib.import_module("mysfits_api.handler")


def test_the_template_s_empty_endpoint_url_means_the_regional_endpoint():
    """template.yaml declares AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME empty (so sam local may override it); botocore
    must then fall back to the regional endpoint, or the deployed function would call nowhere."""
    with imported_handler(AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME="") as module:
        assert module.runtime.meta.endpoint_url == "https://runtime.sagemaker.us-east-1.amazonaws.com"
    with imported_handler(AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME="http://127.0.0.1:8080") as module:
        assert module.runtime.meta.endpoint_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize("value", ["soon", "0", "-3", "29", "nan"])
def test_a_read_timeout_that_is_not_a_usable_number_of_seconds_is_refused_at_import(value):
    with pytest.raises(RuntimeError, match=f"ENDPOINT_READ_TIMEOUT_S must be a number of seconds.*got '{value}'"):
        with imported_handler(ENDPOINT_READ_TIMEOUT_S=value):
            pass


def test_the_read_timeout_comes_from_the_environment():
    with imported_handler(ENDPOINT_READ_TIMEOUT_S="12.5") as module:
        assert module.runtime.meta.config.read_timeout == 12.5
