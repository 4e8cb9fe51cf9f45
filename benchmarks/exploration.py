"""What exploration costs and what it buys: the loop's own code (retrain, judge) on visitors who trust the page.

No HTTP here, so that several rates fit in one run (``mysfits.loop.offline``): visitors are shown what
``mysfits_api.exploration`` shows and adopt it with probability ``follow``. Each rate starts from the workshop's
uniform ordinal model; after every round the real ``retrain.challenge`` decides, and the served model's exact
expected accuracy is recorded. The cost is how often a visitor is shown something other than the model's pick, and
the acceptance rate (adopted what was shown first) against no exploration in the same run.
"""

from __future__ import annotations

import time

from mysfits.loop.offline import play
from mysfits.model import dataset as ds

RATES = (0.0, 0.05, 0.1, 0.2)
FOLLOWS = (0.0, 0.5)
VISITORS = 10_000
ROUNDS = 4


def run() -> str:
    bayes = ds.bayes_accuracy(ds.DEFAULT_SIGNAL, ds.ORDINAL)
    rows = []
    started = time.perf_counter()
    for follow in FOLLOWS:
        for rate in RATES:
            outcome = play(rate=rate, follow=follow, visitors=VISITORS, rounds=ROUNDS, seed=7)
            rows.append((follow, rate, outcome))
            print(f"  follow {follow}, rate {rate}: {outcome}", flush=True)
    lines = [
        "## Exploration: its cost and what it buys (`benchmarks/exploration.py`)",
        "",
        f"`python -m benchmarks exploration`: {VISITORS:,} visitors with ordinal tastes in {ROUNDS} rounds, from the "
        "uniform ordinal model, `retrain` after each round (tuned, default weight and recombination, the judge at "
        "0.95). `follow` is the share of visitors who adopt whatever is shown first. Accuracy is the served model's "
        f"exact expected accuracy on new visitors (Bayes {bayes:.2%}); acceptance is the share who adopted what they "
        f"were shown first, over the run. {time.perf_counter() - started:.0f} s in all.",
        "",
        "| follow | exploration rate | shown something else | acceptance | accuracy after | promotions |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for follow, rate, outcome in rows:
        lines.append(
            f"| {follow:g} | {rate:g} | {outcome.explored:.1%} | {outcome.acceptance:.1%} | "
            f"{outcome.accuracy:.2%} | {outcome.promotions} |"
        )
    return "\n".join(lines)
