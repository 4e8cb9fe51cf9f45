"""``mysfits data ...`` and ``mysfits train``: the dataset and model steps of the flow."""

from __future__ import annotations

import argparse
from pathlib import Path

from mysfits.cli_base import CliError, positive_int
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import ArtifactError
from mysfits.model.evaluation import format_report
from mysfits.progress import Progress
from mysfits_api import encoding as encodings

DEFAULT_DATA = Path("data/answers.csv")
DEFAULT_MODEL = Path("models/mysfits-knn.json")


def _signal(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="generate or check visitor-answer data")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    gen = data_sub.add_parser("generate", help="write a seeded synthetic data set with a planted preference signal")
    gen.add_argument(
        "--out", type=Path, default=DEFAULT_DATA, help=f"CSV path, .csv or .csv.gz (default {DEFAULT_DATA})"
    )
    gen.add_argument(
        "--rows", type=positive_int, default=ds.DEFAULT_ROWS, help="number of visitors (default 1,000,000)"
    )
    gen.add_argument("--seed", type=int, default=ds.DEFAULT_SEED, help=f"random seed (default {ds.DEFAULT_SEED})")
    gen.add_argument(
        "--signal",
        type=_signal,
        default=ds.DEFAULT_SIGNAL,
        help=f"how strongly fans favour their Mysfit's answers; 0 = uniform random (default {ds.DEFAULT_SIGNAL})",
    )
    gen.add_argument(
        "--preferences",
        choices=ds.PREFERENCES,
        default=ds.DEFAULT_PREFERENCES,
        help="ordinal: fans answer near a favourite option; categorical: each Mysfit has an arbitrary distribution "
        f"over each question's options (default {ds.DEFAULT_PREFERENCES})",
    )
    gen.add_argument("--force", action="store_true", help="overwrite an existing file")
    gen.set_defaults(func=_generate)
    check = data_sub.add_parser("check", help="validate a data file and summarise it")
    check.add_argument("path", type=Path)
    check.set_defaults(func=_check)

    train = sub.add_parser("train", help="train the kNN model, evaluate it and write the model artifact")
    train.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"training data (default {DEFAULT_DATA})")
    train.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help=f"model file to write (default {DEFAULT_MODEL})"
    )
    train.add_argument("--k", type=positive_int, default=training.DEFAULT_K, help="neighbours that vote (default 10)")
    train.add_argument(
        "--sample-size",
        type=positive_int,
        default=training.DEFAULT_SAMPLE_SIZE,
        help="training rows kept by the model (default 100,000)",
    )
    train.add_argument("--seed", type=int, default=ds.DEFAULT_SEED, help="seed for the split and the sample")
    train.add_argument(
        "--encoding",
        choices=encodings.ENCODINGS,
        default=training.DEFAULT_ENCODING,
        help="features the model measures distances in: the five answers (ordinal) or 40 one-hot features "
        f"(default {training.DEFAULT_ENCODING})",
    )
    train.add_argument(
        "--tune", action="store_true", help="choose the encoding, k and sample size on a validation split"
    )
    train.add_argument("--confusion", type=Path, help="also write the confusion matrix as a PNG here")
    for parser in (train, check):
        parser.add_argument(
            "--max-data-mb",
            type=positive_int,
            default=ds.MAX_DATA_BYTES // (1024 * 1024),
            metavar="MB",
            help="refuse data that holds (or, gzipped, expands to) more than this (default %(default)s)",
        )
    train.set_defaults(func=_train)


def _generate(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        raise CliError(f"{args.out} already exists; pass --force to overwrite it or --out to choose another path")
    if args.out.suffix not in {".csv", ".gz"}:
        raise CliError(f"--out must end in .csv or .csv.gz, got {args.out.name}")
    meta = ds.generate_file(
        args.out, args.rows, args.seed, args.signal, progress=Progress(), preferences=args.preferences
    )
    bayes = meta["bayes_accuracy"]
    print(f"{args.out}: {args.rows:,} rows; Bayes-optimal accuracy {bayes:.2%} (chance 8.33%)")
    return 0


def _check(args: argparse.Namespace) -> int:
    try:
        data = ds.load_csv(args.path, args.max_data_mb * 1024 * 1024)
    except ds.DataError as exc:
        raise CliError(str(exc)) from None
    counts = ", ".join(str(c) for c in __import__("numpy").bincount(data.y, minlength=12))
    print(f"{args.path}: {data.rows:,} valid rows, sha256 {data.sha256[:16]}..., rows per label: {counts}")
    return 0


def _train(args: argparse.Namespace) -> int:
    try:
        run = training.TrainingRun(
            args.data,
            args.model,
            args.confusion,
            args.k,
            args.sample_size,
            args.seed,
            args.tune,
            args.encoding,
            max_data_bytes=args.max_data_mb * 1024 * 1024,
        )
        model = run.run(Progress())
    except (ds.DataError, ArtifactError, ValueError) as exc:
        raise CliError(str(exc)) from None
    print(format_report(model.metrics))
    return 0
