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
