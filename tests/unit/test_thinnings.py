"""Recombined rows drawn from many thinnings of the learning choices (retrain.THINNINGS), not from one.

The oracles: a pool worked out by hand, and the generator's own answer frequencies per Mysfit (summed from
``ds.likelihoods``), which no part of the loop reads.
"""

from __future__ import annotations

import numpy as np
import pytest

from mysfits.loop import retrain
from mysfits.model import dataset as ds
from tests.loop_support import visitors


def test_new_rows_take_each_mysfits_share_and_answers_from_the_pool():
    learn = ds.Dataset(np.ones((4, 5), np.uint8), np.zeros(4, np.uint8))
    pool = ds.Dataset(np.array([[1] * 5] * 3 + [[2] * 5] * 3, np.uint8), np.array([0, 0, 0, 1, 1, 1], np.uint8))
    grown = retrain.recombined(learn, 11, seed=1, pool=pool)
    # The four choices themselves, then 40 new rows: half of the pool is Mysfit 1, so 20 of them are.
    assert grown.rows == 44 and (grown.X[:4] == 1).all()
    new_X, new_y = grown.X[4:], grown.y[4:]
    assert np.bincount(new_y, minlength=2).tolist() == [20, 20]
    assert (new_X[new_y == 0] == 1).all() and (new_X[new_y == 1] == 2).all()


@pytest.fixture(scope="module")
def trusted():
    """12,000 visitors with categorical tastes, seven in ten of whom take the pick of a good model: most choices
    adopted what was shown, and each is taste with a probability of about a quarter."""
    tastes = ds.generate(12_000, seed=21, signal=ds.DEFAULT_SIGNAL, preferences=ds.CATEGORICAL)
    good = ds.bayes_table(ds.DEFAULT_SIGNAL, ds.CATEGORICAL)
    return retrain.learning_data(visitors(tastes, good, follow=0.7, rate=0.1, seed=4), seed=5)


def test_with_trust_the_pool_holds_every_thinning_of_the_learning_choices_only(trusted):
    kept, pool = trusted.kept, trusted.pool
    assert retrain.THINNINGS == 8
    assert 0.93 * 8 * kept.rows < pool.rows < 1.07 * 8 * kept.rows  # seven thinnings would hold 7/8 of it
    assert set(kept.ids.tolist()) <= set(pool.ids.tolist())
    held = set(trusted.held.ids.tolist())
    assert not held & set(pool.ids.tolist()), "a held-out choice was learned from"
    # Another thinning keeps other choices: the pool covers far more of them than one thinning.
    assert len(set(pool.ids.tolist())) > 2.5 * kept.rows


def _frequency_error(rows: ds.Dataset, truth: np.ndarray) -> float:
    """Mean absolute error of each Mysfit's answer frequencies per question against the generator's."""
    errors = []
    for label in range(12):
        answers = rows.X[rows.y == label]
        for q in range(5):
            seen = np.bincount(answers[:, q], minlength=9)[1:9] / max(1, len(answers))
            errors.append(np.abs(seen - truth[label, q]).mean())
    return float(np.mean(errors))


def test_the_pool_learns_the_visitors_answers_better_than_one_thinning(trusted):
    likelihoods = ds.likelihoods(ds.DEFAULT_SIGNAL, ds.CATEGORICAL)  # P(answers | Mysfit) over the answer space
    space = ds.answer_space()
    truth = np.array(
        [[[likelihoods[space[:, q] == a, m].sum() for a in range(1, 9)] for q in range(5)] for m in range(12)]
    )
    one = _frequency_error(trusted.rows, truth)
    pooled = _frequency_error(trusted.pool.as_dataset(), truth)
    print(f"frequency error: {pooled:.4f} pooled, {one:.4f} one thinning")
    assert pooled < 0.85 * one, (pooled, one)


def test_the_tuning_s_validation_choices_leave_no_copy_in_the_pool(trusted):
    gone = trusted.kept.ids[:50]
    rest = trusted.pool_without(gone)
    pool_ids = trusted.pool.ids.tolist()
    assert rest.rows == sum(i not in set(gone.tolist()) for i in pool_ids)
    assert rest.rows < trusted.pool.rows - 50  # every copy went, not just one each


def test_without_trust_the_pool_is_the_learning_choices(tmp_path):
    tastes = ds.generate(1_500, seed=22, signal=ds.DEFAULT_SIGNAL)
    data = retrain.learning_data(visitors(tastes, np.zeros(8**5, np.uint8), follow=0.0, rate=0.0, seed=4), seed=5)
    assert data.pool.ids.tolist() == data.kept.ids.tolist()


def test_each_answer_vector_gets_its_expected_number_of_new_rows():
    """Two fans who answered all 1s and all 2s: each of the 32 vectors of 1s and 2s is as likely as any other, so 64
    new rows give each exactly two (independent draws would scatter them from 0 to 6 or so)."""
    learn = ds.Dataset(np.array([[1] * 5, [2] * 5], np.uint8), np.zeros(2, np.uint8))
    grown = retrain.recombined(learn, 33, seed=3)
    vectors, counts = np.unique(grown.X[2:], axis=0, return_counts=True)
    assert len(vectors) == 32 and set(np.unique(vectors)) == {1, 2}
    assert counts.tolist() == [2] * 32


@pytest.mark.parametrize("seed", range(5))
def test_systematic_counts_are_the_expected_ones_rounded_up_or_down(seed):
    rng = np.random.default_rng(seed)
    assert retrain._systematic_counts(np.array([1.0, 0.0, 3.0]), 8, rng).tolist() == [2, 0, 6]
    likelihood = rng.random(1000) ** 3
    counts = retrain._systematic_counts(likelihood, 12_345, rng)
    expected = likelihood / likelihood.sum() * 12_345
    assert counts.sum() == 12_345 and np.all(np.abs(counts - expected) < 1)
