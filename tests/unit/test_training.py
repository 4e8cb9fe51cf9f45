import functools

import numpy as np
import pytest

from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import ModelArtifact
from mysfits.model.evaluation import confusion_matrix, evaluate, format_report, write_confusion_png


def _true_accuracy(table, signal):
    """Exact expected accuracy of a table on the generator's distribution (no test-set noise)."""
    return float(ds.likelihoods(signal)[np.arange(32768), table].sum() / 12)


def test_default_training_reports_metrics_and_baselines(small_model):
    metrics = small_model.metrics
    assert set(metrics["baselines"]) == {"chance", "majority_class", "bayes_optimal"}
    assert metrics["baselines"]["bayes_optimal"] == pytest.approx(ds.bayes_accuracy(ds.DEFAULT_SIGNAL))
    assert 0.5 < metrics["accuracy"] < metrics["baselines"]["bayes_optimal"] + 0.01
    assert len(metrics["per_mysfit"]) == 12 and sum(r["support"] for r in metrics["per_mysfit"]) == 6000
    assert small_model.hyperparameters["predictor_type"] == "classifier"
    assert small_model.training_data["train_rows"] == 54_000


def test_uniform_data_scores_within_one_point_of_chance():
    data = ds.generate(300_000, seed=21, signal=0)
    model = training.train_model(data, seed=21)
    assert model.metrics["test_rows"] == 30_000
    assert abs(model.metrics["accuracy"] - 1 / 12) < 0.01


@functools.cache
def _tuned(preferences: str, signal: float) -> tuple[ds.Dataset, ModelArtifact]:
    """Tuning 300k rows takes seconds, so the two tests of ordinal data share one run (and one xdist worker)."""
    data = ds.generate(300_000, seed=23, signal=signal, preferences=preferences)
    return data, training.train_model(data, seed=23, tune_hyperparameters=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preferences", "signal", "encoding", "within"),
    [
        ("categorical", ds.DEFAULT_SIGNAL, "one-hot", 0.015),
        pytest.param("ordinal", ds.DEFAULT_SIGNAL, "ordinal", 0.01, marks=pytest.mark.xdist_group("tuned-ordinal")),
    ],
)
def test_tuning_picks_the_encoding_that_fits_the_data(preferences, signal, encoding, within):
    """Scored by the table's exact expected accuracy on the generator's distribution, so no test-set noise."""
    _, tuned = _tuned(preferences, signal)
    assert tuned.encoding == encoding, tuned.metrics["tuning"]
    expected = ds.expected_accuracy(np.frombuffer(tuned.table, np.uint8), signal, preferences)
    assert ds.bayes_accuracy(signal, preferences) - expected < within
    searched = {(r["encoding"], r["k"], r["whole_split"]) for r in tuned.metrics["tuning"]}
    assert {("ordinal", 1, True), ("one-hot", 1, True), ("one-hot", 80, False)} <= searched


def test_tuning_on_uniform_data_finds_nothing_to_learn_and_claims_nothing():
    """Answers that say nothing about the Mysfit: every candidate's validation score and the chosen model's test
    score stay near chance. Any table has exactly chance's expected accuracy here, so only the reported scores can
    be judged; a validation row that leaked into the rows the candidates fit would lift k=1 far above chance."""
    data = ds.generate(100_000, seed=24, signal=0.0, preferences="categorical")
    tuned = training.train_model(data, seed=24, tune_hyperparameters=True)
    scores = [r["validation_accuracy"] for r in tuned.metrics["tuning"]]
    assert len(scores) == len(training.TUNE_ENCODINGS) * len(training.TUNE_K) * 2  # 50,000 and the whole split
    assert max(abs(score - 1 / 12) for score in scores) < 0.02, tuned.metrics["tuning"]
    assert abs(tuned.metrics["accuracy"] - 1 / 12) < 0.01


@pytest.mark.slow
@pytest.mark.xdist_group("tuned-ordinal")
def test_tuning_gets_within_one_and_a_half_points_of_bayes():
    signal = ds.DEFAULT_SIGNAL
    data, tuned = _tuned("ordinal", signal)
    default = training.train_model(data, seed=23)
    bayes = ds.bayes_accuracy(signal)
    tuned_acc = _true_accuracy(np.frombuffer(tuned.table, np.uint8), signal)
    default_acc = _true_accuracy(np.frombuffer(default.table, np.uint8), signal)
    assert bayes - tuned_acc < 0.015
    assert tuned_acc > default_acc  # the seed's k=10 leaves accuracy on the table
    sizes = len(training.TUNE_SAMPLE_SIZES)
    assert len(tuned.metrics["tuning"]) == len(training.TUNE_ENCODINGS) * len(training.TUNE_K) * sizes
    assert tuned.hyperparameters["tuned"] is True


def test_k_larger_than_the_sample_is_refused():
    data = ds.generate(200, seed=1)
    with pytest.raises(ValueError, match="k=500 is larger than the training sample"):
        training.train_model(data, k=500)


def test_evaluation_counts_by_hand():
    y_true = np.array([0, 0, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0])
    conf = confusion_matrix(y_true, y_pred)
    assert conf[0, 0] == 1 and conf[0, 1] == 1 and conf[1, 1] == 2 and conf[2, 0] == 1 and conf.sum() == 5
    metrics = evaluate(y_true, y_pred, train_labels=np.array([1, 1, 0]))
    assert metrics["accuracy"] == pytest.approx(0.6)
    assert metrics["per_mysfit"][1]["precision"] == pytest.approx(2 / 3)
    assert metrics["per_mysfit"][0]["recall"] == pytest.approx(0.5)
    assert metrics["per_mysfit"][5]["precision"] == 0.0
    assert metrics["baselines"]["majority_class"] == pytest.approx(0.4)
    report = format_report(metrics)
    assert "60.00%" in report and "Twilight Glitter" in report


def test_confusion_png_is_a_real_png(small_model, tmp_path):
    path = write_confusion_png(small_model.metrics, tmp_path / "out" / "confusion.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert [p.name for p in path.parent.iterdir()] == ["confusion.png"]
