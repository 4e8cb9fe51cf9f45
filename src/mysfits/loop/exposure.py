"""Choices as evidence of taste: what each visitor was shown is taken into account before anything learns from them.

A visitor who adopts a Mysfit either follows their own taste or takes what the page showed first. The second kind
says nothing about taste, and if the page always showed the serving model's pick it would make that model look
right whatever it knew: the loop would freeze wherever it started (issue 28 measured 8% accuracy after 12,000
choices when half the visitors followed the page). Exploration (``mysfits_api.exploration``) shows a Mysfit drawn
uniformly from all twelve on a small share of recommendations, and that is what makes the two kinds separable:

- On drawn recommendations, what was shown is independent of the visitor, so the share who adopt it is
  ``follow + (1 - follow) / 12``: that gives ``follow``, the share of visitors who take what they are shown.
- With ``follow`` known, a model's accuracy on the visitors' taste can be read off any choice, drawn or not
  (:func:`taste_scores`), and a kNN's training rows can be thinned so that the ones the page caused no longer
  outvote the rest (:func:`learning_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mysfits.model import dataset as ds
from mysfits_api.catalog import N_MYSFITS, label_ids
from mysfits_api.choices import Choice

MAX_FOLLOW = 0.95
"""Above this almost nothing a visitor adopts is their own taste; the estimates below would divide by ~0."""
MIN_DRAWN_PER_VERSION = 30
"""Fewer drawn choices than this cannot say how good one model version was; the versions' pooled figure is used."""


@dataclass(frozen=True)
class Exposed:
    """Choices as parallel arrays (labels are catalog positions), in the order they were given."""

    ids: np.ndarray
    X: np.ndarray
    chosen: np.ndarray
    shown: np.ndarray
    pick: np.ndarray
    rate: np.ndarray
    randomized: np.ndarray
    version: np.ndarray
    at: np.ndarray
    """When each choice was made (seconds since the epoch)."""

    @property
    def rows(self) -> int:
        return len(self.chosen)

    def where(self, mask: np.ndarray) -> Exposed:
        return Exposed(*(getattr(self, name)[mask] for name in self.__dataclass_fields__))

    def as_dataset(self) -> ds.Dataset:
        return ds.Dataset(self.X, self.chosen)


def concatenated(parts: Sequence[Exposed]) -> Exposed:
    return Exposed(*(np.concatenate([getattr(part, name) for part in parts]) for name in Exposed.__dataclass_fields__))


def exposed(choices: Sequence[Choice]) -> Exposed:
    label_of = {mysfit_id: label for label, mysfit_id in enumerate(label_ids())}
    recs = [c.recommendation for c in choices]
    return Exposed(
        ids=np.array([c.choice_id for c in choices], dtype=object),
        X=np.array([r.answers for r in recs], dtype=np.uint8).reshape(-1, 5),
        chosen=np.array([label_of[c.chosen_mysfit_id] for c in choices], dtype=np.uint8),
        shown=np.array([label_of[r.shown] for r in recs], dtype=np.uint8),
        pick=np.array([label_of[r.recommended_mysfit_id] for r in recs], dtype=np.uint8),
        rate=np.array([r.exploration_rate for r in recs], dtype=np.float64),
        randomized=np.array([r.randomized for r in recs], dtype=bool),
        version=np.array([r.model_version for r in recs], dtype=object),
        at=np.array([c.chosen_at for c in choices], dtype=np.float64),
    )


@dataclass(frozen=True)
class Follow:
    """How much visitors take what they are shown, as measured on drawn recommendations."""

    share: float
    drawn: int
    """Drawn recommendations that were adopted: what ``share`` was measured on (0: not measurable)."""

    def describe(self) -> str:
        if not self.drawn:
            return "no choice followed a drawn recommendation, so trust can't be told from taste (taken as 0)"
        return f"{self.share:.0%} of visitors adopt what they are shown (from {self.drawn:,} drawn recommendations)"


def follow_share(choices: Exposed) -> Follow:
    drawn = choices.randomized
    if not drawn.any():
        return Follow(0.0, 0)
    adopted_shown = float(np.mean(choices.chosen[drawn] == choices.shown[drawn]))
    share = (adopted_shown - 1 / N_MYSFITS) / (1 - 1 / N_MYSFITS)
    return Follow(float(np.clip(share, 0.0, MAX_FOLLOW)), int(drawn.sum()))


def policy_probability(choices: Exposed, labels: np.ndarray) -> np.ndarray:
    """For each choice, the probability that its recommendation's policy would have shown ``labels[i]`` first."""
    return (1 - choices.rate) * (labels == choices.pick) + choices.rate / N_MYSFITS


def taste_scores(choices: Exposed, predicted: np.ndarray, follow: float) -> np.ndarray:
    """Per choice, a score whose mean is the predictions' accuracy on the visitors' own taste.

    A visitor adopts label y with probability ``follow * P(shown y) + (1 - follow) * taste(y)``, so the adoption of
    the predicted label, less ``follow`` times the policy's probability of showing it, over ``1 - follow``, is
    unbiased for how often the prediction matches taste. With ``follow`` 0 it is plain accuracy.
    """
    hit = (predicted == choices.chosen).astype(np.float64)
    return (hit - follow * policy_probability(choices, predicted)) / (1 - follow)


def taste_accuracy_by_version(choices: Exposed, follow: float) -> dict[str, float]:
    """How often each serving model's pick matched taste, from drawn recommendations (where the page did not favour
    the pick): ``P(adopted pick | drawn) = follow / 12 + (1 - follow) * accuracy``."""
    drawn = choices.where(choices.randomized)
    pooled = _taste_accuracy(drawn, follow) if drawn.rows else 1 / N_MYSFITS
    result = {}
    for version in np.unique(choices.version):
        mine = drawn.where(drawn.version == version)
        result[version] = _taste_accuracy(mine, follow) if mine.rows >= MIN_DRAWN_PER_VERSION else pooled
    return result


def _taste_accuracy(drawn: Exposed, follow: float) -> float:
    observed = float(np.mean(drawn.chosen == drawn.pick))
    return float(np.clip((observed - follow / N_MYSFITS) / (1 - follow), 1 / N_MYSFITS, 1.0))


def learning_rows(choices: Exposed, follow: float, seed: int) -> tuple[ds.Dataset, int]:
    """Rows a kNN can learn taste from, and how many choices were set aside.

    A choice that adopted the Mysfit shown first may be trust rather than taste. If the shown Mysfit matches taste
    with probability ``a``, such a choice is taste with probability ``(1 - follow) a / (follow + (1 - follow) a)``;
    keeping each with that probability (and every choice that adopted something else) leaves rows whose labels
    follow taste on average, so neither the page's picks nor its draws outvote the visitors. ``a`` is the serving
    model's measured accuracy when the model's pick was shown, and the rest shared among the other eleven when a
    draw showed another. With ``follow`` 0 every choice is kept.
    """
    kept, set_aside = thinned(choices, follow, seed)
    return kept.as_dataset(), set_aside


def thinned(choices: Exposed, follow: float, seed: int) -> tuple[Exposed, int]:
    """:func:`learning_rows` before it drops what the rows no longer need (when and under which model each choice
    was made), for the caps of :mod:`mysfits.loop.influence`."""
    if follow <= 0:
        return choices, 0
    accuracy = taste_accuracy_by_version(choices, follow)
    of_pick = np.array([accuracy[v] for v in choices.version], dtype=np.float64)
    a = np.where(choices.shown == choices.pick, of_pick, (1 - of_pick) / (N_MYSFITS - 1))
    keep_share = (1 - follow) * a / (follow + (1 - follow) * a)
    adopted_shown = choices.chosen == choices.shown
    keep = ~adopted_shown | (np.random.default_rng(seed).random(choices.rows) < keep_share)
    return choices.where(keep), int((~keep).sum())
