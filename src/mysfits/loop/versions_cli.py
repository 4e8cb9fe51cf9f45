"""``mysfits models list|rollback``: the served model's earlier versions, how visitors took each, and undoing a
promotion in one command."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from mysfits.cli_base import CliError
from mysfits.local.choices_store import DEFAULT_PATH
from mysfits.model.cli import DEFAULT_MODEL


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="list the served model's kept versions, or roll back to one")
    actions = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="each version: when it was made, its held-out scores, and its acceptance rate in the choices store",
        description="The served model, then every version a promotion or rollback replaced (kept in "
        "<model stem>.versions/ beside the model file), newest first, each with the scores it was judged on and how "
        "often visitors adopted what it recommended (from the choices store, if there is one).",
    )
    listing.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help="the served model file (default %(default)s)"
    )
    source = listing.add_mutually_exclusive_group()
    source.add_argument("--choices", type=Path, default=None, help=f"the local choices store (default: {DEFAULT_PATH})")
    source.add_argument("--table", help="read the deployed DynamoDB table instead (stack output ChoicesTableName)")
    listing.add_argument("--region", help="AWS region of --table (default: your AWS configuration's)")
    listing.set_defaults(func=_list)
    back = actions.add_parser(
        "rollback",
        help="serve a kept version again, by the same atomic rename a promotion uses (a running endpoint reloads it)",
    )
    back.add_argument("version", help="a version from `mysfits models list` (or an unambiguous start of it)")
    back.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the served model file (default %(default)s)")
    back.set_defaults(func=_rollback)


def _list(args: argparse.Namespace) -> int:
    from mysfits.model.artifact import ArtifactError
    from mysfits.model.versions import list_versions

    try:
        versions, problems = list_versions(args.model)
    except ArtifactError as exc:
        raise CliError(f"--model: {exc}") from None
    tallies = _acceptance(args)
    for version in versions:
        print(format_version(version, tallies.get(version.name), store=tallies is not _NO_STORE))
    for problem in problems:
        print(f"not a usable version: {problem}")
    if tallies is _NO_STORE:
        print("(no choices store: acceptance not shown; `mysfits serve` creates one, or pass --choices/--table)")
    return 0


_NO_STORE: dict = {}


def _acceptance(args: argparse.Namespace) -> dict[str, Counter]:
    """Per model version: recommendations, choices, accepted, and the same two on recommendations that were not
    drawn at random (the model's own pick was shown), which is the rate to compare versions by."""
    from mysfits.choices.cli import _read
    from mysfits.local.choices_store import DEFAULT_PATH

    if not args.table and not (args.choices or DEFAULT_PATH).is_file():
        if args.choices:
            raise CliError(f"--choices: {args.choices} does not exist")
        return _NO_STORE

    def read(reader) -> dict[str, Counter]:
        tallies: dict[str, Counter] = {}
        for recommendation in reader.recommendations():
            tallies.setdefault(recommendation.model_version or "unknown", Counter())["recommendations"] += 1
        for choice in reader.choices():
            tally = tallies.setdefault(choice.recommendation.model_version or "unknown", Counter())
            tally["choices"] += 1
            tally["accepted"] += choice.accepted
            if not choice.recommendation.randomized:
                tally["undrawn_choices"] += 1
                tally["undrawn_accepted"] += choice.accepted
        return tallies

    return _read(args, read)


def format_version(version, tally: Counter | None, *, store: bool = True) -> str:
    model = version.model
    mark = "serving" if version.serving else "kept   "
    scores = version.held_out_scores()
    if "taste_accuracy" in scores:
        champion = scores["champion_taste_accuracy"]
        judged = (
            f"held-out taste accuracy {_pct(scores['taste_accuracy'])} on {scores['held_out_choices'] or 0:,} choices "
            f"(champion then {_pct(champion)})"
        )
    else:
        judged = f"test accuracy {_pct(scores['test_accuracy'])} on {scores['test_rows'] or 0:,} rows (base data)"
    line = f"{mark} {version.name}  {model.created_at}  {judged}"
    if not store:
        return line
    if tally is None:
        return line + "\n          no recommendations stored for this version"
    rate = _rate(tally["accepted"], tally["choices"])
    undrawn = _rate(tally["undrawn_accepted"], tally["undrawn_choices"])
    return (
        f"{line}\n          {tally['recommendations']:,} recommendations, {tally['choices']:,} choices, acceptance "
        f"{rate} ({undrawn} of {tally['undrawn_choices']:,} where the model's pick was shown)"
    )


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _rate(accepted: int, choices: int) -> str:
    return "n/a" if not choices else f"{accepted / choices:.1%}"


def _rollback(args: argparse.Namespace) -> int:
    from mysfits.model.artifact import ArtifactError
    from mysfits.model.versions import VersionError, rollback

    try:
        replaced, restored = rollback(args.model, args.version)
    except (VersionError, ArtifactError) as exc:
        raise CliError(str(exc)) from None
    print(
        f"{args.model} now serves {restored.name} (was {replaced.name}, kept: `mysfits models rollback "
        f"{replaced.name}` undoes this); a running endpoint reloads it within a second"
    )
    return 0
