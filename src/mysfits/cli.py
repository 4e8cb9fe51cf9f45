"""The ``mysfits`` command: one subcommand per step of the data flow."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

Register = Callable[[argparse._SubParsersAction], None]


def _registrars() -> list[Register]:
    # Imported lazily so `mysfits --help` stays fast and each area owns its own flags.
    from mysfits import training_cli
    from mysfits.endpoint import cli as endpoint_cli
    from mysfits.gateway import cli as gateway_cli

    return [training_cli.register, endpoint_cli.register, gateway_cli.register]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mysfits", description="Mythical Mysfits recommendations")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _registrars():
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Each subcommand sets ``func(args) -> int``; a ``CliError`` becomes one line on stderr and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"mysfits {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mysfits {args.command}: interrupted", file=sys.stderr)
        return 130


def positive_int(text: str) -> int:
    """argparse type for counts such as rows, k and sample sizes; accepts ``1_000_000``."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


class CliError(Exception):
    """An expected failure (bad input, missing file) reported as one clear line, without a traceback."""


if __name__ == "__main__":
    sys.exit(main())
