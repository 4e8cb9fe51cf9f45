"""Champion or challenger: a new model serves only when the held-out choices show, beyond luck, that it is better.

Both models are scored on the same held-out choices with :func:`mysfits.loop.exposure.taste_scores`, which takes
out what the page caused, so the serving model gets no credit for visitors who merely took its pick. The
comparison is paired: on each choice, the challenger's score minus the champion's. Only choices where the two
predict differently move that difference, and its spread says how far the mean could stray by luck. The challenger
must beat the champion by more than ``z`` standard errors (one-sided), and chance (1 in 12) as well, so a tie, a
store of random adopts or too few choices keep the champion where it is.

The held-out choices made before the champion began serving are the ones it was judged on when it got in. Nobody
can add to them now, so they are judged on their own as well: a challenger worse than the champion there, beyond
luck, is kept out however well it does on the newer choices, which a flood of posted adopts could fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from mysfits.loop.exposure import Exposed, Follow, taste_scores
from mysfits_api.catalog import N_MYSFITS

DEFAULT_CONFIDENCE = 0.95
"""One-sided: a challenger no better than the champion is promoted about 1 time in 20 on the difference alone, and
far less often once it must also beat chance; docs/data-loop.md has the measured rates."""
CHANCE = 1 / N_MYSFITS
MIN_HISTORY = 100
"""Fewer earlier held-out choices than this can't tell a worse challenger from luck; the check is skipped."""


@dataclass(frozen=True)
class History:
    """The challenger against the champion on the held-out choices made before the champion served."""

    choices: int
    difference: float
    standard_error: float


@dataclass(frozen=True)
class Verdict:
    promoted: bool
    reason: str
    choices: int
    follow: Follow
    challenger: float
    """Estimated accuracy on the visitors' taste, as a share."""
    champion: float | None
    difference: float | None
    standard_error: float
    confidence: float
    min_gain: float
    history: History | None = None

    def summary(self) -> str:
        lines = [f"judged on {self.choices:,} held-out choices; {self.follow.describe()}"]
        champion = "none serving" if self.champion is None else f"{self.champion:.2%}"
        lines.append(f"accuracy on the visitors' taste: champion {champion}, challenger {self.challenger:.2%}")
        if self.difference is not None:
            low = self.difference - self.z * self.standard_error
            lines.append(
                f"challenger minus champion: {self.difference * 100:+.2f} points "
                f"(at {self.confidence:.0%} confidence, at least {low * 100:+.2f}; required above "
                f"{self.min_gain * 100:+.2f})"
            )
        if self.history is not None:
            high = self.history.difference + self.z * self.history.standard_error
            lines.append(
                f"on the {self.history.choices:,} held-out choices from before the champion served: "
                f"{self.history.difference * 100:+.2f} points (at most {high * 100:+.2f}; required not below 0)"
            )
        lines.append(self.reason)
        return "\n".join(lines)

    @property
    def z(self) -> float:
        return NormalDist().inv_cdf(self.confidence)


def judge(
    choices: Exposed,
    challenger_predicted: np.ndarray,
    champion_predicted: np.ndarray | None,
    follow: Follow,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    min_gain: float = 0.0,
    champion_version: str | None = None,
) -> Verdict:
    """``champion_version`` (as recommendations record it) marks which held-out choices came before the champion
    served; without it every choice is judged together."""
    if not 0.5 <= confidence < 1:
        raise ValueError(f"the confidence must be from 0.5 to below 1, got {confidence}")
    z = NormalDist().inv_cdf(confidence)
    n = choices.rows
    challenger = taste_scores(choices, challenger_predicted, follow.share)
    challenger_mean, challenger_se = _mean_and_error(challenger)
    beats_chance = challenger_mean - z * challenger_se > CHANCE
    common = dict(choices=n, follow=follow, challenger=challenger_mean, confidence=confidence, min_gain=min_gain)
    if champion_predicted is None:
        reason = (
            "promoted: no model serves yet and the challenger beats chance"
            if beats_chance
            else "kept out: no model serves yet, but the challenger does not beat chance (1 in 12) beyond luck"
        )
        return Verdict(beats_chance, reason, champion=None, difference=None, standard_error=challenger_se, **common)
    champion = taste_scores(choices, champion_predicted, follow.share)
    difference, difference_se = _mean_and_error(challenger - champion)
    beats_champion = difference - z * difference_se > min_gain
    history = _history(choices, challenger - champion, champion_version)
    worse_before = history is not None and history.difference + z * history.standard_error < 0
    if beats_champion and beats_chance and not worse_before:
        reason = "promoted: the challenger is better than the champion beyond luck"
    elif beats_champion and beats_chance:
        reason = (
            "kept the champion: on the held-out choices made before it served, the challenger is worse beyond luck "
            "(the newer choices may have been steered)"
        )
    elif not beats_chance:
        reason = "kept the champion: the challenger does not beat chance (1 in 12) beyond luck"
    else:
        reason = (
            "kept the champion: the difference is within what luck gives on this many choices"
            if difference > min_gain
            else "kept the champion: the challenger is not better"
        )
    return Verdict(
        beats_champion and beats_chance and not worse_before,
        reason,
        champion=float(np.mean(champion)),
        difference=difference,
        standard_error=difference_se,
        history=history,
        **common,
    )


def _history(choices: Exposed, paired: np.ndarray, champion_version: str | None) -> History | None:
    if champion_version is None:
        return None
    before = choices.version != champion_version
    if before.sum() < MIN_HISTORY:
        return None
    difference, error = _mean_and_error(paired[before])
    return History(int(before.sum()), difference, error)


def _mean_and_error(values: np.ndarray) -> tuple[float, float]:
    if len(values) < 2:
        return float(np.mean(values)) if len(values) else 0.0, float("inf")
    return float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(len(values)))
