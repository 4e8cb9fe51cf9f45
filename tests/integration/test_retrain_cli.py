"""`mysfits retrain` and `mysfits simulate` as a user runs them: real store files, real model files, the real API."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from mysfits.local.choices_store import SqliteChoiceStore
from mysfits.local.endpoint.model import variant_name
from mysfits.model import dataset as ds
from mysfits.model import training
from mysfits.model.artifact import load_model, save_model
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Recommendation
from tests.e2e.conftest import REPO, child_env

IDS = label_ids()


def mysfits(*args: str, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "mysfits", *args],
        cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def store_with(path, data: ds.Dataset, version: str = "ordinal-000000000000", start: int = 0):
    store = SqliteChoiceStore(path, save_wait_s=30)
    for n in range(data.rows):
        i = start + n
        rec = Recommendation(f"00000000-0000-4000-8000-{i:012d}", tuple(int(a) for a in data.X[n]), IDS[0], None,
                             version, 1_800_000_000.0 + i)  # fmt: skip
        store.save_recommendation(rec)
        store.record_choice(rec.recommendation_id, IDS[int(data.y[n])], choice_id=f"c-{i}", now=rec.created_at + 1)
    return path


@pytest.fixture
def world(tmp_path):
    base = ds.generate(5_000, seed=1, signal=0.0)
    base_path = tmp_path / "base.csv"
    ds.write_csv(base, base_path)
    model = save_model(training.train_model(base, seed=1), tmp_path / "model.json")
    return tmp_path, base_path, model


def test_retrain_promotes_a_challenger_that_learned_from_choices(world):
    tmp, base, model = world
    store = store_with(tmp / "choices.sqlite3", ds.generate(800, seed=2))
    before = load_model(model).version
    done = mysfits("retrain", "--data", str(base), "--choices", str(store), "--model", str(model), "--no-tune")
    assert done.returncode == 0, done.stderr
    assert "promoted: the challenger is better than the champion beyond luck" in done.stdout
    assert "accuracy on the visitors' taste: champion" in done.stdout and f"wrote {model}" in done.stdout
    after = load_model(model)
    assert after.version != before
    # The version printed is the one recommendations are stored with: the variant the endpoint reports.
    assert f"wrote {model} (model version {variant_name(after)})" in done.stdout
    assert re.fullmatch(r"ordinal-[0-9a-f]{12}", variant_name(after))
    assert after.training_data["source"] == "mysfits retrain" and after.metrics["champion_challenger"]["promoted"]


def test_too_few_choices_exits_non_zero_and_leaves_the_model_alone(world):
    tmp, base, model = world
    store = store_with(tmp / "choices.sqlite3", ds.generate(120, seed=2))
    before = model.read_bytes()
    done = mysfits("retrain", "--data", str(base), "--choices", str(store), "--model", str(model), "--no-tune")
    assert done.returncode == 2
    assert "too few choices" in done.stderr and "120 choices" in done.stderr and done.stderr.count("\n") == 1
    assert model.read_bytes() == before


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--choices-weight", "0", "above 0"),
        ("--min-gain", "5", "share from 0 to 1"),
        ("--confidence", "1.5", "from 0.5 to below 1"),
        ("--confidence", "most", "from 0.5 to below 1"),
        ("--encoding", "binary", "choose"),
    ],
)
def test_bad_flags_say_what_is_allowed(world, flag, value, message):
    _, base, model = world
    done = mysfits("retrain", "--data", str(base), "--model", str(model), flag, value)
    assert done.returncode == 2 and message in done.stderr


def test_a_missing_store_or_model_is_one_line(world):
    tmp, base, model = world
    done = mysfits("retrain", "--data", str(base), "--choices", str(tmp / "none.sqlite3"), "--model", str(model))
    assert done.returncode == 2 and "none.sqlite3 does not exist" in done.stderr
    done = mysfits("retrain", "--data", str(base), "--model", str(tmp / "none.json"))
    assert done.returncode == 2 and "none.json" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_short_simulation_runs_the_loop_through_the_api(tmp_path):
    """The mechanics only (rounds, figures, the PNG, the shuffled challenger); the target is in docs/benchmarks.md."""
    png = tmp_path / "loop.png"
    done = mysfits(
        # Ten rows per choice rather than retrain's million: the mechanics are the same, in a fraction of the time.
        "simulate", "--preferences", "ordinal", "--visitors", "1200", "--rounds", "2", "--png", str(png),
        "--recombine", "10",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rounds = [line for line in done.stdout.splitlines() if line.startswith("round ")]
    assert len(rounds) == 2 and "1,200 choices" in rounds[-1]
    explored = [float(line.split("explored")[1].split("%")[0]) for line in rounds]
    assert all(2 < share < 20 for share in explored), explored  # template.yaml's rate, 0.1, of which 11/12 differ
    assert "not promoted" in done.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_shift_keeps_the_champion_until_accept_shift_says_the_change_is_real(world):
    # 1,500 honest choices under an earlier model, then, under the serving one, 1,500 more and 1,200 adopts of
    # Rujin for random answers: the challenger still beats the weak champion, but the mix has moved.
    tmp, base, model = world
    store = store_with(tmp / "choices.sqlite3", ds.generate(1_500, seed=2))
    serving = variant_name(load_model(model))
    store_with(store, ds.generate(1_500, seed=3), version=serving, start=1_500)
    flood = ds.Dataset(ds.generate(1_200, seed=4).X, np.full(1_200, 11, np.uint8))
    store_with(store, flood, version=serving, start=3_000)
    before = model.read_bytes()
    args = ("retrain", "--data", str(base), "--choices", str(store), "--model", str(model), "--no-tune")
    kept = mysfits(*args)
    assert kept.returncode == 0, kept.stderr
    assert "the choices shifted (1,500 choices before " + serving + " served against 2,700 since):" in kept.stdout
    assert "Rujin: " in kept.stdout and "from a sudden rise (Rujin " in kept.stdout
    assert "not promoted: the choices shifted, so a person decides" in kept.stdout
    assert f"{model} is unchanged" in kept.stdout and model.read_bytes() == before
    accepted = mysfits(*args, "--accept-shift")
    assert accepted.returncode == 0, accepted.stderr
    assert "promoted anyway: --accept-shift says the shift is real" in accepted.stdout
    assert f"wrote {model}" in accepted.stdout and model.read_bytes() != before
    assert load_model(model).metrics["champion_challenger"]["shift"]["detected"] is True


def test_simulate_outside_the_project_says_where_the_exploration_rate_comes_from(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mysfits", "simulate", "--visitors", "100", "--rounds", "1"],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"no template.yaml in {tmp_path}" in done.stderr and "--exploration-rate" in done.stderr
