"""Limits on connections and request heads, for both local servers, below uvicorn's HTTP parsing.

uvicorn (0.54 with httptools) arms its keep-alive timer only after a response, puts no bound on the size of a request
head, and checks ``limit_concurrency`` only once a head is complete. So a client that opens a connection and sends
nothing, or sends its headers a byte at a time (slowloris), holds a file handle for ever, and 100 MB of headers are
buffered in full. :class:`GuardedHttpProtocol` closes those gaps where they open:

* a request head must be complete within ``HEAD_TIMEOUT_S`` of its first byte (and a new connection must send its
  first byte within that time), else the connection is closed;
* a head larger than ``MAX_HEAD_BYTES`` (API Gateway's 10 KB for the request line and headers) is answered 431 and
  the connection closed, before the rest is read;
* at ``max_connections`` open connections, a new one replaces the connection that has waited longest for a request
  head or for the rest of a request body (idle, slow headers or a slow body), so clients that do send requests are
  still served during a flood; an evicted body is never handed to the app. When every connection has a whole
  request in flight, the new one is closed.

Every such closing is counted and logged, at most once a second, as one warning line.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from asyncio import TimerHandle

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("mysfits.local.http")

MAX_HEAD_BYTES = 10 * 1024
HEAD_TIMEOUT_S = 10.0


def default_max_connections() -> int:
    """At most 1,000 connections, and never more than half the process's file handles."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, min(1000, soft // 2)) if soft != resource.RLIM_INFINITY else 1000


class _Tally:
    """Counts of closed connections by reason, logged as one line at most once a second."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._last = 0.0

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        now = time.monotonic()
        if now - self._last >= 1.0:
            self._last = now
            shown = ", ".join(f"{count} {why}" for why, count in sorted(self.counts.items()))
            log.warning("closed connections: %s", shown)
            self.counts.clear()


TALLY = _Tally()


def _still_sending(connection: object) -> bool:
    """True while a connection owes us a request head or the rest of a body (uvicorn's other protocols: never)."""
    return getattr(connection, "_reading_head", False) or getattr(connection, "_reading_body", False)


class GuardedHttpProtocol(HttpToolsProtocol):
    max_head_bytes = MAX_HEAD_BYTES
    head_timeout_s = HEAD_TIMEOUT_S
    max_connections = 1000
    error_headers: tuple[tuple[bytes, bytes], ...] = ()

    _head_timer: TimerHandle | None = None
    _reading_head = True
    _reading_body = False
    _head_bytes = 0
    _head_size = 0
    _head_too_large = False
    _waiting_since = 0.0

    @classmethod
    def configured(
        cls,
        *,
        max_connections: int | None = None,
        head_timeout_s: float = HEAD_TIMEOUT_S,
        max_head_bytes: int = MAX_HEAD_BYTES,
        error_headers: tuple[tuple[str, str], ...] = (),
    ) -> type[GuardedHttpProtocol]:
        """A subclass with these limits: uvicorn builds one protocol object per connection from a class."""
        return type(
            "GuardedHttpProtocol",
            (cls,),
            {
                "max_connections": max_connections or default_max_connections(),
                "head_timeout_s": head_timeout_s,
                "max_head_bytes": max_head_bytes,
                "error_headers": tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in error_headers),
            },
        )

    # -- connections ----------------------------------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.max_connections and not self._evict_one():
            TALLY.add("refused at the connection limit")
            transport.close()
            return
        super().connection_made(transport)
        self._waiting_since = time.monotonic()
        self._arm_head_timer()

    def _evict_one(self) -> bool:
        waiting = [c for c in self.connections if _still_sending(c) and not c.transport.is_closing()]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._waiting_since)
        TALLY.add("idle or slow (head or body), closed at the connection limit")
        oldest.transport.close()
        self.connections.discard(oldest)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        if self.transport is None:  # refused in connection_made: uvicorn never set it up
            return
        super().connection_lost(exc)

    # -- the request head --------------------------------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._reading_head and not self.transport.is_closing():
            TALLY.add(f"without a complete request head within {self.head_timeout_s:g} s")
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._refuse_large_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        # Raising inside a parser callback stops the parser; send_400_response then answers 431 instead.
        self._head_size += size
        if self._head_size > self.max_head_bytes:
            self._head_too_large = True
            raise ValueError("request head too large")

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._reading_body = True
        self._waiting_since = time.monotonic()
        self._head_bytes = 0
        self._head_size = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_body = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._reading_head = True
        self._waiting_since = time.monotonic()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse_large_head()
            return
        self._send_error(400, "Bad Request", "the request is not valid HTTP/1.1")

    def _refuse_large_head(self) -> None:
        TALLY.add(f"with a request head over {self.max_head_bytes} bytes")
        self._send_error(
            431,
            "Request Header Fields Too Large",
            f"the request line and headers may hold at most {self.max_head_bytes} bytes",
        )

    def _send_error(self, status: int, reason: str, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        head = [f"HTTP/1.1 {status} {reason}\r\n".encode()]
        for name, value in (
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *self.error_headers,
        ):
            head += [name, b": ", value, b"\r\n"]
        self.transport.write(b"".join([*head, b"\r\n", body]))
        self.transport.close()
