"""Issue 12, items 2 and 3: API Gateway's own answers carry the CORS header (template.yaml's GatewayResponses, which
the local gateway applies as API Gateway does), and a stuck invocation does not make every later request wait."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from tests.e2e.conftest import free_port, running

pytestmark = pytest.mark.slow

ORIGIN = "http://page.example"


@pytest.fixture(scope="module")
def hung_endpoint():
    """Accepts connections (the kernel's backlog does) and never answers: an endpoint that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def gateway(hung_endpoint, tmp_path_factory):
    port = free_port()
    args = ["serve", "--endpoint-url", hung_endpoint, "--port", str(port), "--quiet"]
    args += ["--parameter-overrides", f"AllowedOrigin={ORIGIN} EndpointReadTimeoutSeconds=3"]
    with running(args, tmp_path_factory.mktemp("gw") / "serve.log", port) as process:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers={"Origin": ORIGIN}) as client:
            yield client, process


def _cors_json(response: httpx.Response) -> dict:
    assert response.headers["access-control-allow-origin"] == ORIGIN, response.headers
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_an_unknown_route_is_403_with_cors(gateway):
    client, _ = gateway
    response = client.post("/no-such-route", json={})
    assert response.status_code == 403
    assert _cors_json(response) == {"message": "Missing Authentication Token"}


def test_a_body_over_10_mb_is_413_with_cors(gateway):
    client, _ = gateway
    response = client.post("/recommendations", content=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert _cors_json(response) == {"message": "Request Too Long"}


def test_requests_behind_a_stuck_invocation_get_503_with_retry_after_and_cors(gateway):
    client, _ = gateway
    stuck: list[httpx.Response] = []
    first = threading.Thread(
        target=lambda: stuck.append(client.post("/recommendations", json={"entry": [1, 2, 3, 4, 5]}))
    )
    first.start()
    time.sleep(0.3)  # the first invocation now holds the function's one local instance
    waiting = []
    for _ in range(4):
        started = time.monotonic()
        waiting.append((client.post("/recommendations", json={"entry": [2, 2, 2, 2, 2]}), time.monotonic() - started))
    first.join(30)
    for response, elapsed in waiting:
        assert response.status_code == 503
        assert _cors_json(response) == {"message": "the function is busy; retry shortly"}
        assert int(response.headers["retry-after"]) > 0
        assert response.headers["x-amzn-errortype"] == "DEFAULT_5XX"
        assert elapsed < 1.0  # issue 12: "every API response arrives within 1 s"
    # The stuck one ends with the handler's own 504 when its read timeout passes, with CORS like any answer.
    (timed_out,) = stuck
    assert timed_out.status_code == 504
    assert _cors_json(timed_out) == {"message": "the model did not answer in time"}
