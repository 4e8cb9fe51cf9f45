"""Child processes die with `mysfits serve`: a SIGKILLed parent runs no clean-up, and its children would otherwise
keep serving (and keep the ports) as orphans."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Ask the kernel for SIGTERM when the parent exits (Linux; elsewhere nothing). With ``parent_pid``, also exit
    at once if the parent is already gone, since the request comes too late for a parent that died first."""
    if sys.platform != "linux":
        return
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)
