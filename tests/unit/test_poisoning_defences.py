"""Issue 29's defences, one at a time and together: what a script that posts choices can no longer do to the loop.

Each defence is tested on hand-built choices whose right answer can be counted, and then on the attack issue 29
measured (``mysfits.loop.poisoning``: 10,000 honest choices plus 4,000 adopts of Rujin for random answers and 1,000
for one answer vector), which the loop promoted before these defences (served model 4.5 points worse, 4.7 points
more visitors sent to Rujin).
"""

from __future__ import annotations

import numpy as np
import pytest

from mysfits.loop import exposure, influence, judge, poisoning, shift
from mysfits.model import dataset as ds
from mysfits_api.catalog import N_MYSFITS, mysfit_for_label

RUJIN = poisoning.TARGET


def rows(chosen, *, X=None, at=None, version="champion", pick=None, shown=None, randomized=None, rate=0.0):
    chosen = np.asarray(chosen, np.uint8)
    n = len(chosen)
    pick = chosen if pick is None else np.asarray(pick, np.uint8)
    return exposure.Exposed(
        ids=np.array([f"c{i}" for i in range(n)], dtype=object),
        X=np.asarray(X if X is not None else np.random.default_rng(n).integers(1, 9, (n, 5)), np.uint8),
        chosen=chosen,
        shown=pick if shown is None else np.asarray(shown, np.uint8),
        pick=pick,
        rate=np.full(n, rate),
        randomized=np.zeros(n, bool) if randomized is None else np.asarray(randomized, bool),
        version=np.asarray(version if not isinstance(version, str) else [version] * n, dtype=object),
        at=np.zeros(n) if at is None else np.asarray(at, np.float64),
    )


def concat(*parts: exposure.Exposed) -> exposure.Exposed:
    return exposure.Exposed(
        *(np.concatenate([getattr(p, name) for p in parts]) for name in exposure.Exposed.__dataclass_fields__)
    )


# --- bounded influence ---------------------------------------------------------------------------------------------


def test_a_burst_in_one_hour_counts_like_three_ordinary_hours():
    # 24 hours of 600 choices, then one hour of 5,000: the burst keeps 3 x 600 = 1,800; every ordinary hour is whole.
    ordinary = np.repeat(np.arange(24) * 3600.0, 600)
    burst = np.full(5_000, 24 * 3600.0 + 10)
    learn = rows(np.zeros(len(ordinary) + len(burst)), at=np.concatenate([ordinary, burst]))
    kept, bounds = influence.bounded(learn, None, seed=1)
    hours = np.floor(kept.at / 3600).astype(int)
    assert np.bincount(hours)[24] == 1_800 and (np.bincount(hours)[:24] == 600).all()
    assert bounds.by_hour == 3_200 and "3,200 from hours busier than 3x the median hour" in bounds.describe()


def test_quiet_hours_are_never_cut_below_the_floor():
    # Two choices an hour most of the day: a busy hour of 450 is below the 500 floor, so nothing is dropped.
    at = np.concatenate([np.repeat(np.arange(20) * 3600.0, 2), np.full(450, 21 * 3600.0)])
    kept, bounds = influence.bounded(rows(np.zeros(len(at)), at=at), None, seed=1)
    assert kept.rows == len(at) and bounds.dropped == 0
    assert bounds.describe() == "no hour, answer vector or Mysfit's rise outweighed the rest"


def test_one_answer_vector_keeps_at_most_half_a_percent_of_the_choices():
    # 4,000 choices with random answers, 1,000 more for [1, 1, 1, 1, 1]: 5,000 in all, so that vector keeps 25.
    rng = np.random.default_rng(3)
    spread = rng.integers(2, 9, (4_000, 5))  # never all ones
    X = np.concatenate([spread, np.ones((1_000, 5), int)])
    kept, bounds = influence.bounded(rows(np.zeros(5_000), X=X), None, seed=1)
    ones = (kept.X == 1).all(axis=1)
    assert ones.sum() == 25 and kept.rows == 4_025 and bounds.by_vector == 975


def test_a_few_repeats_of_one_vector_are_never_cut():
    X = np.concatenate([np.random.default_rng(4).integers(2, 9, (300, 5)), np.ones((10, 5), int)])
    kept, _ = influence.bounded(rows(np.zeros(310), X=X), None, seed=1)
    assert kept.rows == 310


def history_and_rise(extra_rujin: int):
    """2,400 earlier choices spread evenly over the twelve, then 1,200 since the champion served, evenly spread,
    plus ``extra_rujin`` more adopts of Rujin that the serving model did not pick Rujin for."""
    before = rows(np.arange(2_400) % N_MYSFITS, version="old")
    since = rows(np.arange(1_200) % N_MYSFITS)
    flood = rows(np.full(extra_rujin, RUJIN), pick=np.zeros(extra_rujin))
    return concat(before, since, flood)


def test_a_mysfit_s_sudden_rise_is_cut_to_its_earlier_share_plus_slack_dropping_unsupported_rows_first():
    learn = history_and_rise(extra_rujin=800)
    kept, bounds = influence.bounded(learn, "champion", seed=1)
    new = kept.where(kept.version == "champion")
    # Before: 1/12 each. Since: 2,000 choices, so Rujin may hold 2,000 x (1/12 + 0.02 + 3 x sqrt(1/12 x 11/12 /
    # 2,000)) = 225 of them; the 100 honest Rujin rows (the model picked Rujin for them) all stay.
    share = 1 / 12
    cap = int((share + 0.02 + 3 * np.sqrt(share * (1 - share) / 2_000)) * 2_000)
    assert (new.chosen == RUJIN).sum() == cap
    assert ((new.chosen == RUJIN) & (new.pick == RUJIN)).sum() == 100
    assert bounds.by_rise == 900 - cap and list(bounds.rises) == [mysfit_for_label(RUJIN).name]
    # Nothing earlier and no other Mysfit is touched.
    assert (kept.version == "old").sum() == 2_400 and (new.chosen != RUJIN).sum() == 1_100


def test_no_rise_is_capped_without_enough_history_or_when_the_mix_holds():
    assert influence.bounded(history_and_rise(extra_rujin=0), "champion", seed=1)[1].dropped == 0
    no_history = history_and_rise(extra_rujin=800).where(np.arange(4_400) >= 2_000)  # 400 earlier choices only
    assert influence.bounded(no_history, "champion", seed=1)[1].by_rise == 0
    assert influence.bounded(history_and_rise(extra_rujin=800), None, seed=1)[1].by_rise == 0


# --- shift detection -----------------------------------------------------------------------------------------------


def test_a_flood_of_one_mysfit_is_named_as_a_shift_with_its_before_and_since():
    found = shift.detect(history_and_rise(extra_rujin=800), follow=0.0, current_version="champion")
    assert found.detected
    assert "Rujin: 8.3% of the visitors' tastes before, 45.0% since (+36.7 points)" in found.describe()
    assert found.describe().startswith("the choices shifted (2,400 choices before champion served against 2,000 since)")


def test_honest_visitors_under_a_new_champion_are_no_shift_even_when_they_trust_the_page():
    # The same tastes before and since, served by two different models; 70% of visitors take what is shown, so the
    # adopted mix follows each model's picks. Read through the exposure, the tastes have not moved.
    from tests.loop_support import visitors

    before_model = np.zeros(ds.N_CELLS, np.uint8)  # shows Evangeline to everyone
    since_model = ds.bayes_table(ds.DEFAULT_SIGNAL)
    old = visitors(ds.generate(6_000, seed=5), before_model, follow=0.7, rate=0.1, seed=5, version="old", prefix="o")
    new = visitors(ds.generate(6_000, seed=6), since_model, follow=0.7, rate=0.1, seed=6, version="new", prefix="n")
    every = exposure.exposed(old + new)
    follow = exposure.follow_share(every)
    found = shift.detect(every, follow.share, "new")
    assert not found.detected, found.describe()
    # Read naively, the adopted mix moved by tens of points: that is what the exposure takes out.
    naive_old = np.bincount(every.chosen[every.version == "old"], minlength=12) / 6_000
    naive_new = np.bincount(every.chosen[every.version == "new"], minlength=12) / 6_000
    assert np.abs(naive_new - naive_old).max() > 0.3


def test_a_cohort_whose_acceptance_collapses_is_named():
    # Visitors sent to Pauly (label 1) matched their taste 80% of the time before and 30% since.
    def cohort(hits: int, n: int, version: str):
        return rows([1] * hits + [2] * (n - hits), pick=[1] * n, version=version)

    others = 2 + np.arange(240) % 10  # the other Mysfits' cohorts, all matched
    every = concat(cohort(320, 400, "old"), rows(others, version="old"), cohort(120, 400, "new"),
                   rows(others, version="new"))  # fmt: skip
    found = shift.detect(every, follow=0.0, current_version="new")
    assert any(
        line == "visitors sent to Pauly: it matched their taste 80% of the time before, 30% since (-50 points)"
        for line in found.findings
    ), found.describe()


def test_too_few_choices_on_either_side_are_not_compared_and_say_so():
    found = shift.detect(history_and_rise(800).where(np.arange(4_400) >= 2_300), 0.0, "champion")
    assert not found.detected and "comparing needs 200 on each side" in found.describe()
    assert "no model serves yet" in shift.detect(history_and_rise(0), 0.0, None).describe()


# --- the judge holds the challenger to the earlier choices -----------------------------------------------------------


def test_a_challenger_better_on_new_choices_but_worse_on_earlier_ones_is_kept_out():
    # 300 earlier held-out choices the champion gets right and the challenger gets wrong on 60; 2,000 newer ones
    # (a flood) the challenger gets right and the champion wrong on 400. Pooled, the challenger wins by far.
    n_old, n_new = 300, 2_000
    chosen = np.zeros(n_old + n_new, np.uint8)
    held = rows(chosen, version=["old"] * n_old + ["champion"] * n_new)
    champion = chosen.copy()
    champion[n_old : n_old + 400] = 3
    challenger = chosen.copy()
    challenger[:60] = 3
    follow = exposure.Follow(0.0, 0)
    pooled = judge.judge(held, challenger, champion, follow)
    assert pooled.promoted  # without the champion's version, nothing tells the two apart
    verdict = judge.judge(held, challenger, champion, follow, champion_version="champion")
    assert not verdict.promoted
    assert verdict.history.choices == 300 and verdict.history.difference == pytest.approx(-0.2)
    assert "on the held-out choices made before it served, the challenger is worse beyond luck" in verdict.reason
    assert "on the 300 held-out choices from before the champion served: -20.00 points" in verdict.summary()


def test_an_honest_gain_passes_the_earlier_choices_too():
    n_old, n_new = 300, 2_000
    chosen = np.zeros(n_old + n_new, np.uint8)
    held = rows(chosen, version=["old"] * n_old + ["champion"] * n_new)
    champion = chosen.copy()
    champion[::4] = 3  # wrong on a quarter, before and since
    challenger = chosen.copy()
    challenger[::8] = 3  # wrong on an eighth
    verdict = judge.judge(held, challenger, champion, exposure.Follow(0.0, 0), champion_version="champion")
    assert verdict.promoted and verdict.history.difference > 0


# --- issue 29's attack, through the loop's own code -----------------------------------------------------------------


@pytest.fixture(scope="module")
def burst():
    return poisoning.run(poisoning.Scenario(), tune=False)


def test_issue_29_s_attack_leaves_the_served_model_within_a_point_and_two_points_of_the_target(burst):
    assert burst.accuracy_loss <= 1.0 and burst.target_rise <= 2.0
    assert not burst.promoted and burst.decision.shift.detected
    summary = burst.decision.summary()
    assert "the choices shifted" in summary and "Rujin: 8.0% of the visitors' tastes before, 39.0% since" in summary


def test_even_let_in_the_attacked_challenger_is_within_the_bounds(burst):
    # The training caps alone: what would serve if a person passed --accept-shift without looking.
    champion, challenger = burst.champion, burst.attacked_challenger
    assert min(champion.accuracy, burst.honest_retrain.accuracy) - challenger.accuracy <= 0.01
    assert challenger.target_share - champion.target_share <= 0.02
    assert burst.decision.bounds.by_hour > 3_000 and burst.decision.bounds.by_rise > 0


def test_a_patient_script_spread_over_the_day_is_caught_by_the_rise_cap_and_the_shift():
    outcome = poisoning.run(poisoning.Scenario(attack_hours=24), tune=False)
    assert outcome.decision.bounds.by_hour == 0 and outcome.decision.bounds.by_rise > 2_000
    assert outcome.accuracy_loss <= 1.0 and outcome.target_rise <= 2.0
    assert not outcome.promoted and outcome.decision.shift.detected


def test_without_an_attack_the_same_history_sees_no_shift_and_drops_nothing():
    outcome = poisoning.run(poisoning.Scenario(attack=poisoning.Attack(0, 0), follow=0.5), tune=False)
    assert not outcome.decision.shift.detected and outcome.decision.bounds.dropped == 0
