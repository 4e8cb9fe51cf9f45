"""`mysfits retrain`'s fixed rules on small stores: its defaults (pinned, each with why it matters), which choices
are held out (against a second implementation of the hash), the exact minimums, the base rows a weight keeps, and
the tuned challenge that the command runs by default."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from types import SimpleNamespace

import numpy as np
import pytest

from mysfits.loop import retrain
from mysfits.loop.shift import Shift
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import variant_name
from mysfits.progress import Progress
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Choice, Recommendation

# The module's tuned challenge (its default, about 30 s) is computed once, on one worker.
pytestmark = pytest.mark.xdist_group("retrain-rules")

IDS = label_ids()


def held_out_by_hand(choice_id: str) -> bool:
    """The first 4 bytes of SHA-256 as a big-endian number, mod 100, below 20: read from the hex digest instead."""
    return int(hashlib.sha256(choice_id.encode()).hexdigest()[:8], 16) % 100 < 20


def ids(count: int, *, held: bool, prefix: str = "c") -> list[str]:
    found, n = [], 0
    while len(found) < count:
        if held_out_by_hand(f"{prefix}{n}") == held:
            found.append(f"{prefix}{n}")
        n += 1
    return found


def choice(choice_id: str, answers=(1, 2, 3, 4, 5), chosen: int = 3, version: str = "v") -> Choice:
    rec = Recommendation(f"r-{choice_id}", tuple(answers), IDS[0], None, version, 1_800_000_000.0)
    return Choice(choice_id, rec, IDS[chosen], 1_800_000_000.0)


def store(held: int, learning: int) -> list[Choice]:
    # Learning choices on distinct answer vectors: no answer vector may weigh more than its share
    # (mysfits.loop.influence), and these tests are about counts, not about that cap.
    return [choice(i) for i in ids(held, held=True, prefix="h")] + [
        choice(i, answers=(n % 8 + 1, n // 8 % 8 + 1, 3, 4, 5))
        for n, i in enumerate(ids(learning, held=False, prefix="l"))
    ]


def test_pinned_defaults():
    """Each was measured in docs/benchmarks.md ("The data loop"): 1,000 base rows per choice and recombination into
    about a million rows gave the best challengers there; a fifth held out gives 100 judged choices from 500; fewer
    than 20 learning choices leave a kNN nothing to find neighbours in. Changing one changes which models
    `mysfits retrain` serves."""
    assert retrain.DEFAULT_WEIGHT == 1000.0
    assert retrain.RECOMBINE_ROWS == 1_000_000
    assert [retrain.recombine_factor(None, n) for n in (1, 16_000, 3_000_000)] == [1_000_000, 63, 1]
    assert retrain.recombine_factor(10, 16_000) == 10
    assert (retrain.HOLDOUT_PERCENT, retrain.MIN_HOLDOUT, retrain.MIN_LEARNING) == (20, 100, 20)
    assert retrain.minimum_choices() == 500


def test_the_held_out_side_is_a_fixed_function_of_the_choice_id():
    """A choice must stay on its side from one release to the next, or a challenger would be judged on what an
    earlier one learned from."""
    every = [f"choice-{n}" for n in range(2_000)]
    assert [retrain.held_out_id(i) for i in every] == [held_out_by_hand(i) for i in every]
    assert retrain.held_out(choice("choice-7")) == held_out_by_hand("choice-7")


def test_exactly_the_minimum_of_held_out_choices_is_enough():
    learn, held = retrain.split_choices(store(held=100, learning=30))
    assert (learn.rows, held.rows) == (30, 100)
    assert all(held_out_by_hand(i) for i in held.ids) and not any(held_out_by_hand(i) for i in learn.ids)
    with pytest.raises(retrain.TooFewChoices, match=r"129 choices give 99 held-out ones; .* at least 100 \(about 500"):
        retrain.split_choices(store(held=99, learning=30))


def test_exactly_the_minimum_of_learning_choices_is_enough():
    data = retrain.learning_data(store(held=100, learning=20), seed=1)
    assert (data.rows.rows, data.held.rows, data.total, data.set_aside) == (20, 100, 120, 0)
    with pytest.raises(retrain.TooFewChoices, match="only 19 learning choices"):
        retrain.learning_data(store(held=100, learning=19), seed=1)


def test_accuracy_of_a_table_worked_out_by_hand():
    table = np.zeros(8**5, dtype=np.uint8)  # every answer vector predicts Mysfit 0
    data = ds.Dataset(np.ones((4, 5), dtype=np.uint8), np.array([0, 0, 1, 0], dtype=np.uint8))
    assert retrain.accuracy(table, data) == 0.75
    assert retrain.accuracy(table.tobytes(), data) == 0.75
    empty = ds.Dataset(np.ones((0, 5), dtype=np.uint8), np.zeros(0, dtype=np.uint8))
    assert retrain.accuracy(table, empty) == 0.0


def test_the_weight_keeps_one_base_row_in_weight_per_learning_row():
    base = ds.generate(4_000, seed=3, signal=0.0)
    learn = ds.generate(50, seed=4)
    mixed, kept = retrain.training_mix(base, learn, weight=4, seed=1)
    assert 900 < kept < 1_100 and mixed.rows == 50 + kept
    assert np.array_equal(mixed.X[:50], learn.X) and np.array_equal(mixed.y[:50], learn.y)
    every, kept_all = retrain.training_mix(base, learn, weight=1, seed=1)
    assert kept_all == base.rows and every.rows == base.rows + 50
    grown, kept_grown = retrain.training_mix(base, learn, weight=8, seed=1, recombine=2)  # 2/8 of the base
    assert 900 < kept_grown < 1_100 and grown.rows == 100 + kept_grown
    for weight in (0, -1.0):
        with pytest.raises(ValueError, match=f"above 0, got {weight:g}"):
            retrain.training_mix(base, learn, weight=weight, seed=1)


def test_recombining_nothing_gives_nothing():
    empty = ds.Dataset(np.ones((0, 5), dtype=np.uint8), np.zeros(0, dtype=np.uint8))
    assert retrain.recombined(empty, 5, seed=1) is empty


@pytest.fixture(scope="module")
def small_world():
    """700 choices, recombined by default into about a million rows (and tried plain as well)."""
    base = ds.generate(3_000, seed=1, signal=0.0)
    champion = training.train_model(base, seed=1)
    taste = ds.generate(700, seed=2, signal=ds.DEFAULT_SIGNAL)
    serving = variant_name(champion)  # every choice was made while the champion served, so all are judged
    chosen = [choice(f"t{i}", taste.X[i], int(taste.y[i]), serving) for i in range(taste.rows)]
    return base, chosen, champion


@pytest.fixture(scope="module")
def default_challenge(small_world):
    """`mysfits retrain` with nothing but its defaults: tuned, recombined, weight 1,000, gain 0, 95%."""
    base, chosen, champion = small_world
    said = io.StringIO()
    return retrain.challenge(base, chosen, champion, progress=Progress(said)), said.getvalue()


def test_by_default_the_challenge_is_tuned_on_a_tenth_of_the_real_learning_choices(default_challenge):
    decision, said = default_challenge
    learned = decision.challenger.training_data["choices_learned"]
    validation = round(learned * 0.1)
    factor = retrain.recombine_factor(None, learned)
    for tried in (factor, 1):  # recombined, then plain: recombination is turned off only on evidence
        assert (
            f"tuning ordinal and one-hot, k and sample_size (x{tried} recombined) on {validation:,} choices set aside"
            in said
        )
    assert {row["recombine"] for row in decision.challenger.metrics["tuning"]} == {factor, 1}
    tuning = decision.challenger.metrics["tuning"]
    assert {row["encoding"] for row in tuning} == {"ordinal", "one-hot"}
    # each validation accuracy is a count of hits over exactly those choices
    assert all(abs(row["validation_accuracy"] * validation - round(row["validation_accuracy"] * validation)) < 1e-6
               for row in tuning)  # fmt: skip
    best = max(tuning, key=lambda row: row["validation_accuracy"])
    assert decision.challenger.encoding in {"ordinal", "one-hot"} and best["validation_accuracy"] > 1 / 12


def test_by_default_the_tuned_challenger_keeps_its_whole_mix_and_records_the_defaults(default_challenge, small_world):
    decision, _ = default_challenge
    kept = decision.challenger.training_data["base_rows_kept"]
    learned = decision.challenger.training_data["choices_learned"]
    # Honest visitors' answers are independent within each Mysfit's fans, so recombination stays on, and its rows
    # are kept whole, which is recorded as the mix's size (not as None)
    factor = retrain.recombine_factor(None, learned)
    assert decision.challenger.training_data["recombine"] == factor == -(-1_000_000 // learned)
    assert decision.challenger.hyperparameters["sample_size"] == learned * factor + kept
    assert decision.challenger.training_data["choices_weight"] == 1000.0
    assert decision.challenger.training_data["choices"] == decision.choices - decision.held_out
    assert decision.challenger.training_data["set_aside_as_following"] == decision.set_aside == 0
    assert decision.challenger.training_data["source"] == "mysfits retrain"
    assert decision.challenger.training_data["base_sha256"] == small_world[0].sha256
    record = decision.challenger.metrics["champion_challenger"]
    assert (record["min_gain"], record["confidence"]) == (0.0, 0.95)
    assert record["champion_version"] == small_world[2].version
    verdict = decision.verdict
    assert record == {
        "held_out_choices": verdict.choices,
        "champion_version": small_world[2].version,
        "champion_taste_accuracy": verdict.champion,
        "challenger_taste_accuracy": verdict.challenger,
        "difference": verdict.difference,
        "standard_error": verdict.standard_error,
        "confidence": 0.95,
        "min_gain": 0.0,
        "follow_share": 0.0,
        "drawn_choices": 0,
        "promoted": verdict.promoted,
        "reason": verdict.reason,
        "history_choices": None if verdict.history is None else verdict.history.choices,
        "history_difference": None if verdict.history is None else verdict.history.difference,
        "shift": decision.shift.record(),
    }


def test_the_summary_counts_every_side(default_challenge):
    decision, _ = default_challenge
    learning = decision.choices - decision.held_out
    first = decision.summary().splitlines()[0]
    assert first == f"700 choices: {learning} to learn from (0 of them set aside as following the page), " + (
        f"{decision.held_out} held out"
    )
    assert decision.summary().endswith(decision.verdict.reason)


def test_a_first_model_without_tuning_is_the_default_encoding_and_records_no_champion(small_world, tmp_path):
    base, chosen, _ = small_world
    decision = retrain.challenge(base, chosen, None, tune=False, recombine=1)
    assert decision.challenger.encoding == "ordinal"
    assert decision.challenger.metrics["champion_challenger"]["champion_version"] is None
    assert "tuning" not in decision.challenger.metrics
    assert decision.verdict.champion is None
    if not decision.promoted:
        assert retrain.promote(decision, tmp_path / "m.json") is None and not (tmp_path / "m.json").exists()
    else:
        assert retrain.promote(decision, tmp_path / "m.json") == tmp_path / "m.json"


def test_a_decision_and_its_learning_data_cannot_be_changed(default_challenge):
    decision, _ = default_challenge
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.verdict = None
    data = retrain.learning_data(store(held=100, learning=20), seed=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.set_aside = 5


def _tuned(*accuracies):
    return SimpleNamespace(results=[{"validation_accuracy": a} for a in accuracies])


@pytest.mark.parametrize(
    ("grown", "plain", "rows", "confidence", "hurts"),
    [
        # p = 0.925, standard error of the difference sqrt(2 p (1 - p) / 400) = 0.01862, at 0.95: 0.03063 needed
        ((0.909, 0.5), (0.941, 0.6), 400, 0.95, True),  # plain ahead by 0.032
        ((0.909,), (0.938,), 400, 0.95, False),  # ahead by 0.029 (p 0.9235: 0.0309 needed)
        # p = 0.62: 0.03432, so 0.0565 needed
        ((0.60,), (0.64,), 400, 0.95, False),
        ((0.60,), (0.70,), 400, 0.95, True),
        ((0.60,), (0.60,), 400, 0.5, False),  # at 0.5 nothing is needed beyond being ahead, and a tie is not ahead
        ((0.60,), (0.90,), 0, 0.95, False),  # no choice set aside says nothing
    ],
)
def test_recombination_is_turned_off_only_when_the_plain_choices_win_beyond_luck(grown, plain, rows, confidence, hurts):
    candidates = [(63, _tuned(*grown), 1_000_000), (1, _tuned(*plain), 16_000)]
    assert retrain._recombination_hurts(candidates, rows, confidence) is hurts


def test_recombination_draws_from_every_fan_of_a_mysfit_the_first_included():
    # Mysfit 4 has two fans: (1,1,1,1,1) and (8,8,8,8,8); each new row takes each answer from one of them.
    learn = ds.Dataset(np.array([[1] * 5, [8] * 5], dtype=np.uint8), np.array([4, 4], dtype=np.uint8))
    grown = retrain.recombined(learn, 200, seed=3)
    made = grown.X[2:]
    for q in range(5):
        assert set(np.unique(made[:, q]).tolist()) == {1, 8}, f"question {q + 1} drew from one fan only"
    assert (made == 1).mean() == pytest.approx(0.5, abs=0.05)


def test_the_summary_says_when_a_shift_keeps_or_lets_in_a_challenger(default_challenge):
    decision, _ = default_challenge
    won = dataclasses.replace(decision.verdict, promoted=True)
    shifted = Shift(("Rujin: 8.0% of the visitors' tastes before, 39.0% since",), "1,500 before against 2,700 since")
    kept = dataclasses.replace(decision, verdict=won, shift=shifted)
    assert not kept.promoted
    assert kept.summary().splitlines()[-1] == (
        "not promoted: the choices shifted, so a person decides; if the change is real, run again with --accept-shift"
    )
    accepted = dataclasses.replace(kept, accept_shift=True)
    assert accepted.promoted
    assert accepted.summary().splitlines()[-1] == "promoted anyway: --accept-shift says the shift is real"
    calm = dataclasses.replace(decision, verdict=won)
    assert calm.promoted and "promoted anyway" not in calm.summary() and "not promoted" not in calm.summary()


def test_the_challenge_says_how_much_trust_it_found_and_set_aside(default_challenge):
    _, said = default_challenge
    assert said.splitlines()[0] == (
        "  no choice followed a drawn recommendation, so trust can't be told from taste (taken as 0); "
        "0 learning choices set aside as following the page"
    )


def test_recombination_is_tried_against_none_unless_it_makes_no_new_rows(small_world, monkeypatch):
    base, chosen, champion = small_world
    monkeypatch.setattr(retrain, "RECOMBINE_ROWS", 1_000)  # two rows per learning choice
    monkeypatch.setattr(training, "TUNE_SAMPLE_SIZES", (100, training.WHOLE_SPLIT))
    tuning = retrain.challenge(base, chosen, champion).challenger.metrics["tuning"]
    assert {row["recombine"] for row in tuning} == {2, 1}
    # The plain choices are tuned over sample sizes; recombined rows only whole, since a sample would undo them.
    assert {row["sample_size"] for row in tuning if row["recombine"] == 1} > {100}
    assert len({row["sample_size"] for row in tuning if row["recombine"] == 2}) == 1
    assert min(row["sample_size"] for row in tuning if row["recombine"] == 2) > 1_000
    monkeypatch.setattr(retrain, "RECOMBINE_ROWS", 100)  # fewer than the choices: nothing to recombine
    tuning = retrain.challenge(base, chosen, champion).challenger.metrics["tuning"]
    tried = [(row["encoding"], row["k"], row["sample_size"]) for row in tuning]
    assert {row["recombine"] for row in tuning} == {1} and len(tried) == len(set(tried)), "tuned twice the same"
