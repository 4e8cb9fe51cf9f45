"""Issue 29's attack against the loop, with and without its defences (``mysfits.loop.poisoning``, no HTTP).

A good champion learned from 10,000 honest choices; then 10,000 more honest visitors, 4,000 adopts of Rujin for
random answers (issue 29: 2,000 from one client and 2,000 over 400 addresses) and 1,000 for [1, 1, 1, 1, 1] reach
the store, and `retrain` (tuned, default flags) decides. "Burst": the attack arrives in one hour of a 24-hour day;
"spread": evenly over the day, as a patient script would post it. Issue 29's targets: the served model no more than
1 point worse than the worse of the champion and an honest-only retrain, and no more than 2 points more visitors
sent to Rujin. "Undefended" turns the three defences off in this process only (no caps, no shift check, one pooled
judge), which is how the loop behaved before them.
"""

from __future__ import annotations

import contextlib
import time
from unittest import mock

from mysfits.loop import influence, judge, poisoning, retrain
from mysfits.loop.shift import Shift
from mysfits.model import dataset as ds

CASES = [
    (timing, follow, preferences)
    for timing in ("burst", "spread")
    for follow, preferences in ((0.0, ds.ORDINAL), (0.5, ds.CATEGORICAL))
]
"""The two ends: visitors who ignore the page with ordinal tastes, and half who follow it with categorical ones."""


@contextlib.contextmanager
def undefended():
    with (
        mock.patch.object(retrain.influence, "bounded", lambda learn, _version, _seed: (learn, influence.Bounds())),
        mock.patch.object(retrain, "detect", lambda *_: Shift((), "not compared")),
        mock.patch.object(judge, "MIN_HISTORY", 10**9),
    ):
        yield


def _row(label: str, outcome: poisoning.Outcome) -> str:
    d = outcome.decision
    return (
        f"| {label} | {outcome.champion.accuracy:.2%} / {outcome.champion.target_share:.1%} | "
        f"{outcome.honest_retrain.accuracy:.2%} | {outcome.attacked_challenger.accuracy:.2%} / "
        f"{outcome.attacked_challenger.target_share:.1%} | {'yes' if d.verdict.promoted else 'no'} | "
        f"{'yes' if d.shift.detected else 'no'} | {'yes' if outcome.promoted else 'no'} | "
        f"{outcome.accuracy_loss:+.2f} | {outcome.target_rise:+.2f} | {d.bounds.dropped:,} |"
    )


def run() -> str:
    started = time.perf_counter()
    lines = [
        "## Poisoning: issue 29's attack against `retrain` (`benchmarks/poisoning.py`)",
        "",
        (__doc__ or "").split("\n\n", 1)[1].strip().replace("\n", " "),
        "",
        "Columns: the champion's exact accuracy on new honest visitors / share it sends to Rujin; the honest-only "
        "retrain's accuracy; the challenger trained beside the attack (what would serve if it got in); whether the "
        "judge promoted it; whether the shift check fired; whether it was promoted in the end; the served model's "
        "loss (points below the worse of champion and honest retrain; target at most 1) and Rujin's rise (points; "
        "target at most 2); learning choices the caps dropped.",
        "",
        "| case | champion | honest retrain | attacked challenger | judge | shift | promoted | loss | Rujin rise "
        "| capped |",
        "|---|---:|---:|---:|---|---|---|---:|---:|---:|",
    ]
    for timing, follow, preferences in CASES:
        hours = 1 if timing == "burst" else 24
        scenario = poisoning.Scenario(follow=follow, preferences=preferences, attack_hours=hours)
        name = f"{timing}, {preferences}, follow {follow:g}"
        with undefended():
            before = poisoning.run(scenario)
        lines.append(_row(f"{name}, undefended", before))
        print(lines[-1], flush=True)
        after = poisoning.run(scenario)
        lines.append(_row(f"{name}, **defended**", after))
        print(lines[-1], flush=True)
    lines += ["", f"{time.perf_counter() - started:.0f} s in all."]
    return "\n".join(lines)
