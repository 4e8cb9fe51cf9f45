"""Step-by-step progress lines on stderr, so long steps never look like a hang and stdout stays clean for results."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from mysfits import stopping


class Progress:
    def __init__(self, stream: TextIO | None = sys.stderr):
        self.stream = stream

    def note(self, message: str) -> None:
        if self.stream is not None:
            # One write, line and newline together: print() writes them separately, and Ctrl-C or SIGTERM between
            # the two left the line open, so "interrupted" was appended to it.
            self.stream.write(f"{message}\n")
            self.stream.flush()

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        """A step boundary is where a stop that came during an import takes effect (see :mod:`mysfits.stopping`)."""
        stopping.checkpoint()
        self.note(f"{message} ...")
        started = time.perf_counter()
        yield
        self.note(f"  done in {time.perf_counter() - started:.2f} s")


QUIET = Progress(stream=None)
