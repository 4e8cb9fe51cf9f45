"""The data loop's proof: `mysfits simulate` on both kinds of hidden tastes, 20,000 visitors in 8 rounds each, with
no trust in the page and with half and 70% of the visitors adopting whatever it shows first."""

from __future__ import annotations

import time
from pathlib import Path

from mysfits.loop import simulate
from mysfits.model import dataset as ds

PNG = Path(__file__).resolve().parent.parent / "docs" / "images" / "simulate.png"
VISITORS, ROUNDS = 20_000, 8
BIASES = (0.0, 0.5, 0.7)


WEIGHTS = (1, 10, 100, 1000)


def weight_table() -> list[str]:
    """Why the default --choices-weight: 10,000 choices against 100,000 uniform base rows, the challenger tuned."""
    import numpy as np

    from mysfits.loop import retrain
    from mysfits.model import training
    from mysfits_api.catalog import label_ids
    from mysfits_api.choices import Choice, Recommendation

    ids = label_ids()
    base = ds.generate(100_000, seed=7, signal=0.0)
    rows = ["| weight | ordinal: accuracy (gap) | categorical: accuracy (gap) |", "|---:|---:|---:|"]
    cells: dict[int, list[str]] = {w: [] for w in WEIGHTS}
    for preferences in (ds.ORDINAL, ds.CATEGORICAL):
        champion = training.train_model(base, seed=7, encoding=simulate.START_ENCODING)
        data = ds.generate(10_000, seed=8, signal=ds.DEFAULT_SIGNAL, preferences=preferences)
        choices = [
            Choice(f"c-{i}", Recommendation(f"r-{i}", tuple(map(int, data.X[i])), ids[0], None, "v", 0.0),
                   ids[int(data.y[i])], 0.0)
            for i in range(data.rows)
        ]  # fmt: skip
        bayes = ds.bayes_accuracy(ds.DEFAULT_SIGNAL, preferences)
        for weight in WEIGHTS:
            decision = retrain.challenge(base, choices, champion, weight=weight, seed=7)
            table = np.frombuffer(decision.challenger.table, np.uint8)
            accuracy = ds.expected_accuracy(table, ds.DEFAULT_SIGNAL, preferences)
            cells[weight].append(f"{accuracy:.2%} ({(bayes - accuracy) * 100:.2f} pts)")
    rows += [f"| {w} | {' | '.join(cells[w])} |" for w in WEIGHTS]
    return rows


def run() -> str:
    started = time.perf_counter()
    runs = [
        simulate.simulate(p, visitors=VISITORS, rounds=ROUNDS, bias=bias, report=lambda _: None)
        for bias in BIASES
        for p in (ds.ORDINAL, ds.CATEGORICAL)
    ]
    simulate.write_png([r for r in runs if r.bias == 0.0], PNG)
    lines = [
        "## The data loop (`mysfits simulate`, `benchmarks/simulate.py`)",
        "",
        f"`mysfits simulate --visitors {VISITORS} --rounds {ROUNDS} --bias B`: visitors post to the real local API "
        "(`mysfits serve`, two gateway workers) and adopt what their hidden taste picks, or with probability B what "
        "the page showed first; `mysfits retrain` runs after every round. The model starts ordinal, trained on "
        "uniform random answers. Accuracy is the served model's exact expected accuracy on new visitors with the "
        "same tastes; explored is the share shown a drawn Mysfit rather than the model's pick.",
        "",
        "| bias | tastes | start | after 2,500 | after 10,000 | after 20,000 | Bayes | gap at 20,000 | explored | "
        "shuffled-label challenger |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run_ in runs:
        by_choices = {r.choices: r for r in run_.rounds}
        last = run_.rounds[-1]
        explored = sum(r.explored for r in run_.rounds) / len(run_.rounds)
        shuffled = "promoted (!)" if run_.shuffled_promoted else (
            f"not promoted ({run_.shuffled_accuracy:.1%} vs {run_.champion_accuracy:.1%})")  # fmt: skip
        lines.append(
            f"| {run_.bias:g} | {run_.preferences} | {run_.start_accuracy:.1%} | "
            f"{by_choices[2500].accuracy:.1%} | {by_choices[10000].accuracy:.1%} | {last.accuracy:.1%} | "
            f"{last.bayes:.1%} | {(last.bayes - last.accuracy) * 100:.2f} pts | {explored:.1%} | {shuffled} |"
        )
    lines += ["", "![accuracy against choices, bias 0](images/simulate.png)", "",
              f"The runs took {time.perf_counter() - started:.0f} s.", "", "### The choices' weight", "",
              "10,000 choices (8,000 to learn from), 100,000 uniform base rows, the challenger tuned:", "",
              *weight_table()]  # fmt: skip
    return "\n".join(lines)
