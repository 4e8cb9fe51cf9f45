"""Model quality by kind of data: `--tune` over encoding x k x sample size on 1M rows, against the Bayes optimum."""

from __future__ import annotations

import time

from mysfits.model import dataset as ds
from mysfits.model import training

ROWS = 1_000_000
CASES = (
    ("ordinal (default data)", ds.ORDINAL, ds.DEFAULT_SIGNAL, "within 1 pt of Bayes"),
    ("categorical", ds.CATEGORICAL, ds.DEFAULT_SIGNAL, "within 1.5 pts of Bayes"),
    ("uniform (signal 0)", ds.CATEGORICAL, 0.0, "within 1 pt of chance"),
)


def _case(preferences: str, signal: float) -> dict:
    data = ds.generate(ROWS, signal=signal, preferences=preferences)
    train, _ = ds.split(data)
    started = time.perf_counter()
    training.fit(train, training.DEFAULT_K, training.DEFAULT_SAMPLE_SIZE, ds.DEFAULT_SEED)
    one_fit = time.perf_counter() - started
    started = time.perf_counter()
    tuned = training.tune(train, ds.DEFAULT_SEED)
    tune_s = time.perf_counter() - started
    table = training.fit(train, tuned.k, tuned.sample_size, ds.DEFAULT_SEED, tuned.encoding).table
    default = training.fit(train, training.DEFAULT_K, training.DEFAULT_SAMPLE_SIZE, ds.DEFAULT_SEED).table
    return {
        "tuned": tuned,
        "tune_s": tune_s,
        "one_fit_s": one_fit,
        "expected": ds.expected_accuracy(table, signal, preferences),
        "default": ds.expected_accuracy(default, signal, preferences),
        "bayes": ds.bayes_accuracy(signal, preferences),
        "candidates": len(tuned.results),
    }


def run() -> str:
    out = [
        "## Model quality by kind of data: the tuned encoding, k and sample size",
        "",
        "Command: `python -m benchmarks encodings` (part of `make bench`). Each data set has 1M generated rows; "
        "accuracies are exact expected accuracies over the generator's distribution (no test-set noise).",
        "",
        "| data | target | seed model (ordinal, k=10, 100k) | tuned: encoding, k, sample | tuned | Bayes | gap (pts) "
        "| tuning s | × one default fit |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, preferences, signal, target in CASES:
        r = _case(preferences, signal)
        t = r["tuned"]
        gap = (r["bayes"] - r["expected"]) * 100
        out.append(
            f"| {name} | {target} | {r['default']:.2%} | {t.encoding}, {t.k}, {t.sample_size:,} | "
            f"{r['expected']:.2%} | {r['bayes']:.2%} | {gap:.2f} | {r['tune_s']:.1f} ({r['candidates']} candidates) "
            f"| {r['tune_s'] / r['one_fit_s']:.0f} |"
        )
    out += [
        "",
        "On uniform data the Bayes optimum is chance (1/12), so the gap column is the distance from chance.",
    ]
    return "\n".join(out)
