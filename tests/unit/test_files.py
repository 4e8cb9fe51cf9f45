import os
import stat

import pytest

from mysfits import files


def test_new_files_are_world_readable_like_any_other(tmp_path):
    path = files.write_text_atomic(tmp_path / "deep" / "new.txt", "hello")
    assert path.read_text() == "hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_replacing_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "secretish.toml"
    path.write_text("old")
    os.chmod(path, 0o600)
    files.write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "kept.txt"
    path.write_text("kept")

    def fail(*args):
        raise OSError("no space left")

    monkeypatch.setattr(files.os, "fsync", fail)
    with pytest.raises(OSError, match="no space left"):
        files.write_text_atomic(path, "lost")
    assert path.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]
