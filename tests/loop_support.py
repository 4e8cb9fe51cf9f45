"""Visitors for the data loop's tests: hidden tastes, a page that explores as the API does, and some trust in it.

Each visitor answers (the generator's rows), is shown what ``mysfits_api.exploration.choose`` picks for the serving
model's prediction, and adopts that with probability ``follow``, else the Mysfit their own taste picks
(``mysfits.loop.offline.visit``). The result is the list of choices a store would return, with the exposure the API
would have recorded.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from mysfits.loop.offline import visit
from mysfits.model import dataset as ds
from mysfits_api.catalog import N_MYSFITS
from mysfits_api.choices import Choice

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
    choices = visit(tastes, np.asarray(champion_table, np.uint8), rate=rate, follow=follow,
                    draws=random.Random(seed), version=version, start=0)  # fmt: skip
    return [
        Choice(
            f"{prefix}-{c.choice_id}", dataclasses.replace(c.recommendation, created_at=T0), c.chosen_mysfit_id, T0 + i
        )
        for i, c in enumerate(choices)
    ]


def random_adopters(answers: ds.Dataset, champion_table: np.ndarray, *, rate: float, seed: int) -> list[Choice]:
    """Visitors (or a script) adopting a uniformly random Mysfit whatever they were shown."""
    # Not default_rng(seed) alone: the generator draws the answers' own labels first from that same stream.
    labels = np.random.default_rng([seed, 99]).integers(0, N_MYSFITS, answers.rows, dtype=np.uint8)
    noise = ds.Dataset(answers.X, labels)
    return visitors(noise, champion_table, follow=0.0, rate=rate, seed=seed, prefix=f"noise{seed}")
