"""Champion and challenger: a model trained on visitors' choices replaces the serving one only when it has earned it.

The choices are the only real signal the project has, so they are also the judge: a fixed share of them (chosen by
a hash of each choice's id, so a choice stays on the same side from one run to the next) is never trained on, and
both models are scored on it. The challenger is promoted when it is not worse than the champion by more than
``margin``; the swap is one atomic rename of the model file, which the running endpoint reloads.

What "weight" means for a kNN: the challenger learns from every training choice plus a random share ``1/weight``
of the base rows, so that one choice counts as much as ``weight`` base rows in the neighbourhoods it takes part in.
"Recombine" grows the choices before that (:func:`recombined`). Both defaults are measured in docs/benchmarks.md,
"The data loop".
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import ModelArtifact, save_model
from mysfits.progress import QUIET, Progress
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Choice

DEFAULT_WEIGHT = 1000.0
DEFAULT_RECOMBINE = 10
"""Rows per learning choice after recombination (:func:`recombined`); measured in docs/benchmarks.md."""
DEFAULT_MARGIN = 0.01
"""One point of held-out accuracy: below the noise of a few hundred held-out choices, so a challenger is not kept out
by chance, and far below what a broken model loses (a model trained on shuffled labels falls to about 8%)."""
HOLDOUT_PERCENT = 20
MIN_HOLDOUT = 100
"""Fewer held-out choices than this cannot tell a one-point margin from noise."""


class TooFewChoices(ValueError):
    """Not enough choices to judge a challenger; nothing was trained or written."""


@dataclass(frozen=True)
class Decision:
    promoted: bool
    champion_accuracy: float
    challenger_accuracy: float
    margin: float
    choices: int
    held_out: int
    challenger: ModelArtifact = field(repr=False)

    def summary(self) -> str:
        verdict = "promoted" if self.promoted else "kept the champion"
        return (
            f"{self.choices:,} choices, {self.held_out:,} held out; held-out accuracy: champion "
            f"{self.champion_accuracy:.2%}, challenger {self.challenger_accuracy:.2%} "
            f"(margin {self.margin:.2%}): {verdict}"
        )


def held_out(choice: Choice) -> bool:
    digest = hashlib.sha256(choice.choice_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HOLDOUT_PERCENT


def as_dataset(choices: Sequence[Choice]) -> ds.Dataset:
    label_of = {mysfit_id: label for label, mysfit_id in enumerate(label_ids())}
    X = np.array([c.recommendation.answers for c in choices], dtype=np.uint8).reshape(-1, 5)
    y = np.array([label_of[c.chosen_mysfit_id] for c in choices], dtype=np.uint8)
    return ds.Dataset(X, y)


def accuracy(table: bytes | np.ndarray, data: ds.Dataset) -> float:
    table = np.frombuffer(table, np.uint8) if isinstance(table, bytes) else table
    return float(np.mean(training.predict(table, data.X) == data.y)) if data.rows else 0.0


def minimum_choices() -> int:
    return -(-MIN_HOLDOUT * 100 // HOLDOUT_PERCENT)


def split_choices(choices: Sequence[Choice]) -> tuple[ds.Dataset, ds.Dataset]:
    """``(learn, judge)``: the held-out share judges, the rest is learned from. Raises TooFewChoices before any
    training when the judge would be too small to tell the margin from noise."""
    judge = as_dataset([c for c in choices if held_out(c)])
    learn = as_dataset([c for c in choices if not held_out(c)])
    if judge.rows < MIN_HOLDOUT:
        raise TooFewChoices(
            f"{len(choices):,} choices give {judge.rows} held-out ones; judging a challenger needs at least "
            f"{MIN_HOLDOUT} (about {minimum_choices():,} choices)"
        )
    return learn, judge


def recombined(learn: ds.Dataset, factor: int, seed: int) -> ds.Dataset:
    """The learning choices plus ``factor - 1`` times as many rows made from them: for each Mysfit, each answer of a
    new row is drawn from the answers that the Mysfit's adopters gave to that question.

    Why: a kNN needs many rows near every answer vector, and 20,000 choices spread over 32,768 of them leave most
    neighbourhoods thin, worst for categorical questions (docs/benchmarks.md, "The data loop"). Recombining keeps
    each Mysfit's answer frequencies per question and drops only how answers go together within its fans. Where
    they do go together the challenger is worse, and the held-out choices, which are never recombined, keep it out.
    """
    if factor < 1:
        raise ValueError(f"the recombination factor must be at least 1, got {factor}")
    if factor == 1 or not learn.rows:
        return learn
    rng = np.random.default_rng(seed)
    X, y = [learn.X], [learn.y]
    for label in np.unique(learn.y):
        fans = learn.X[learn.y == label]
        count = len(fans) * (factor - 1)
        X.append(np.stack([fans[rng.integers(0, len(fans), count), q] for q in range(fans.shape[1])], axis=1))
        y.append(np.full(count, label, dtype=learn.y.dtype))
    return ds.Dataset(np.concatenate(X).astype(np.uint8), np.concatenate(y))


def training_mix(
    base: ds.Dataset, learn: ds.Dataset, weight: float, seed: int, recombine: int = 1
) -> tuple[ds.Dataset, int]:
    """The challenger's training rows: the learning choices (recombined ``recombine`` times over) plus a random
    ``recombine / weight`` of the base rows, so that the choices still count ``weight`` base rows each; returns
    the rows and how many base rows were kept. The same rule locally and for the SageMaker job."""
    if not weight > 0:
        raise ValueError(f"the choices' weight must be above 0, got {weight:g}")
    grown = recombined(learn, recombine, seed)
    keep = np.random.default_rng(seed).random(base.rows) < min(1.0, recombine / weight)
    mixed = ds.Dataset(np.concatenate([grown.X, base.X[keep]]), np.concatenate([grown.y, base.y[keep]]))
    return mixed, int(keep.sum())


def promoted(champion_accuracy: float | None, challenger_accuracy: float, margin: float = DEFAULT_MARGIN) -> bool:
    """The rule: no worse than the champion by more than ``margin``; with no champion serving, the challenger wins."""
    return champion_accuracy is None or challenger_accuracy >= champion_accuracy - margin


def challenge(
    base: ds.Dataset,
    choices: Sequence[Choice],
    champion: ModelArtifact,
    *,
    weight: float = DEFAULT_WEIGHT,
    margin: float = DEFAULT_MARGIN,
    encoding: str | None = None,
    tune: bool = True,
    recombine: int = DEFAULT_RECOMBINE,
    seed: int = ds.DEFAULT_SEED,
    progress: Progress = QUIET,
) -> Decision:
    """Train a challenger and judge it against the champion on the held-out choices. Writes nothing."""
    learn, judge = split_choices(choices)
    encoding = encoding or champion.encoding
    hyperparameters: dict = {}
    tuning = None
    if tune:
        # k and the sample size are chosen on real choices only: recombined rows would flatter recombination.
        fit, validation = ds.split(learn, test_fraction=0.1, seed=seed + 1)
        fit_mix, _ = training_mix(base, fit, weight, seed, recombine)
        with progress.step(f"tuning k and sample_size on {validation.rows:,} learning choices set aside"):
            tuned = training.tune(fit_mix, seed, progress, (encoding,), validation=validation)
        whole = tuned.sample_size >= fit_mix.rows
        hyperparameters = {"k": tuned.k, "sample_size": None if whole else tuned.sample_size}
        tuning = tuned.results
    mixed, kept = training_mix(base, learn, weight, seed, recombine)
    if hyperparameters:
        hyperparameters["sample_size"] = hyperparameters["sample_size"] or mixed.rows
    with progress.step(
        f"training a challenger on {learn.rows:,} choices (x{recombine} recombined) and {kept:,} base rows"
    ):
        challenger = training.train_model(mixed, seed=seed, encoding=encoding, test_fraction=0.05, **hyperparameters)
    if tuning is not None:
        challenger.metrics["tuning"] = tuning
    champion_accuracy, challenger_accuracy = accuracy(champion.table, judge), accuracy(challenger.table, judge)
    won = promoted(champion_accuracy, challenger_accuracy, margin)
    challenger.training_data.update(
        source="mysfits retrain",
        base_sha256=base.sha256,
        choices=learn.rows,
        base_rows_kept=kept,
        choices_weight=weight,
        recombine=recombine,
        sha256=mixed.sha256,
    )
    challenger.metrics["champion_challenger"] = {
        "held_out_choices": judge.rows,
        "champion_version": champion.version,
        "champion_accuracy": champion_accuracy,
        "challenger_accuracy": challenger_accuracy,
        "margin": margin,
        "promoted": won,
    }
    return Decision(won, champion_accuracy, challenger_accuracy, margin, len(choices), judge.rows, challenger)


def promote(decision: Decision, model_path: str | os.PathLike) -> Path | None:
    """Swap the challenger into place when it won: one rename, so the endpoint never reads half a model."""
    if not decision.promoted:
        return None
    return save_model(decision.challenger, model_path)
