"""How far recombination lets a kNN come to the Bayes optimum, against how many rows it makes (issue 28).

Honest visitors with categorical tastes (no trust in the page), as many as a 20,000-visitor loop learns from at
bias 0 (16,000) and about as many as it keeps at bias 0.7 (5,000). Each row of the table is one
``retrain.challenge`` (tuned on the choices set aside, as `mysfits retrain` does) with a fixed factor, then the
default, which recombines into about ``retrain.RECOMBINE_ROWS`` rows. The first line is what the choices' own
per-question frequencies give (a naive Bayes vote over them): the limit that more recombined rows approach.
"""

from __future__ import annotations

import time

import numpy as np

from mysfits.loop import retrain
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits_api.catalog import N_MYSFITS, label_ids
from mysfits_api.choices import Choice, Recommendation

LEARNED = (5_000, 16_000)
FACTORS = (1, 10, None)
SEED = 7


def run() -> str:
    bayes = ds.bayes_accuracy(ds.DEFAULT_SIGNAL, ds.CATEGORICAL)
    base = ds.generate(100_000, seed=SEED, signal=0.0)
    champion = training.train_model(base, seed=SEED)
    started = time.perf_counter()
    cells: dict[object, list[str]] = {"frequencies": []}
    for learned in LEARNED:
        # A fifth of the choices is held out, so this many choices leave about `learned` to learn from.
        tastes = ds.generate(learned * 5 // 4, seed=SEED * 1000 + 1, preferences=ds.CATEGORICAL)
        choices = _choices(tastes)
        cells["frequencies"].append(_gap(bayes, _frequency_vote(tastes)))
        for factor in FACTORS:
            decision = retrain.challenge(base, choices, champion, recombine=factor, seed=2018)
            table = np.frombuffer(decision.challenger.table, np.uint8)
            used, k = decision.challenger.training_data["recombine"], decision.challenger.hyperparameters["k"]
            cell = f"{_gap(bayes, table)} (x{used}, {decision.challenger.encoding} k={k})"
            cells.setdefault(factor, []).append(cell)
            print(f"  {learned:,} choices, recombine {factor}: {cell}", flush=True)
    names = {"frequencies": "the choices' frequencies (naive Bayes, the limit)", 1: "no recombination", 10: "x10"}
    names[None] = f"default: about {retrain.RECOMBINE_ROWS:,} rows"
    lines = [
        "### Recombination against rows made (`benchmarks/recombination.py`)",
        "",
        f"`python -m benchmarks recombination`: honest visitors with categorical tastes, the challenger tuned as "
        f"`mysfits retrain` tunes it, gap to the Bayes optimum ({bayes:.2%}) in points; "
        f"{time.perf_counter() - started:.0f} s in all.",
        "",
        "| recombination | " + " | ".join(f"{n:,} choices learned" for n in LEARNED) + " |",
        "|---|" + "---:|" * len(LEARNED),
    ]
    lines += [f"| {names[key]} | " + " | ".join(row) + " |" for key, row in cells.items()]
    return "\n".join(lines)


def _gap(bayes: float, table: np.ndarray) -> str:
    return f"{(bayes - ds.expected_accuracy(table, ds.DEFAULT_SIGNAL, ds.CATEGORICAL)) * 100:.2f}"


def _frequency_vote(tastes: ds.Dataset) -> np.ndarray:
    """Every cell's likeliest Mysfit under each Mysfit's per-question answer frequencies in the learning choices."""
    keep = ~np.array([retrain.held_out_id(f"c{i}") for i in range(tastes.rows)])
    learned = tastes.X[keep], tastes.y[keep]
    counts = np.ones((N_MYSFITS, 5, 8))  # one pseudo-count each, so an unseen answer does not rule a Mysfit out
    for q in range(5):
        np.add.at(counts, (learned[1], q, learned[0][:, q] - 1), 1)
    log_p = np.log(counts / counts.sum(axis=2, keepdims=True))
    cells = ds.answer_space().astype(np.intp) - 1
    score = np.log(np.bincount(learned[1], minlength=N_MYSFITS) + 1.0)[None, :].repeat(len(cells), axis=0)
    for q in range(5):
        score += log_p[:, q, :].T[cells[:, q]]
    return score.argmax(axis=1)


def _choices(tastes: ds.Dataset) -> list[Choice]:
    ids = label_ids()
    out = []
    for i in range(tastes.rows):
        answers = tuple(int(a) for a in tastes.X[i])
        recommendation = Recommendation(f"r{i}", answers, ids[0], None, "uniform", 1_800_000_000.0)
        out.append(Choice(f"c{i}", recommendation, ids[int(tastes.y[i])], 1_800_000_000.0 + i))
    return out
