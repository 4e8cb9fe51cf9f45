"""Visitors for the data loop's tests: hidden tastes, a page that explores as the API does, and some trust in it.

Each visitor answers (the generator's rows), is shown what ``mysfits_api.exploration.choose`` picks for the serving
model's prediction, and adopts that with probability ``follow``, else the Mysfit their own taste picks. The result
is the list of choices a store would return, with the exposure the API would have recorded.
"""

from __future__ import annotations

import random

import numpy as np

from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits_api import exploration
from mysfits_api.catalog import N_MYSFITS, label_ids
from mysfits_api.choices import Choice, Recommendation

IDS = label_ids()
T0 = 1_800_000_000.0


def visitors(
    tastes: ds.Dataset,
    champion_table: np.ndarray,
    *,
    follow: float,
    rate: float,
    seed: int,
    version: str = "champion",
    prefix: str = "c",
) -> list[Choice]:
    draws = random.Random(seed)
    picks = training.predict(np.asarray(champion_table, np.uint8), tastes.X)
    out = []
    for i in range(tastes.rows):
        pick = int(picks[i])
        shown = exploration.choose(pick, rate, draws)
        chosen = shown.shown if draws.random() < follow else int(tastes.y[i])
        rec = Recommendation(
            f"r-{prefix}-{i}", tuple(int(a) for a in tastes.X[i]), IDS[pick], None, version, T0,
            shown_mysfit_id=IDS[shown.shown], propensity=shown.propensity, exploration_rate=rate,
            randomized=shown.randomized,
        )  # fmt: skip
        out.append(Choice(f"{prefix}-{i}", rec, IDS[chosen], T0 + i))
    return out


def random_adopters(answers: ds.Dataset, champion_table: np.ndarray, *, rate: float, seed: int) -> list[Choice]:
    """Visitors (or a script) adopting a uniformly random Mysfit whatever they were shown."""
    # Not default_rng(seed) alone: the generator draws the answers' own labels first from that same stream.
    labels = np.random.default_rng([seed, 99]).integers(0, N_MYSFITS, answers.rows, dtype=np.uint8)
    noise = ds.Dataset(answers.X, labels)
    return visitors(noise, champion_table, follow=0.0, rate=rate, seed=seed, prefix=f"noise{seed}")
