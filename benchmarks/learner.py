"""What the challenger learns when most visitors follow the page (issue 28): one thinning against every thinning
(``retrain.THINNINGS``), and new rows drawn independently against placed by systematic sampling
(``retrain._systematic_counts``).

Categorical tastes, 70% of visitors taking what the page shows (a model of about 70% serving, exploration 0.1),
``n`` visitors: ``retrain.learning_data`` thins their learning choices as `mysfits retrain` does, then a kNN (one-hot,
the whole sample) is trained on about a million recombined rows. "ceiling" is what the rows' answer frequencies
would give if a kNN reproduced them exactly (the naive Bayes table of those frequencies). Accuracy is the exact
expected accuracy on new visitors (Bayes 74.40%). The independent draws are the baseline this replaced, kept here
only as that."""

from __future__ import annotations

import random
import time

import numpy as np

from mysfits.loop import offline, retrain
from mysfits.model import dataset as ds
from mysfits.model import training

FOLLOW, RATE, ROWS, SEED = 0.7, 0.1, 1_000_000, 7
SIZES = (5_000, 20_000)
K = (40, 80)
TASTES = ds.CATEGORICAL


def _independent(learn: ds.Dataset, factor: int, seed: int, pool: ds.Dataset) -> ds.Dataset:
    """The baseline: each answer of a new row drawn on its own from the answers the Mysfit's fans gave."""
    rng = np.random.default_rng(seed)
    X, y = [learn.X], [learn.y]
    for label in np.unique(pool.y):
        fans = pool.X[pool.y == label]
        count = round(len(fans) / pool.rows * learn.rows * (factor - 1))
        X.append(np.stack([fans[rng.integers(0, len(fans), count), q] for q in range(5)], axis=1))
        y.append(np.full(count, label, np.uint8))
    return ds.Dataset(np.concatenate(X).astype(np.uint8), np.concatenate(y))


def _ceiling(rows: ds.Dataset) -> float:
    space = ds.answer_space()
    log_p = np.zeros((len(space), 12))
    for label in range(12):
        fans = rows.X[rows.y == label]
        log_p[:, label] = np.log(max(len(fans), 1e-9))
        for q in range(5):
            share = (np.bincount(fans[:, q], minlength=9) + 1e-3) / (len(fans) + 9e-3)
            log_p[:, label] += np.log(share[space[:, q]])
    return ds.expected_accuracy(log_p.argmax(axis=1).astype(np.uint8), ds.DEFAULT_SIGNAL, TASTES)


def _best_knn(rows: ds.Dataset) -> tuple[float, int]:
    scored = []
    for k in K:
        table = training.fit(rows, k, rows.rows, SEED, "one-hot").table
        scored.append((ds.expected_accuracy(table, ds.DEFAULT_SIGNAL, TASTES), k))
    return max(scored)


def run() -> str:
    started = time.perf_counter()
    serving = training.train_model(ds.generate(30_000, seed=3, preferences=TASTES), seed=1, encoding="one-hot")
    table = np.frombuffer(serving.table, np.uint8)
    lines = [
        "## What the challenger learns at 70% trust (`benchmarks/learner.py`)",
        "",
        f"`python -m benchmarks learner`: categorical tastes, follow {FOLLOW:g}, exploration {RATE:g}, a model of "
        f"{ds.expected_accuracy(table, ds.DEFAULT_SIGNAL, TASTES):.2%} serving, about {ROWS:,} recombined rows, the "
        f"best k of {K} (one-hot); Bayes {ds.bayes_accuracy(ds.DEFAULT_SIGNAL, TASTES):.2%}.",
        "",
        "| visitors | learning choices kept | drawn from | ceiling | independent draws | systematic |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for n in SIZES:
        tastes = ds.generate(n, seed=11, preferences=TASTES)
        choices = offline.visit(tastes, table, rate=RATE, follow=FOLLOW, draws=random.Random(5), version="v1", start=0)
        data = retrain.learning_data(choices, seed=SEED)
        learn = data.rows
        factor = retrain.recombine_factor(None, learn.rows)
        for name, pool in (("one thinning", learn), (f"{retrain.THINNINGS} thinnings", data.pool.as_dataset())):
            plain, plain_k = _best_knn(_independent(learn, factor, SEED, pool))
            placed, placed_k = _best_knn(retrain.recombined(learn, factor, SEED, pool))
            line = (
                f"| {n:,} | {learn.rows:,} | {name} | {_ceiling(pool):.2%} | {plain:.2%} (k={plain_k}) | "
                f"{placed:.2%} (k={placed_k}) |"
            )
            print(line, flush=True)
            lines.append(line)
    lines.append(f"\n{time.perf_counter() - started:.0f} s in all.")
    return "\n".join(lines)
