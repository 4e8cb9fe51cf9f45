"""Exploration and exposure: what the page shows, and how the loop reads taste back out of trust.

The oracles are independent of the code under test: probabilities worked out by hand, and the generator's exact
expected accuracy (``ds.expected_accuracy``), which knows the visitors' hidden tastes.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from mysfits.loop import exposure
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits_api import exploration
from tests.loop_support import visitors


def test_the_policy_shows_the_pick_unless_a_draw_happens_and_records_the_probability_of_what_it_showed():
    draws = random.Random(5)
    shown = [exploration.choose(3, 0.2, draws) for _ in range(24_000)]
    randomized = sum(s.randomized for s in shown) / len(shown)
    assert 0.19 < randomized < 0.21
    # The pick is shown when no draw happens (0.8) and when a draw lands on it (0.2 / 12).
    assert abs(sum(s.shown == 3 for s in shown) / len(shown) - (0.8 + 0.2 / 12)) < 0.01
    assert {s.shown for s in shown if s.randomized} == set(range(12))
    by_shown = {s.shown: s.propensity for s in shown}
    assert by_shown[3] == pytest.approx(0.8 + 0.2 / 12)
    assert all(by_shown[label] == pytest.approx(0.2 / 12) for label in range(12) if label != 3)


def test_rate_zero_always_shows_the_pick_with_certainty():
    draws = random.Random(1)
    assert {(s.shown, s.randomized, s.propensity) for s in (exploration.choose(7, 0.0, draws) for _ in range(500))} == {
        (7, False, 1.0)
    }


@pytest.mark.parametrize("rate", [-0.01, 0.51, math.nan, math.inf])
def test_a_rate_outside_0_to_half_is_refused_naming_the_range(rate):
    with pytest.raises(ValueError, match=r"ExplorationRate must be an exploration rate from 0 to 0.5"):
        exploration.check_rate(rate, "ExplorationRate")


def _exposed(chosen, shown, randomized, pick=None, rate=0.1, version="v"):
    n = len(chosen)
    return exposure.Exposed(
        ids=np.array([f"c{i}" for i in range(n)], dtype=object),
        X=np.ones((n, 5), np.uint8),
        chosen=np.array(chosen, np.uint8),
        shown=np.array(shown, np.uint8),
        pick=np.array(pick if pick is not None else shown, np.uint8),
        rate=np.full(n, rate),
        randomized=np.array(randomized, bool),
        version=np.array([version] * n, dtype=object),
        at=np.arange(n, dtype=np.float64),
    )


def test_the_follow_share_comes_from_drawn_recommendations_only():
    # 120 drawn recommendations, 65 of them adopted as shown: 65/120 = 1/12 + 11/12 * follow, so follow = 0.5.
    drawn_chosen = [0] * 65 + [1] * 55
    drawn_shown = [0] * 120
    # 200 recommendations of the pick, all adopted: they say nothing about trust and must not move the figure.
    rows = _exposed(drawn_chosen + [2] * 200, drawn_shown + [2] * 200, [True] * 120 + [False] * 200)
    follow = exposure.follow_share(rows)
    assert follow.share == pytest.approx(0.5)
    assert follow.drawn == 120
    assert "50% of visitors adopt what they are shown (from 120 drawn" in follow.describe()


def test_without_drawn_recommendations_the_follow_share_is_unknown_and_taken_as_zero():
    follow = exposure.follow_share(_exposed([1, 2, 3], [1, 1, 1], [False] * 3))
    assert (follow.share, follow.drawn) == (0.0, 0)
    assert "can't be told from taste" in follow.describe()


@pytest.fixture(scope="module")
def tastes():
    return ds.generate(30_000, seed=11, signal=ds.DEFAULT_SIGNAL)


@pytest.fixture(scope="module")
def good_table():
    return ds.bayes_table(ds.DEFAULT_SIGNAL)


@pytest.fixture(scope="module")
def uniform_table():
    return np.frombuffer(training.train_model(ds.generate(20_000, seed=3, signal=0.0), seed=3).table, np.uint8)


@pytest.mark.parametrize(("which", "inflation"), [("good", 0.07), ("uniform", 0.3)])
def test_taste_scores_recover_a_model_s_true_accuracy_where_plain_accuracy_rewards_the_page(
    which, inflation, tastes, good_table, uniform_table
):
    table = good_table if which == "good" else uniform_table
    truth = ds.expected_accuracy(table, ds.DEFAULT_SIGNAL)
    rows = exposure.exposed(visitors(tastes, table, follow=0.5, rate=0.1, seed=1))
    predicted = training.predict(table, rows.X)
    plain = float(np.mean(predicted == rows.chosen))
    follow = exposure.follow_share(rows)
    assert 0.45 < follow.share < 0.55
    estimate = float(np.mean(exposure.taste_scores(rows, predicted, follow.share)))
    # The follow share is itself measured (on about 3,000 drawn choices), and its error carries over: 0.04 is about
    # three of its standard errors, far below what plain accuracy is off by.
    assert abs(estimate - truth) < 0.04
    assert plain - truth > inflation  # the serving model gets the followers' adoptions as if they were taste


def test_learning_rows_let_a_knn_learn_taste_that_the_page_would_otherwise_drown(tastes, uniform_table):
    """Half the visitors take the uniform model's pick: trained on every choice a kNN copies that model; trained on
    the learning rows it learns the visitors (measured: 66.7% against 71.5%, Bayes 72.6%)."""
    rows = exposure.exposed(visitors(tastes, uniform_table, follow=0.5, rate=0.1, seed=2))
    learned, set_aside = exposure.learning_rows(rows, exposure.follow_share(rows).share, seed=0)
    assert 0.35 * rows.rows < set_aside < 0.55 * rows.rows

    def accuracy(data):
        return ds.expected_accuracy(training.fit(data, 40, data.rows, 0, "ordinal").table, ds.DEFAULT_SIGNAL)

    every = accuracy(rows.as_dataset())
    debiased = accuracy(learned)
    assert debiased > 0.70 and debiased - every > 0.03


def test_with_no_trust_every_choice_is_kept(tastes, good_table):
    first = ds.Dataset(tastes.X[:2000], tastes.y[:2000])
    rows = exposure.exposed(visitors(first, good_table, follow=0.0, rate=0.1, seed=3))
    learned, set_aside = exposure.learning_rows(rows, 0.0, seed=0)
    assert set_aside == 0 and learned.rows == rows.rows
