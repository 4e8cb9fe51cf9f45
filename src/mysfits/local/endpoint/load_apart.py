"""Read and check a model file in a process of its own, for reloads while the endpoint serves.

Why: parsing is pure Python and C holding the interpreter lock. A 120 MB file (a sample nobody needs, or junk with a
model's shape) held it for about a second and raised the endpoint's peak memory by hundreds of MB before its
checksum failed, and requests waited meanwhile. In a child process the parse costs the endpoint neither; only a model
that passed every check comes back, pickled, which for a real model is a few MB and milliseconds to read.

``python -m mysfits.local.endpoint.load_apart PATH`` is that child: the artifact on stdout, or the loader's one-line
error on stderr with exit code 2.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from mysfits.model.artifact import ArtifactError, ModelArtifact, load_model

TIMEOUT_S = 60.0
"""A file that takes longer than this to check (a slow disk, a file system that hangs) is refused."""


def load_apart(path: str | os.PathLike) -> ModelArtifact:
    """:func:`load_model` run in a child process; every failure is an :class:`ArtifactError` naming the file."""
    command = [sys.executable, "-m", __name__, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)  # noqa: S603 - our module
    except subprocess.TimeoutExpired:
        raise ArtifactError(f"{path}: not read within {TIMEOUT_S:g} s") from None
    if done.returncode == 0:
        artifact = pickle.loads(done.stdout)  # noqa: S301 - written just now by our own child process
        if isinstance(artifact, ModelArtifact):
            return artifact
    reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
    raise ArtifactError(reason[-1] if reason else f"{path}: the checking process exited with {done.returncode}")


def main(argv: list[str]) -> int:
    (path,) = argv
    try:
        artifact = load_model(Path(path))
    except ArtifactError as exc:
        print(exc, file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - any failure is one line for the parent to log, never a traceback
        print(f"{path}: cannot load ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(pickle.dumps(artifact, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
