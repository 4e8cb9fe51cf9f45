"""The local gateway over real HTTP (uvicorn + httpx), in front of a fixture handler."""

import base64
import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from mysfits.local.gateway.server import GatewaySettings, build_gateway
from mysfits.local.http_server import BackgroundServer, PortInUse, bind

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gateway"


@pytest.fixture(scope="module")
def restore_environment():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory, restore_environment):
    web = tmp_path_factory.mktemp("web")
    (web / "index.html").write_text("<!doctype html><title>t</title>")
    (web / "app.js").write_text("export {}")
    os.environ["AWS_PROFILE"] = "someone-elses-profile"
    settings = GatewaySettings(
        template=FIXTURES / "template.yaml",
        sagemaker_runtime_url="http://127.0.0.1:9",
        web_root=web,
        parameter_overrides={"AllowedOrigin": "http://page.example"},
    )
    with BackgroundServer(build_gateway(settings)) as server:
        yield server.url


@pytest.fixture
def client(gateway_url):
    with httpx.Client(base_url=gateway_url, timeout=10) as c:
        yield c


def test_post_reaches_the_handler_as_a_proxy_event(client):
    response = client.post("/echo?x=1&x=2", json={"entry": [1, 2, 3, 4, 5]}, headers={"X-Trace": "abc"})
    assert response.status_code == 200
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["x-single"] == "from-multi"
    request_id = response.headers["x-amzn-requestid"]
    echoed = response.json()
    event = echoed["event"]
    assert json.loads(event["body"]) == {"entry": [1, 2, 3, 4, 5]}
    assert event["headers"]["X-Trace"] == "abc"
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["requestContext"]["requestId"] == request_id
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    context = echoed["context"]
    assert context["aws_request_id"] == request_id
    assert context["function_name"] == "EchoFunction"
    assert context["memory_limit_in_mb"] == 256
    assert 0 < context["remaining_ms"] <= 2000


def test_handler_sees_the_template_environment_and_local_aws_settings(client):
    echoed = client.post("/echo", content=b"x").json()
    environment = echoed["environment"]
    assert environment["GREETING"] == "hello"
    assert environment["MODE"] == "development"
    assert environment["SHARED"] == "from-globals"
    assert environment["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] == "http://127.0.0.1:9"
    assert environment["AWS_ACCESS_KEY_ID"] == "local-dummy-key"
    assert environment["AWS_REGION"] == "us-east-1"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "EchoFunction"
    assert environment["AWS_PROFILE"] is None
    # Set before the module was imported, so clients created at import time see them too.
    assert echoed["import_time_environment"] == {
        "GREETING": "hello",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": "http://127.0.0.1:9",
    }


def test_preflight_answers_as_the_template_cors_says(client):
    response = client.options(
        "/echo", headers={"Origin": "http://page.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://page.example"
    assert response.headers["access-control-allow-methods"] == "OPTIONS,POST"
    assert response.headers["access-control-allow-headers"] == "Content-Type"
    assert response.headers["access-control-max-age"] == "600"
    assert client.options("/not-a-route").status_code == 403


@pytest.mark.parametrize(("method", "path"), [("POST", "/nowhere"), ("GET", "/echo"), ("DELETE", "/items/1")])
def test_unknown_routes_get_api_gateway_403(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-errortype"] == "MISSING_AUTHENTICATION_TOKEN"


@pytest.mark.parametrize(
    ("how", "logged"),
    [("raise", "EchoFunction raised"), ("malformed", "malformed Lambda proxy"), ("slow", "did not answer within 2 s")],
)
def test_handler_failures_are_502_with_gateway_response_headers(client, caplog, how, logged):
    response = client.get(f"/fail/{how}")
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert response.headers["access-control-allow-origin"] == "http://page.example"
    # All three are 502 (the fixture's timeout is under API Gateway's 29 s), so the log tells a timeout from a crash.
    assert logged in caplog.text


def test_handler_status_and_binary_bodies_pass_through(client):
    teapot = client.get("/fail/status")
    assert (teapot.status_code, teapot.json()) == (418, {"message": "short and stout"})
    assert teapot.headers["content-type"] == "application/json"
    binary = client.get("/fail/binary")
    assert binary.content == bytes(range(256))
    assert binary.headers["content-type"] == "application/octet-stream"
    echoed = client.post("/echo", content=b"\x00\xff", headers={"Content-Type": "application/octet-stream"}).json()
    assert echoed["event"]["isBase64Encoded"] is True
    assert base64.b64decode(echoed["event"]["body"]) == b"\x00\xff"


def test_static_page_is_served_at_the_root(client):
    home = client.get("/")
    assert (home.status_code, home.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert client.get("/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
    missing = client.get("/nope.css")
    assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})


@pytest.mark.parametrize("path", ["/../template.yaml", "/%2e%2e/template.yaml", "/..%2ftemplate.yaml"])
def test_no_traversal_over_http(gateway_url, path):
    # Raw paths, so the client does not normalise the dots away before they reach the server.
    with httpx.Client(base_url=gateway_url) as c:
        response = c.send(c.build_request("GET", httpx.URL(gateway_url).copy_with(raw_path=path.encode())))
    assert response.status_code == 404


def test_a_busy_port_is_reported_by_number():
    with BackgroundServer(lambda *_: None) as server, pytest.raises(PortInUse, match=f":{server.port} is already"):
        bind("127.0.0.1", server.port)


def test_handler_outside_code_uri_is_a_clear_error(tmp_path, restore_environment):
    shutil.copy(FIXTURES / "template.yaml", tmp_path / "template.yaml")
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "other.py").write_text("x = 1\n")
    text = (tmp_path / "template.yaml").read_text().replace("echo_fixture.handler", "other.handler")
    (tmp_path / "template.yaml").write_text(text)
    settings = GatewaySettings(template=tmp_path / "template.yaml", sagemaker_runtime_url="http://127.0.0.1:9")
    with pytest.raises(RuntimeError, match="EchoFunction: other has no callable 'handler'"):
        build_gateway(settings)
