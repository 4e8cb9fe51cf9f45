"""The loop under attack, without servers: honest visitors and a script that wants one Mysfit shown to everyone.

Issue 29 measured what a script could do to `mysfits retrain` when every choice counted alike. This plays the same
attack through the loop's own code (``retrain.challenge``, which ``mysfits retrain`` and the AWS path share), so the
defences can be measured in seconds and the measurement repeated in tests:

1. history: visitors served by the workshop's uniform model, and a retrain that promotes a good champion;
2. new: honest visitors served by that champion, plus the attack: adopts of one Mysfit for random answers (from
   one client and from many addresses, which the store can't tell apart: it keeps no address) and for one fixed
   answer vector;
3. the served model after retraining on everything, against the champion and an honest-only retrain.

Requests from one client are limited at the gateway (``mysfits.local.gateway``'s per-address limit); here the
attack's choices are all in the store as if the script had waited them out, the worst case for what follows.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

import numpy as np

from mysfits.loop import retrain
from mysfits.loop.offline import visit
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import ModelArtifact, variant_name
from mysfits_api.catalog import N_MYSFITS, label_ids
from mysfits_api.choices import Choice

TARGET = 11
"""Rujin, as in issue 29's measurements."""
FIXED_ANSWERS = (1, 1, 1, 1, 1)
HOUR = 3600.0


@dataclass(frozen=True)
class Attack:
    random_answers: int = 4_000
    """Adopts of the target for random answers (issue 29: 2,000 from one client and 2,000 over 400 addresses)."""
    fixed_vector: int = 1_000
    """Adopts of the target for :data:`FIXED_ANSWERS`."""


@dataclass(frozen=True)
class Scenario:
    history: int = 10_000
    honest: int = 10_000
    attack: Attack = Attack()
    follow: float = 0.0
    rate: float = 0.1
    preferences: str = ds.ORDINAL
    seed: int = 29
    hours: float = 24.0
    """Honest choices arrive evenly over this many hours."""
    attack_hours: float = 1.0
    """The attack arrives evenly over the last this many of them (1: a burst; ``hours``: a patient script)."""


@dataclass(frozen=True)
class Served:
    accuracy: float
    """Exact expected accuracy on new honest visitors."""
    target_share: float
    """Share of new honest visitors whose recommendation is the target."""

    def __str__(self) -> str:
        return f"{self.accuracy:.2%} accurate, {self.target_share:.1%} sent to the target"


@dataclass(frozen=True)
class Outcome:
    champion: Served
    honest_retrain: Served
    attacked_retrain: Served
    attacked_challenger: Served
    """What the challenger trained beside the attack would serve if it were let in: the training's own defences."""
    promoted: bool
    decision: retrain.Decision

    @property
    def accuracy_loss(self) -> float:
        """Points below the worse of the champion and the honest-only retrain (issue 29 allows 1)."""
        return 100 * (min(self.champion.accuracy, self.honest_retrain.accuracy) - self.attacked_retrain.accuracy)

    @property
    def target_rise(self) -> float:
        """Points more of the visitors sent to the target than the champion sends (issue 29 allows 2)."""
        return 100 * (self.attacked_retrain.target_share - self.champion.target_share)


def served(table: np.ndarray, scenario: Scenario) -> Served:
    likelihood = ds.likelihoods(ds.DEFAULT_SIGNAL, scenario.preferences)
    cells = np.arange(len(table))
    table = np.asarray(table, np.intp)
    accuracy = float(likelihood[cells, table].sum() / N_MYSFITS)
    share = float(likelihood.mean(axis=1)[table == TARGET].sum())
    return Served(accuracy, share)


def _table(model: ModelArtifact) -> np.ndarray:
    return np.frombuffer(model.table, np.uint8)


def _timed(choices: list[Choice], start: float, span: float, prefix: str) -> list[Choice]:
    """Spread over ``span`` seconds from ``start``, with ids of their own (ids decide the held-out share)."""
    step = span / max(1, len(choices))
    out = []
    for i, c in enumerate(choices):
        at = start + i * step
        recommendation = dataclasses.replace(c.recommendation, recommendation_id=f"{prefix}r{i}", created_at=at)
        out.append(Choice(f"{prefix}{i}", recommendation, c.chosen_mysfit_id, at))
    return out


def attack_choices(attack: Attack, champion: ModelArtifact, scenario: Scenario, end: float) -> list[Choice]:
    """Recommendations asked for by the script (the page's exploration applies to them too), each followed by an
    adopt of the target whatever was shown."""
    rng = np.random.default_rng([scenario.seed, 2])
    answers = rng.integers(1, 9, (attack.random_answers, 5), dtype=np.uint8)
    fixed = np.tile(np.array(FIXED_ANSWERS, np.uint8), (attack.fixed_vector, 1))
    X = np.concatenate([answers, fixed])
    wanted = ds.Dataset(X, np.full(len(X), TARGET, np.uint8))
    choices = visit(wanted, _table(champion), rate=scenario.rate, follow=0.0, draws=random.Random(scenario.seed + 2),
                    version=variant_name(champion), start=0)  # fmt: skip
    span = scenario.attack_hours * HOUR
    return _timed(choices, end - span, span, "attack")


def run(scenario: Scenario = Scenario(), **challenge) -> Outcome:
    """Play the scenario; ``challenge`` goes to :func:`retrain.challenge` (for example ``tune=False`` in tests)."""
    seed = scenario.seed
    base = ds.generate(100_000, seed=seed, signal=0.0)
    uniform = training.train_model(base, seed=seed, encoding="ordinal")
    ids = label_ids()
    assert len(ids) == N_MYSFITS
    draws = random.Random(seed)
    past = ds.generate(scenario.history, seed=seed * 1000 + 1, preferences=scenario.preferences)
    history = visit(past, _table(uniform), rate=scenario.rate, follow=scenario.follow, draws=draws,
                    version=variant_name(uniform), start=0)  # fmt: skip
    span = scenario.hours * HOUR
    history = _timed(history, 0.0, span, "past")
    first = retrain.challenge(base, history, uniform, seed=seed, **challenge)
    if not first.promoted:
        raise RuntimeError(f"the honest history did not promote a champion: {first.verdict.reason}")
    champion = first.challenger
    now = ds.generate(scenario.honest, seed=seed * 1000 + 2, preferences=scenario.preferences)
    honest = visit(now, _table(champion), rate=scenario.rate, follow=scenario.follow, draws=draws,
                   version=variant_name(champion), start=0)  # fmt: skip
    honest = _timed(honest, span, span, "now")
    attack = attack_choices(scenario.attack, champion, scenario, 2 * span)
    honest_only = retrain.challenge(base, history + honest, champion, seed=seed, **challenge)
    attacked = retrain.challenge(base, history + honest + attack, champion, seed=seed, **challenge)
    return Outcome(
        champion=served(_table(champion), scenario),
        honest_retrain=served(_table(honest_only.challenger if honest_only.promoted else champion), scenario),
        attacked_retrain=served(_table(attacked.challenger if attacked.promoted else champion), scenario),
        attacked_challenger=served(_table(attacked.challenger), scenario),
        promoted=attacked.promoted,
        decision=attacked,
    )
