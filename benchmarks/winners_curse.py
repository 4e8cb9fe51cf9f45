"""The judge's winner's curse, and what judging only on fresh choices does about it (issue 28).

The held-out choices that promoted the champion keep judging it, and it got in partly by luck on them. The tried
fix: only held-out choices made while the champion served may promote (the earlier ones keep their "not worse
beyond luck" check). Categorical tastes, 70% of visitors taking what the page shows, 20,000 visitors in 8 rounds
from the uniform ordinal start, played by the loop's own code without servers (``mysfits.loop.offline.visit``,
``retrain.challenge``). Each seed runs with the judge as it is (pooled over every held-out choice) and with the
fresh-only variant. Every round prints each challenger's true accuracy, the served model's, and what the judge
measured, so the measured difference can be set against the true one."""

from __future__ import annotations

import contextlib
import dataclasses
import random
import time

import numpy as np

from mysfits.loop import judge, offline, retrain
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import variant_name

SEEDS = (7, 8)
FOLLOW, RATE, VISITORS, ROUNDS = 0.7, 0.1, 20_000, 8
TASTES = ds.CATEGORICAL


@contextlib.contextmanager
def fresh_only_judge():
    """The variant tried: the comparison on the held-out choices made while the champion served (100 at least)."""
    current = judge.judge

    def fresh(choices, challenger, champion, follow, *, champion_version=None, **settings):
        verdict = current(choices, challenger, champion, follow, champion_version=champion_version, **settings)
        if champion is None or champion_version is None:
            return verdict
        since = choices.version == champion_version
        if since.sum() < judge.MIN_HISTORY:
            return dataclasses.replace(verdict, promoted=False, difference=None, reason="too few fresh choices")
        mine = current(choices.where(since), challenger[since], champion[since], follow, **settings)
        history = verdict.history
        worse = history is not None and history.difference + verdict.z * history.standard_error < 0
        return dataclasses.replace(mine, promoted=mine.promoted and not worse, history=history)

    judge.judge = fresh
    try:
        yield
    finally:
        judge.judge = current


def play(seed: int) -> tuple[float, list[str]]:
    base = ds.generate(100_000, seed=seed, signal=0.0)
    champion = training.train_model(base, seed=seed, encoding="ordinal")
    draws, choices, rows = random.Random(seed), [], []
    for number in range(ROUNDS):
        tastes = ds.generate(VISITORS // ROUNDS, seed=seed * 1000 + number, preferences=TASTES)
        choices += offline.visit(tastes, np.frombuffer(champion.table, np.uint8), rate=RATE, follow=FOLLOW,
                                 draws=draws, version=variant_name(champion), start=len(choices))  # fmt: skip
        decision = retrain.challenge(base, choices, champion, seed=seed)
        before = ds.expected_accuracy(np.frombuffer(champion.table, np.uint8), ds.DEFAULT_SIGNAL, TASTES)
        challenger = ds.expected_accuracy(np.frombuffer(decision.challenger.table, np.uint8), ds.DEFAULT_SIGNAL, TASTES)
        if decision.promoted:
            champion = decision.challenger
        verdict = decision.verdict
        measured = "n/a"
        if verdict.difference is not None:
            measured = f"{verdict.difference * 100:+.2f} ± {verdict.standard_error * 100:.2f}"
        rows.append(f"{len(choices):,} | {before:.2%} | {challenger:.2%} | {(challenger - before) * 100:+.2f} | "
                    f"{measured} | {verdict.choices:,} | {'promoted' if decision.promoted else 'kept'}")  # fmt: skip
    served = ds.expected_accuracy(np.frombuffer(champion.table, np.uint8), ds.DEFAULT_SIGNAL, TASTES)
    return served, rows


def run() -> str:
    bayes = ds.bayes_accuracy(ds.DEFAULT_SIGNAL, TASTES)
    started = time.perf_counter()
    lines = [
        "## The judge's winner's curse (`benchmarks/winners_curse.py`)",
        "",
        f"`python -m benchmarks winners_curse`: categorical tastes, follow {FOLLOW:g}, exploration {RATE:g}, "
        f'{VISITORS:,} visitors in {ROUNDS} rounds (Bayes {bayes:.2%}). "true" is the exact expected accuracy on '
        'new visitors; "measured" is the judge\'s challenger-minus-champion on taste, with its standard error.',
    ]
    summary = ["", "| seed | judge | served after 20,000 | gap |", "|---:|---|---:|---:|"]
    for seed in SEEDS:
        for name in ("pooled (as it is)", "fresh only (tried)"):
            with fresh_only_judge() if name.startswith("fresh") else contextlib.nullcontext():
                served, rows = play(seed)
            summary.append(f"| {seed} | {name} | {served:.2%} | {(bayes - served) * 100:.2f} pts |")
            lines += ["", f"Seed {seed}, judged {name}:", "",
                      "| choices | served before | challenger | true difference | measured | judged on | verdict |",
                      "|---:|---:|---:|---:|---:|---:|---|", *[f"| {row} |" for row in rows]]  # fmt: skip
            print(summary[-1], flush=True)
    lines += summary
    lines.append(f"\n{time.perf_counter() - started:.0f} s in all.")
    return "\n".join(lines)
