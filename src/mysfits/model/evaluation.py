"""How good is a model: accuracy, per-Mysfit precision and recall, and the baselines that give them meaning.

A number alone says little: 70 % is poor when the data allow 90 % and remarkable when
they allow 72 %. So every report puts the model beside chance (1/12), the majority-class
guess, and, when the data came from our generator, the Bayes-optimal accuracy.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mysfits.files import write_figure_png
from mysfits_api.catalog import N_MYSFITS, load_catalog


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """``C[true, predicted]`` counts."""
    flat = np.asarray(y_true, dtype=np.int64) * N_MYSFITS + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(flat, minlength=N_MYSFITS * N_MYSFITS).reshape(N_MYSFITS, N_MYSFITS)


def evaluate(y_true: np.ndarray, y_pred: np.ndarray, train_labels: np.ndarray, bayes: float | None = None) -> dict:
    """Metrics as plain JSON-ready values, stored in the model artifact and printed by the CLI."""
    if len(y_true) == 0:
        raise ValueError("cannot evaluate on an empty test set")
    confusion = confusion_matrix(y_true, y_pred)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    hits = np.diag(confusion)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, hits / np.maximum(predicted, 1), 0.0)
        recall = np.where(actual > 0, hits / np.maximum(actual, 1), 0.0)
    majority_label = int(np.bincount(np.asarray(train_labels, dtype=np.int64), minlength=N_MYSFITS).argmax())
    baselines = {
        "chance": 1 / N_MYSFITS,
        "majority_class": float(np.mean(np.asarray(y_true) == majority_label)),
    }
    if bayes is not None:
        baselines["bayes_optimal"] = float(bayes)
    return {
        "accuracy": float(hits.sum() / confusion.sum()),
        "test_rows": int(confusion.sum()),
        "per_mysfit": [
            {
                "label": m.label,
                "name": m.name,
                "precision": float(precision[m.label]),
                "recall": float(recall[m.label]),
                "support": int(actual[m.label]),
            }
            for m in load_catalog()
        ],
        "confusion": confusion.tolist(),
        "baselines": baselines,
    }


def format_report(metrics: dict) -> str:
    """A terminal-friendly table of accuracy, baselines and per-Mysfit precision/recall."""
    lines = [f"accuracy on {metrics['test_rows']:,} test rows: {metrics['accuracy']:.2%}", "", "baselines:"]
    names = {"chance": "chance (1/12)", "majority_class": "majority class", "bayes_optimal": "Bayes-optimal"}
    for key, value in metrics["baselines"].items():
        gap = metrics["accuracy"] - value
        lines.append(
            f"  {names.get(key, key):<16} {value:7.2%}   model {'+' if gap >= 0 else '-'}{abs(gap) * 100:.2f} pts"
        )
    lines += ["", f"  {'Mysfit':<18}{'precision':>10}{'recall':>9}{'support':>10}"]
    for row in metrics["per_mysfit"]:
        lines.append(f"  {row['name']:<18}{row['precision']:>10.2%}{row['recall']:>9.2%}{row['support']:>10,}")
    return "\n".join(lines)


def write_confusion_png(metrics: dict, path: str | os.PathLike) -> Path:
    """Render the confusion matrix, row-normalised so each row shows where one Mysfit's fans ended up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.asarray(metrics["confusion"], dtype=np.float64)
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    names = [m.name for m in load_catalog()]
    fig, ax = plt.subplots(figsize=(8, 7), dpi=100)
    image = ax.imshow(rates, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(N_MYSFITS), names, rotation=45, ha="right")
    ax.set_yticks(range(N_MYSFITS), names)
    ax.set_xlabel("predicted Mysfit")
    ax.set_ylabel("true Mysfit")
    ax.set_title(f"Confusion matrix (accuracy {metrics['accuracy']:.1%}, rows sum to 1)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return write_figure_png(fig, path)
