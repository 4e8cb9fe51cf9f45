"""Foundation figures: the 1M-row pipeline, the loader, prediction throughput vs scikit-learn, accuracy vs Bayes."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from mysfits.model import dataset as ds
from mysfits.model import knn, training
from mysfits.model.evaluation import evaluate, write_confusion_png

ROWS = 1_000_000


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def pipeline(workdir: Path) -> list[tuple[str, float]]:
    steps = []
    data, t = _timed(ds.generate, ROWS)
    steps.append(("generate 1M rows", t))
    path = workdir / "answers.csv"
    _, t = _timed(ds.write_csv, data, path, {"signal": ds.DEFAULT_SIGNAL})
    steps.append(("write CSV", t))
    data, t = _timed(ds.load_csv, path)
    steps.append(("load CSV", t))
    (train, test), t = _timed(ds.split, data)
    steps.append(("split 90/10", t))
    fitted, t = _timed(training.fit, train, training.DEFAULT_K, training.DEFAULT_SAMPLE_SIZE, ds.DEFAULT_SEED)
    steps.append(("train (sample 100k, compile 32,768 cells)", t))
    metrics, t = _timed(
        evaluate, test.y, training.predict(fitted.table, test.X), train.y, ds.bayes_accuracy(ds.DEFAULT_SIGNAL)
    )
    steps.append(("evaluate 100k test rows", t))
    _, t = _timed(write_confusion_png, metrics, workdir / "confusion.png")
    steps.append(("confusion matrix PNG", t))
    return steps


def throughput(train: ds.Dataset, queries: np.ndarray) -> dict:
    from sklearn.neighbors import KNeighborsClassifier

    rows = knn.sample_rows(train.rows, training.DEFAULT_SAMPLE_SIZE, ds.DEFAULT_SEED)
    X, y = train.X[rows], train.y[rows]
    table = knn.compile_table(X, y, training.DEFAULT_K)
    sk = KNeighborsClassifier(n_neighbors=training.DEFAULT_K).fit(X, y)
    sk_queries = queries[:20_000]
    _, sk_time = _timed(sk.predict, sk_queries)
    best = min(_timed(training.predict, table, queries)[1] for _ in range(5))
    one_by_one_queries = [tuple(int(v) for v in row) for row in queries[:100_000]]
    table_bytes = table.tobytes()

    def lookups():
        from mysfits_api.questionnaire import cell_index

        return [table_bytes[cell_index(q)] for q in one_by_one_queries]

    _, py_time = _timed(lookups)
    sk_one = min(_timed(sk.predict, queries[i : i + 1])[1] for i in range(200))
    return {
        "sklearn_batch": len(sk_queries) / sk_time,
        "table_batch": len(queries) / best,
        "table_python_single": len(one_by_one_queries) / py_time,
        "sklearn_single": 1 / sk_one,
    }


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        steps = pipeline(Path(tmp))
    total = sum(t for _, t in steps)
    data = ds.generate(ROWS)
    train, test = ds.split(data)
    rates = throughput(train, test.X)
    bayes = ds.bayes_accuracy(ds.DEFAULT_SIGNAL)
    space_likelihood = ds.likelihoods(ds.DEFAULT_SIGNAL) / 12
    default, t_default = _timed(training.train_model, data)
    tuned, t_tuned = _timed(training.train_model, data, tune_hyperparameters=True)

    def true_acc(model):
        return float(space_likelihood[np.arange(32768), np.frombuffer(model.table, np.uint8)].sum())

    uniform = training.train_model(ds.generate(ROWS, signal=0))
    out = [
        "## Foundation: data, training, prediction",
        "",
        "Command: `python -m benchmarks training` (part of `make bench`).",
        "",
        f"### Generate, load, split, train and evaluate on {ROWS:,} rows (target ≤ 5 s)",
        "",
        "| step | seconds |",
        "|---|---:|",
        *[f"| {name} | {t:.2f} |" for name, t in steps],
        f"| **total** | **{total:.2f}** |",
        "",
        "### Prediction throughput (target ≥ 1000× scikit-learn)",
        "",
        "Same 100k training sample, same queries (the 100k test rows); scikit-learn's "
        "`KNeighborsClassifier(n_neighbors=10).predict` with its default algorithm selection.",
        "",
        "| predictor | predictions/s | × scikit-learn batch |",
        "|---|---:|---:|",
        f"| scikit-learn, batch of 20,000 | {rates['sklearn_batch']:,.0f} | 1 |",
        f"| compiled table, numpy batch of 100,000 | {rates['table_batch']:,.0f} | "
        f"{rates['table_batch'] / rates['sklearn_batch']:,.0f} |",
        f"| compiled table, pure Python one at a time (endpoint hot path) | {rates['table_python_single']:,.0f} | "
        f"{rates['table_python_single'] / rates['sklearn_batch']:,.1f} |",
        f"| scikit-learn, one query per call | {rates['sklearn_single']:,.0f} | "
        f"{rates['sklearn_single'] / rates['sklearn_batch']:.3f} |",
        "",
        f"One query at a time, the table answers {rates['table_python_single'] / rates['sklearn_single']:,.0f}× "
        "faster than a scikit-learn call per query.",
        "",
        "### Accuracy against the baselines (default generated data, signal "
        f"{ds.DEFAULT_SIGNAL}, Bayes-optimal {bayes:.2%})",
        "",
        "Test accuracy is on the 100k held-out rows; expected accuracy is exact, computed over the generator's "
        "distribution, so it has no sampling noise.",
        "",
        "| model | train s | test accuracy | expected accuracy | gap to Bayes (pts) |",
        "|---|---:|---:|---:|---:|",
        f"| seed hyperparameters (k=10, sample 100k) | {t_default:.1f} | {default.metrics['accuracy']:.2%} | "
        f"{true_acc(default):.2%} | {(bayes - true_acc(default)) * 100:.2f} |",
        f"| `--tune` (chose k={tuned.k}, sample {tuned.hyperparameters['sample_size']:,}) | {t_tuned:.1f} | "
        f"{tuned.metrics['accuracy']:.2%} | {true_acc(tuned):.2%} | {(bayes - true_acc(tuned)) * 100:.2f} |",
        "",
        f"Uniform data (`signal=0`): test accuracy {uniform.metrics['accuracy']:.2%} against chance {1 / 12:.2%} "
        f"({(uniform.metrics['accuracy'] - 1 / 12) * 100:+.2f} pts).",
    ]
    return "\n".join(out)
