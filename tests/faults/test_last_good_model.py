"""Issue 22, item 4: a restart of the endpoint on a broken model file serves the last model that loaded.

The endpoint keeps a copy of each model it loads (``<name>.last-good`` beside the file). A real ``mysfits
endpoint`` process started on a truncated file answers from that copy, logs one line saying so, and picks up the
fixed file when it comes.
"""

from __future__ import annotations

from mysfits.local.endpoint.model import ModelHolder, last_good_path
from mysfits.model.artifact import save_model
from tests.api_support import local_runtime_client
from tests.endpoint_artifacts import make_artifact, write_artifact
from tests.integration.test_endpoint_lifecycle import Process, wait_until


def test_each_loaded_model_is_kept_and_a_reload_updates_the_copy(tmp_path):
    path = tmp_path / "model.json"
    first = write_artifact(path, rows=400, seed=1)
    holder = ModelHolder(path)
    assert last_good_path(path).read_bytes() == path.read_bytes()
    second = make_artifact(seed=2, rows=400)
    save_model(second, path)
    assert holder.refresh(force=True)
    assert last_good_path(path).read_bytes() == path.read_bytes()
    path.write_bytes(path.read_bytes()[:100])  # a bad file replaces nothing
    assert not holder.refresh(force=True)
    assert ModelHolder(path).current.version == second.version != first.version


def test_a_restart_on_a_truncated_file_serves_the_last_good_model_then_the_fixed_one(tmp_path):
    path = tmp_path / "model.json"
    good = write_artifact(path, rows=400, seed=1)
    ModelHolder(path)  # the endpoint that ran before the crash
    path.write_bytes(path.read_bytes()[:500])
    process = Process("--model", str(path), "--port", "0", "--refresh-interval", "0.05")
    try:
        fallback = process.event("model_load_failed_serving_last_good")
        assert fallback["serving_version"] == good.version
        assert str(path) in fallback["error"] and "truncated" in fallback["error"]
        url = process.event("endpoint_started")["url"]
        client = local_runtime_client(url)
        response = client.invoke_endpoint(EndpointName="mysfits-knn", ContentType="text/csv", Body=b"1,2,3,4,5")
        assert response["InvokedProductionVariant"].startswith("ordinal-")

        fixed = make_artifact(seed=5, rows=400)
        staged = tmp_path / "staged.json"
        save_model(fixed, staged)
        staged.replace(path)
        assert process.event("model_reloaded")["model_version"] == fixed.version
    finally:
        process.stop()
    wait_until(lambda: last_good_path(path).read_bytes() == path.read_bytes(), what="the fixed file to be kept")
