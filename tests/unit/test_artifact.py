import json

import numpy as np
import pytest

from mysfits import files
from mysfits.model import artifact
from mysfits.model.artifact import ArtifactError, load_model, save_model
from mysfits_api.catalog import label_ids


def test_round_trip_keeps_everything(small_model, tmp_path):
    path = save_model(small_model, tmp_path / "m.json")
    loaded = load_model(path)
    assert loaded == small_model
    assert loaded.version == small_model.version
    doc = json.loads(path.read_text())
    assert doc["format"] == "mysfits-knn-model" and doc["format_version"] == 1
    assert [entry["id"] for entry in doc["labels"]] == label_ids()
    assert doc["hyperparameters"]["k"] == 10 and doc["training_data"]["sha256"]
    assert "accuracy" in doc["metrics"]


def _rewrite(path, edit):
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def test_a_changed_field_fails_the_checksum(model_path, tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(model_path.read_bytes())
    _rewrite(path, lambda d: d["hyperparameters"].update(k=11))
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        load_model(path)


def test_a_flipped_byte_in_the_table_is_caught(model_path, tmp_path):
    raw = bytearray(model_path.read_bytes())
    at = raw.index(b'"data": "') + 40
    raw[at] = ord("A") if raw[at] != ord("A") else ord("B")
    path = tmp_path / "m.json"
    path.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        load_model(path)


def test_truncated_and_non_json_files_are_named(model_path, tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(model_path.read_bytes()[:5000])
    with pytest.raises(ArtifactError, match=r"m\.json: not a model file, or it is truncated"):
        load_model(path)
    path.write_bytes(b"\x00\x01binary")
    with pytest.raises(ArtifactError, match="truncated"):
        load_model(path)
    path.write_text('{"hello": "world"}')
    with pytest.raises(ArtifactError, match="not a mysfits-knn-model file"):
        load_model(path)


def test_other_format_versions_are_refused_with_advice(model_path, tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(model_path.read_bytes())
    _rewrite(path, lambda d: d.update(format_version=2))
    with pytest.raises(ArtifactError, match=r"format version 2 is not supported.*reads version 1.*mysfits train"):
        load_model(path)


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ArtifactError, match="no model file here; train one"):
        load_model(tmp_path / "absent.json")


def test_shape_checks_run_after_the_checksum(small_model, tmp_path):
    bad = artifact.ModelArtifact(**{**small_model.__dict__, "table": bytes(100)})
    path = save_model(bad, tmp_path / "m.json")
    with pytest.raises(ArtifactError, match="table holds 100 bytes by its header; it must hold 32,768"):
        load_model(path)
    labels = [dict(entry) for entry in small_model.labels]
    labels[0]["id"] = "someone-else"
    path = save_model(artifact.ModelArtifact(**{**small_model.__dict__, "labels": labels}), tmp_path / "m2.json")
    with pytest.raises(ArtifactError, match="label -> Mysfit map differs"):
        load_model(path)


def test_a_failed_write_keeps_the_old_model_and_leaves_no_temp_file(small_model, model_path, tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_bytes(model_path.read_bytes())
    before = path.read_bytes()

    def broken_replace(*args):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_model(small_model, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_table_serves_predictions(small_model):
    from mysfits.model.knn import sample_arrays

    X, y = sample_arrays(small_model)
    assert X.shape == (20_000, 5) and y.shape == (20_000,)
    table = np.frombuffer(small_model.table, dtype=np.uint8)
    assert table.shape == (32768,) and table.max() < 12


def _resealed(doc):
    """A document whose checksum is recomputed, so only the field under test is wrong."""
    body = {key: value for key, value in doc.items() if key != "checksum"}
    return {**body, "checksum": "sha256:" + artifact._digest(body)}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"encoding": "binary"}, "hyperparameters.encoding is 'binary'; this build serves ordinal or one-hot"),
        ({"encoding": "one-hot", "feature_dim": 5}, "feature_dim is 5, but the one-hot encoding has 40 features"),
    ],
)
def test_the_encoding_is_recorded_and_checked_at_load(model_path, tmp_path, edit, message):
    doc = json.loads(model_path.read_text())
    assert doc["hyperparameters"]["encoding"] == "ordinal" and doc["hyperparameters"]["feature_dim"] == 5
    doc["hyperparameters"].update(edit)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(_resealed(doc)))
    with pytest.raises(ArtifactError, match=message):
        load_model(path)


def test_a_model_without_the_encoding_field_is_ordinal(model_path, tmp_path):
    doc = json.loads(model_path.read_text())
    del doc["hyperparameters"]["encoding"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(_resealed(doc)))
    assert load_model(path).encoding == "ordinal" and load_model(path).feature_dim == 5
