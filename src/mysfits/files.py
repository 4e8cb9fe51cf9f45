"""Atomic file writes, shared by everything that writes data, models, plots or configs.

A reader (the endpoint reloading its model, a user opening samconfig.toml) must only
ever see the old file or the new one. So the bytes go to a temporary file beside the
target, are flushed to disk, and the temporary file is renamed over the target, which is
atomic on one filesystem. On any failure the temporary file is removed and the target is
left untouched. A writer killed outright (SIGKILL) cannot clean up; the next write of the same file removes
what it left.
"""

from __future__ import annotations

import fcntl
import glob
import os
import tempfile
from pathlib import Path


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete temporary files that an earlier writer of ``path`` left behind (it was killed, e.g. by SIGKILL).

    A writer holds an exclusive lock on its temporary file until it is renamed or removed, so a temporary file whose
    lock can be taken belongs to nobody any more; one still locked is another writer's, at work, and stays.
    """
    removed = []
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # locked: a live writer's
        else:
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
        finally:
            os.close(fd)
    return removed


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # marks the file as in use until this process is done with it (or dies)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); keep the target's mode, or give a new file the usual 0644.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            # A failed write names no file: name the target.
            raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(path)) from exc
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_figure_png(figure, path: str | os.PathLike) -> Path:
    """Render a matplotlib figure to PNG in memory, close it, then write the file atomically: a failed render
    leaves no half-written image, and the figure never outlives the call."""
    import io

    import matplotlib.pyplot as plt

    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return write_bytes_atomic(path, buffer.getvalue())
