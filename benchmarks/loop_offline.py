"""Issue 28's targets played by the loop's own code, without servers (``mysfits.loop.offline``): the same six
cases as `mysfits simulate` (benchmarks/simulate.py) in minutes rather than hours, so every change to retraining
can be checked against all six. Each starts from the workshop's uniform ordinal model; visitors are shown what
``mysfits_api.exploration`` shows at the template's rate and adopt it with probability ``bias``, else their hidden
taste; ``retrain.challenge`` (tuned, the defaults of `mysfits retrain`) decides after every round."""

from __future__ import annotations

import sys
import time

from mysfits.loop.offline import play
from mysfits.model import dataset as ds

VISITORS, ROUNDS, RATE, SEED = 20_000, 8, 0.1, 7
CASES = [(p, b) for p in (ds.ORDINAL, ds.CATEGORICAL) for b in (0.0, 0.5, 0.7)]
TARGET = {0.0: 2.0, 0.5: 3.0, 0.7: 3.0}
"""Points short of the Bayes optimum allowed after 20,000 choices (issue 28)."""


def run() -> str:
    per_round = VISITORS // ROUNDS
    marks = [2, 4, 6, 8]  # rounds after which the table shows the served model
    lines = [
        "## The loop without servers (`benchmarks/loop_offline.py`)",
        "",
        f"`python -m benchmarks loop_offline`: {VISITORS:,} visitors in {ROUNDS} rounds, exploration at {RATE:g}, "
        f"seed {SEED}; accuracy is the served model's exact expected accuracy on new visitors.",
        "",
        "| tastes | bias | "
        + " | ".join(f"after {r * per_round:,}" for r in marks)
        + " | Bayes | gap | target | promotions | time |",
        "|---|---:|" + "---:|" * (len(marks) + 5),
    ]
    for preferences, bias in CASES:
        started = time.perf_counter()
        outcome = play(rate=RATE, follow=bias, visitors=VISITORS, rounds=ROUNDS, seed=SEED, preferences=preferences)
        took = time.perf_counter() - started
        bayes = ds.bayes_accuracy(ds.DEFAULT_SIGNAL, preferences)
        gap = (bayes - outcome.accuracy) * 100
        figures = " | ".join(f"{outcome.history[r - 1]:.2%}" for r in marks)
        line = (
            f"| {preferences} | {bias:g} | {figures} | {bayes:.2%} | **{gap:.2f} pts** | {TARGET[bias]:g} | "
            f"{outcome.promotions} | {took:.0f} s |"
        )
        print(line, file=sys.stderr, flush=True)
        lines.append(line)
    return "\n".join(lines)
