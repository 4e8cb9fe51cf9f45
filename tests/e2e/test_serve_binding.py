"""Issue 22, item 12: `mysfits serve --host` no longer exposes the unauthenticated endpoint, and any server that other
machines can reach says so."""

from __future__ import annotations

import socket

import pytest

from mysfits.local.http_server import exposure_warning, is_loopback
from tests.e2e.conftest import free_port, running
from tests.endpoint_artifacts import write_artifact

pytestmark = pytest.mark.slow


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port``, from the kernel's own table."""
    found = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_serve_on_all_addresses_keeps_the_endpoint_on_loopback_and_warns(tmp_path):
    model = tmp_path / "model.json"
    write_artifact(model, rows=2000, seed=5)
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(model), "--host", "0.0.0.0", "--port", str(port)]
    args += ["--endpoint-port", str(endpoint_port), "--quiet"]
    with running(args, tmp_path / "serve.log", port) as process:
        assert listening_addresses(endpoint_port) == {"127.0.0.1"}
        assert listening_addresses(port) == {"0.0.0.0"}
    output = process.output()
    assert "warning: the page and API listens on 0.0.0.0" in output
    assert "warning: the model endpoint" not in output


def test_the_endpoint_host_flag_moves_it_and_warns(tmp_path):
    model = tmp_path / "model.json"
    write_artifact(model, rows=2000, seed=5)
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(model), "--endpoint-host", "0.0.0.0", "--port", str(port)]
    args += ["--endpoint-port", str(endpoint_port), "--quiet"]
    with running(args, tmp_path / "serve.log", port) as process:
        assert listening_addresses(endpoint_port) == {"0.0.0.0"}
        assert listening_addresses(port) == {"127.0.0.1"}
    assert "warning: the model endpoint listens on 0.0.0.0" in process.output()


@pytest.mark.parametrize(
    ("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
                           ("0.0.0.0", False), ("::", False), ("192.168.1.10", False)],
)  # fmt: skip
def test_what_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback
    assert (exposure_warning("x", host, 1) is None) is loopback
