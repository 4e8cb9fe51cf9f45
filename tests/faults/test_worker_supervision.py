"""Issue 22, item 3: with several gateway workers, a killed worker is replaced and the others keep answering.

A real ``serve_workers`` in its own process (as ``mysfits serve --workers 2`` runs it) over a one-line ASGI app that
answers with its process id, so the test can kill one worker and see the replacement.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import httpx

from tests.integration.test_endpoint_lifecycle import wait_until

SUPERVISOR = textwrap.dedent(
    """
    import os, sys
    from mysfits.local import http_server

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"8")]})
        await send({"type": "http.response.body", "body": b"%8d" % os.getpid()})

    sock = http_server.bind("127.0.0.1", 0)
    http_server.serve_workers(app, sock, 2, on_ready=lambda: print(http_server.url_of(sock), flush=True))
    """
)


def _start_supervisor() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
    )


def _url_of(process: subprocess.Popen) -> str:
    url = process.stdout.readline().strip()
    assert url.startswith("http://"), process.stderr.read()
    return url


def _pid(url: str) -> int:
    with httpx.Client(timeout=2) as client:  # a new connection each time, so the kernel picks a worker
        return int(client.get(url).text)


def test_a_killed_worker_is_replaced_and_the_other_keeps_answering(tmp_path):
    process = _start_supervisor()
    try:
        url = _url_of(process)
        seen: set[int] = set()
        wait_until(lambda: len(seen.update({_pid(url)}) or seen) == 2, what="both workers to answer")
        victim = min(seen)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        answered: set[int] = set()
        # Every request after the kill is answered (by the survivor, then by it or the replacement).
        while len(answered - {victim} - seen) == 0:
            answered.add(_pid(url))
            assert time.monotonic() - killed_at < 5, "no replacement worker answered within 5 s"
        assert victim not in answered
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    lines = [line for line in stderr.splitlines() if line.startswith("gateway: worker")]
    assert len(lines) == 1, stderr
    assert lines[0].endswith(f"(pid {victim}) exited with code -9; starting a new one in 0 s")
    assert process.returncode == 0


def _exited(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_workers_do_not_outlive_a_killed_parent(tmp_path):
    """SIGKILL runs no clean-up in the parent: each of its workers used to keep serving, an orphan holding the port
    (the durability test left two after every run). The kernel now sends each one SIGTERM."""
    process = _start_supervisor()
    try:
        url = _url_of(process)
        workers: set[int] = set()
        wait_until(lambda: len(workers.update({_pid(url)}) or workers) == 2, what="both workers to answer")
    finally:
        process.kill()
        process.wait()
    wait_until(lambda: all(_exited(pid) for pid in workers), what="the workers to exit")
    with httpx.Client(timeout=2) as client:
        try:
            client.get(url)
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError(f"{url} still answers after its server was killed")
