"""Bounded influence: no flood of choices, however it is spread, can own what the challenger learns.

Anyone can post choices, and a kNN trusts its rows: 5,000 adopts of one Mysfit turned a fifth of all answer
vectors towards it in issue 29's measurements. Limits per client slow one script down, but a script with many
addresses, or the patience to wait the limit out, still gets its choices stored. So before the challenger learns,
three caps bound what any one slice of the store can weigh, each against the store's own ordinary shape:

- **one hour** may give at most ``HOUR_FACTOR`` times the median hour's learning choices (never fewer than
  ``HOUR_FLOOR``): a burst counts like a busy hour, not like a day;
- **one answer vector** may give at most ``VECTOR_SHARE`` of the learning choices (never fewer than
  ``VECTOR_FLOOR``): the commonest vector honest visitors give holds about 0.4% of them (categorical tastes; 0.06%
  ordinal), so a script repeating one vector is cut to what the busiest honest one could hold;
- **one Mysfit's rise**: among the choices made since the champion began serving, each Mysfit may hold at most its
  share of the earlier choices plus ``RISE_SLACK`` and three standard errors. The excess is dropped from the
  choices the serving model did not pick that Mysfit for first, since those are the ones nothing earlier supports.

Every cap drops rows at random within what it caps (seeded), so what it keeps looks like what it was given. Honest
traffic sits inside all three (docs/data-loop.md has the measurements); what a sudden real change in taste loses is
its speed, not its direction: the next retrains learn it as it becomes the ordinary shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mysfits.loop.exposure import Exposed
from mysfits_api.catalog import N_MYSFITS, mysfit_for_label

HOUR = 3600.0
HOUR_FACTOR = 3.0
HOUR_FLOOR = 500
VECTOR_SHARE = 0.005
VECTOR_FLOOR = 10
RISE_SLACK = 0.02
MIN_HISTORY = 500
"""Fewer earlier learning choices than this give no mix to hold a rise against."""


@dataclass(frozen=True)
class Bounds:
    """What each cap dropped, so `mysfits retrain` can say it."""

    by_hour: int = 0
    by_vector: int = 0
    by_rise: int = 0
    rises: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per capped Mysfit: its share of the earlier learning choices, and of the new ones before the cap."""

    @property
    def dropped(self) -> int:
        return self.by_hour + self.by_vector + self.by_rise

    def describe(self) -> str:
        if not self.dropped:
            return "no hour, answer vector or Mysfit's rise outweighed the rest"
        parts = []
        if self.by_hour:
            parts.append(f"{self.by_hour:,} from hours busier than {HOUR_FACTOR:g}x the median hour")
        if self.by_vector:
            parts.append(f"{self.by_vector:,} from answer vectors over {VECTOR_SHARE:.1%} of the choices")
        if self.by_rise:
            risen = ", ".join(f"{name} {old:.1%} -> {new:.1%}" for name, (old, new) in self.rises.items())
            parts.append(f"{self.by_rise:,} from a sudden rise ({risen})")
        return "influence bounded: dropped " + "; ".join(parts)


def bounded(learn: Exposed, champion_version: str | None, seed: int) -> tuple[Exposed, Bounds]:
    """The learning choices, less what the three caps drop, and what they dropped."""
    rng = np.random.default_rng([seed, 29])
    keep = np.ones(learn.rows, dtype=bool)
    by_hour = _cap_groups(np.floor(learn.at / HOUR).astype(np.int64), _hour_cap(learn.at), keep, rng)
    cells = _cells(learn.X)
    by_vector = _cap_groups(cells, max(VECTOR_FLOOR, math.ceil(VECTOR_SHARE * keep.sum())), keep, rng)
    by_rise, rises = _cap_rises(learn, champion_version, keep, rng)
    return learn.where(keep), Bounds(by_hour, by_vector, by_rise, rises)


def _cells(X: np.ndarray) -> np.ndarray:
    return (X.astype(np.int64) * (8 ** np.arange(X.shape[1] - 1, -1, -1))).sum(axis=1)


def _hour_cap(at: np.ndarray) -> int:
    if not len(at):
        return HOUR_FLOOR
    _, counts = np.unique(np.floor(at / HOUR), return_counts=True)
    return max(HOUR_FLOOR, int(HOUR_FACTOR * np.median(counts)))


def _cap_groups(groups: np.ndarray, cap: int, keep: np.ndarray, rng: np.random.Generator) -> int:
    """Within each group of the still-kept rows, keep at most ``cap`` (chosen at random); returns how many were
    dropped. ``keep`` is updated in place."""
    alive = np.flatnonzero(keep)
    _, inverse, counts = np.unique(groups[alive], return_inverse=True, return_counts=True)
    dropped = 0
    for group in np.flatnonzero(counts > cap):
        members = alive[inverse == group]
        drop = rng.permutation(members)[cap:]
        keep[drop] = False
        dropped += len(drop)
    return dropped


def _cap_rises(learn: Exposed, champion_version: str | None, keep: np.ndarray, rng: np.random.Generator):
    if champion_version is None:
        return 0, {}
    new = keep & (learn.version == champion_version)
    old = keep & (learn.version != champion_version)
    n_new, n_old = int(new.sum()), int(old.sum())
    if n_old < MIN_HISTORY or not n_new:
        return 0, {}
    before = np.bincount(learn.chosen[old], minlength=N_MYSFITS) / n_old
    counts = np.bincount(learn.chosen[new], minlength=N_MYSFITS)
    dropped, rises = 0, {}
    for label in range(N_MYSFITS):
        share = before[label]
        allowed = share + RISE_SLACK + 3 * math.sqrt(max(share * (1 - share), 1e-4) / n_new)
        cap = int(allowed * n_new)
        if counts[label] <= cap:
            continue
        members = np.flatnonzero(new & (learn.chosen == label))
        # Rows the serving model itself picked this Mysfit for go last: its history supports them.
        unsupported = rng.permutation(members[learn.pick[members] != label])
        supported = rng.permutation(members[learn.pick[members] == label])
        drop = np.concatenate([unsupported, supported])[: counts[label] - cap]
        keep[drop] = False
        dropped += len(drop)
        rises[mysfit_for_label(label).name] = (float(share), float(counts[label] / n_new))
    return dropped, rises
