import gzip

import numpy as np
import pytest

from mysfits import files
from mysfits.model import dataset as ds


def test_generator_is_seeded_and_writes_the_seed_format(tmp_path):
    a, b = ds.generate(5000, seed=1), ds.generate(5000, seed=1)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, ds.generate(5000, seed=2).X)
    path = ds.write_csv(a, tmp_path / "a.csv")
    lines = path.read_text().splitlines()
    assert len(lines) == 5000
    first = lines[0].split(",")
    assert len(first) == 6 and [int(v) for v in first] == [*a.X[0].tolist(), int(a.y[0])]
    assert a.X.min() >= 1 and a.X.max() <= 8 and a.y.max() <= 11


def test_signal_zero_is_uniform_and_bayes_is_chance():
    data = ds.generate(240_000, seed=3, signal=0)
    for column in data.X.T:
        shares = np.bincount(column, minlength=9)[1:] / data.rows
        assert np.allclose(shares, 1 / 8, atol=0.004)
    assert np.allclose(np.bincount(data.y) / data.rows, 1 / 12, atol=0.004)
    assert ds.bayes_accuracy(0) == pytest.approx(1 / 12)


def test_planted_signal_follows_the_catalog_favourites():
    from mysfits_api.catalog import load_catalog

    data = ds.generate(120_000, seed=4, signal=1.0)
    for mysfit in load_catalog():
        rows = data.X[data.y == mysfit.label]
        modes = [int(np.bincount(col, minlength=9).argmax()) for col in rows.T]
        assert modes == list(mysfit.favourites)


def test_bayes_accuracy_grows_with_signal_and_matches_an_empirical_bayes_classifier():
    values = [ds.bayes_accuracy(s) for s in (0, 0.25, 0.5, 1.0)]
    assert values == sorted(values) and values[-1] < 1
    data = ds.generate(200_000, seed=5)
    empirical = np.mean(
        ds.bayes_table(ds.DEFAULT_SIGNAL)[(data.X.astype(int) - 1) @ (8 ** np.arange(4, -1, -1))] == data.y
    )
    assert empirical == pytest.approx(ds.bayes_accuracy(ds.DEFAULT_SIGNAL), abs=0.005)


@pytest.mark.parametrize("signal", [-0.1, float("nan"), float("inf")])
def test_bad_signal_is_refused(signal):
    with pytest.raises(ValueError, match="signal"):
        ds.generate(10, signal=signal)


@pytest.mark.parametrize("name", ["a.csv", "a.csv.gz"])
def test_round_trip_plain_and_gzip(tmp_path, name):
    data = ds.generate(3000, seed=6)
    path = ds.write_csv(data, tmp_path / name, metadata={"signal": 0.5})
    if name.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    loaded = ds.load_csv(path)
    assert np.array_equal(loaded.X, data.X) and np.array_equal(loaded.y, data.y)
    assert ds.read_metadata(loaded)["signal"] == 0.5
    assert loaded.sha256 == data.sha256


def test_metadata_is_ignored_once_the_data_changes(tmp_path):
    data = ds.generate(100, seed=6)
    path = ds.write_csv(data, tmp_path / "a.csv", metadata={"signal": 0.5})
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # drop the last row
    assert ds.read_metadata(ds.load_csv(path)) is None


def test_loader_accepts_user_files_with_crlf_spaces_and_trailing_blank_lines(tmp_path):
    path = tmp_path / "user.csv"
    path.write_bytes(b"1, 2,3,4,5,11\r\n8,8,8,8,8,0\r\n\r\n")
    loaded = ds.load_csv(path)
    assert loaded.X.tolist() == [[1, 2, 3, 4, 5], [8, 8, 8, 8, 8]]
    assert loaded.y.tolist() == [11, 0]


def test_loader_accepts_a_file_without_final_newline(tmp_path):
    path = tmp_path / "user.csv"
    path.write_bytes(b"1,2,3,4,5,10\n2,3,4,5,6,7")
    assert ds.load_csv(path).y.tolist() == [10, 7]


GOOD = "1,2,3,4,5,6\n"


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        ("1,2,3,4,5", "expected 6 comma-separated values"),
        ("1,2,3,4,5,6,7", "expected 6 comma-separated values"),
        ("1,2,x,4,5,6", "column 3 must be a whole number"),
        ("1,2,3.5,4,5,6", "column 3 must be a whole number"),
        ("1,2,3,4,-5,6", "column 5 must be a whole number"),
        ("1,2,3,4,9,6", "answer 5 must be 1..8, found 9"),
        ("0,2,3,4,5,6", "answer 1 must be 1..8, found 0"),
        ("1,2,3,4,5,12", "label (column 6) must be 0..11, found 12"),
        ("", "expected 6 comma-separated values"),
    ],
)
def test_a_bad_row_stops_the_loader_with_file_line_and_reason(tmp_path, bad_row, reason):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD * 3 + bad_row + "\n" + GOOD)
    with pytest.raises(ds.DataError) as caught:
        ds.load_csv(path)
    assert str(caught.value).startswith(f"{path}:4: ")
    assert reason in str(caught.value)


def test_bad_row_in_a_gzip_file_is_reported_too(tmp_path):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress((GOOD * 10 + "1,2,3,4,5,99\n").encode()))
    with pytest.raises(ds.DataError, match=r"bad.csv.gz:11: label"):
        ds.load_csv(path)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_is_an_error(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(ds.DataError, match="empty"):
        ds.load_csv(path)


def test_missing_damaged_and_binary_files_are_clear_errors(tmp_path):
    with pytest.raises(ds.DataError, match="no such file"):
        ds.load_csv(tmp_path / "nope.csv")
    damaged = tmp_path / "damaged.csv.gz"
    damaged.write_bytes(gzip.compress(GOOD.encode() * 100)[:-10])
    with pytest.raises(ds.DataError, match="damaged gzip"):
        ds.load_csv(damaged)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(GOOD.encode() + b"\xff\xfe,1,1\n")
    with pytest.raises(ds.DataError, match=":2: not UTF-8"):
        ds.load_csv(binary)


def test_split_is_seeded_disjoint_and_90_10():
    # Column 0 carries a row id, so the halves can be compared row by row.
    ids = ds.Dataset(np.arange(10_000).reshape(-1, 1).repeat(5, axis=1), np.arange(10_000) % 12)
    train, test = ds.split(ids, seed=1)
    assert (train.rows, test.rows) == (9000, 1000)
    assert set(train.X[:, 0]).isdisjoint(test.X[:, 0])
    assert set(train.X[:, 0]) | set(test.X[:, 0]) == set(range(10_000))
    again, _ = ds.split(ids, seed=1)
    assert np.array_equal(train.X, again.X)
    other, _ = ds.split(ids, seed=2)
    assert not np.array_equal(train.X, other.X)


def test_writes_are_atomic_and_leave_no_temp_files(tmp_path, monkeypatch):
    target = tmp_path / "a.csv"
    target.write_text("precious\n")

    def explode(*args):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", explode)
    with pytest.raises(OSError, match="disk full"):
        ds.write_csv(ds.generate(100, seed=1), target)
    assert target.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_categorical_preferences_have_no_scale_and_their_own_bayes_optimum():
    ordinal = ds.preference_matrix(0.5)
    categorical = ds.preference_matrix(0.5, "categorical")
    assert categorical.shape == ordinal.shape == (12, 5, 8)
    assert np.allclose(categorical.sum(axis=2), 1)
    # Ordinal tastes fall off with distance from the favourite; categorical ones need not (option 3 is not nearer 4).
    peaks = ordinal.argmax(axis=2)
    for m, q in np.ndindex(12, 5):
        left, right = ordinal[m, q, : peaks[m, q] + 1], ordinal[m, q, peaks[m, q] :]
        assert np.all(np.diff(left) >= 0) and np.all(np.diff(right) <= 0)
    assert not all(
        np.all(np.diff(row[: row.argmax() + 1]) >= 0) and np.all(np.diff(row[row.argmax() :]) <= 0)
        for row in categorical.reshape(-1, 8)
    )
    assert ds.bayes_accuracy(0.5, "categorical") == pytest.approx(0.744, abs=0.001)
    assert ds.bayes_accuracy(0.0, "categorical") == pytest.approx(1 / 12)
    # The same tastes whatever the data seed; the data seed draws only the visitors.
    assert np.array_equal(
        ds.generate(500, seed=1, preferences="categorical").y, ds.generate(500, seed=1, preferences="ordinal").y
    )
    sample = ds.generate(200_000, seed=3, preferences="categorical")
    observed = np.bincount(sample.X[sample.y == 4][:, 2] - 1, minlength=8) / (sample.y == 4).sum()
    assert observed == pytest.approx(categorical[4, 2], abs=0.01)


def test_expected_accuracy_of_the_bayes_table_is_the_bayes_optimum():
    for preferences in ds.PREFERENCES:
        table = ds.bayes_table(0.5, preferences)
        assert ds.expected_accuracy(table, 0.5, preferences) == pytest.approx(ds.bayes_accuracy(0.5, preferences))


def test_unknown_preferences_are_refused_with_the_allowed_names():
    with pytest.raises(ValueError, match="preferences must be one of ordinal, categorical; got 'nominal'"):
        ds.generate(10, preferences="nominal")
