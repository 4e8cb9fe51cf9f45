"""One way to wait for AWS to settle: describe until done, print each status change, stop on a bad state or a bound.

SageMaker endpoints and CloudFormation stacks both settle by themselves after a call returns, and a wait that only
looks for the good state spins until its bound when the resource fails instead. Every wait here names what it
waits for, fails at once with the service's own reason, and never runs past ``timeout_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Report = Callable[[str], None]


@dataclass(frozen=True)
class Watch(Generic[T]):
    """What to wait for: how to describe it, its status, when it is done, and why it failed (None: not failed)."""

    name: str  # "endpoint mysfits-knn", "stack mysfits-recommendations": the start of every line and error
    describe: Callable[[], T]
    status: Callable[[T], str]
    done: Callable[[T], bool]
    failure: Callable[[T], str | None]


def settle(
    watch: Watch[T],
    *,
    report: Report,
    error: Callable[[str], Exception],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    poll_seconds: float,
    timeout_seconds: float,
    hint: str = "",
) -> T:
    """Describe until ``watch.done``; a failure or the timeout raises ``error(message)``. Returns the last
    description. ``hint`` is added to the timeout's message (where to look next)."""
    started = clock()
    last_status = None
    while True:
        description = watch.describe()
        status = watch.status(description)
        if status != last_status:
            report(f"  {watch.name}: {status} ({clock() - started:.0f} s)")
            last_status = status
        if watch.done(description):
            return description
        reason = watch.failure(description)
        if reason is not None:
            raise error(f"{watch.name} is {status}: {reason}")
        if clock() - started > timeout_seconds:
            raise error(f"{watch.name} still {status} after {timeout_seconds:.0f} s{hint}")
        sleep(poll_seconds)
