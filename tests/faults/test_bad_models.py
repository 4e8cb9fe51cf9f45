"""Item 1 of issue 12: a model file with a valid checksum but unusable content is refused at load with a reason,
never crashes the reload task, and at start-up costs one clear line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tracemalloc

import httpx
import pytest

from mysfits.local.endpoint.server import serve_in_thread
from mysfits.model.artifact import ArtifactError, load_model, save_model
from tests.endpoint_artifacts import make_artifact, write_artifact
from tests.faults.bad_models import BAD_DOCUMENTS, write_bad, write_deep
from tests.integration.test_endpoint_lifecycle import SRC, Process, wait_until


@pytest.fixture(scope="module")
def good_document(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("good") / "model.json"
    write_artifact(path, rows=400)
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_a_resealed_bad_file_is_an_artifact_error_naming_the_field(name, good_document, tmp_path):
    path = tmp_path / "model.json"
    message = write_bad(path, good_document, name)
    with pytest.raises(ArtifactError, match=message) as caught:
        load_model(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_json_nested_100000_levels_is_an_artifact_error(tmp_path):
    path = tmp_path / "model.json"
    write_deep(path)
    with pytest.raises(ArtifactError, match="nested too deeply"):
        load_model(path)


def _pings(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ping", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _failures(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if '"model_reload_failed"' in r.getMessage()]


def test_the_reloader_survives_every_bad_file_and_still_picks_up_a_good_one(good_document, tmp_path, caplog):
    caplog.set_level("INFO", logger="mysfits.local.endpoint")
    path = tmp_path / "model.json"
    old = write_artifact(path, rows=400, seed=1)
    with serve_in_thread(str(path), "bad-files", refresh_interval=0.02) as endpoint:
        for count, name in enumerate(sorted(BAD_DOCUMENTS), start=1):
            message = write_bad(path, good_document, name)
            wait_until(lambda n=count: len(_failures(caplog)) >= n, what=f"the reload failure for {name!r}")
            assert re.search(message, _failures(caplog)[-1]["error"]), name
        write_deep(path)
        wait_until(lambda: len(_failures(caplog)) > len(BAD_DOCUMENTS), what="the deep file's failure")
        assert "nested too deeply" in _failures(caplog)[-1]["error"]
        assert endpoint.model.version == old.version
        assert not [r for r in caplog.records if '"model_refresh_stopped"' in r.getMessage()]

        fresh = make_artifact(seed=9, rows=400)
        save_model(fresh, path)
        wait_until(lambda: endpoint.model.version == fresh.version, what="a good file after the bad ones")


def test_start_up_on_a_bad_file_is_one_line_and_exit_2(good_document, tmp_path):
    path = tmp_path / "model.json"
    write_bad(path, good_document, "k is text")
    result = subprocess.run(
        [sys.executable, "-m", "mysfits", "endpoint", "--model", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"mysfits endpoint: error: cannot serve the model: {path}: hyperparameter k must be a whole number from 1 "
        "to the sample size, got a string"
    ]


@pytest.mark.slow
def test_sighup_still_reloads_after_a_bad_file(good_document, tmp_path):
    path = tmp_path / "model.json"
    write_artifact(path, rows=400, seed=1)
    process = Process("--model", str(path), "--port", "0", "--refresh-interval", "3600")
    try:
        url = process.event("endpoint_started")["url"]
        wait_until(lambda: _pings(url), what="the endpoint to answer /ping")  # SIGHUP's handler is set by then
        write_bad(path, good_document, "a label is text")
        process.proc.send_signal(signal.SIGHUP)
        assert "labels[3].label" in process.event("model_reload_failed")["error"]
        fresh = make_artifact(seed=4, rows=400)
        save_model(fresh, path)
        process.proc.send_signal(signal.SIGHUP)
        assert process.event("model_reloaded")["model_version"] == fresh.version
        process.proc.send_signal(signal.SIGTERM)
        process.event("endpoint_stopped")
        assert process.proc.wait(10) == 0
    finally:
        process.stop()


def test_a_zlib_bomb_is_refused_before_it_expands(good_document, tmp_path):
    """Issue 30, item 6: a model whose table is 350 KB of zlib expanding to 256 MB, with a valid checksum, was
    decompressed whole before any size check (3.1 GB for the probe's). Decompression now stops at the size the
    header declares, so loading it allocates little more than the file."""
    path = tmp_path / "model.json"
    message = write_bad(path, good_document, "table a zlib bomb")
    tracemalloc.start()
    try:
        with pytest.raises(ArtifactError, match=message):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024, f"loading the bomb allocated {peak / 2**20:.0f} MB"
