"""Limits per client for the local gateway: what the template's WAF rate-based rules do in front of the API on AWS.

The data loop learns from whoever posts, so one source address must not be able to post at machine speed. Each
limited route (``POST /recommendations``, ``POST /choices``) gives each source address a token bucket: ``limit``
requests at once, refilled at ``limit`` per ``window_s``. The numbers are the template's own parameters (the same
ones its WAF rules use on AWS), so a local run and a deployed stack limit alike; ``--client-limit`` lifts or raises
them for a load test from one address.

Why a table in shared memory: ``mysfits serve --workers N`` forks N processes and the kernel hands each connection
to any of them, so a bucket per process would let one address have N times its limit. The table is an anonymous
shared mapping made before the fork; a POSIX record lock (``lockf``) guards it, which the kernel releases when a
worker dies holding it, so a killed worker cannot wedge the others.

What is kept about a visitor: a 64-bit keyed hash of (route, address) under a salt drawn at start-up and held only in
memory, the bucket's level and two times. An entry is forgotten (zeroed) as soon as its bucket is full again, which
is at most one window after the address's last request: a full bucket is the same as no entry. A sweep zeroes such
entries across the whole table at least once a second while requests come, and the gateway's own timer sweeps when
none do.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import json
import math
import mmap
import os
import struct
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

WINDOW_S = 60.0
"""The window of every limit: WAF's shortest evaluation window, so that the same numbers hold on AWS."""
SWITCH_PARAMETER = "PerClientLimitsEnabled"
ROUTE_PARAMETERS = {
    ("POST", "/recommendations"): "RecommendationsPerClientPerMinute",
    ("POST", "/choices"): "ChoicesPerClientPerMinute",
}
"""Which template parameter limits which route. tests/templates checks that the WAF rules use the same pairs."""

ENTRY = struct.Struct("<Qddd")  # key, tokens, when tokens was computed, when the bucket is full again
ENTRY_DTYPE = np.dtype([("key", "<u8"), ("tokens", "<f8"), ("stamp", "<f8"), ("full_at", "<f8")])
HEADER = struct.Struct("<d")  # when the table was last swept
WAYS = 8
SETS = 8192
"""8,192 sets of 8: 65,536 (route, address) pairs active within one window, in 2 MB. When a set is full, the entry
closest to a full bucket is forgotten first, which gives its address back at most what it had already spent."""
SWEEP_EVERY_S = 1.0


@dataclass(frozen=True)
class Rate:
    limit: int  # requests a window from one address
    window_s: float
    parameter: str  # the template parameter that set it, named in the 429

    @property
    def per_second(self) -> float:
        return self.limit / self.window_s


class LimitSettingError(ValueError):
    """A ``--client-limit`` value that is neither on, off nor a factor such as 10x."""


def parse_setting(text: str) -> float | None:
    """``on`` -> 1 (the template's limits), ``off`` -> None (no limit), ``10x`` -> 10 (each limit ten times)."""
    value = text.strip().lower()
    if value == "on":
        return 1.0
    if value == "off":
        return None
    if value.endswith("x"):
        try:
            factor = float(value[:-1])
        except ValueError:
            factor = math.nan
        if math.isfinite(factor) and factor >= 1:
            return factor
    raise LimitSettingError(
        f"--client-limit {text!r}: expected on (the template's limits), off (none, for a load test from one address) "
        "or a factor of at least 1 such as 10x"
    )


def rates_from_parameters(parameters: Mapping[str, object], factor: float | None) -> dict[tuple[str, str], Rate]:
    """The limits a template's parameters set, per (method, resource); none if the template declares none (a
    test's template), if its switch is off, or if ``factor`` is None."""
    if factor is None or str(parameters.get(SWITCH_PARAMETER, "false")).lower() != "true":
        return {}
    rates = {}
    for route, name in ROUTE_PARAMETERS.items():
        if name in parameters:
            limit = max(1, int(float(str(parameters[name])) * factor))
            rates[route] = Rate(limit, WINDOW_S, name)
    return rates


def client_of(address: str) -> str:
    """The part of a source address that names one client: the address for IPv4, its /64 for IPv6 (one host usually
    holds a whole /64, so single addresses would cost an attacker nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SharedBuckets:
    """Token buckets keyed by a salted hash, in memory shared by every process forked after this was made."""

    def __init__(self, sets: int = SETS, ways: int = WAYS):
        self.sets, self.ways = sets, ways
        self._salt = os.urandom(16)
        self._memory = mmap.mmap(-1, HEADER.size + sets * ways * ENTRY.size)  # anonymous: shared across fork
        self._table = np.frombuffer(self._memory, ENTRY_DTYPE, count=sets * ways, offset=HEADER.size)
        self._lock_file = tempfile.TemporaryFile()  # held open (and locked) for the life of the table
        self._thread_lock = threading.Lock()

    def _key(self, route: str, client: str) -> int:
        digest = hashlib.blake2b(f"{route}\0{client}".encode(), key=self._salt, digest_size=8).digest()
        return int.from_bytes(digest, "little") | 1  # 0 marks an empty slot

    def _locked(self):
        return _Locked(self._thread_lock, self._lock_file.fileno())

    def take(self, route: str, client: str, rate: Rate, now: float | None = None) -> float:
        """Spend one token of ``client``'s bucket on ``route``: 0.0 if there was one, else the seconds until there
        will be."""
        now = time.monotonic() if now is None else now
        key = self._key(route, client)
        first = ((key >> 17) % self.sets) * self.ways
        with self._locked():
            self._maybe_sweep(now)
            slot, tokens = None, float(rate.limit)
            free, fullest, fullest_at = None, None, math.inf
            for index in range(first, first + self.ways):
                offset = HEADER.size + index * ENTRY.size
                found, level, stamp, full_at = ENTRY.unpack_from(self._memory, offset)
                if found == key and full_at > now:
                    slot, tokens = offset, min(float(rate.limit), level + (now - stamp) * rate.per_second)
                    break
                if found == 0 or full_at <= now:
                    free = offset if free is None else free
                elif full_at < fullest_at:
                    fullest, fullest_at = offset, full_at
            if slot is None:
                slot = free if free is not None else fullest
            if tokens < 1.0:
                return (1.0 - tokens) / rate.per_second
            tokens -= 1.0
            full_at = now + (rate.limit - tokens) / rate.per_second
            ENTRY.pack_into(self._memory, slot, key, tokens, now, full_at)
            return 0.0

    def sweep(self, now: float | None = None) -> int:
        """Zero every entry whose bucket is full again; returns how many are left."""
        now = time.monotonic() if now is None else now
        with self._locked():
            return self._sweep(now)

    def _maybe_sweep(self, now: float) -> None:
        (last,) = HEADER.unpack_from(self._memory, 0)
        if now - last >= SWEEP_EVERY_S:
            self._sweep(now)

    def _sweep(self, now: float) -> int:
        stale = (self._table["key"] != 0) & (self._table["full_at"] <= now)
        self._table[stale] = 0
        HEADER.pack_into(self._memory, 0, now)
        return int(np.count_nonzero(self._table["key"]))

    def close(self) -> None:
        self._table = None
        self._memory.close()
        self._lock_file.close()


class _Locked:
    """This process's threads, then the other processes: ``lockf`` excludes processes, not threads."""

    def __init__(self, thread_lock: threading.Lock, fd: int):
        self._thread_lock, self._fd = thread_lock, fd

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        fcntl.lockf(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc) -> None:
        fcntl.lockf(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


@dataclass
class ClientLimits:
    """The gateway's limits per (method, resource) and the buckets that hold them."""

    rates: Mapping[tuple[str, str], Rate]
    buckets: SharedBuckets

    def refusal(self, method: str, resource: str, source_ip: str) -> tuple[Rate, float] | None:
        """None if the request may go on; else the limit it broke and the seconds until the address may try again."""
        rate = self.rates.get((method, resource))
        if rate is None:
            return None
        wait = self.buckets.take(f"{method} {resource}", client_of(source_ip), rate)
        return None if wait == 0.0 else (rate, wait)


def refusal_body(method: str, resource: str, rate: Rate) -> bytes:
    """The 429's body: the same fields as the WAF rule's custom response on AWS (template.yaml)."""
    return json.dumps(
        {
            "message": (
                f"too many requests from your address: {method} {resource} takes at most {rate.limit} a minute from "
                f"one address ({rate.parameter}); wait for Retry-After seconds, then try again"
            ),
            "limit": rate.limit,
            "windowSeconds": int(rate.window_s),
        }
    ).encode()
