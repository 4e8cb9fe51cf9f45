"""Issue 12: every case of the hostile-input corpus against the real local stack (`mysfits serve`: gateway and
endpoint). No case may get a 5xx it does not list, every JSON answer must be strict JSON (no NaN or Infinity), and
the server must still answer a normal request after each case."""

from __future__ import annotations

import json
import os
import shutil
import socket

import pytest

from tests.e2e.conftest import REPO, free_port, running
from tests.endpoint_artifacts import write_artifact
from tests.faults.hostile_corpus import ANY, ODD_FILES, cases

# One worker runs the whole corpus against one pair of servers (the module fixture) rather than each worker its own.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile-corpus")]

ENDPOINT_NAME = "mysfits-knn"
CASES = cases()
HEALTH = {
    "gateway": b"GET /questionnaire HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    "endpoint": b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
}


def test_the_corpus_is_large_and_reaches_both_servers():
    assert len(CASES) >= 300
    assert len({case["name"] for case in CASES}) == len(CASES)
    targets = [case["target"] for case in CASES]
    assert targets.count("gateway") + targets.count("both") >= 100
    assert targets.count("endpoint") + targets.count("both") >= 100


@pytest.fixture(scope="module")
def ports(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostile")
    model = workdir / "model.json"
    write_artifact(model, rows=2000, seed=5)
    web = workdir / "web"
    shutil.copytree(REPO / "web", web)
    (web / "loop").symlink_to(web / "loop")
    (web / "ping-pong-a").symlink_to(web / "ping-pong-b")
    (web / "ping-pong-b").symlink_to(web / "ping-pong-a")
    os.mkfifo(web / "fifo")
    (web / "way-out").symlink_to("/")
    assert {path.name for path in web.iterdir()} >= set(ODD_FILES)
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(model), "--port", str(port), "--endpoint-port", str(endpoint_port), "--quiet"]
    args += ["--web", str(web)]
    with running(args, workdir / "serve.log", port) as process:
        yield {"gateway": port, "endpoint": endpoint_port}
        output = process.output()
    assert "Traceback" not in output, output[-5000:]


KEPT_ALIVE_QUIET_S = 1.0
"""Once a whole answer has come, this long without more bytes means the connection is only being kept alive."""


def exchange(port: int, raw: bytes, timeout: float = 30.0, half_close: bool = False) -> bytes:
    """Send ``raw`` and read until the server closes (a server may also close early, refusing the rest), or until
    it has answered and then goes quiet: a kept-alive connection (e.g. an Upgrade without ``close``) would otherwise
    cost the server's whole keep-alive timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused part-way (e.g. 431): its answer, if any, is still readable
        if half_close:
            sock.shutdown(socket.SHUT_WR)  # as a client that gives up part-way through its body
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if _whole(b"".join(chunks)):
                    sock.settimeout(KEPT_ALIVE_QUIET_S)
        except (ConnectionResetError, TimeoutError):
            pass  # a server that neither answers nor closes in time fails the health check below, or is slow
        return b"".join(chunks)


def _whole(data: bytes) -> bool:
    """True if ``data`` ends with a complete answer (its head and all of its Content-Length)."""
    head, found, rest = data.rpartition(b"HTTP/")[2].partition(b"\r\n\r\n")
    if not found:
        return False
    lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    return len(lengths) == 1 and len(rest) >= int(lengths[0].split(b":")[1])


def answers(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Every response in ``data`` (pipelined requests get several), as status, headers and body."""
    out = []
    while data.startswith(b"HTTP/"):
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", len(rest)))
        out.append((int(status_line.split()[1]), headers, rest[:length]))
        data = rest[length:]
    return out


def strict_json(body: bytes) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(body, parse_constant=refuse)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_hostile_case(case, ports):
    targets = ["gateway", "endpoint"] if case["target"] == "both" else [case["target"]]
    for target in targets:
        raw = case["raw"].replace(b"/ENDPOINT", f"/endpoints/{ENDPOINT_NAME}/invocations".encode())
        got = answers(exchange(ports[target], raw, half_close=case["half_close"]))
        if case["expect"] is None:
            assert got == [], (target, "a body that never arrived whole was answered", got)
        elif case["expect"] != ANY:
            assert [status for status, _, _ in got] == [case["expect"]], (target, got)
        for status, headers, body in got:
            assert status < 500 or status in case["allow_5xx"], (target, status, body[:300])
            if headers.get("content-type", "").startswith(("application/json", "application/jsonlines")) and body:
                for line in body.splitlines() if "jsonlines" in headers["content-type"] else [body]:
                    strict_json(line)
        (health,) = answers(exchange(ports[target], HEALTH[target]))
        assert health[0] == 200, f"{target} stopped answering after {case['name']!r}"
