"""``mysfits choices export|stats``: the stored choices as training data, and the acceptance rate."""

from __future__ import annotations

import argparse
from pathlib import Path

from mysfits.cli_base import CliError
from mysfits.local.choices_store import DEFAULT_PATH
from mysfits_api.choices import ChoiceReader, StoreUnavailable


def register(sub: argparse._SubParsersAction) -> None:
    choices = sub.add_parser("choices", help="export visitors' choices as training data, or count them")
    actions = choices.add_subparsers(dest="choices_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="write the chosen rows in the training format (five answers, then the Mysfit's label)"
    )
    export.add_argument("--out", type=Path, required=True, help="CSV file to write (replaced atomically)")
    export.add_argument(
        "--exposure",
        action="store_true",
        help="write every choice with what the page showed, the model's pick, the probability of showing it and "
        "whether it was drawn, under a header (not the training format)",
    )
    _source(export)
    export.set_defaults(func=_export)
    stats = actions.add_parser(
        "stats",
        help="recommendations, choices and acceptance rate per model version and day, and whether the choices "
        "since the newest version began serving disagree with the earlier ones (as `mysfits retrain` checks)",
    )
    stats.add_argument("--plot", type=Path, help="also draw the acceptance rate per day into this PNG")
    _source(stats)
    stats.set_defaults(func=_stats)


def _source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--choices", type=Path, default=None, help=f"the local SQLite store (default: {DEFAULT_PATH})")
    group.add_argument("--table", help="read the deployed DynamoDB table instead (stack output ChoicesTableName)")
    parser.add_argument("--region", help="AWS region of --table (default: your AWS configuration's)")


def open_reader(args: argparse.Namespace) -> ChoiceReader:
    if args.table:
        import boto3

        from mysfits.aws.choices_table import DynamoDbChoiceReader

        return DynamoDbChoiceReader(boto3.client("dynamodb", region_name=args.region), args.table)
    from mysfits.local.choices_store import SqliteChoiceStore

    path = args.choices or DEFAULT_PATH
    if not path.is_file():
        raise CliError(f"--choices: {path} does not exist; `mysfits serve --choices {path}` creates it")
    try:
        return SqliteChoiceStore(path, read_only=True)
    except StoreUnavailable as exc:
        raise CliError(f"--choices: {exc}") from None


def _read(args: argparse.Namespace, read):
    from botocore import exceptions as boto_errors

    try:
        return read(open_reader(args))
    except StoreUnavailable as exc:
        raise CliError(f"--choices: {exc}") from None
    except (boto_errors.ClientError, boto_errors.BotoCoreError) as exc:
        raise CliError(f"--table {args.table}: {exc}") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _export(args: argparse.Namespace) -> int:
    from mysfits.choices.export import exposure_csv, training_rows, write_rows
    from mysfits.files import write_text_atomic

    if args.exposure:
        text = _read(args, lambda reader: exposure_csv(reader.choices()))
        try:
            write_text_atomic(args.out, text)
        except OSError as exc:
            raise CliError(f"--out {args.out}: {exc.strerror or exc}") from None
        print(f"wrote {text.count(chr(10)) - 1:,} choices with their exposure to {args.out}")
        return 0
    rows = _read(args, training_rows)
    try:
        write_rows(rows, args.out)
    except OSError as exc:
        raise CliError(f"--out {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {len(rows):,} chosen rows to {args.out}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from mysfits.choices.stats import collect, format_stats, write_plot
    from mysfits.loop.shift import since_newest

    stats, shift = _read(args, lambda reader: (collect(reader), since_newest(list(reader.choices()))))
    print(format_stats(stats))
    print()
    print(shift.describe())
    if args.plot:
        try:
            write_plot(stats, args.plot)
        except OSError as exc:
            raise CliError(f"--plot {args.plot}: {exc.strerror or exc}") from None
        print(f"wrote {args.plot}")
    return 0
