"""`mysfits choices export|stats` as a user runs them, against a real store file and a DynamoDB table (moto)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from mysfits.choices import cli as choices_cli
from mysfits.choices.export import training_rows
from mysfits.choices.stats import collect
from mysfits.local.choices_store import SqliteChoiceStore
from mysfits_api.catalog import label_ids
from mysfits_api.choices import Recommendation
from mysfits_api.dynamodb_store import DynamoDbChoiceStore
from tests.e2e.conftest import REPO, child_env
from tests.unit.test_choice_stores import _table_from_template

IDS = label_ids()
DAY = 86_400.0
START = 1_800_000_000.0 - (1_800_000_000.0 % DAY)  # midnight UTC


def mysfits(*args: str):
    return subprocess.run(
        [sys.executable, "-m", "mysfits", *args],
        cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def fill(store, plan):
    """plan: (day, version, recommended label, chosen label or None) per recommendation."""
    for index, (day, version, recommended, chosen) in enumerate(plan):
        rec = Recommendation(
            str(uuid.uuid4()), (index % 8 + 1, 2, 3, 4, 5), IDS[recommended], None, version, START + day * DAY + index
        )
        store.save_recommendation(rec)
        if chosen is not None:
            store.record_choice(rec.recommendation_id, IDS[chosen], choice_id=f"c{index}", now=rec.created_at + 5)


PLAN = [
    (0, "ordinal-aaaaaaaaaaaa", 1, 1),
    (0, "ordinal-aaaaaaaaaaaa", 2, 3),
    (0, "ordinal-aaaaaaaaaaaa", 4, None),
    (1, "one-hot-bbbbbbbbbbbb", 5, 5),
    (1, "one-hot-bbbbbbbbbbbb", 6, 6),
]


@pytest.fixture
def store_file(tmp_path):
    path = tmp_path / "choices.sqlite3"
    fill(SqliteChoiceStore(path, save_wait_s=30), PLAN)
    return path


def test_export_writes_the_chosen_rows_in_the_training_format(store_file, tmp_path):
    out = tmp_path / "out" / "choices.csv"
    out.parent.mkdir()
    done = mysfits("choices", "export", "--choices", str(store_file), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "4 chosen rows" in done.stdout
    assert out.read_text().splitlines() == ["1,2,3,4,5,1", "2,2,3,4,5,3", "4,2,3,4,5,5", "5,2,3,4,5,6"]


def test_stats_count_acceptance_per_version_and_day_and_draw_a_png(store_file, tmp_path):
    png = tmp_path / "acceptance.png"
    done = mysfits("choices", "stats", "--choices", str(store_file), "--plot", str(png))
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert "5 recommendations" in lines["all"] and "4 choices" in lines["all"] and "75.0%" in lines["all"]
    assert "3 recommendations" in lines["ordinal-aaaaaaaaaaaa"] and "50.0%" in lines["ordinal-aaaaaaaaaaaa"]
    assert "100.0%" in lines["one-hot-bbbbbbbbbbbb"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_store_is_one_line_naming_it_and_nothing_is_created(tmp_path):
    absent = tmp_path / "absent.sqlite3"
    done = mysfits("choices", "export", "--choices", str(absent), "--out", str(tmp_path / "x.csv"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and str(absent) in done.stderr
    assert not absent.exists() and not (tmp_path / "x.csv").exists()


def test_a_damaged_store_is_one_line(tmp_path):
    damaged = tmp_path / "choices.sqlite3"
    damaged.write_bytes(b"garbage" * 500)
    done = mysfits("choices", "stats", "--choices", str(damaged))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "choices.sqlite3" in done.stderr


def test_an_unwritable_output_leaves_no_file_and_says_where(store_file, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "choices.csv"
    done = mysfits("choices", "export", "--choices", str(store_file), "--out", str(out))
    assert done.returncode == 2 and "--out" in done.stderr and "Traceback" not in done.stderr


def test_the_dynamodb_table_reads_like_the_local_store(moto_session, tmp_path):
    """`--table` reads the deployed table with a paginated Scan; the rows and the stats equal SQLite's."""
    client = moto_session.client("dynamodb")
    _table_from_template(client, "mysfits-choices")
    fill(DynamoDbChoiceStore(client, "mysfits-choices", 3600), PLAN)
    local = tmp_path / "same.sqlite3"
    fill(SqliteChoiceStore(local, save_wait_s=30), PLAN)
    args = choices_cli_args(table="mysfits-choices", region=moto_session.region_name)
    reader = choices_cli.open_reader(args)
    assert training_rows(reader) == training_rows(SqliteChoiceStore(local, read_only=True))
    assert collect(reader) == collect(SqliteChoiceStore(local, read_only=True))


def choices_cli_args(**values):
    import argparse

    return argparse.Namespace(**{"choices": None, "table": None, "region": None, **values})


def test_export_with_exposure_names_what_each_visitor_was_shown(tmp_path):
    """A drawn recommendation (label 7 shown where the model picked 2) and a plain one, as the API stores them."""
    path = tmp_path / "choices.sqlite3"
    store = SqliteChoiceStore(path)
    drawn = Recommendation(str(uuid.uuid4()), (1, 2, 3, 4, 5), IDS[2], None, "ordinal-aaaaaaaaaaaa", START,
                           shown_mysfit_id=IDS[7], propensity=0.1 / 12, exploration_rate=0.1,
                           randomized=True)  # fmt: skip
    plain = Recommendation(str(uuid.uuid4()), (8, 7, 6, 5, 4), IDS[3], None, "ordinal-aaaaaaaaaaaa", START + 1,
                           propensity=0.9 + 0.1 / 12, exploration_rate=0.1)  # fmt: skip
    for index, rec in enumerate((drawn, plain)):
        store.save_recommendation(rec)
        store.record_choice(rec.recommendation_id, IDS[7], choice_id=f"c{index}", now=rec.created_at + 5)
    out = tmp_path / "exposure.csv"
    done = mysfits("choices", "export", "--choices", str(path), "--out", str(out), "--exposure")
    assert done.returncode == 0, done.stderr
    assert "wrote 2 choices with their exposure" in done.stdout
    header, first, second = out.read_text().splitlines()
    assert header.split(",")[5:11] == ["chosen", "shown", "model_pick", "propensity", "exploration_rate", "randomized"]
    assert first.split(",")[:11] == ["1", "2", "3", "4", "5", "7", "7", "2", repr(0.1 / 12), "0.1", "1"]
    assert second.split(",")[:11] == ["8", "7", "6", "5", "4", "7", "3", "3", repr(0.9 + 0.1 / 12), "0.1", "0"]


def test_a_store_from_before_exploration_is_read_as_always_showing_the_pick_and_upgraded_by_a_writer(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(
            "CREATE TABLE recommendations (id TEXT PRIMARY KEY, answers TEXT NOT NULL, recommended TEXT NOT NULL, "
            "runner_up TEXT, model_version TEXT NOT NULL, created_at REAL NOT NULL, choice_id TEXT UNIQUE, "
            "chosen TEXT, chosen_at REAL);"
            f"INSERT INTO recommendations VALUES ('r1', '1,2,3,4,5', '{IDS[4]}', NULL, 'v', {START}, 'c1', "
            f"'{IDS[4]}', {START + 5});"
        )
    before = path.read_bytes()
    (choice,) = SqliteChoiceStore(path, read_only=True).choices()
    assert path.read_bytes() == before  # a reader never changes the file
    rec = choice.recommendation
    assert (rec.shown, rec.propensity, rec.exploration_rate, rec.randomized) == (IDS[4], 1.0, 0.0, False)
    SqliteChoiceStore(path)  # what `mysfits serve` does at start
    with sqlite3.connect(path) as upgraded:
        columns = {row[1] for row in upgraded.execute("PRAGMA table_info(recommendations)")}
    assert {"shown", "propensity", "exploration_rate", "randomized"} <= columns
    assert list(SqliteChoiceStore(path, read_only=True).choices()) == [choice]


def test_stats_name_a_shift_since_the_newest_version_began_serving(tmp_path):
    # 360 choices spread evenly under an earlier version; since the newest began, 240 spread evenly and 240 of Rujin.
    before = [(0, "ordinal-aaaaaaaaaaaa", i % 12, i % 12) for i in range(360)]
    since = [(1, "ordinal-bbbbbbbbbbbb", i % 12, i % 12) for i in range(240)]
    flood = [(1, "ordinal-bbbbbbbbbbbb", 0, 11) for _ in range(240)]
    path = tmp_path / "choices.sqlite3"
    fill(SqliteChoiceStore(path, save_wait_s=30), before + since + flood)
    done = mysfits("choices", "stats", "--choices", str(path))
    assert done.returncode == 0, done.stderr
    assert "the choices shifted (360 choices before ordinal-bbbbbbbbbbbb served against 480 since):" in done.stdout
    assert "  Rujin: 8.3% of the visitors' tastes before, 54.2% since (+45.8 points)" in done.stdout
    # The same store without the flood: nothing to report.
    calm = tmp_path / "calm.sqlite3"
    fill(SqliteChoiceStore(calm, save_wait_s=30), before + since)
    done = mysfits("choices", "stats", "--choices", str(calm))
    assert "no shift: 360 choices before ordinal-bbbbbbbbbbbb served against 240 since" in done.stdout
