"""Now and then, show a Mysfit other than the model's best guess, and record that it happened.

Visitors lean towards what they are shown. If the page always showed the model's pick, adopting that Mysfit would
say as much about the page as about the visitor, and a model could confirm itself for ever (docs/data-loop.md,
"Exposure"). So a small share of recommendations, the exploration rate, shows a Mysfit drawn uniformly from all
twelve. Each recommendation records what was shown, whether it was drawn, and the probability of showing it; the
loop uses those to learn the visitors' taste and to judge a challenger without the champion's thumb on the scale.
The draw is uniform over all twelve (the model's pick included) so that, on drawn recommendations, what was shown
is independent of the visitor: their adoption rate of the shown Mysfit then measures how much visitors follow it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mysfits_api.catalog import N_MYSFITS

MAX_RATE = 0.5
"""Beyond this the site would mostly show random Mysfits; a rate above it is a configuration mistake."""


@dataclass(frozen=True)
class Exposure:
    """What a visitor was shown first, as a catalog label, and how it was chosen."""

    shown: int
    randomized: bool
    """Drawn uniformly from the twelve (it may still be the model's pick)."""
    propensity: float
    """The probability that this policy shows ``shown`` to these answers."""
    rate: float


def propensity(shown: int, pick: int, rate: float) -> float:
    """P(shown | answers) under the policy: the pick unless a draw happens, and every Mysfit equally in a draw."""
    return (1.0 - rate) * (shown == pick) + rate / N_MYSFITS


def check_rate(rate: float, where: str) -> float:
    if not 0.0 <= rate <= MAX_RATE:
        raise ValueError(f"{where} must be an exploration rate from 0 to {MAX_RATE}, got {rate!r}")
    return rate


def choose(pick: int, rate: float, rng: random.Random) -> Exposure:
    """The Mysfit to show first: the model's ``pick``, or with probability ``rate`` one drawn from all twelve."""
    randomized = rng.random() < rate
    shown = rng.randrange(N_MYSFITS) if randomized else pick
    return Exposure(shown, randomized, propensity(shown, pick, rate), rate)
