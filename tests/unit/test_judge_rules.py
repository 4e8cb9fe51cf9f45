"""The judge's rule on choices small enough to work out by hand: the means, the standard error, the one-sided bound,
and which reason a visitor-facing summary gives. The retrain tests check the judge on realistic stores; these pin
its arithmetic and its boundaries."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mysfits.loop.exposure import Exposed, Follow
from mysfits.loop.judge import CHANCE, DEFAULT_CONFIDENCE, judge

NO_FOLLOW = Follow(0.0, 0)


def choices(chosen: list[int], *, pick: int = 0, rate: float = 0.0) -> Exposed:
    """Held-out choices of these labels; every recommendation's pick was ``pick``, nothing drawn."""
    n = len(chosen)
    return Exposed(
        ids=np.array([f"c{i}" for i in range(n)], dtype=object),
        X=np.ones((n, 5), dtype=np.uint8),
        chosen=np.array(chosen, dtype=np.uint8),
        shown=np.full(n, pick, dtype=np.uint8),
        pick=np.full(n, pick, dtype=np.uint8),
        rate=np.full(n, rate),
        randomized=np.zeros(n, dtype=bool),
        version=np.array(["v"] * n, dtype=object),
        at=np.zeros(n),
    )


TEN = choices([0] * 10)
ALWAYS_RIGHT = np.zeros(10, dtype=np.uint8)
HALF_RIGHT = np.array([0] * 5 + [1] * 5, dtype=np.uint8)


def test_pinned_confidence_is_95_percent_one_sided():
    """docs/data-loop.md's measured false-promotion rate (about 1 in 20 on the difference alone) is for 0.95."""
    assert DEFAULT_CONFIDENCE == 0.95
    assert CHANCE == 1 / 12


def test_a_clear_win_worked_out_by_hand():
    """Differences 0,0,0,0,0,1,1,1,1,1: mean 1/2; sample variance 10 * 1/4 / 9, so the standard error is
    sqrt(10/36 / 10) = 1/6; the 95% one-sided bound is 1/2 - 1.6449/6 = 0.2259 > 0."""
    verdict = judge(TEN, ALWAYS_RIGHT, HALF_RIGHT, NO_FOLLOW)
    assert verdict.promoted
    assert (verdict.challenger, verdict.champion, verdict.difference) == (1.0, 0.5, 0.5)
    assert verdict.standard_error == pytest.approx(1 / 6)
    assert verdict.z == pytest.approx(1.6448536)
    assert verdict.reason == "promoted: the challenger is better than the champion beyond luck"
    assert verdict.choices == 10 and verdict.min_gain == 0.0 and verdict.confidence == 0.95
    summary = verdict.summary()
    assert "judged on 10 held-out choices" in summary
    assert "champion 50.00%, challenger 100.00%" in summary
    assert "challenger minus champion: +50.00 points (at 95% confidence, at least +22.59; required above +0.00)" in (
        summary
    )
    assert summary.splitlines()[-1] == verdict.reason


def test_the_required_gain_is_a_strict_bound_and_each_refusal_says_why():
    low = 0.5 - 1.6448536269514722 / 6
    assert judge(TEN, ALWAYS_RIGHT, HALF_RIGHT, NO_FOLLOW, min_gain=low - 1e-6).promoted
    luck = judge(TEN, ALWAYS_RIGHT, HALF_RIGHT, NO_FOLLOW, min_gain=low + 1e-6)
    assert not luck.promoted and "within what luck gives" in luck.reason
    equal = judge(TEN, ALWAYS_RIGHT, HALF_RIGHT, NO_FOLLOW, min_gain=0.5)  # the difference itself is not enough
    assert not equal.promoted and equal.reason == "kept the champion: the challenger is not better"
    assert "required above +50.00" in equal.summary()


def test_at_confidence_one_half_the_bound_is_the_mean_itself():
    """z = 0: promoted exactly when the difference exceeds the gain, and the challenger exceeds chance."""
    verdict = judge(TEN, ALWAYS_RIGHT, HALF_RIGHT, NO_FOLLOW, confidence=0.5)
    assert verdict.z == 0 and verdict.promoted
    assert not judge(TEN, ALWAYS_RIGHT, ALWAYS_RIGHT, NO_FOLLOW, confidence=0.5).promoted  # a tie


@pytest.mark.parametrize("confidence", [0.49, 1.0, 1.5, 0.0])
def test_a_confidence_outside_one_half_to_one_is_refused(confidence):
    with pytest.raises(ValueError, match=r"from 0\.5 to below 1"):
        judge(TEN, ALWAYS_RIGHT, HALF_RIGHT, NO_FOLLOW, confidence=confidence)


def test_exactly_chance_is_not_beating_chance():
    """Twelve choices, one right: 1/12, which is chance itself, so even with z = 0 nothing is promoted."""
    twelve = choices([0] * 12)
    one_right = np.array([0] + [1] * 11, dtype=np.uint8)
    first = judge(twelve, one_right, None, NO_FOLLOW, confidence=0.5)
    assert first.challenger == CHANCE and not first.promoted
    assert "does not beat chance" in first.reason and first.champion is None and first.difference is None
    two_right = np.array([0, 0] + [1] * 10, dtype=np.uint8)
    assert judge(twelve, two_right, None, NO_FOLLOW, confidence=0.5).promoted


def test_a_first_model_must_beat_chance_beyond_luck():
    verdict = judge(TEN, ALWAYS_RIGHT, None, NO_FOLLOW)
    assert verdict.promoted and verdict.reason == "promoted: no model serves yet and the challenger beats chance"
    assert verdict.standard_error == 0.0
    assert "champion none serving" in verdict.summary() and "minus" not in verdict.summary()
    assert verdict.summary().splitlines()[-1] == verdict.reason
    # 2 of 10 right: mean 0.2, standard error sqrt(0.2 * 0.8 * 10 / 9 / 10) = 0.1333; 0.2 - 1.645 * 0.1333 < 1/12
    two = judge(TEN, np.array([0, 0] + [1] * 8, dtype=np.uint8), None, NO_FOLLOW)
    assert two.standard_error == pytest.approx(math.sqrt(0.2 * 0.8 / 9))
    assert not two.promoted and "kept out" in two.reason


def test_a_challenger_better_than_the_champion_but_not_than_chance_is_kept_out():
    """Both score below chance; the challenger is ahead by the whole margin, yet it would only serve noise."""
    many = choices([0] * 100)
    challenger = np.array([0] * 5 + [1] * 95, dtype=np.uint8)
    champion = np.ones(100, dtype=np.uint8)
    verdict = judge(many, challenger, champion, NO_FOLLOW, confidence=0.5)
    assert verdict.difference == pytest.approx(0.05) and not verdict.promoted
    assert verdict.reason == "kept the champion: the challenger does not beat chance (1 in 12) beyond luck"


def test_one_choice_has_no_spread_and_none_promotes_nothing():
    one = judge(choices([0]), np.zeros(1, np.uint8), np.ones(1, np.uint8), NO_FOLLOW)
    assert one.standard_error == math.inf and one.difference == 1.0 and not one.promoted
    none = judge(choices([]), np.zeros(0, np.uint8), None, NO_FOLLOW)
    assert (none.challenger, none.standard_error, none.promoted) == (0.0, math.inf, False)


def test_scores_are_on_taste_so_a_followed_pick_earns_the_champion_nothing():
    """Half the visitors take what they are shown (the pick, label 0, never drawn). The champion predicts label 0,
    the pick, for visitors who chose 1: each scores (0 - 0.5 * 1) / 0.5 = -1. The challenger predicts 1 for them:
    (1 - 0.5 * 0) / 0.5 = 2. So the champion's mean is -1 and the difference 3, not plain accuracy's 0 and 1."""
    visitors = choices([1] * 10, pick=0)
    verdict = judge(visitors, np.ones(10, np.uint8), np.zeros(10, np.uint8), Follow(0.5, 40))
    assert verdict.champion == -1.0 and verdict.challenger == 2.0 and verdict.difference == 3.0
    assert verdict.follow.share == 0.5


def test_a_verdict_cannot_be_changed_once_given():
    """The promotion step and the model file's record read the same verdict; neither may rewrite it."""
    verdict = judge(TEN, ALWAYS_RIGHT, HALF_RIGHT, NO_FOLLOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.promoted = False


def test_two_choices_are_the_fewest_with_a_spread():
    """Differences 1 and 0: mean 1/2, sample standard deviation sqrt(1/2), so the standard error is 1/2."""
    two = judge(choices([0, 0]), np.zeros(2, np.uint8), np.array([1, 0], np.uint8), NO_FOLLOW)
    assert two.difference == 0.5 and two.standard_error == pytest.approx(0.5)
