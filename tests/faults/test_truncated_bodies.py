"""Issue 22, item 10: a request whose body did not arrive whole is never handed to the function.

A real gateway (uvicorn) in front of the fixture handler; the raw socket declares 100 bytes, sends 21, and closes.
The gateway's request log has one line per request that reached routing, so it shows whether the function ran.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import httpx
import pytest

from mysfits.local.gateway.server import GatewaySettings, build_gateway
from mysfits.local.http_server import BackgroundServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gateway"
BODY = b'{"entry": [1,2,3,4,5]'  # 21 bytes of the 100 declared


@pytest.fixture
def gateway_url(tmp_path):
    settings = GatewaySettings(
        template=FIXTURES / "template.yaml",
        sagemaker_runtime_url="http://127.0.0.1:9",
        web_root=tmp_path,
        parameter_overrides={"AllowedOrigin": "http://page.example"},
    )
    with BackgroundServer(build_gateway(settings)) as server:
        yield server.url


def _truncated_upload(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = f"POST /echo HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        sock.sendall(head.encode() + BODY)


def test_a_truncated_upload_never_runs_the_function(gateway_url, caplog):
    caplog.set_level(logging.INFO, logger="mysfits.local.gateway")
    for _ in range(3):
        _truncated_upload(gateway_url)
    assert httpx.post(f"{gateway_url}/echo", json={"entry": [1, 2, 3, 4, 5]}, timeout=5).status_code == 200
    time.sleep(0.2)  # the server sees each close within milliseconds; give a busy machine a margin
    routed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("POST /echo")]
    assert len(routed) == 1, routed
