"""Start, or reuse, a Docker Engine that can reach nothing but this machine.

The daemon gets no bridge, no iptables rules and no forwarding, so a container can only use the host's network
namespace, and every test stays on loopback. Nothing here pulls: images come from :mod:`.base_image`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
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
    """Yield once a daemon answers on SOCKET; True if this call started it (and will stop it on the way out).

    A daemon that is already running is reused as it is, whatever its flags: it belongs to someone else.
    """
    if answering():
        yield False
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineError("dockerd is not installed; `make docker` apt-installs Debian's docker.io (needs root)")
    if os.geteuid() != 0:
        raise EngineError("starting dockerd needs root; run as root, or start Docker yourself and retry")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [dockerd, *LOOPBACK_ONLY_FLAGS, f"--host=unix://{SOCKET}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not answering():
            if proc.poll() is not None:
                raise EngineError(f"dockerd exited with {proc.returncode}; its log is {log}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise EngineError(f"dockerd did not answer within {START_TIMEOUT_S:.0f} s; its log is {log}")
            time.sleep(0.1)
        yield True
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
