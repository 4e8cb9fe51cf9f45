"""Shift detection: when the choices made since the champion began serving disagree with the ones before, a person
decides whether that is the visitors changing or someone steering the loop.

Two signals, both read through :mod:`mysfits.loop.exposure` so that what the page showed doesn't count as a change
of taste (a new champion shows other Mysfits, and trusting visitors adopt them):

- **the taste mix**: each Mysfit's share of the visitors' own tastes, ``(adopted - follow x shown) / (1 - follow)``,
  before and since;
- **acceptance by cohort**: for the visitors the serving model sent to each Mysfit, how often that matched their
  taste (:func:`mysfits.loop.exposure.taste_scores` of the recorded pick), before and since. A promoted champion was
  better on held-out choices, so a cohort whose acceptance falls sharply is news.

A difference counts when it is larger than ``Z`` standard errors (about one chance in 30,000 each for honest
noise, so that 24 comparisons a retrain almost never cry wolf) and larger than a floor that ordinary traffic never
crosses. `mysfits retrain` then keeps the champion unless ``--accept-shift`` is given; `mysfits choices stats`
prints the same findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mysfits.loop.exposure import Exposed, exposed, follow_share, policy_probability, taste_scores
from mysfits_api.catalog import N_MYSFITS, mysfit_for_label
from mysfits_api.choices import Choice

Z = 4.0
MIX_FLOOR = 0.03
"""A Mysfit's taste share must move by at least 3 points."""
COHORT_FLOOR = 0.10
"""A cohort's acceptance must fall by at least 10 points."""
MIN_CHOICES = 200
"""Fewer choices than this, on either side, are too few to compare."""
MIN_COHORT = 30


@dataclass(frozen=True)
class Shift:
    findings: tuple[str, ...]
    note: str
    """What was compared, or why nothing could be."""

    @property
    def detected(self) -> bool:
        return bool(self.findings)

    def describe(self) -> str:
        if not self.findings:
            return f"no shift: {self.note}"
        return "\n".join([f"the choices shifted ({self.note}):", *(f"  {line}" for line in self.findings)])

    def record(self) -> dict:
        return {"detected": self.detected, "findings": list(self.findings), "compared": self.note}


def detect(choices: Exposed, follow: float, current_version: str | None) -> Shift:
    """Compare the choices made while ``current_version`` served with every earlier one."""
    if current_version is None:
        return Shift((), "no model serves yet, so there is no before and since")
    since = choices.version == current_version
    new, old = choices.where(since), choices.where(~since)
    if new.rows < MIN_CHOICES or old.rows < MIN_CHOICES:
        return Shift(
            (),
            f"{new.rows:,} choices since {current_version} began serving and {old.rows:,} before; comparing needs "
            f"{MIN_CHOICES} on each side",
        )
    note = f"{old.rows:,} choices before {current_version} served against {new.rows:,} since"
    mix = _mix_findings(old, new, follow, _follow_error(choices, follow))
    return Shift(tuple(mix + _cohort_findings(old, new, follow)), note)


def since_newest(choices: Sequence[Choice]) -> Shift:
    """:func:`detect` for the model version that made the newest recommendation: what `mysfits choices stats`
    shows, with no model file at hand (the version serving now is the one recommending now)."""
    if not choices:
        return Shift((), "no choices yet")
    every = exposed(choices)
    newest = str(every.version[int(np.argmax([c.recommendation.created_at for c in choices]))])
    return detect(every, follow_share(every).share, newest)


def taste_mix(choices: Exposed, follow: float) -> tuple[np.ndarray, np.ndarray]:
    """Each Mysfit's estimated share of the visitors' tastes, and its standard error."""
    n = choices.rows
    adopted = np.bincount(choices.chosen, minlength=N_MYSFITS) / n
    share = (adopted - follow * _shown(choices)) / (1 - follow)
    error = np.sqrt(adopted * (1 - adopted) / n) / (1 - follow)
    return share, error


def _shown(choices: Exposed) -> np.ndarray:
    """Each Mysfit's share of what the page showed first, by the recorded policy."""
    n = choices.rows
    return np.array([np.mean(policy_probability(choices, np.full(n, label))) for label in range(N_MYSFITS)])


def _follow_error(choices: Exposed, follow: float) -> float:
    """The standard error of the follow share itself, from the drawn recommendations it was measured on."""
    drawn = int(choices.randomized.sum())
    if not follow or not drawn:
        return 0.0
    adopted_shown = follow + (1 - follow) / N_MYSFITS
    return float(np.sqrt(adopted_shown * (1 - adopted_shown) / drawn) / (1 - 1 / N_MYSFITS))


def _mix_findings(old: Exposed, new: Exposed, follow: float, follow_error: float) -> list[str]:
    (before, e_old), (since, e_new) = taste_mix(old, follow), taste_mix(new, follow)
    # One follow share reads both sides, so its error moves them together only where the page showed a Mysfit
    # more on one side than the other: d(share)/d(follow) = (share - shown) / (1 - follow).
    slope_old = (before - _shown(old)) / (1 - follow)
    slope_new = (since - _shown(new)) / (1 - follow)
    from_follow = np.abs(slope_new - slope_old) * follow_error
    findings = []
    for label in range(N_MYSFITS):
        change = since[label] - before[label]
        error = np.sqrt(e_old[label] ** 2 + e_new[label] ** 2 + from_follow[label] ** 2)
        if abs(change) > max(MIX_FLOOR, Z * error):
            findings.append(
                f"{mysfit_for_label(label).name}: {before[label]:.1%} of the visitors' tastes before, "
                f"{since[label]:.1%} since ({change * 100:+.1f} points)"
            )
    return findings


def _cohort_findings(old: Exposed, new: Exposed, follow: float) -> list[str]:
    findings = []
    scores_old, scores_new = taste_scores(old, old.pick, follow), taste_scores(new, new.pick, follow)
    for label in range(N_MYSFITS):
        a, b = scores_old[old.pick == label], scores_new[new.pick == label]
        if len(a) < MIN_COHORT or len(b) < MIN_COHORT:
            continue
        change = b.mean() - a.mean()
        error = np.hypot(a.std(ddof=1) / np.sqrt(len(a)), b.std(ddof=1) / np.sqrt(len(b)))
        if change < -max(COHORT_FLOOR, Z * error):
            findings.append(
                f"visitors sent to {mysfit_for_label(label).name}: it matched their taste {a.mean():.0%} of the time "
                f"before, {b.mean():.0%} since ({change * 100:+.0f} points)"
            )
    return findings
