"""The local tools a deploy runs after the paid steps, checked before them: `sam`, `make` (template.yaml builds the
function with BuildMethod: makefile) and a Python that can fetch the function's packages.

python3.13, the function's runtime, is wanted but not required. Only it can compile the bytecode the function ships
(bytecode is specific to one Python version); without it src/Makefile ships source only, which costs each cold start
0.2 to 0.35 s (medians of two runs of benchmarks/handler.py, docs/benchmarks.md), and says so. That is noted, not
refused: a second Python is not worth stopping a deploy for. The scripts' own Python fetches the packages then (it has
pip; Debian's python3 may not).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RUNTIME_PYTHON = "python3.13"
BUILD_PYTHON_VARIABLE = "MYSFITS_BUILD_PYTHON"
"""src/Makefile fetches packages with this interpreter when python3.13 does not run: the scripts' own, which has pip."""


def python_version(python: str) -> tuple[int, int] | None:
    """None when the interpreter does not run (a pyenv shim for a version PYENV_VERSION does not list fails so)."""
    try:
        result = subprocess.run(  # noqa: S603 - a fixed argv
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = result.stdout.split()
    return (int(words[0]), int(words[1])) if result.returncode == 0 and len(words) == 2 else None


def find_tool(name: str) -> str | None:
    """On PATH, or beside this interpreter (``.venv/bin/sam`` when the virtualenv is not activated)."""
    beside_python = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside_python) if beside_python.exists() else None)


@dataclass(frozen=True)
class Tools:
    """Where a tool is and what a Python says its version is; tests replace both with a machine of their own."""

    which: Callable[[str], str | None] = find_tool
    version: Callable[[str], tuple[int, int] | None] = python_version


def sam_binary(which: Callable[[str], str | None] = find_tool) -> str | None:
    return which("sam")


def build_checks(tools: Tools = Tools()) -> tuple[list[str], list[str]]:
    """(problems, notes) for `sam build` and `sam deploy` on this machine: a problem stops the run before anything is
    created or uploaded; a note is printed and the run goes on."""
    problems, notes = [], []
    if sam_binary(tools.which) is None:
        problems.append("the SAM CLI is not installed: `make install` puts it in .venv/bin (pip install aws-sam-cli)")
    if tools.which("make") is None:
        problems.append(
            "`sam build` runs src/Makefile (template.yaml's BuildMethod: makefile), and make is not installed: "
            "apt-get install make"
        )
    runtime = tools.which(RUNTIME_PYTHON)
    if runtime is None or tools.version(runtime) != (3, 13):
        why = "is not on PATH" if runtime is None else "is on PATH but does not run as Python 3.13"
        notes.append(
            f"{RUNTIME_PYTHON} {why} (with pyenv, PYENV_VERSION must list 3.13): the function will ship without "
            "bytecode, which costs each cold start about 0.2 to 0.35 s; install it to avoid that"
        )
    return problems, notes
