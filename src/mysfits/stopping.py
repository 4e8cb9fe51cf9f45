"""Ctrl-C and SIGTERM stop a long-running command the same way, and a stop is never lost.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be when a signal comes. Inside an import
that is not safe. numpy imports ``numpy.random`` lazily; when SIGTERM arrived as ``mysfits serve`` began generating
data, the compiled module's initialiser swallowed the exception in 2 runs of 20, and start-up went on to serve as if
no signal had come. Another run stopped but ended by SIGINT instead of with the status the command returned. A
Python module interrupted half-way is left out of ``sys.modules`` and is imported again, from the top, by the next
caller.

So the handler raises only outside imports. During one it records the request, and ``checkpoint()``, called
between the steps of a start-up, raises it there. A request that was raised is not raised again: clean-up that runs
after it must not be cut short.
"""

from __future__ import annotations

import signal
from types import FrameType

_pending: list[str] = []


def install() -> None:
    """Route SIGINT and SIGTERM through :func:`request_stop` (SIGINT even if the process started with it ignored)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)


def request_stop(signum: int, frame: FrameType | None) -> None:
    if importing(frame):
        _pending.append(signal.Signals(signum).name)
    else:
        raise KeyboardInterrupt


def checkpoint() -> None:
    """Stop here if a stop came during an import and has not been raised yet."""
    if _pending:
        _pending.clear()
        raise KeyboardInterrupt


def importing(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside an import: the import machinery's own frames are on the stack."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False
