"""Limits per client (issue 29): what one address gets through `mysfits serve` with and without them, whether honest
visitors over many addresses notice them, and what the check costs.

`mysfits serve --workers 2` runs as `make run` would run it with two workers. Every client binds its socket to an
address of its own in 127.0.0.0/8 (all loopback), so the gateway sees each as a different source address.

- One address, as fast as it can: four keep-alive connections from 127.0.0.2 each recommend then adopt, over and
  over, for ``FLOOD_S`` seconds; once with ``--client-limit off`` (today's behaviour) and once with the defaults.
- Honest visitors: 400 addresses, each doing three journeys (one recommendation, one adoption) 20 s apart, all at
  once: three journeys a minute is more than one person makes.
- The check itself: `SharedBuckets.take` in-process, over 10,000 addresses.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.stack import serve_with_limits

FLOOD_S = 30.0
FLOOD_CONNECTIONS = 4
HONEST_ADDRESSES = 400
HONEST_JOURNEYS = 3
HONEST_GAP_S = 20.0
HONEST_THREADS = 64


def _post(connection: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, dict]:
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def _journey(connection: http.client.HTTPConnection, n: int, ids: list[str]) -> tuple[int, int | None]:
    """One visitor: a recommendation, then the adoption of the recommended Mysfit (None if there was nothing to
    adopt)."""
    status, rec = _post(connection, "/recommendations", {"entry": [(n + q) % 8 + 1 for q in range(5)]})
    if status != 200:
        return status, None
    adopted, _ = _post(connection, "/choices", {"recommendationId": rec["recommendationId"], "mysfitId": ids[n % 12]})
    return status, adopted


def _flood(port: int, ids: list[str]) -> tuple[Counter, Counter, float]:
    """Statuses of recommendations and of adoptions from one address going flat out."""
    recommendations, adoptions = Counter(), Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + FLOOD_S

    def client(c: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0))
        n = c
        while time.monotonic() < deadline:
            rec, adopted = _journey(connection, n, ids)
            n += FLOOD_CONNECTIONS
            with lock:
                recommendations[rec] += 1
                if adopted is not None:
                    adoptions[adopted] += 1
        connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(FLOOD_CONNECTIONS) as pool:
        list(pool.map(client, range(FLOOD_CONNECTIONS)))
    return recommendations, adoptions, time.monotonic() - started


def _honest(port: int, ids: list[str]) -> tuple[Counter, float]:
    """Each address's journeys, HONEST_GAP_S apart, every address at once; statuses of every request."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    started = time.monotonic()

    def visitor(a: int) -> None:
        source = f"127.1.{a // 200}.{a % 200 + 1}"
        for journey in range(HONEST_JOURNEYS):
            wait = started + journey * HONEST_GAP_S + (a % 50) * 0.1 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
            try:
                rec, adopted = _journey(connection, a * HONEST_JOURNEYS + journey, ids)
            finally:
                connection.close()
            with lock:
                statuses[f"recommendation {rec}"] += 1
                statuses[f"adoption {adopted}"] += 1

    with ThreadPoolExecutor(HONEST_THREADS) as pool:
        list(pool.map(visitor, range(HONEST_ADDRESSES)))
    return statuses, time.monotonic() - started


def _take_cost() -> float:
    """Microseconds per SharedBuckets.take, 100,000 takes over 10,000 addresses."""
    from mysfits.local.gateway.client_limits import WINDOW_S, Rate, SharedBuckets

    buckets, rate = SharedBuckets(), Rate(30, WINDOW_S, "RecommendationsPerClientPerMinute")
    addresses = [f"10.{n // 65536}.{n // 256 % 256}.{n % 256}" for n in range(10_000)]
    started = time.perf_counter()
    for n in range(100_000):
        buckets.take("POST /recommendations", addresses[n % len(addresses)], rate)
    return (time.perf_counter() - started) / 100_000 * 1e6


def _rate(counter: Counter, status: int, seconds: float) -> str:
    return f"{counter[status]} ({counter[status] / seconds:.2f}/s)"


def run() -> str:
    from mysfits.model import dataset as ds
    from mysfits.model import training
    from mysfits_api.catalog import label_ids

    ids = label_ids()
    with tempfile.TemporaryDirectory(prefix="mysfits-limits-") as tmp:
        work = Path(tmp)
        ds.generate_file(work / "answers.csv", rows=20_000)
        training.run_training(work / "answers.csv", work / "model.json")
        rows = []
        for limit in ("off", "on"):
            with serve_with_limits(work, work / "model.json", limit) as port:
                recommendations, adoptions, seconds = _flood(port, ids)
            rows.append(
                f"| `--client-limit {limit}` | {seconds:.0f} | {_rate(recommendations, 200, seconds)} | "
                f"{recommendations[429]} | {_rate(adoptions, 201, seconds)} | {adoptions[429]} |"
            )
        with serve_with_limits(work, work / "model.json", "on") as port:
            honest, honest_s = _honest(port, ids)
    refused = sum(count for status, count in honest.items() if not status.endswith(("200", "201")))
    cost = _take_cost()
    return "\n".join(
        [
            "## Limits per client (`benchmarks/client_limits.py`)",
            "",
            f"Command: `python -m benchmarks client_limits`. `mysfits serve --workers 2`; every client binds its own "
            "address in 127.0.0.0/8. One address, flat out: "
            f"{FLOOD_CONNECTIONS} keep-alive connections from 127.0.0.2, each recommending then adopting, for "
            f"{FLOOD_S:.0f} s (an adoption is tried only after a 200).",
            "",
            "| one address | s | recommendations answered 200 | 429 | adoptions answered 201 | 429 |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Honest visitors: {HONEST_ADDRESSES} addresses, each making {HONEST_JOURNEYS} journeys (recommend, then "
            f"adopt) {HONEST_GAP_S:.0f} s apart, all at once, with the default limits: "
            f"{sum(honest.values())} requests in {honest_s:.0f} s, {refused} not answered 200/201 "
            f"({', '.join(f'{k}: {v}' for k, v in sorted(honest.items()))}).",
            "",
            f"The check: {cost:.1f} µs per request in-process (`SharedBuckets.take`, 100,000 takes over 10,000 "
            "addresses), under the lock every worker shares.",
        ]
    )


if __name__ == "__main__":
    print(run())
