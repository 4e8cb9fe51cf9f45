"""The parts every train-and-deploy plan is made of: the seams to the outside world, the context each step reads,
the typed results steps hand on, and the loop that runs them.

A step returns one frozen value (the split, an S3 channel, the training job, the stack outputs...) that later steps
look up by its type in :class:`Results`; nothing else passes between them. The steps themselves live beside what
they touch: :mod:`mysfits.aws.model_steps` (data, training, the endpoint), :mod:`mysfits.aws.choice_steps` (the
visitors' choices and the judgement of a new model) and :mod:`mysfits.aws.stack_steps` (the stacks and the page).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mysfits.aws import build_tools, sagemaker_job

T = TypeVar("T")


def stdin_is_a_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def run_command(argv: Sequence[str], cwd: Path | None = None) -> int:
    """Run a tool with the terminal attached (sam deploy may ask to confirm its change set). src/Makefile falls back
    to this interpreter, which has pip, when python3.13 does not run (mysfits.aws.build_tools)."""
    env = {**os.environ, build_tools.BUILD_PYTHON_VARIABLE: sys.executable}
    return subprocess.run(list(argv), cwd=cwd, env=env, check=False).returncode  # noqa: S603 - argv list, no shell


def boto3_session(region: str) -> Any:
    import boto3

    return boto3.Session(region_name=region)


@dataclass(frozen=True)
class Toolkit:
    """What the run needs from the outside world; tests swap in moto-backed sessions and a recording runner."""

    session_factory: Callable[[str], Any] = boto3_session
    trainer: Callable[..., sagemaker_job.TrainingResult] = sagemaker_job.train_with_sdk
    runner: Callable[[Sequence[str], Path | None], int] = run_command
    out: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    tools: build_tools.Tools = field(default_factory=build_tools.Tools)
    interactive: Callable[[], bool] = stdin_is_a_terminal
    """Whether someone can answer a prompt; without a terminal, sam deploy is told not to ask."""


@dataclass(frozen=True)
class AwsClients:
    """Created once per run from one session, then passed to the functions that call AWS."""

    session: Any
    s3: Any
    sagemaker: Any
    runtime: Any
    cloudformation: Any
    sts: Any
    cloudfront: Any
    quotas: Any
    dynamodb: Any
    apigateway: Any

    @classmethod
    def create(cls, session) -> AwsClients:
        return cls(
            session,
            session.client("s3"),
            session.client("sagemaker"),
            session.client("sagemaker-runtime"),
            session.client("cloudformation"),
            session.client("sts"),
            session.client("cloudfront"),
            session.client("service-quotas"),
            session.client("dynamodb"),
            session.client("apigateway"),
        )


@dataclass(frozen=True)
class Resolved:
    """What the plan needs beyond the flags, looked up once before it: in a dry run, only what needs no AWS."""

    data_missing: bool = False
    region: str | None = None
    bucket: str | None = None
    role: str | None = None
    api_stack: str = ""


@dataclass(frozen=True)
class Context:
    """What every step may read: the flags, the outside world, and what was resolved before the plan."""

    args: argparse.Namespace
    toolkit: Toolkit
    resolved: Resolved
    clients: AwsClients | None = None

    def say(self, message: str) -> None:
        self.toolkit.out(message)

    @property
    def aws(self) -> AwsClients:
        if self.clients is None:
            raise RuntimeError("this step calls AWS, but the run was planned without clients")
        return self.clients


@dataclass(frozen=True)
class Overrides:
    """Every parameter override in samconfig.toml after the endpoint name was written."""

    values: Mapping[str, str]


class Results:
    """What the steps so far returned, one value per type; a step reads what it needs by type, nothing else."""

    def __init__(self, *values: object):
        self._by_type: dict[type, object] = {}
        for value in values:
            self.add(value)

    def add(self, value: object) -> None:
        if value is not None:
            self._by_type[type(value)] = value

    def find(self, kind: type[T]) -> T | None:
        value = self._by_type.get(kind)
        return value if isinstance(value, kind) else None

    def get(self, kind: type[T]) -> T:
        value = self._by_type.get(kind)
        if not isinstance(value, kind):
            raise LookupError(f"no {kind.__name__} yet: a step ran before the one that makes it")
        return value


@dataclass(frozen=True)
class Step:
    action: str
    run: Callable[[Context, Results], object]


def execute(steps: Sequence[Step], ctx: Context, results: Results | None = None) -> Results:
    """Run the steps in order, numbered as they run; each one's value is handed on to the rest."""
    results = results or Results()
    for number, step in enumerate(steps, 1):
        ctx.say(f"[{number}/{len(steps)}] {step.action}")
        results.add(step.run(ctx, results))
    return results


def root(args: argparse.Namespace) -> Path:
    """SAM runs where samconfig.toml is (the project root), whatever the current directory."""
    return args.samconfig.resolve().parent
