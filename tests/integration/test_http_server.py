"""The runner both local servers use: no Nagle stalls on keep-alive, body limits, lifespan hooks, readiness."""

from __future__ import annotations

import http.client
import statistics
import time

import pytest

from mysfits.local import http_server


class TwoWrites:
    """Answers with the header and the body in two sends, as both local servers do; records its lifespan."""

    def __init__(self, limit: int = 1024):
        self.limit = limit
        self.events: list[str] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await http_server.lifespan(receive, send, startup=lambda: self.events.append("up"), shutdown=self._down)
            return
        try:
            body = await http_server.read_body(receive, self.limit)
            status, answer = 200, str(len(body)).encode()
        except http_server.BodyTooLarge:
            status, answer = 413, b"too large"
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-length", b"%d" % len(answer))]}
        )
        await send({"type": "http.response.body", "body": answer})

    async def _down(self):
        self.events.append("down")


def timed_keep_alive_posts(url_port: int, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", url_port, timeout=5)
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.request("POST", "/", body=b"x" * 10)
            assert connection.getresponse().read() == b"10"
            times.append(time.perf_counter() - started)
    finally:
        connection.close()
    return times


def test_keep_alive_answers_do_not_wait_for_delayed_acks():
    """With Nagle's algorithm on, each of these would take ~40 ms (the client's delayed ACK)."""
    with http_server.BackgroundServer(TwoWrites()) as server:
        times = timed_keep_alive_posts(server.port, 30)
    assert statistics.median(times) < 0.02, f"median {statistics.median(times) * 1000:.1f} ms"


@pytest.mark.parametrize(("size", "status"), [(1024, 200), (1025, 413)])
def test_bodies_past_the_limit_are_refused(size, status):
    with http_server.BackgroundServer(TwoWrites(limit=1024)) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("POST", "/", body=b"x" * size)
        assert connection.getresponse().status == status
        connection.close()


def test_lifespan_hooks_run_once_each_and_start_returns_when_ready():
    app = TwoWrites()
    server = http_server.BackgroundServer(app).start()
    assert app.events == ["up"]
    server.stop()
    assert app.events == ["up", "down"]


def test_a_busy_port_names_itself_and_keeps_the_errno_text():
    with http_server.BackgroundServer(TwoWrites()) as server, pytest.raises(http_server.PortInUse) as caught:
        port = server.port
        http_server.bind("127.0.0.1", port)
    assert str(caught.value) == f"127.0.0.1:{port} is already in use"
    assert caught.value.strerror == "Address already in use"
