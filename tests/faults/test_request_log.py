"""Item 13 of issue 12: the endpoint's cheaper request log writes the same JSON as before, with unique ids.

Its cost is a benchmark, not a test: `python -m benchmarks endpoint_logging` (part of `make bench`)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading

import pytest

from mysfits.local.endpoint import logs


@pytest.fixture
def batch():
    level = logs.logger.level
    logs.logger.setLevel(logging.INFO)  # setLevel, not the attribute: it also clears the logger's enabled cache
    yield logs.LineBatch()
    logs.logger.setLevel(level)


@pytest.mark.parametrize(
    "fields",
    [
        dict(
            method="POST",
            path="/endpoints/x/invocations",
            status=200,
            rows=3,
            content_type="text/csv",
            accept=None,
            bytes_in=30,
            bytes_out=90,
            latency_ms=0.25,
            error=None,
        ),
        dict(
            method="GET",
            path='/odd"path\\\n\u00e9',
            status=424,
            rows=0,
            content_type=None,
            accept="application/json;verbose=true",
            bytes_in=None,
            bytes_out=12,
            latency_ms=12.0,
            error='row 1: "x" is not a number\u2028',
        ),
    ],
)
def test_the_fast_request_line_is_the_generic_one(batch, fields):
    async def both() -> list[dict]:
        batch.add_request("id-1", **fields)
        generic = {k: v for k, v in fields.items() if k != "error" or v}
        batch.add("request", request_id="id-1", **generic)
        lines = [json.loads(line) for line in batch._lines]
        batch._lines.clear()
        return lines

    # In a thread of its own: a test earlier in the session may leave an event loop running in this one.
    result: list[list[dict]] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(both())))
    worker.start()
    worker.join(10)
    fast, generic = result[0]
    fast.pop("ts"), generic.pop("ts")
    assert fast == generic
    assert list(fast) == list(generic)


def test_request_ids_are_unique_and_uuid_shaped():
    first, second = logs.request_ids(), logs.request_ids()
    ids = [first() for _ in range(10_000)] + [second() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", i) for i in ids)
