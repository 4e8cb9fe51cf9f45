"""``mysfits aws ...``: the AWS scripts as subcommands of the one ``mysfits`` command.

Each script keeps its own parser (scripts/train_and_deploy.py and scripts/cleanup.py call the same ``main``), so the
flags are defined once; this module only hands the rest of the command line over, with the program name the user typed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

COMMANDS = {
    "notebook": "create or update the training stack (notebook-template.yaml): bucket, SageMaker role, notebook",
    "train-and-deploy": "train the model and serve it, locally or on SageMaker; optionally deploy the API and page",
    "rollback": "serve an earlier model on the endpoint again, with the API's encoding following it",
    "cleanup": "delete this project's SageMaker resources and, if asked, its stacks",
    "smoke": "deploy everything into your account, check it as a visitor would, tear it down, write a report",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "aws", help="the AWS path: train and deploy, clean up, smoke-test an account (see `mysfits aws -h`)"
    )
    commands = parser.add_subparsers(dest="aws_command", required=True, metavar="ACTION")
    for name, help_text in COMMANDS.items():
        # Listed here for `mysfits aws -h`; the command line itself never reaches this parser (see `forward`).
        commands.add_parser(name, help=help_text, add_help=False)


def forward(argv: Sequence[str]) -> Callable[[], int] | None:
    """``mysfits aws ACTION ...`` as a call of that script's ``main``, or None for any other command line.

    argparse cannot hand flags such as ``--mode`` on to another parser (a REMAINDER argument stops at them), so the
    words after the action go to the script's parser untouched, and -h shows the script's own flag list.
    """
    if len(argv) < 2 or argv[0] != "aws" or argv[1] not in COMMANDS:
        return None
    from mysfits.aws import cleanup_cli, notebook_stack, rollback, smoke, train_and_deploy

    main = {
        "notebook": notebook_stack.main,
        "train-and-deploy": train_and_deploy.main,
        "rollback": rollback.main,
        "cleanup": cleanup_cli.main,
        "smoke": smoke.main,
    }[argv[1]]
    return lambda: main(list(argv[2:]), prog=f"mysfits aws {argv[1]}")
