"""REST proxy events built from HTTP requests, and handler results mapped back to HTTP."""

import base64
from pathlib import Path

import pytest

from mysfits.local.gateway.events import HttpRequest, InvalidProxyResult, build_event, response_from_result
from mysfits.local.gateway.template import load_api

TEMPLATE = Path(__file__).resolve().parent.parent / "fixtures" / "gateway" / "template.yaml"


@pytest.fixture(scope="module")
def api():
    return load_api(TEMPLATE, {}, "test")


def request(method="POST", path="/echo", query=b"", headers=(), body=b""):
    return HttpRequest(method, path, query, list(headers), body, "10.1.2.3")


def test_event_has_the_rest_api_shape(api):
    route, params = api.find("GET", "/items/7")
    req = request(
        "GET",
        "/items/7",
        b"a=1&a=2&b=&c=x%20y",
        [("host", "127.0.0.1:3000"), ("user-agent", "ua/1"), ("x-dup", "one"), ("x-dup", "two")],
    )
    event = build_event(req, route, params, "req-1", now=1_700_000_000.5)
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/7"
    assert event["httpMethod"] == "GET"
    assert event["headers"] == {"Host": "127.0.0.1:3000", "User-Agent": "ua/1", "X-Dup": "two"}
    assert event["multiValueHeaders"]["X-Dup"] == ["one", "two"]
    assert event["queryStringParameters"] == {"a": "2", "b": "", "c": "x y"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""], "c": ["x y"]}
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["requestId"] == "req-1"
    assert context["stage"] == "dev"
    assert context["path"] == "/dev/items/7"
    assert context["resourcePath"] == "/items/{id}"
    assert context["requestTimeEpoch"] == 1_700_000_000_500
    assert context["requestTime"] == "14/Nov/2023:22:13:20 +0000"
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["identity"]["userAgent"] == "ua/1"
    assert context["domainName"] == "127.0.0.1:3000"


def test_no_query_or_path_parameters_are_null_not_empty(api):
    route, params = api.find("POST", "/echo")
    event = build_event(
        request(body=b'{"entry": [1]}', headers=[("content-type", "application/json")]), route, params, "r"
    )
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] == '{"entry": [1]}'
    assert event["isBase64Encoded"] is False


def test_binary_media_types_and_undecodable_bodies_are_base64(api):
    route, params = api.find("POST", "/echo")
    text_as_binary = request(body=b"plain", headers=[("content-type", "application/octet-stream")])
    event = build_event(text_as_binary, route, params, "r")
    assert (event["body"], event["isBase64Encoded"]) == (base64.b64encode(b"plain").decode(), True)
    undecodable = request(body=b"\xff\xfe", headers=[("content-type", "text/plain")])
    event = build_event(undecodable, route, params, "r")
    assert (base64.b64decode(event["body"]), event["isBase64Encoded"]) == (b"\xff\xfe", True)


def test_result_headers_merge_like_api_gateway():
    response = response_from_result(
        {
            "statusCode": 201,
            "headers": {"X-Single": "one", "X-Only-Single": 5},
            "multiValueHeaders": {"X-Single": ["multi"], "Set-Cookie": ["a=1", "b=2"]},
            "body": "héllo",
        }
    )
    assert response.status == 201
    assert response.headers == [
        ("X-Single", "multi"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-Only-Single", "5"),
        ("Content-Type", "application/json"),
    ]
    assert response.body == "héllo".encode()


def test_base64_results_are_decoded_and_content_type_kept():
    body = bytes(range(256))
    response = response_from_result(
        {
            "statusCode": 200,
            "headers": {"content-type": "image/png"},
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.body == body
    assert response.headers == [("content-type", "image/png")]


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ("a string", "returned str"),
        ({"body": "{}"}, "statusCode must be an integer"),
        ({"statusCode": "200"}, "statusCode must be an integer"),
        ({"statusCode": True}, "statusCode must be an integer"),
        ({"statusCode": 200, "body": {"a": 1}}, "body must be a string"),
        ({"statusCode": 200, "headers": {"X": {"nested": 1}}}, "header 'X' must be a string"),
        ({"statusCode": 200, "multiValueHeaders": {"X": "flat"}}, r"multiValueHeaders\['X'\] must be a list"),
        ({"statusCode": 200, "body": "!!", "isBase64Encoded": True}, "not base64"),
    ],
)
def test_malformed_results_are_refused(result, message):
    with pytest.raises(InvalidProxyResult, match=message):
        response_from_result(result)
