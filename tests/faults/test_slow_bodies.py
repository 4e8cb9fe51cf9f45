"""Issue 22, item 2: connections that send their headers and then trickle the body do not lock out real clients.

A real uvicorn server with the guard, its connection cap lowered to 16 for the test (the product's is 1,000), and an
app that reads whole bodies as both local servers do. Slow-body connections fill the cap; real requests then evict
the ones that have waited longest, are answered at once, and no evicted body reaches the app.
"""

from __future__ import annotations

import socket

import httpx

from mysfits.local import http_server
from mysfits.local.http_server import BackgroundServer

CAP = 16


def make_app(bodies: list[bytes]):
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        try:
            body = await http_server.read_body(receive, 1024)
        except http_server.BodyIncomplete:
            return
        bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_slow_bodies_at_the_cap_are_evicted_for_real_requests():
    bodies: list[bytes] = []
    with BackgroundServer(make_app(bodies), max_connections=CAP) as server:
        host, port = server.url.removeprefix("http://").split(":")
        slow = []
        try:
            for _ in range(CAP * 2):
                sock = socket.create_connection((host, int(port)), timeout=5)
                sock.sendall(f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100\r\n\r\nx".encode())
                slow.append(sock)
            with httpx.Client(timeout=5) as client:
                statuses = [
                    client.post(server.url, content=b"whole", headers={"Connection": "close"}).status_code
                    for _ in range(CAP)
                ]
        finally:
            for sock in slow:
                sock.close()
    assert statuses == [200] * CAP
    assert bodies == [b"whole"] * CAP  # no slow body, cut short by its eviction, was handed to the app
