"""Champion and challenger: a model trained on visitors' choices replaces the serving one only when it has earned it.

The choices are the only real signal the project has, so they are also the judge: a fixed share of them (chosen by
a hash of each choice's id, so a choice stays on the same side from one run to the next) is never trained on, and
both models are scored on it by :mod:`mysfits.loop.judge`, which takes out what the page caused and promotes only
on evidence. The challenger learns from the rest after :func:`mysfits.loop.exposure.learning_rows` has thinned the
choices the page may have caused; the swap is one atomic rename of the model file, which the running endpoint
reloads.

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
from statistics import NormalDist

import numpy as np

from mysfits.loop import exposure, influence, judge
from mysfits.loop.shift import Shift, detect
from mysfits.model import dataset as ds
from mysfits.model import training, versions
from mysfits.model.artifact import ModelArtifact, save_model, variant_name
from mysfits.progress import QUIET, Progress
from mysfits_api.choices import Choice
from mysfits_api.questionnaire import OPTION_MAX

DEFAULT_WEIGHT = 1000.0
RECOMBINE_ROWS = 1_000_000
"""Unless a factor is given, the learning choices are recombined into about this many rows (:func:`recombine_factor`).
What the kNN needs is rows per answer cell, not rows per choice; measured in docs/benchmarks.md, "The data loop"."""
HOLDOUT_PERCENT = 20
MIN_HOLDOUT = 100
"""Fewer held-out choices than this say next to nothing about a challenger."""
MIN_LEARNING = 20
"""Fewer learning choices than this, once trust is taken out, leave a kNN nothing to find neighbours in."""
THINNINGS = 8
"""Independent thinnings of the learning choices that recombined rows are drawn from, when visitors follow the page.

Why more than one: thinning keeps a choice that adopted the Mysfit shown with the probability that it was taste,
and one draw of that keeps or drops each choice whole. Drawn from eight, a choice counts in proportion to how often
it was kept, close to its probability itself, which at 70% trust learns from about twice as many choices' worth of
evidence: with independent draws, 71.95% against 70.63% from 5,000 visitors, 73.18% against 72.88% from 20,000
(`python -m benchmarks learner`). Each thinning passes the influence caps on its own."""


class TooFewChoices(ValueError):
    """Not enough choices to judge a challenger; nothing was trained or written."""


@dataclass(frozen=True)
class Decision:
    verdict: judge.Verdict
    choices: int
    held_out: int
    set_aside: int
    """Learning choices left out because the page, not taste, may have caused them."""
    challenger: ModelArtifact = field(repr=False)
    bounds: influence.Bounds = field(default_factory=influence.Bounds)
    shift: Shift = field(default_factory=lambda: Shift((), "not compared"))
    accept_shift: bool = False

    @property
    def promoted(self) -> bool:
        return self.verdict.promoted and (self.accept_shift or not self.shift.detected)

    def summary(self) -> str:
        learning = self.choices - self.held_out
        lines = [
            f"{self.choices:,} choices: {learning:,} to learn from ({self.set_aside:,} of them set aside as "
            f"following the page), {self.held_out:,} held out",
            self.bounds.describe(),
            self.shift.describe(),
            self.verdict.summary(),
        ]
        if self.verdict.promoted and self.shift.detected:
            lines.append(
                "promoted anyway: --accept-shift says the shift is real"
                if self.accept_shift
                else "not promoted: the choices shifted, so a person decides; if the change is real, run again "
                "with --accept-shift"
            )
        return "\n".join(lines)


def held_out(choice: Choice) -> bool:
    return held_out_id(choice.choice_id)


def held_out_id(choice_id: str) -> bool:
    digest = hashlib.sha256(choice_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HOLDOUT_PERCENT


def accuracy(table: bytes | np.ndarray, data: ds.Dataset) -> float:
    table = np.frombuffer(table, np.uint8) if isinstance(table, bytes) else table
    return float(np.mean(training.predict(table, data.X) == data.y)) if data.rows else 0.0


def minimum_choices() -> int:
    return -(-MIN_HOLDOUT * 100 // HOLDOUT_PERCENT)


def split_choices(choices: Sequence[Choice]) -> tuple[exposure.Exposed, exposure.Exposed]:
    """``(learn, judge)``: the held-out share judges, the rest is learned from. Raises TooFewChoices before any
    training when the judge would be too small to say anything."""
    return _split(exposure.exposed(choices))


def _split(every: exposure.Exposed) -> tuple[exposure.Exposed, exposure.Exposed]:
    judged = np.array([held_out_id(i) for i in every.ids], dtype=bool)
    learn, held = every.where(~judged), every.where(judged)
    if held.rows < MIN_HOLDOUT:
        raise TooFewChoices(
            f"{every.rows:,} choices give {held.rows} held-out ones; judging a challenger needs at least "
            f"{MIN_HOLDOUT} (about {minimum_choices():,} choices)"
        )
    return learn, held


def learning_data(choices: Sequence[Choice], seed: int, champion_version: str | None = None) -> Learning:
    """What both paths (`mysfits retrain` and the SageMaker job) learn from and judge on, from one store read.
    ``champion_version`` (as recommendations record it) says which choices came since the champion began serving,
    for the caps on a sudden rise and for shift detection."""
    every = exposure.exposed(choices)
    learn, held = _split(every)
    follow = exposure.follow_share(every)
    kept, set_aside = exposure.thinned(learn, follow.share, seed)
    kept, bounds = influence.bounded(kept, champion_version, seed)
    if kept.rows < MIN_LEARNING:
        raise TooFewChoices(f"only {kept.rows} learning choices are left once trust is taken out of them")
    pool = [kept]
    for thinning in range(1, THINNINGS if follow.share > 0 else 1):
        other = seed + 7919 * thinning  # seeds apart from the first thinning's and from each other
        pool.append(influence.bounded(exposure.thinned(learn, follow.share, other)[0], champion_version, other)[0])
    return Learning(
        kept, exposure.concatenated(pool), held, follow, set_aside, every, bounds,
        detect(every, follow.share, champion_version),
    )  # fmt: skip


@dataclass(frozen=True)
class Learning:
    kept: exposure.Exposed
    """Learning choices, less those set aside as following the page (one thinning) and those the caps dropped."""
    pool: exposure.Exposed
    """Every thinning's kept choices together (:data:`THINNINGS`; just ``kept`` when nobody follows the page): what
    recombined rows are drawn from."""
    held: exposure.Exposed
    follow: exposure.Follow
    set_aside: int
    every: exposure.Exposed
    """Every choice read, in the order given."""
    bounds: influence.Bounds
    shift: Shift

    @property
    def total(self) -> int:
        return self.every.rows

    @property
    def rows(self) -> ds.Dataset:
        return self.kept.as_dataset()

    def pool_without(self, ids: np.ndarray) -> ds.Dataset:
        """The pool less every copy of the choices ``ids``: rows the tuning's validation choices left no trace in."""
        left_out = set(ids.tolist())
        return self.pool.where(np.array([i not in left_out for i in self.pool.ids], dtype=bool)).as_dataset()


def recombine_factor(recombine: int | None, learning_rows: int) -> int:
    """Rows per learning choice: ``recombine`` when one is given, else enough to make about :data:`RECOMBINE_ROWS`.

    Why a row count rather than a fixed factor: recombined rows follow each Mysfit's answer frequencies
    per question, and a kNN vote over them only settles on the likeliest Mysfit of an answer vector when each
    neighbourhood holds many of them. That depends on rows per cell of the answer space (32,768 cells), whatever the
    number of choices: ten times 16,000 choices left the categorical loop 2 to 2.5 points short of the Bayes
    optimum, a million rows about 1, while the frequencies themselves (what a choice teaches) were within 0.3 of it.
    Visitors who follow the page leave fewer learning choices, which then need a larger factor. A million rows is
    the workshop's own training set, which the SageMaker job is sized for.
    """
    if recombine is not None:
        return recombine
    return max(1, -(-RECOMBINE_ROWS // max(1, learning_rows)))


def recombined(learn: ds.Dataset, factor: int, seed: int, pool: ds.Dataset | None = None) -> ds.Dataset:
    """The learning choices plus ``factor - 1`` times as many rows made from them: each Mysfit's new rows are spread
    over the answer vectors as they would fall if its adopters answered each question independently, with the
    frequencies they gave (:func:`_systematic_counts`). ``pool`` (by default the learning choices themselves) is
    what those frequencies and each Mysfit's share of the new rows come from (:data:`THINNINGS`).

    Why: a kNN needs many rows near every answer vector, and 20,000 choices spread over 32,768 of them leave most
    neighbourhoods thin, worst for categorical questions (docs/benchmarks.md, "The data loop"). Recombining keeps
    each Mysfit's answer frequencies per question and drops only how answers go together within its fans. Where
    they do go together the challenger is worse, and the held-out choices, which are never recombined, keep it out.
    """
    if factor < 1:
        raise ValueError(f"the recombination factor must be at least 1, got {factor}")
    if factor == 1 or not learn.rows:
        return learn
    pool = learn if pool is None else pool
    rng = np.random.default_rng(seed)
    space = ds.answer_space()
    X, y = [learn.X], [learn.y]
    for label in np.unique(pool.y):
        fans = pool.X[pool.y == label]
        count = round(len(fans) / pool.rows * learn.rows * (factor - 1))
        # How likely each answer vector is among this Mysfit's fans, if they answer each question independently
        # (up to a constant: the product of answer counts, since only the proportions matter).
        likelihood = np.ones(len(space))
        for q in range(space.shape[1]):
            likelihood *= np.bincount(fans[:, q], minlength=OPTION_MAX + 1)[space[:, q]]
        X.append(np.repeat(space, _systematic_counts(likelihood, count, rng), axis=0))
        y.append(np.full(count, label, dtype=learn.y.dtype))
    return ds.Dataset(np.concatenate(X).astype(np.uint8), np.concatenate(y))


def _systematic_counts(likelihood: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` draws from ``likelihood`` (any scale) by systematic sampling: evenly spaced points from one random
    start, so each answer vector gets its expected number of rows rounded up or down, never more than one off.

    Why not independent draws: the kNN votes over the rows near each answer vector, and independent draws scatter
    those counts by their square root, which sways close votes. Measured from 20,000 visitors at 70% trust
    (categorical tastes, a million rows): 73.41% against 73.18% (`python -m benchmarks learner`).
    """
    cdf = np.cumsum(likelihood)
    points = (rng.random() + np.arange(count)) / count * cdf[-1]
    return np.bincount(np.minimum(np.searchsorted(cdf, points, side="right"), len(cdf) - 1), minlength=len(cdf))


def training_mix(
    base: ds.Dataset, learn: ds.Dataset, weight: float, seed: int, recombine: int = 1, pool: ds.Dataset | None = None
) -> tuple[ds.Dataset, int]:
    """The challenger's training rows: the learning choices (recombined ``recombine`` times over) plus a random
    ``recombine / weight`` of the base rows, so that the choices still count ``weight`` base rows each; returns
    the rows and how many base rows were kept. The same rule locally and for the SageMaker job."""
    if not weight > 0:
        raise ValueError(f"the choices' weight must be above 0, got {weight:g}")
    grown = recombined(learn, recombine, seed, pool)
    keep = np.random.default_rng(seed).random(base.rows) < min(1.0, recombine / weight)
    mixed = ds.Dataset(np.concatenate([grown.X, base.X[keep]]), np.concatenate([grown.y, base.y[keep]]))
    return mixed, int(keep.sum())


def challenge(
    base: ds.Dataset,
    choices: Sequence[Choice],
    champion: ModelArtifact | None,
    *,
    weight: float = DEFAULT_WEIGHT,
    confidence: float = judge.DEFAULT_CONFIDENCE,
    min_gain: float = 0.0,
    encoding: str | None = None,
    tune: bool = True,
    recombine: int | None = None,
    seed: int = ds.DEFAULT_SEED,
    accept_shift: bool = False,
    progress: Progress = QUIET,
) -> Decision:
    """Train a challenger and judge it against the champion on the held-out choices. Writes nothing.

    ``encoding`` fixes the challenger's encoding; by default tuning tries both (the API follows a promoted model's
    encoding), and without tuning the champion's is kept. ``recombine`` likewise fixes the factor; by default
    tuning tries :func:`recombine_factor`'s against none, so that visitors whose answers go together within a
    Mysfit's fans are learned from as they are, and without tuning the default factor is used.
    """
    champion_version = None if champion is None else variant_name(champion)
    data = learning_data(choices, seed, champion_version)
    learning = data.rows
    progress.note(f"  {data.follow.describe()}; {data.set_aside:,} learning choices set aside as following the page")
    tried = (encoding,) if encoding else training.TUNE_ENCODINGS if tune else (_encoding_of(champion),)
    hyperparameters: dict = {"encoding": tried[0]}
    tuning = None
    factor = recombine_factor(recombine, learning.rows)
    if tune:
        # The encoding, k, the sample size and recombination are chosen on real choices only: recombined rows
        # would flatter recombination.
        fit_at, validation_at = ds.split_positions(learning.rows, 0.1, seed + 1, "learning choices")
        fit = ds.Dataset(learning.X[fit_at], learning.y[fit_at])
        validation = ds.Dataset(learning.X[validation_at], learning.y[validation_at])
        fit_pool = data.pool_without(data.kept.ids[validation_at])
        tuning, candidates = [], []
        for factor_tried in (factor,) if recombine is not None or factor == 1 else (factor, 1):
            fit_mix, _ = training_mix(base, fit, weight, seed, factor_tried, fit_pool)
            with progress.step(
                f"tuning {' and '.join(tried)}, k and sample_size (x{factor_tried} recombined) on "
                f"{validation.rows:,} choices set aside"
            ):
                # Recombined rows are only worth their number: a sample of them would undo what they were made for.
                sizes = training.TUNE_SAMPLE_SIZES if factor_tried == 1 else (training.WHOLE_SPLIT,)
                tuned = training.tune(fit_mix, seed, progress, tried, validation=validation, sample_sizes=sizes)
            tuning += [{**result, "recombine": factor_tried} for result in tuned.results]
            candidates.append((factor_tried, tuned, fit_mix.rows))
        if len(candidates) == 2 and not _recombination_hurts(candidates, validation.rows, confidence):
            candidates.pop()
        factor, tuned, fit_rows = candidates[-1]
        whole = tuned.sample_size >= fit_rows
        hyperparameters = {"encoding": tuned.encoding, "k": tuned.k}
        hyperparameters["sample_size"] = None if whole else tuned.sample_size
    recombine = factor
    mixed, kept = training_mix(base, learning, weight, seed, recombine, data.pool.as_dataset())
    if "sample_size" in hyperparameters:
        hyperparameters["sample_size"] = hyperparameters["sample_size"] or mixed.rows
    with progress.step(
        f"training a challenger on {learning.rows:,} choices (x{recombine} recombined) and {kept:,} base rows"
    ):
        challenger = training.train_model(mixed, seed=seed, test_fraction=0.05, **hyperparameters)
    if tuning is not None:
        challenger.metrics["tuning"] = tuning
    held = data.held
    verdict = judge.judge(
        held,
        training.predict(np.frombuffer(challenger.table, np.uint8), held.X),
        None if champion is None else training.predict(np.frombuffer(champion.table, np.uint8), held.X),
        data.follow,
        confidence=confidence,
        min_gain=min_gain,
        champion_version=champion_version,
    )
    challenger.training_data.update(
        source="mysfits retrain",
        base_sha256=base.sha256,
        choices=data.total - held.rows,
        choices_learned=learning.rows,
        set_aside_as_following=data.set_aside,
        dropped_by_influence_bounds=data.bounds.dropped,
        base_rows_kept=kept,
        choices_weight=weight,
        recombine=recombine,
        sha256=mixed.sha256,
    )
    challenger.metrics["champion_challenger"] = verdict_record(verdict, None if champion is None else champion.version)
    challenger.metrics["champion_challenger"]["shift"] = data.shift.record()
    return Decision(verdict, data.total, held.rows, data.set_aside, challenger, data.bounds, data.shift, accept_shift)


def _recombination_hurts(candidates: list, validation_rows: int, confidence: float) -> bool:
    """Whether the choices set aside show, beyond luck, that the best plain model beats the best recombined one.

    Why on evidence only: each is the best of a dozen candidates scored on a few hundred choices, so the higher
    score is often luck, and a plain model picked by luck costs points (measured: a plain challenger five points
    worse won on 225 choices). Recombination is what works where answers are given independently within each
    Mysfit's fans; it is turned off where they are not, which shows as a gap no luck explains.
    """
    (_, grown, _), (_, plain, _) = candidates
    grown_best = max(r["validation_accuracy"] for r in grown.results)
    plain_best = max(r["validation_accuracy"] for r in plain.results)
    p = (grown_best + plain_best) / 2
    error = float(np.sqrt(2 * p * (1 - p) / validation_rows)) if validation_rows else float("inf")
    return plain_best - grown_best > NormalDist().inv_cdf(confidence) * error


def verdict_record(verdict: judge.Verdict, champion_version: str | None) -> dict:
    """What a model file keeps of the judgement that let it in (or kept it out)."""
    return {
        "held_out_choices": verdict.choices,
        "champion_version": champion_version,
        "champion_taste_accuracy": verdict.champion,
        "challenger_taste_accuracy": verdict.challenger,
        "difference": verdict.difference,
        "standard_error": verdict.standard_error if np.isfinite(verdict.standard_error) else None,  # strict JSON
        "confidence": verdict.confidence,
        "min_gain": verdict.min_gain,
        "follow_share": verdict.follow.share,
        "drawn_choices": verdict.follow.drawn,
        "promoted": verdict.promoted,
        "reason": verdict.reason,
        "history_choices": None if verdict.history is None else verdict.history.choices,
        "history_difference": None if verdict.history is None else verdict.history.difference,
    }


def _encoding_of(champion: ModelArtifact | None) -> str:
    return training.DEFAULT_ENCODING if champion is None else champion.encoding


def promote(decision: Decision, model_path: str | os.PathLike) -> Path | None:
    """Swap the challenger into place when it won: one rename, so the endpoint never reads half a model. The model it
    replaces is kept first (:mod:`mysfits.model.versions`), so `mysfits models rollback` can undo the promotion."""
    if not decision.promoted:
        return None
    versions.keep(model_path)
    return save_model(decision.challenger, model_path)
