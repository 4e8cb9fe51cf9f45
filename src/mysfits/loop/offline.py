"""The data loop without servers: visitors, the page's exploration, choices and `retrain`, all in one process.

`mysfits simulate` plays the loop through the real local API and takes minutes a run; this plays the same decisions
(``mysfits_api.exploration`` for what is shown, ``retrain.challenge`` for what serves) in seconds, so that settings
such as the exploration rate can be compared over many runs (benchmarks/exploration.py). Visitors adopt what the
page shows first with probability ``follow``, else what their hidden taste picks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from mysfits.loop import retrain
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import variant_name
from mysfits_api import exploration
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Choice, Recommendation


@dataclass(frozen=True)
class Outcome:
    accuracy: float
    explored: float
    acceptance: float
    promotions: int
    history: tuple[float, ...] = ()
    """The served model's expected accuracy after each round."""

    def __str__(self) -> str:
        return (
            f"accuracy {self.accuracy:.2%}, explored {self.explored:.1%}, acceptance {self.acceptance:.1%}, "
            f"{self.promotions} promotions"
        )


def visit(tastes: ds.Dataset, table: np.ndarray, *, rate: float, follow: float, draws: random.Random,
          version: str, start: int) -> list[Choice]:  # fmt: skip
    """One choice per visitor: the page shows what the exploration policy picks, the visitor follows or not."""
    ids = label_ids()
    picks = training.predict(table, tastes.X)
    out = []
    for i in range(tastes.rows):
        pick = int(picks[i])
        shown = exploration.choose(pick, rate, draws)
        chosen = shown.shown if draws.random() < follow else int(tastes.y[i])
        n = start + i
        recommendation = Recommendation(
            f"r{n}", tuple(int(a) for a in tastes.X[i]), ids[pick], None, version, float(n),
            shown_mysfit_id=ids[shown.shown], propensity=shown.propensity, exploration_rate=rate,
            randomized=shown.randomized,
        )  # fmt: skip
        out.append(Choice(f"c{n}", recommendation, ids[chosen], float(n)))
    return out


def play(*, rate: float, follow: float, visitors: int, rounds: int, seed: int,
         preferences: str = ds.ORDINAL, signal: float = ds.DEFAULT_SIGNAL) -> Outcome:  # fmt: skip
    base = ds.generate(100_000, seed=seed, signal=0.0)
    champion = training.train_model(base, seed=seed, encoding="ordinal")
    draws = random.Random(seed)
    choices: list[Choice] = []
    promotions = 0
    history = []
    per_round = visitors // rounds
    for number in range(rounds):
        tastes = ds.generate(per_round, seed=seed * 1000 + number, signal=signal, preferences=preferences)
        table = np.frombuffer(champion.table, np.uint8)
        choices += visit(tastes, table, rate=rate, follow=follow, draws=draws, version=variant_name(champion),
                         start=len(choices))  # fmt: skip
        try:
            decision = retrain.challenge(base, choices, champion, seed=seed)
        except retrain.TooFewChoices:
            decision = None
        if decision is not None and decision.promoted:
            champion, promotions = decision.challenger, promotions + 1
        history.append(ds.expected_accuracy(np.frombuffer(champion.table, np.uint8), signal, preferences))
    accuracy = history[-1]
    explored = float(np.mean([c.recommendation.shown != c.recommendation.recommended_mysfit_id for c in choices]))
    acceptance = float(np.mean([c.accepted for c in choices]))
    return Outcome(accuracy, explored, acceptance, promotions, tuple(history))
