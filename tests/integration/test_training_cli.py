"""The `mysfits data` and `mysfits train` commands, run as a user runs them: a subprocess, exit codes, files."""

import json
import subprocess
import sys

import pytest


def mysfits(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "mysfits", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_generate_then_train_writes_model_png_and_a_readable_report(tmp_path):
    done = mysfits("data", "generate", "--rows", "40000", "--out", "d/answers.csv.gz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Bayes-optimal accuracy 72.58%" in done.stdout
    assert (tmp_path / "d/answers.csv.gz.meta.json").exists()
    done = mysfits(
        "train",
        "--data",
        "d/answers.csv.gz",
        "--model",
        "m/model.json",
        "--sample-size",
        "20000",
        "--confusion",
        "m/confusion.png",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "accuracy on 4,000 test rows" in done.stdout and "Bayes-optimal" in done.stdout and "Rujin" in done.stdout
    assert "training kNN (ordinal, k=10, sample_size=20,000)" in done.stderr and "done in" in done.stderr
    doc = json.loads((tmp_path / "m/model.json").read_text())
    assert doc["hyperparameters"]["sample_size"] == 20000
    assert (tmp_path / "m/confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_generate_refuses_to_overwrite_without_force(tmp_path):
    assert mysfits("data", "generate", "--rows", "10", "--out", "a.csv", cwd=tmp_path).returncode == 0
    again = mysfits("data", "generate", "--rows", "10", "--out", "a.csv", cwd=tmp_path)
    assert again.returncode == 2 and "already exists; pass --force" in again.stderr
    assert mysfits("data", "generate", "--rows", "10", "--out", "a.csv", "--force", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "generate", "--rows", "0"], "expected a number of at least 1"),
        (["data", "generate", "--signal", "-1"], "expected a finite number >= 0"),
        (["data", "generate", "--out", "a.txt"], "--out must end in .csv or .csv.gz"),
        (["train", "--k", "ten"], "expected a whole number"),
    ],
)
def test_bad_flags_get_one_clear_line_and_a_non_zero_exit(tmp_path, args, message):
    done = mysfits(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_failed_training_run_leaves_no_files(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2,3,4,5,6\n" * 50 + "1,2,3,4,5,66\n")
    done = mysfits("train", "--data", "bad.csv", "--model", "out/model.json", "--confusion", "out/c.png", cwd=tmp_path)
    assert done.returncode == 2
    assert "bad.csv:51: label (column 6) must be 0..11, found 66" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_data_check_summarises_a_user_file(tmp_path):
    (tmp_path / "mine.csv").write_text("1,2,3,4,5,6\n8,8,8,8,8,11\n")
    done = mysfits("data", "check", "mine.csv", cwd=tmp_path)
    assert done.returncode == 0 and "2 valid rows" in done.stdout
