"""Issue 29's attack through the real local API, from many source addresses, then `mysfits retrain` as a user runs it.

`mysfits serve --workers 2` with the default limits per client. Every client binds its own address in 127.0.0.0/8
(all loopback), so the gateway sees each as a different source:

1. history: honest visitors (hidden ordinal tastes, adopting their own taste) from ``HONEST_ADDRESSES`` addresses,
   ``JOURNEYS`` journeys each, served by a model trained on uniform answers; then `mysfits retrain` promotes a
   champion, which the running endpoint reloads;
2. new: as many honest visitors from other addresses and, at the same time, the attack: one address going flat out
   (recommend random answers, adopt Rujin) until the honest visitors are done, ``SPREAD_ADDRESSES`` addresses adopting
   Rujin ``SPREAD_JOURNEYS`` times each for random answers, and ``FIXED_ADDRESSES`` addresses adopting Rujin for
   [1, 1, 1, 1, 1] ``FIXED_JOURNEYS`` times each;
3. `mysfits retrain` (defaults: tuned, judged at 0.95) and what it served, against the champion and an honest-only
   retrain of the same store less the attack's choices (in-process, same code).
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks.stack import REPO, _env, serve_with_limits
from mysfits.loop.simulate import post

HONEST_ADDRESSES = 1_500
JOURNEYS = 4
SPREAD_ADDRESSES = 400
SPREAD_JOURNEYS = 5
FIXED_ADDRESSES = 100
FIXED_JOURNEYS = 10
THREADS = 48
RUJIN = 11


class Tally:
    def __init__(self) -> None:
        self.statuses: Counter = Counter()
        self.adopted: list[str] = []
        self.lock = threading.Lock()

    def journey(self, connection: http.client.HTTPConnection, answers: list[int], choose) -> None:
        """Recommend, then adopt what ``choose(recommendation)`` names; statuses and adopted ids are kept."""
        status, rec = post(connection, "/recommendations", {"entry": answers})
        adopted = None
        if status == 200 and "recommendationId" in rec:
            adopted, _ = post(connection, "/choices", {"recommendationId": rec["recommendationId"],
                                                        "mysfitId": choose(rec)})  # fmt: skip
        with self.lock:
            self.statuses[f"recommend {status}"] += 1
            if adopted is not None:
                self.statuses[f"adopt {adopted}"] += 1
                if adopted == 201:
                    self.adopted.append(rec["recommendationId"])

    def describe(self) -> str:
        return ", ".join(f"{key}: {value:,}" for key, value in sorted(self.statuses.items()))


def _connect(port: int, source: str) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))


def _visitors(port: int, tastes, ids: list[str], second_octet: int, tally: Tally) -> None:
    """Each address makes JOURNEYS journeys, a visitor each, adopting their own taste."""

    def address(a: int) -> None:
        connection = _connect(port, f"127.{second_octet}.{a // 250}.{a % 250 + 1}")
        try:
            for j in range(JOURNEYS):
                row = a * JOURNEYS + j
                tally.journey(connection, tastes.X[row].tolist(), lambda _rec, row=row: ids[int(tastes.y[row])])
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(address, range(HONEST_ADDRESSES)))


def _attackers(port: int, ids: list[str], addresses: int, journeys: int, octet: int, fixed: bool, tally: Tally):
    rng = np.random.default_rng(octet)

    def address(a: int) -> None:
        connection = _connect(port, f"127.{octet}.{a // 250}.{a % 250 + 1}")
        try:
            for _ in range(journeys):
                answers = [1] * 5 if fixed else rng.integers(1, 9, 5).tolist()
                tally.journey(connection, answers, lambda _rec: ids[RUJIN])
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS // 2) as pool:
        list(pool.map(address, range(addresses)))


def _one_client(port: int, ids: list[str], stop: threading.Event, tally: Tally) -> None:
    rng = np.random.default_rng(2)

    def client(_c: int) -> None:
        connection = _connect(port, "127.0.0.2")
        try:
            while not stop.is_set():
                tally.journey(connection, rng.integers(1, 9, 5).tolist(), lambda _rec: ids[RUJIN])
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(client, range(4)))


def _retrain(work: Path, *extra: str) -> str:
    command = [sys.executable, "-m", "mysfits", "retrain", "--data", str(work / "base.csv"),
               "--choices", str(work / "choices-on.sqlite3"), "--model", str(work / "model.json"), *extra]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"mysfits retrain failed: {done.stderr}")
    return done.stdout


def run() -> str:
    from mysfits.local.choices_store import SqliteChoiceStore
    from mysfits.loop import poisoning, retrain
    from mysfits.model import dataset as ds
    from mysfits.model import training
    from mysfits.model.artifact import load_model, save_model
    from mysfits_api.catalog import label_ids

    ids = label_ids()
    started = time.perf_counter()
    scenario = poisoning.Scenario()
    with tempfile.TemporaryDirectory(prefix="mysfits-poisoning-") as tmp:
        work = Path(tmp)
        base = ds.generate(100_000, seed=1, signal=0.0)
        ds.write_csv(base, work / "base.csv")
        save_model(training.train_model(base, seed=1, encoding="ordinal"), work / "model.json")
        past, now = (ds.generate(HONEST_ADDRESSES * JOURNEYS, seed=s) for s in (101, 102))
        history, honest, attack = Tally(), Tally(), Tally()
        with serve_with_limits(work, work / "model.json", "on") as port:
            _visitors(port, past, ids, 1, history)
            first = _retrain(work)
            time.sleep(3)  # the endpoint reloads a replaced model within a second
            champion = load_model(work / "model.json")
            stop = threading.Event()
            flood = threading.Thread(target=_one_client, args=(port, ids, stop, attack))
            flood.start()
            with ThreadPoolExecutor(3) as pool:
                jobs = [
                    pool.submit(_visitors, port, now, ids, 2, honest),
                    pool.submit(_attackers, port, ids, SPREAD_ADDRESSES, SPREAD_JOURNEYS, 3, False, attack),
                    pool.submit(_attackers, port, ids, FIXED_ADDRESSES, FIXED_JOURNEYS, 4, True, attack),
                ]
                for job in jobs:
                    job.result()
            stop.set()
            flood.join()
        shutil.copy(work / "model.json", work / "champion.json")
        second = _retrain(work)
        served = load_model(work / "model.json")
        # What the caps alone leave, if a person passed --accept-shift without looking.
        shutil.copy(work / "champion.json", work / "model.json")
        _retrain(work, "--accept-shift")
        accepted = load_model(work / "model.json")
        poisoned = set(attack.adopted)
        store = SqliteChoiceStore(work / "choices-on.sqlite3")
        clean = [c for c in store.choices() if c.recommendation.recommendation_id not in poisoned]
        honest_only = retrain.challenge(base, clean, champion)
        honest_table = honest_only.challenger if honest_only.promoted else champion

    def figures(model) -> poisoning.Served:
        table = model if isinstance(model, np.ndarray) else np.frombuffer(model.table, np.uint8)
        return poisoning.served(table, scenario)

    a, h, s, x = figures(champion), figures(honest_table), figures(served), figures(accepted)
    loss = 100 * (min(a.accuracy, h.accuracy) - s.accuracy)
    rise = 100 * (s.target_share - a.target_share)
    said = second.splitlines()
    judged = next((line for line in said if line.startswith(("promoted:", "kept"))), "")
    final = next((line for line in said if line.startswith(("not promoted", "promoted anyway"))), "")
    outcome = next((line for line in said if line.startswith(("wrote", str(work / "model.json")))), "")
    shifted = [line.strip() for line in said if line.startswith("  ") and "points" in line]
    return "\n".join(
        [
            "## Poisoning through the API, from many addresses (`benchmarks/poisoning_http.py`)",
            "",
            "Command: `python -m benchmarks poisoning_http`. `mysfits serve --workers 2` with the default limits per "
            "client; every client binds its own address in 127.0.0.0/8. History: honest visitors with ordinal tastes "
            f"from {HONEST_ADDRESSES:,} addresses ({JOURNEYS} journeys each, adopting their own taste), served by a "
            "model "
            "trained on uniform answers, then `mysfits retrain` promotes a champion that the running endpoint "
            "reloads. New: as many honest visitors from other addresses and, at the same time, the attack: "
            "127.0.0.2 flat out (4 connections: recommend random answers, adopt Rujin) until the honest visitors "
            f"are done, {SPREAD_ADDRESSES} addresses adopting Rujin {SPREAD_JOURNEYS} times each for random answers, "
            f"and {FIXED_ADDRESSES} adopting it {FIXED_JOURNEYS} times each for [1, 1, 1, 1, 1]. Then `mysfits "
            "retrain` with its defaults; the honest-only retrain is the same code on the store less the attack's "
            "choices. A recommendation answered without an id (the store's 0.2 s bound on a loaded machine) is "
            "not adopted.",
            "",
            f"- history ({HONEST_ADDRESSES:,} addresses): {history.describe()}; the first retrain: "
            f"{'promoted a champion' if 'wrote' in first else 'kept the uniform model'}",
            f"- new honest visitors ({HONEST_ADDRESSES:,} addresses): {honest.describe()}",
            f"- the attack (127.0.0.2 flat out, {SPREAD_ADDRESSES} + {FIXED_ADDRESSES} addresses): "
            f"{attack.describe()}; "
            f"{len(poisoned):,} of its adoptions stored",
            f"- champion: {a}; honest-only retrain: {h}; served after `mysfits retrain`: {s}",
            f"- served model's loss against the worse of the two: {loss:+.2f} points (target at most 1); Rujin's rise: "
            f"{rise:+.2f} points (target at most 2)",
            f'- `mysfits retrain` said: the judge: "{judged}"; then: "{final or outcome}"',
            f"- what shifted: {'; '.join(shifted) if shifted else 'nothing'}",
            f"- served after `mysfits retrain --accept-shift` (the caps alone): {x}; loss "
            f"{100 * (min(a.accuracy, h.accuracy) - x.accuracy):+.2f} points, Rujin's rise "
            f"{100 * (x.target_share - a.target_share):+.2f} points",
            f"- {time.perf_counter() - started:.0f} s in all",
        ]
    )


if __name__ == "__main__":
    print(run())
