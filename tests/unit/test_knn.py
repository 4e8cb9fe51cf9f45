import numpy as np
import pytest

from mysfits.model import dataset as ds
from mysfits.model import knn


def one_hot(X):
    """One-hot rows written independently of mysfits_api.encoding: eight columns per question, option order."""
    X = np.asarray(X, dtype=np.int64)
    return np.eye(8, dtype=np.int64)[X - 1].reshape(len(X), -1)


def reference_table(sample_X, sample_y, k, encoding="ordinal"):
    """An independent brute-force statement of the tie rule (every distance, score-based vote) to check the fast
    paths."""
    return reference_tables(sample_X, sample_y, [k], encoding)[k]


def reference_tables(sample_X, sample_y, ks, encoding="ordinal"):
    """``reference_table`` for several k from one pass: the neighbour order is the same for every k."""
    space = ds.answer_space().astype(np.int64)
    X = sample_X.astype(np.int64)
    if encoding == "one-hot":
        space, X = one_hot(space), one_hot(X)
    n, k_max = len(X), max(ks)
    # Squared distances are at most 5 * 7**2 and samples here at most a few thousand rows, so every key below fits
    # in 32 bits, which halves the memory the partition walks.
    assert (5 * 7**2 + 1) * n < 2**31
    out = {k: np.empty(len(space), dtype=np.int64) for k in ks}
    # Float products and sums of small integers are exact (all below 2**24), and BLAS keeps the 40-column case quick.
    xf = X.astype(np.float32)
    x_squared = (xf**2).sum(1)[None, :]
    for start in range(0, len(space), 2048):
        qf = space[start : start + 2048].astype(np.float32)
        d2 = np.rint((qf**2).sum(1)[:, None] + x_squared - 2 * qf @ xf.T).astype(np.int32)
        # Keys are unique (distance, then sample position), so the k_max smallest, sorted, are exactly the first
        # k_max of a full sort.
        keys = d2 * np.int32(n) + np.arange(n, dtype=np.int32)
        nearest = np.sort(np.partition(keys, k_max - 1, axis=1)[:, :k_max], axis=1)
        onehot_all = np.eye(12, dtype=np.int64)[sample_y[nearest % n]]  # (q, k_max, 12), in tie-rule order
        for k in ks:
            onehot = onehot_all[:, :k]
            votes = onehot.sum(axis=1)
            # Rank at which each label is first met; labels never met rank k.
            met = np.where(onehot.any(axis=1), onehot.argmax(axis=1), k)
            out[k][start : start + len(qf)] = np.argmax(votes * 10**6 - met, axis=1)
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sample_size", "k", "signal", "encoding"),
    [
        (1500, 10, 0.5, "ordinal"),
        (4000, 10, 0.5, "ordinal"),
        (4000, 25, 0.0, "ordinal"),
        (2500, 1, 0.5, "ordinal"),
        (1500, 10, 0.5, "one-hot"),
        (4000, 10, 0.5, "one-hot"),
        (4000, 25, 0.0, "one-hot"),
        (2500, 1, 0.5, "one-hot"),
        (8000, 3, 0.0, "one-hot"),
    ],
)
def test_compiled_table_matches_direct_knn_on_every_cell(sample_size, k, signal, encoding):
    """One-hot distances tie far more often than ordinal ones (only six distances exist), so the rule is tested hard."""
    data = ds.generate(sample_size, seed=sample_size + k, signal=signal)
    table = knn.compile_table(data.X, data.y, k, encoding)
    expected = reference_table(data.X, data.y.astype(np.intp), k, encoding)
    assert np.array_equal(table, expected)


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["ordinal", "one-hot"])
def test_one_walk_for_many_k_gives_each_k_its_exact_table(encoding):
    """Tuning compiles all its k in one walk; each table must still be exactly the tie rule's, including a k met
    inside a shell and a k met exactly at a shell's end (k=1 and k=2 on one-hot data, where shells are large)."""
    data = ds.generate(6000, seed=21, signal=0.5)
    ks = (1, 2, 7, 30, 80)
    tables = knn.compile_tables(data.X, data.y, ks, encoding)
    assert sorted(tables) == list(ks)
    expected = reference_tables(data.X, data.y.astype(np.intp), ks, encoding)
    for k in ks:
        assert np.array_equal(tables[k], expected[k]), k


@pytest.mark.parametrize("encoding", ["ordinal", "one-hot"])
def test_a_small_sample_s_tables_for_many_k_are_each_the_tie_rule_s(encoding):
    """A sample this small is compiled by brute force, its distances computed once for every k (tuning asks for
    seven); each k's table must still be exactly what the tie rule gives for that k alone."""
    data = ds.generate(1500, seed=22, signal=0.5)
    ks = (1, 2, 7, 30, 80)
    tables = knn.compile_tables(data.X, data.y, ks, encoding)
    expected = reference_tables(data.X, data.y.astype(np.intp), ks, encoding)
    for k in ks:
        assert np.array_equal(tables[k], expected[k]), k


def test_one_hot_distances_count_the_questions_answered_differently():
    sample = np.array([[1, 2, 3, 4, 5], [8, 2, 3, 4, 1]], dtype=np.uint8)
    features = knn.encode_rows(sample, "one-hot")
    assert features.shape == (2, 40) and features.sum(axis=1).tolist() == [5, 5]
    assert np.flatnonzero(features[0]).tolist() == [0, 9, 18, 27, 36]
    _, distances, labels = knn.neighbours(features, np.array([3, 7]), knn.encode_rows([[2, 2, 3, 4, 5]], "one-hot"), 2)
    # One question differs from the first row and two from the second: sqrt(2 * 1) and sqrt(2 * 2).
    assert labels.tolist() == [[3, 7]] and distances[0] == pytest.approx([np.sqrt(2), 2.0])


def test_neighbours_agrees_with_the_table_and_returns_sorted_distances():
    data = ds.generate(30_000, seed=11)
    table = knn.compile_table(data.X, data.y, 10)
    queries = ds.answer_space()[np.random.default_rng(0).choice(32768, 400, replace=False)]
    predicted, distances, labels = knn.neighbours(data.X, data.y, queries, 10)
    assert np.array_equal(predicted, table[knn.cells_of(queries)])
    assert distances.shape == labels.shape == (400, 10)
    assert np.all(np.diff(distances, axis=1) >= 0)


def test_neighbour_ties_go_to_the_earlier_sample_row():
    sample = np.array([[2, 1, 1, 1, 1], [1, 2, 1, 1, 1], [1, 1, 2, 1, 1]], dtype=np.uint8)
    labels = np.array([4, 7, 7], dtype=np.uint8)
    predicted, distances, picked = knn.neighbours(sample, labels, [[1, 1, 1, 1, 1]], 1)
    assert picked.tolist() == [[4]] and predicted.tolist() == [4] and distances.tolist() == [[1.0]]
    assert knn.compile_table(sample, labels, 1)[0] == 4


def test_vote_ties_go_to_the_label_met_first_in_neighbour_order():
    sample = np.array([[1, 1, 1, 1, 3], [1, 1, 1, 1, 3], [1, 1, 1, 1, 2], [1, 1, 1, 1, 4]], dtype=np.uint8)
    labels = np.array([9, 9, 5, 5], dtype=np.uint8)
    # From (1,1,1,1,3): label 9 at distances 0,0 and label 5 at 1,1; two votes each, and 9 is met first.
    assert knn.neighbours(sample, labels, [[1, 1, 1, 1, 3]], 4)[0].tolist() == [9]
    # From (1,1,1,1,1): squared distances 4,4 (label 9) and 1,9 (label 5): 5 has the nearest neighbour.
    assert knn.neighbours(sample, labels, [[1, 1, 1, 1, 1]], 4)[0].tolist() == [5]
    # Equal votes at equal distances: the earlier sample row decides, not the label number.
    sym = np.array([[1, 1, 1, 1, 2], [1, 1, 1, 1, 4]], dtype=np.uint8)
    for order in ([6, 2], [2, 6]):
        y = np.array(order, dtype=np.uint8)
        assert knn.neighbours(sym, y, [[1, 1, 1, 1, 3]], 2)[0].tolist() == [order[0]]
        assert knn.compile_table(sym, y, 2)[knn.cells_of([[1, 1, 1, 1, 3]])[0]] == order[0]
    table = knn.compile_table(sample, labels, 4)
    assert table[knn.cells_of([[1, 1, 1, 1, 1]])[0]] == 5 and table[knn.cells_of([[1, 1, 1, 1, 3]])[0]] == 9


def test_no_mysfit_is_favoured_by_its_label_number_on_uniform_data():
    """With nothing to learn, ties are everywhere; the rule must still spread cells evenly over the twelve."""
    data = ds.generate(60_000, seed=12, signal=0)
    table = knn.compile_table(data.X, data.y, 10)
    shares = np.bincount(table, minlength=12) / len(table)
    assert shares.max() - shares.min() < 0.02, shares


def test_off_grid_queries_are_answered_by_the_direct_knn():
    sample = np.array([[1, 1, 1, 1, 1], [8, 8, 8, 8, 8]], dtype=np.uint8)
    labels = np.array([0, 11], dtype=np.uint8)
    predicted, distances, _ = knn.neighbours(sample, labels, [[7.5, 9, 8, 8, 8], [0.5, 1, 1, 1, 1]], 1)
    assert predicted.tolist() == [11, 0]
    assert distances[:, 0] == pytest.approx([np.sqrt(1.25), 0.5])


@pytest.mark.parametrize("k", [0, 4])
def test_k_must_fit_the_sample(k):
    sample = np.ones((3, 5), dtype=np.uint8)
    with pytest.raises(ValueError, match="k must be between 1 and the sample size"):
        knn.compile_table(sample, np.zeros(3, dtype=np.uint8), k)


def test_sample_rows_are_seeded_and_without_replacement():
    rows = knn.sample_rows(1000, 100, seed=1)
    assert len(set(rows.tolist())) == 100 and np.array_equal(rows, knn.sample_rows(1000, 100, seed=1))
    assert len(knn.sample_rows(50, 100, seed=1)) == 50


def reference_neighbours(sample_X, sample_y, cell, k, encoding):
    """Every distance from the cell's answers, sorted by (distance, sample position): the k first, independently of
    the shell walk."""
    answers = ds.answer_space()[cell : cell + 1].astype(np.int64)
    X = sample_X.astype(np.int64)
    if encoding == "one-hot":
        answers, X = one_hot(answers), one_hot(X)
    d2 = ((X - answers) ** 2).sum(axis=1)
    order = np.lexsort((np.arange(len(X)), d2))[:k]
    labels = sample_y[order].astype(np.int64)
    votes = np.bincount(labels, minlength=12)
    met = [list(labels).index(m) if votes[m] else k for m in range(12)]
    return int(np.argmax(votes * 10**6 - np.array(met))), np.sqrt(d2[order]), labels


@pytest.mark.parametrize("encoding", ["ordinal", "one-hot"])
@pytest.mark.parametrize(("rows", "packed"), [(60, True), (2500, False), (30_000, False)])
def test_the_grid_walk_finds_the_same_neighbours_as_every_distance(encoding, rows, packed):
    rng = np.random.default_rng(rows)
    X = rng.integers(1, 9, (rows, 5)).astype(np.uint8)
    if packed:
        X[:, :3] = 1  # every row in 64 cells: the walk from the far corner crosses most of the space
    y = rng.integers(0, 12, rows).astype(np.uint8)
    index = knn.GridIndex(X, y, encoding)
    for cell in [0, 32767, *rng.integers(0, 32768, 12).tolist()]:
        for k in (1, 9, min(rows, 64), rows if rows < 100 else 700):
            predicted, distances, labels = index.query_cell(cell, k)
            want_p, want_d, want_l = reference_neighbours(X, y, cell, k, encoding)
            assert predicted == want_p, (cell, k)
            assert distances.tolist() == want_d.tolist(), (cell, k)
            assert labels.tolist() == want_l.tolist(), (cell, k)


def test_the_grid_walk_refuses_a_k_beyond_the_sample():
    index = knn.GridIndex(np.ones((5, 5), dtype=np.uint8), np.zeros(5, dtype=np.uint8), "ordinal")
    with pytest.raises(ValueError, match="sample size"):
        index.query_cell(0, 6)
