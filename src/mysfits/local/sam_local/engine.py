"""Start, or reuse, a Docker Engine that can reach nothing but this machine.

The daemon gets no bridge, no iptables rules and no forwarding, so a container can only use the host's network
namespace, and every test stays on loopback. Nothing here pulls: images come from :mod:`.base_image`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

SOCKET = Path("/var/run/docker.sock")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
LOOPBACK_ONLY_FLAGS = (
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
    "--ip-forward=false",
    "--ip-masq=false",
)


class EngineError(RuntimeError):
    """Docker Engine is missing or would not start; the message says what to install or check."""


def client(timeout: int = 120):
    import docker

    return docker.DockerClient(base_url=f"unix://{SOCKET}", timeout=timeout)


def answering() -> bool:
    if not SOCKET.exists():
        return False
    try:
        return bool(client(timeout=5).ping())
    except Exception:  # noqa: BLE001 - any failure to talk to it means "not usable yet"
        return False


@contextlib.contextmanager
def engine(log: Path) -> Iterator[bool]:
    """Yield once a daemon answers on SOCKET; True if this call started it.

    Several runs may share the daemon (two `make sam-local`s, or tests in parallel processes). Each holds a shared
    lock beside the log while it uses the daemon, and the daemon a run started is stopped by whichever run is the last
    to leave, which it knows by getting that lock exclusively. Starting takes a second lock, so two runs never start
    two daemons. A daemon nobody here started (no ``dockerd.pid`` beside the log) belongs to someone else and is
    never stopped.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    marker = log.with_name("dockerd.pid")
    with (
        open(log.with_name("dockerd.users.lock"), "a+") as users,
        open(log.with_name("dockerd.start.lock"), "a+") as start,
    ):
        # A user first (this waits only while a last user is stopping the daemon), then one start at a time.
        fcntl.flock(users, fcntl.LOCK_SH)
        try:
            with _locked(start, fcntl.LOCK_EX):
                started = False if answering() else _start(log, marker)
            yield started
        finally:
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # someone still uses the daemon; the last one out stops it
            else:
                _stop(marker)
            fcntl.flock(users, fcntl.LOCK_UN)


@contextlib.contextmanager
def _locked(lock, mode: int) -> Iterator[None]:
    fcntl.flock(lock, mode)
    try:
        yield
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


def _start(log: Path, marker: Path) -> bool:
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineError("dockerd is not installed; `make docker` apt-installs Debian's docker.io (needs root)")
    if os.geteuid() != 0:
        raise EngineError("starting dockerd needs root; run as root, or start Docker yourself and retry")
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [dockerd, *LOOPBACK_ONLY_FLAGS, f"--host=unix://{SOCKET}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this run if another run still uses it; see engine()
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answering():
        if proc.poll() is not None:
            if _another_started():
                return False  # someone outside these locks started one: reuse it
            raise EngineError(f"dockerd exited with {proc.returncode}; its log is {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            proc.kill()
            raise EngineError(f"dockerd did not answer within {START_TIMEOUT_S:.0f} s; its log is {log}")
        time.sleep(0.1)
    marker.write_text(str(proc.pid))
    return True


def _stop(marker: Path) -> None:
    """Stop the daemon a run here started (its pid is in ``marker``), and wait until it is gone."""
    try:
        pid = int(marker.read_text())
    except (OSError, ValueError):
        return
    marker.unlink(missing_ok=True)
    if not _is_dockerd(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _is_dockerd(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _is_dockerd(pid):
        os.kill(pid, signal.SIGKILL)


def _is_dockerd(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # A zombie (state Z) has exited; its parent, a run that is gone, will never reap it.
    return "(dockerd)" in stat and stat.rsplit(")", 1)[1].split()[0] != "Z"


def _another_started() -> bool:
    """Whether a daemon started by someone else took the socket while ours was starting (ours then refuses)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if answering():
            return True
        time.sleep(0.1)
    return False


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
