"""Issue 22, item 12: `mysfits serve --host` exposes the page and API only; the endpoint stays on loopback unless
its own flag says otherwise, and every non-loopback bind prints a warning."""

from __future__ import annotations

import socket

from tests.e2e.conftest import free_port, running
from tests.endpoint_artifacts import write_artifact


def _listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses with a socket listening on ``port`` (from /proc/net/tcp: state 0A is LISTEN)."""
    found = set()
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_serve_host_0_0_0_0_keeps_the_endpoint_on_loopback_and_warns(tmp_path):
    model = tmp_path / "model.json"
    write_artifact(model, rows=400)
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(model), "--host", "0.0.0.0", "--port", str(port)]
    args += ["--endpoint-port", str(endpoint_port), "--quiet"]
    with running(args, tmp_path / "serve.log", port) as process:
        assert _listening_addresses(port) == {"0.0.0.0"}
        assert _listening_addresses(endpoint_port) == {"127.0.0.1"}
        output = process.output()
    assert "warning: the page and API listens on 0.0.0.0, beyond this machine's loopback" in output
    assert "warning: the endpoint" not in output


def test_the_endpoint_warns_when_asked_to_listen_beyond_loopback(tmp_path):
    model = tmp_path / "model.json"
    write_artifact(model, rows=400)
    port = free_port()
    args = ["endpoint", "--model", str(model), "--host", "0.0.0.0", "--port", str(port), "--quiet"]
    with running(args, tmp_path / "endpoint.log", port, ready_path="/ping") as process:
        assert _listening_addresses(port) == {"0.0.0.0"}
        output = process.output()
    assert "warning: the endpoint 'mysfits-knn' listens on 0.0.0.0, beyond this machine's loopback" in output
