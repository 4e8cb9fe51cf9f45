"""Issue 12, items 6 to 11, each reproduced over real sockets against `mysfits serve` (gateway) and the endpoint."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from mysfits.local.endpoint.server import serve_in_thread
from mysfits.local.guard import HEAD_TIMEOUT_S, MAX_HEAD_BYTES
from tests.api_support import local_runtime_client
from tests.e2e.conftest import free_port, running
from tests.endpoint_artifacts import write_artifact

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """The real template and page; the endpoint URL leads nowhere, which these tests do not need."""
    port = free_port()
    log = tmp_path_factory.mktemp("limits") / "serve.log"
    args = ["serve", "--endpoint-url", "http://127.0.0.1:9", "--port", str(port), "--quiet"]
    with running(args, log, port) as process:
        yield port, process


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_slowloris_connections_are_closed_and_normal_requests_still_answered(gateway):
    port, process = gateway
    slow = []
    try:
        for _ in range(1100):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(sock)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            statuses = [client.get("/").status_code for _ in range(12)]
        assert statuses == [200] * 12
        deadline = time.monotonic() + HEAD_TIMEOUT_S + 10
        still_open = [s for s in slow if not closed_by_server(s, max(0.01, deadline - time.monotonic()))]
        assert not still_open, f"{len(still_open)} slow connections still open"
    finally:
        for sock in slow:
            sock.close()
    assert "closed connections:" in process.output()


def test_a_connection_that_sends_nothing_is_closed(gateway):
    port, _ = gateway
    with socket.create_connection(("127.0.0.1", port)) as sock:
        assert closed_by_server(sock, HEAD_TIMEOUT_S + 10)


def test_100_mb_of_headers_get_431_without_being_read(gateway):
    port, process = gateway
    before = rss_kb(process.proc.pid)
    sent = 0
    reply = b""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        line = b"X-Pad: " + b"a" * 8000 + b"\r\n"
        try:
            while sent < 100 * 1024 * 1024:
                sock.sendall(line)
                sent += len(line)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(5)
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    assert sent < 10 * 1024 * 1024, "the server kept reading"
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    body = json.loads(reply.partition(b"\r\n\r\n")[2])
    assert str(MAX_HEAD_BYTES) in body["message"]
    assert rss_kb(process.proc.pid) - before < 30 * 1024


def test_a_4_kb_path_is_a_json_404_not_a_500(gateway):
    port, _ = gateway
    response = httpx.get(f"http://127.0.0.1:{port}/" + "a" * 5000, timeout=10)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_http_10_clients_get_content_length_not_chunks(gateway):
    port, _ = gateway
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /questionnaire HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")[1:])}
    assert b"transfer-encoding" not in headers
    assert int(headers[b"content-length"]) == len(body)
    assert json.loads(body)["questions"]


# -- the endpoint ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ep") / "model.json"
    write_artifact(path, rows=1000, seed=3)
    with serve_in_thread(str(path), "limits") as handle:
        yield handle


@pytest.mark.parametrize(
    ("content_type", "accept", "body", "fragment"),
    [
        ("text/csv", "application/json", "9" * 400 + ",1,1,1,1", "largest 32-bit float"),
        ("text/csv", "application/json;verbose=true", "1e200,1,1,1,1", "largest 32-bit float"),
        ("application/json", "application/json", '{"instances": [{"features": [1e200, 1, 1, 1, 1]}]}', "32-bit"),
        ("application/json", "application/json", "[" * 990 + "]" * 990, "nested too deeply"),
        ("application/jsonlines", "application/jsonlines", "[" * 5000 + "]" * 5000, "nested too deeply"),
    ],
)
def test_numbers_too_large_and_deep_nesting_are_sagemaker_shaped_400s(endpoint, content_type, accept, body, fragment):
    client = local_runtime_client(endpoint.url)
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(EndpointName="limits", ContentType=content_type, Accept=accept, Body=body)
    assert caught.value.response["OriginalStatusCode"] == 400
    assert fragment in caught.value.response["OriginalMessage"]


def test_a_6_mb_body_does_not_stall_other_callers(endpoint):
    """Small requests sent while a 6 MB CSV is being parsed are answered before it is.

    The big body's last line is bad, so its answer is a short 400 that comes right after the parse: on the event
    loop, the parse would hold every small request until then."""
    good = b"1,2,3,4,5\n" * ((6 * 1024 * 1024 - 100) // 10)
    heavy = good + b"x,y,z,1,2\n"
    order: list[str] = []
    started = threading.Event()

    def send_heavy() -> None:
        with httpx.Client(base_url=endpoint.url, timeout=120) as big:
            started.set()
            response = big.post("/invocations", content=heavy, headers={"content-type": "text/csv"})
        assert response.status_code == 400, response.text[:200]
        order.append("heavy")

    thread = threading.Thread(target=send_heavy)
    thread.start()
    started.wait(10)
    with httpx.Client(base_url=endpoint.url, timeout=120) as small:
        time.sleep(0.2)  # the body is on its way; parsing it takes far longer than sending it
        for _ in range(3):
            small.post("/invocations", content=b"1,2,3,4,5", headers={"content-type": "text/csv"}).raise_for_status()
            order.append("small")
    thread.join(120)
    assert order == ["small"] * 3 + ["heavy"], order
