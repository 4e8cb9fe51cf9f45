"""Where the direct kNN runs: a quick lane for requests with a few rows, a batch lane for bigger ones (which also
parses, looks up and answers every big request, whatever its kind).

Why two: the direct kNN (verbose answers, rows off the 1..8 grid) holds the GIL for about a millisecond per row.
When every request shared asyncio's one thread pool, six parallel 6,000-row verbose batches took all of its threads
for 47 s, and the Lambda's one-row requests queued behind them until the API gave up (504 after 20 s). Apart, a
batch waits only for other batches and a visitor's request only for other visitors' requests; the GIL still
interleaves the two lanes' threads, at a few milliseconds' cost to the small one.

The quick lane is also what ``/ping`` judges: a task that has waited there for seconds means visitors' requests
are not being answered, whatever the event loop is still able to say.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

QUICK_ROWS = 16
"""A request with at most this many rows for the direct kNN takes the quick lane (the Lambda sends one)."""

MAX_DIRECT_ROWS = 2_000
"""Rows one request may send to the direct kNN. At about a millisecond each that is 2-3 s of one core, so the
batch lane never holds a request for long; more are refused with this number in the message."""

STALLED_AFTER_S = 5.0
"""A quick-lane task older than this means the lane is stalled (a one-row request takes milliseconds)."""


class Lanes:
    def __init__(self, quick_threads: int = 2, batch_threads: int = 1, stalled_after_s: float = STALLED_AFTER_S):
        self._quick = ThreadPoolExecutor(quick_threads, thread_name_prefix="knn-quick")
        self._batch = ThreadPoolExecutor(batch_threads, thread_name_prefix="knn-batch")
        self.stalled_after_s = stalled_after_s
        self._pending: dict[int, float] = {}  # quick-lane tasks not finished yet: id -> when submitted
        self._ids = itertools.count()
        self._lock = threading.Lock()

    async def run(self, rows: int, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in the lane for a request of ``rows`` direct-kNN rows."""
        loop = asyncio.get_running_loop()
        if rows > QUICK_ROWS:
            return await loop.run_in_executor(self._batch, function, *args)
        task = next(self._ids)
        with self._lock:
            self._pending[task] = time.monotonic()
        try:
            return await loop.run_in_executor(self._quick, function, *args)
        finally:
            with self._lock:
                del self._pending[task]

    async def batch(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in the batch lane: the parsing, look-ups and answer of a big request of any kind. On
        asyncio's shared pool, six parallel 6 MB batches of plain grid rows ran at once, their threads holding the
        GIL in turn, and visitors' requests waited behind all of them (99 of 159 API requests got 503)."""
        return await asyncio.get_running_loop().run_in_executor(self._batch, function, *args)

    def stalled_for(self) -> float:
        """How long the oldest unfinished quick-lane task has waited if that is past ``stalled_after_s``, else 0."""
        with self._lock:
            oldest = min(self._pending.values(), default=None)
        waited = 0.0 if oldest is None else time.monotonic() - oldest
        return waited if waited > self.stalled_after_s else 0.0

    def shutdown(self) -> None:
        for executor in (self._quick, self._batch):
            executor.shutdown(wait=False, cancel_futures=True)
