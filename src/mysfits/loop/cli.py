"""``mysfits retrain``: close the loop on one machine, from the choices store to the served model file."""

from __future__ import annotations

import argparse
from pathlib import Path

from mysfits.cli_base import CliError, positive_float, positive_int, share
from mysfits.local.choices_store import DEFAULT_PATH as DEFAULT_CHOICES
from mysfits.loop import judge, retrain
from mysfits_api import encoding as encodings


def add_challenge_flags(group) -> None:
    """The challenger's weight and recombination, and how sure the judge must be: one definition for `mysfits
    retrain` and for train_and_deploy.py --choices-table, which judge a challenger by the same rule."""
    group.add_argument(
        "--choices-weight",
        type=positive_float,
        default=retrain.DEFAULT_WEIGHT,
        help="how many base rows one choice counts as (default %(default)g; see the README's data loop)",
    )
    group.add_argument(
        "--recombine",
        type=positive_int,
        default=None,
        help="rows per learning choice, recombining answers within each Mysfit's adopters; 1 = off (default: "
        f"enough for about {retrain.RECOMBINE_ROWS:,} rows, tuned against off; see docs/data-loop.md)",
    )
    group.add_argument(
        "--confidence",
        type=_confidence,
        default=judge.DEFAULT_CONFIDENCE,
        help="how sure the judge must be that the challenger is better than the serving model and than chance "
        "(one-sided, from 0.5 to below 1; default %(default)g)",
    )
    group.add_argument(
        "--min-gain",
        type=share,
        default=0.0,
        help="how much better on the visitors' taste, as a share, the challenger must be at that confidence "
        "(default %(default)g)",
    )
    group.add_argument(
        "--accept-shift",
        action="store_true",
        help="promote a winning challenger even when the new choices disagree with the earlier ones (printed "
        "either way); without it a shift keeps the serving model until a person has looked",
    )


def _confidence(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a probability from 0.5 to below 1, such as 0.95; got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "retrain",
        help="train a challenger on the base data plus visitors' choices; promote it only if it is better",
        description="Read the choices, train a challenger on the base data plus the choices (with what the page "
        "showed taken into account), score it and the serving champion on held-out choices, and replace the "
        "champion's file only if the challenger is better beyond luck (--confidence). Prints the comparison "
        "either way.",
    )
    parser.add_argument("--data", type=Path, required=True, help="base training data (the workshop's CSV format)")
    parser.add_argument(
        "--choices", type=Path, default=DEFAULT_CHOICES, help="the local choices store (default: %(default)s)"
    )
    parser.add_argument(
        "--model", type=Path, required=True, help="the serving champion's model file; a winner replaces it"
    )
    add_challenge_flags(parser)
    parser.add_argument(
        "--encoding",
        choices=encodings.ENCODINGS,
        help="train the challenger with this encoding (default: tuning tries both, the served API follows the "
        "promoted model's; with --no-tune, the champion's)",
    )
    parser.add_argument(
        "--no-tune", action="store_true", help="keep the seed's k and sample size and the champion's encoding (faster)"
    )
    parser.add_argument("--seed", type=int, default=2018, help="random seed (default %(default)s)")
    parser.set_defaults(func=_retrain)


def _retrain(args: argparse.Namespace) -> int:
    from mysfits.choices.cli import open_reader
    from mysfits.model import dataset as ds
    from mysfits.model.artifact import ArtifactError, load_model, variant_name
    from mysfits.progress import Progress
    from mysfits_api.choices import StoreUnavailable

    try:
        champion = load_model(args.model)
    except (ArtifactError, OSError) as exc:
        raise CliError(f"--model {args.model}: {exc}") from None
    try:
        base = ds.load_csv(args.data)
    except (ds.DataError, OSError) as exc:
        raise CliError(f"--data: {exc}") from None
    reader = open_reader(argparse.Namespace(choices=args.choices, table=None, region=None))
    try:
        choices = list(reader.choices())
    except StoreUnavailable as exc:
        raise CliError(f"--choices: {exc}") from None
    try:
        decision = retrain.challenge(
            base,
            choices,
            champion,
            weight=args.choices_weight,
            confidence=args.confidence,
            min_gain=args.min_gain,
            encoding=args.encoding,
            tune=not args.no_tune,
            recombine=args.recombine,
            seed=args.seed,
            accept_shift=args.accept_shift,
            progress=Progress(),
        )
    except retrain.TooFewChoices as exc:
        raise CliError(f"too few choices to judge a challenger: {exc}") from None
    print(decision.summary())
    # The version as recommendations store it (the endpoint's variant), so the two can be matched by eye.
    if retrain.promote(decision, args.model):
        print(f"wrote {args.model} (model version {variant_name(decision.challenger)}); a running endpoint reloads it")
    else:
        print(f"{args.model} is unchanged (model version {variant_name(champion)})")
    return 0
