"""predict_label against a real sagemaker-runtime client: Stubber for the service's answers,
real sockets for timeouts and refused connections."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore import exceptions as boto_errors
from botocore.stub import Stubber

from mysfits_api.catalog import load_catalog
from mysfits_api.errors import MalformedPrediction, ModelBusy, ModelFailed, ModelTimeout, ModelUnavailable
from mysfits_api.recommend import predict_label, recommendation_for
from tests.api_support import ENDPOINT_NAME, label_payload, prediction_body, runtime_client

ANSWERS = (3, 1, 4, 1, 5)
EXPECTED_REQUEST = {
    "EndpointName": ENDPOINT_NAME,
    "ContentType": "text/csv",
    "Accept": "application/json",
    "Body": b"3,1,4,1,5",
}


@pytest.fixture
def stubbed():
    client = runtime_client()
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("label", [0, 3.0, 11])
def test_sends_one_csv_row_and_returns_the_label(stubbed, label):
    client, stubber = stubbed
    stubber.add_response("invoke_endpoint", prediction_body(label_payload(label)), EXPECTED_REQUEST)
    assert predict_label(client, ENDPOINT_NAME, ANSWERS) == int(label)


def test_the_label_maps_to_the_catalog_entry_in_label_order():
    catalog = load_catalog()
    for mysfit in catalog:
        body = recommendation_for(mysfit.label)
        assert body["recommendedMysfit"] == mysfit.id
        assert body["mysfit"] == mysfit.profile()


@pytest.mark.parametrize(
    ("code", "http_status", "kind", "status"),
    [
        ("ValidationError", 400, ModelUnavailable, 502),
        ("AccessDeniedException", 400, ModelUnavailable, 502),
        ("ModelError", 424, ModelFailed, 502),
        ("InternalFailure", 500, ModelFailed, 502),
        ("InternalDependencyException", 530, ModelFailed, 502),
        ("ServiceUnavailable", 503, ModelBusy, 503),
        ("ModelNotReadyException", 429, ModelBusy, 503),
        ("ThrottlingException", 400, ModelBusy, 503),
        ("SomeFutureThrottle", 429, ModelBusy, 503),
        ("SomeFutureOutage", 503, ModelBusy, 503),
        ("SomeFutureFault", 500, ModelFailed, 502),
        ("SomeFutureRefusal", 403, ModelUnavailable, 502),
    ],
)
def test_service_errors_map_by_cause(stubbed, code, http_status, kind, status):
    client, stubber = stubbed
    stubber.add_client_error(
        "invoke_endpoint", service_error_code=code, service_message="internal detail 42", http_status_code=http_status
    )
    with pytest.raises(kind) as caught:
        predict_label(client, ENDPOINT_NAME, ANSWERS)
    error = caught.value
    assert error.status == status
    assert isinstance(error.__cause__, boto_errors.ClientError)
    assert code in error.detail and "internal detail 42" in error.detail
    assert "internal detail 42" not in str(error.body())
    assert ("Retry-After" in error.headers()) == (status == 503)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"predictions": []}',
        b'{"predictions": [{"predicted_label": 1}, {"predicted_label": 2}]}',
        b'{"predictions": [{}]}',
        b'{"predictions": [{"predicted_label": 12}]}',
        b'{"predictions": [{"predicted_label": -1}]}',
        b'{"predictions": [{"predicted_label": 3.5}]}',
        b'{"predictions": [{"predicted_label": "3"}]}',
        b'{"predictions": [{"predicted_label": true}]}',
        b'{"predictions": [{"predicted_label": null}]}',
        b'{"predictions": [{"predicted_label": NaN}]}',
        b'{"predictions": [{"predicted_label": 1e400}]}',
        b'{"predictions": "x"}',
    ],
)
def test_a_malformed_prediction_is_a_502(stubbed, payload):
    client, stubber = stubbed
    stubber.add_response("invoke_endpoint", prediction_body(payload), EXPECTED_REQUEST)
    with pytest.raises(MalformedPrediction) as caught:
        predict_label(client, ENDPOINT_NAME, ANSWERS)
    assert caught.value.status == 502


@pytest.fixture
def silent_server():
    """Accepts the request, then says nothing until the test is over."""
    release = threading.Event()

    class Silent(BaseHTTPRequestHandler):
        def do_POST(self):
            release.wait(10)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Silent)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


def test_a_slow_endpoint_is_a_504(silent_server):
    client = runtime_client(silent_server, read_timeout=0.3, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ModelTimeout) as caught:
        predict_label(client, ENDPOINT_NAME, ANSWERS)
    assert caught.value.status == 504
    assert isinstance(caught.value.__cause__, boto_errors.ReadTimeoutError)


def test_a_connect_timeout_is_a_504():
    client = runtime_client("http://127.0.0.1:9", retries={"mode": "standard", "total_max_attempts": 1})

    def time_out(request, **_):
        raise boto_errors.ConnectTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint", time_out)
    with pytest.raises(ModelTimeout):
        predict_label(client, ENDPOINT_NAME, ANSWERS)


def test_a_refused_connection_is_a_503_with_retry_after():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = runtime_client(f"http://127.0.0.1:{port}", retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ModelBusy) as caught:
        predict_label(client, ENDPOINT_NAME, ANSWERS)
    assert isinstance(caught.value.__cause__, boto_errors.EndpointConnectionError)
    assert caught.value.headers() == {"Retry-After": "5"}


def test_no_credentials_is_model_unavailable(monkeypatch, tmp_path):
    credential_sources = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    container_sources = ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    for name in (*credential_sources, *container_sources, "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.Session().client("sagemaker-runtime", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ModelUnavailable) as caught:
        predict_label(client, ENDPOINT_NAME, ANSWERS)
    assert isinstance(caught.value.__cause__, boto_errors.NoCredentialsError)
