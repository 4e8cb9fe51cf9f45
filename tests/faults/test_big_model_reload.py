"""Issue 22, item 11: a model file near the size limit, dropped in while serving, must cost visitors nothing.

Before: a 200 MB model with an extra field was parsed inside the endpoint; the parse held the interpreter for about a
second and raised its peak memory by hundreds of MB, and 63 of 240 API requests got 503 meanwhile. The reload now
reads and checks the file in a process of its own and hands back only a model that passed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port, running
from tests.endpoint_artifacts import write_artifact
from tests.faults.test_endpoint_outage import FAST_S, Load, children_of, serve_args, wait_for
from tests.faults.test_static_streaming import _peak_rss_mb

pytestmark = pytest.mark.slow

PADDING_MB = 110
HEADROOM_MB = 48


def _padded_copy(model: Path, out: Path) -> None:
    """The model with a field it does not need, ``PADDING_MB`` long: valid JSON, but its checksum no longer holds."""
    document = json.loads(model.read_text())
    document["padding"] = "x" * (PADDING_MB * 1024 * 1024)
    out.write_text(json.dumps(document))


def test_a_huge_model_file_is_judged_apart_and_visitors_never_wait(tmp_path):
    model = tmp_path / "model.json"
    write_artifact(model, rows=2000, seed=14)
    padded = tmp_path / "padded.json"
    _padded_copy(model, padded)
    port, endpoint_port = free_port(), free_port()
    args = serve_args(model, port, endpoint_port)
    with running(args, tmp_path / "serve.log", port) as serve:
        (endpoint,) = children_of(serve.proc.pid)
        with Load(f"http://127.0.0.1:{port}") as load:
            wait_for(lambda: [a for a in load.answers if a.status == 200], 20, "first 200")
            before = _peak_rss_mb(endpoint)
            dropped_at = time.monotonic()
            os.replace(padded, model)
            wait_for(lambda: "model_reload_failed" in serve.output(), 30, "the reload's refusal")
            time.sleep(1.0)
        after = _peak_rss_mb(endpoint)
        during = load.since(dropped_at)
        assert len(during) >= 5
        slow_or_failed = [(round(a.elapsed, 2), a.status) for a in during if a.status != 200 or a.elapsed > FAST_S]
        assert not slow_or_failed, slow_or_failed
        assert after - before < HEADROOM_MB, f"the endpoint's peak memory grew from {before:.0f} to {after:.0f} MB"
        refusal = next(line for line in serve.output().splitlines() if "model_reload_failed" in line)
        assert "checksum mismatch" in refusal and "Traceback" not in serve.output()
