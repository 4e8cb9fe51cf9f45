"""Issue 22, item 11: four concurrent downloads of a 200 MB file in the page's folder took the gateway from 85 to
904 MB, since each was read whole. Big files are now sent from their open handle a piece at a time."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, running
from tests.endpoint_artifacts import write_artifact

pytestmark = pytest.mark.slow

FILE_MB = 120
DOWNLOADS = 4
HEADROOM_MB = 48
"""What the four downloads may add to the gateway's peak memory: a few pieces in flight, never a whole file."""


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for pid {pid}")


def test_big_static_files_are_streamed_whole_and_cost_no_more_than_a_few_pieces(tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>page</title>")
    big = web / "big.bin"
    with big.open("wb") as out:  # not sparse: distinct bytes, so a mixed-up piece changes the digest
        for n in range(FILE_MB):
            out.write(hashlib.sha256(str(n).encode()).digest() * (1024 * 1024 // 32))
    expected = hashlib.sha256(big.read_bytes()).hexdigest()
    model = tmp_path / "model.json"
    write_artifact(model, rows=500, seed=3)
    port, endpoint_port = free_port(), free_port()
    args = ["serve", "--model", str(model), "--port", str(port), "--endpoint-port", str(endpoint_port), "--quiet"]
    args += ["--web", str(web)]
    with running(args, tmp_path / "serve.log", port) as serve:
        url = f"http://127.0.0.1:{port}/big.bin"
        head = httpx.head(url)
        assert head.status_code == 200 and head.headers["content-length"] == str(FILE_MB * 1024 * 1024)
        before = _peak_rss_mb(serve.proc.pid)
        digests: list[str] = []
        failures: list[str] = []

        def download() -> None:
            digest = hashlib.sha256()
            try:
                with httpx.stream("GET", url, timeout=60) as response:
                    assert response.status_code == 200
                    for chunk in response.iter_bytes(1024 * 1024):
                        digest.update(chunk)
            except (httpx.HTTPError, AssertionError) as exc:
                failures.append(repr(exc))
            digests.append(digest.hexdigest())

        clients = [threading.Thread(target=download) for _ in range(DOWNLOADS)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(120)
        after = _peak_rss_mb(serve.proc.pid)
        assert not failures, failures
        assert digests == [expected] * DOWNLOADS
        assert after - before < HEADROOM_MB, f"peak memory grew from {before:.0f} to {after:.0f} MB"
        # The page's own small files still come whole, with their length.
        page = httpx.get(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and page.headers["content-length"] == str(len(page.content))
        assert "Traceback" not in serve.output()
