"""The ``mysfits`` command: one subcommand per step of the data flow, plus ``mysfits aws`` for the AWS path."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from mysfits.cli_base import CliError

Register = Callable[[argparse._SubParsersAction], None]


def _registrars() -> list[Register]:
    # Imported lazily so `mysfits --help` stays fast and each area owns its own flags.
    from mysfits.aws import cli as aws_cli
    from mysfits.choices import cli as choices_cli
    from mysfits.local.endpoint import cli as endpoint_cli
    from mysfits.local.sam_local import cli as sam_local_cli
    from mysfits.local.serve import cli as serve_cli
    from mysfits.loop import cli as retrain_cli
    from mysfits.loop import simulate, versions_cli
    from mysfits.model import cli as model_cli

    return [
        model_cli.register,
        endpoint_cli.register,
        serve_cli.register,
        sam_local_cli.register,
        choices_cli.register,
        retrain_cli.register,
        versions_cli.register,
        simulate.register,
        aws_cli.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mysfits", description="Mythical Mysfits recommendations")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _registrars():
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Each subcommand sets ``func(args) -> int``; a ``CliError`` becomes one line on stderr and exit code 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((arg for arg in argv if not arg.startswith("-")), "")
    try:
        # Building the parser imports every area (numpy among them), which takes a moment: Ctrl-C then is still
        # an interruption, not a traceback.
        from mysfits.aws import cli as aws_cli

        forwarded = aws_cli.forward(argv)
        if forwarded is not None:
            return forwarded()
        args = build_parser().parse_args(argv)
        command = args.command
        return args.func(args)
    except CliError as exc:
        print(f"{_name(command)}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{_name(command)}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # A full disk, a file-size limit or a vanished directory while writing: every write is atomic (a temporary
        # file, then a rename), so nothing half-written is left behind; say what failed in one line.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{_name(command)}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


def _name(command: str) -> str:
    return f"mysfits {command}" if command else "mysfits"


if __name__ == "__main__":
    sys.exit(main())
