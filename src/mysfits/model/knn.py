"""k-nearest neighbours with the semantics of SageMaker's built-in kNN classifier.

Training keeps a random sample of ``sample_size`` training rows (as the built-in
algorithm does), and a query is labelled by a majority vote of its ``k`` nearest sample
rows under L2 distance. SageMaker does not document how it breaks ties, so this project
fixes one rule and uses it everywhere:

* **Neighbour ties.** Sample rows are ordered by distance, then by their position in the
  sample (the sample itself is a seeded random draw, so position carries no meaning).
  The first ``k`` in that order are the neighbours.
* **Vote ties.** The label with the most neighbours wins. Between labels with equally
  many, the one met first in that same neighbour order wins, i.e. the one whose nearest
  neighbour is closest (and earlier in the sample at equal distance). Because the sample
  order is random, no Mysfit is favoured by its position in the catalog.

Distances are measured between encoded answers (:mod:`mysfits_api.encoding`): the answers
themselves (``ordinal``) or eight 0/1 features per question (``one-hot``, where the squared
distance is twice the number of questions answered differently). The tie rule is the same
for both.

Because every answer is an integer 1..8, there are only 8**5 = 32,768 possible queries.
:func:`compile_table` computes the prediction for all of them at once, and serving is a
table lookup. :func:`neighbours` is the direct computation, used to check the table, to
answer ``verbose`` requests with real distances, and for off-grid feature values.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from mysfits_api import encoding as encodings
from mysfits_api.catalog import N_MYSFITS
from mysfits_api.questionnaire import N_CELLS, N_OPTIONS, N_QUESTIONS, OPTION_MIN

_PLACE = (N_OPTIONS ** np.arange(N_QUESTIONS - 1, -1, -1)).astype(np.int64)  # cell_index weights


def cells_of(X: np.ndarray) -> np.ndarray:
    """Vectorised :func:`mysfits_api.questionnaire.cell_index` for rows of answers 1..8."""
    return (np.asarray(X, dtype=np.int64) - OPTION_MIN) @ _PLACE


@cache
def encoded_space(encoding: str) -> np.ndarray:
    """Every cell's feature row under ``encoding``, built from :func:`mysfits_api.encoding.encode` itself.

    Built once per encoding (32,768 calls, tens of milliseconds), so the Lambda's encoding and the trainer's are
    one function, never two definitions that could drift apart.
    """
    digits = (np.arange(N_CELLS)[:, None] // _PLACE[None, :]) % N_OPTIONS + OPTION_MIN
    rows = [encodings.encode(answers, encoding) for answers in digits.tolist()]
    space = np.array(rows, dtype=np.uint8).reshape(N_CELLS, encodings.feature_dim(encoding))
    space.setflags(write=False)
    return space


def encode_rows(X: np.ndarray, encoding: str) -> np.ndarray:
    """Feature rows for rows of answers 1..8 (uint8, ``(n, feature_dim)``)."""
    return encoded_space(encoding)[cells_of(X)]


def sample_rows(n_rows: int, sample_size: int, seed: int) -> np.ndarray:
    """Indices of the training rows kept by the model, in the order the tie rule uses."""
    size = min(sample_size, n_rows)
    return np.random.default_rng(seed).choice(n_rows, size=size, replace=False)


def sample_arrays(model) -> tuple[np.ndarray, np.ndarray]:
    """The training sample stored in a :class:`mysfits.model.artifact.ModelArtifact`, as numpy arrays."""
    X = np.frombuffer(model.sample_features, dtype=np.uint8).reshape(-1, N_QUESTIONS)
    y = np.frombuffer(model.sample_labels, dtype=np.uint8)
    return X, y


_NEVER = np.iinfo(np.int64).max  # "this label has no neighbour" in the first-met keys below


def _vote(counts: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Most votes wins; among equal votes, the label with the smallest ``first`` (met first in neighbour order).

    ``first[row, label]`` is any key that orders neighbours as the tie rule does (their rank,
    or ``squared distance * sample size + sample position``); keys are unique per row.
    """
    best = counts.max(axis=1, keepdims=True)
    return np.where(counts == best, first, _NEVER).argmin(axis=1)


class NeighbourIndex:
    """A training sample prepared once for direct kNN queries.

    The endpoint answers every ``verbose`` request with a direct query; the per-row squared norms and the
    float copy of the sample would otherwise be recomputed for each one, which cost most of a query's time.
    """

    def __init__(self, sample_X: np.ndarray, sample_y: np.ndarray):
        sample = np.asarray(sample_X, dtype=np.float64)
        # Stored feature-major: a query row times this contiguous (features x rows) matrix is one fast BLAS call,
        # where the transposed view of a row-major sample was several times slower.
        self.sample_t = np.ascontiguousarray(sample.T)
        self.labels = np.asarray(sample_y, dtype=np.intp)
        self.sample_sq = np.einsum("ij,ij->i", sample, sample)
        self.positions = np.arange(len(self.labels))

    def query(self, queries: np.ndarray, k: int, chunk: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(predicted labels, L2 distances ascending (m, k), neighbour labels (m, k))``.

        Queries may hold any real numbers (the built-in endpoint accepts them), not just 1..8.
        """
        _check_k(k, len(self.labels))
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float64))
        out_pred = np.empty(len(queries), dtype=np.intp)
        out_dist = np.empty((len(queries), k))
        out_lab = np.empty((len(queries), k), dtype=np.intp)
        for start in range(0, len(queries), chunk):
            q = queries[start : start + chunk]
            # Exact for the integer inputs we train on; clipped at 0 against rounding for arbitrary floats.
            d2 = q @ self.sample_t
            d2 *= -2.0
            d2 += np.einsum("ij,ij->i", q, q)[:, None]
            d2 += self.sample_sq[None, :]
            np.maximum(d2, 0.0, out=d2)
            for row, dist in enumerate(d2):
                if k < len(dist):
                    kth = np.partition(dist, k - 1)[k - 1]
                    candidates = np.flatnonzero(dist <= kth)
                else:
                    candidates = self.positions
                order = candidates[np.lexsort((candidates, dist[candidates]))][:k]
                out_dist[start + row] = dist[order]
                out_lab[start + row] = self.labels[order]
            lab = out_lab[start : start + len(q)]
            counts = np.zeros((len(q), N_MYSFITS), dtype=np.int64)
            first = np.full((len(q), N_MYSFITS), _NEVER, dtype=np.int64)
            rows = np.repeat(np.arange(len(q)), k)
            np.add.at(counts, (rows, lab.ravel()), 1)
            np.minimum.at(first, (rows, lab.ravel()), np.tile(np.arange(k), len(q)))  # rank in neighbour order
            out_pred[start : start + len(q)] = _vote(counts, first)
        return out_pred, np.sqrt(out_dist), out_lab


class GridIndex:
    """A training sample grouped by answer cell, for direct kNN queries of answer vectors (grid rows).

    Why: a sample recombined into a million rows made every verbose answer (the page's runner-up and "why") a scan
    of the whole sample, and :class:`NeighbourIndex`'s float copy of it held 320 MB in one-hot. Grid rows only have
    neighbours on the grid, so a query walks outwards from its cell shell by shell (as :func:`compile_tables` does
    for all cells) and reads only the rows of the shells it needs: the same neighbours, in the same tie order.
    """

    def __init__(self, sample_X: np.ndarray, sample_y: np.ndarray, encoding: str):
        cells = cells_of(sample_X)
        self.encoding = encodings.check(encoding)
        self.labels = np.asarray(sample_y, dtype=np.intp)
        self.by_cell = np.argsort(cells, kind="stable")  # sample positions grouped by cell, in sample order
        self.count = np.bincount(cells, minlength=N_CELLS)
        self.start = np.concatenate(([0], np.cumsum(self.count)[:-1]))

    def query_cell(self, cell: int, k: int) -> tuple[int, np.ndarray, np.ndarray]:
        """``(predicted label, L2 distances ascending (k,), neighbour labels (k,))`` for the answer cell ``cell``."""
        _check_k(k, len(self.labels))
        wrap = self.encoding == encodings.ONE_HOT
        coords = (cell // _PLACE) % N_OPTIONS
        need, positions, squared = k, [], []
        for d2, offsets, linear in _shell_steps(self.encoding):
            if wrap:
                near = cell ^ linear
            else:
                moved = coords[None, :] + offsets
                near = cell + linear[((moved >= 0) & (moved < N_OPTIONS)).all(axis=1)]
            lengths = np.minimum(self.count[near], need)  # a cell's rows are in sample order: its first `need` do
            total = int(lengths.sum())
            if total == 0:
                continue
            ends = np.cumsum(lengths)
            gather = np.arange(total) + np.repeat(self.start[near] - (ends - lengths), lengths)
            taken = np.sort(self.by_cell[gather])[:need]
            positions.append(taken)
            squared.append(np.full(len(taken), d2, dtype=np.float64))
            need -= len(taken)
            if need == 0:
                break
        order = np.concatenate(positions)
        labels = self.labels[order]
        counts = np.bincount(labels, minlength=N_MYSFITS)[None, :]
        first = np.full((1, N_MYSFITS), _NEVER, dtype=np.int64)
        np.minimum.at(first[0], labels, np.arange(k))  # rank in neighbour order
        return int(_vote(counts, first)[0]), np.sqrt(np.concatenate(squared)), labels


@cache
def _shell_steps(encoding: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """:func:`_shells` with each offset's step in cell index: ``[(d2, offsets (s, 5), steps (s,)), ...]``."""
    return [(d2, offsets, offsets.astype(np.int64) @ _PLACE) for d2, offsets in _shells(encoding)]


def neighbours(
    sample_X: np.ndarray, sample_y: np.ndarray, queries: np.ndarray, k: int, chunk: int = 256
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direct kNN over a sample used once: see :meth:`NeighbourIndex.query`."""
    return NeighbourIndex(sample_X, sample_y).query(queries, k, chunk)


def _check_k(k: int, sample_size: int) -> None:
    if not 1 <= k <= sample_size:
        raise ValueError(f"k must be between 1 and the sample size ({sample_size}), got {k}")


# Below this sample size brute force beats the shell walk (measured: 100 rows, k=1: 0.1 s vs 3 s).
_DIRECT_BELOW = 2000
# A sample packed into few cells makes the walk travel far from most cells, whatever the sample's size (3,000 rows
# in the 32 corner cells: 13.5 s walking, 1.5 s brute force; 20,000 rows there: 11 s against 14 s). Brute force
# costs in proportion to rows x tables, so it takes over only while that stays small.
_SPARSE_CELLS = N_CELLS // 64
_DIRECT_BELOW_WHEN_SPARSE = 20_000


@cache
def _shells(encoding: str) -> list[tuple[int, np.ndarray]]:
    """Offsets between grid cells grouped by squared distance, nearest first: ``[(d2, offsets (s, 5)), ...]``.

    Ordinal: signed offsets in answer space, ``d2`` their squared length (the neighbour must stay on the grid).
    One-hot: offsets 0..7 added modulo 8 on each question, so every other option of a question is one step
    away; ``d2`` is twice the number of questions changed, the squared L2 between the one-hot rows.
    """
    if encodings.check(encoding) == encodings.ORDINAL:
        span = np.arange(-(N_OPTIONS - 1), N_OPTIONS)
    else:
        span = np.arange(N_OPTIONS)
    grid = np.stack(np.meshgrid(*[span] * N_QUESTIONS, indexing="ij"), axis=-1).reshape(-1, N_QUESTIONS)
    if encoding == encodings.ORDINAL:
        d2 = (grid.astype(np.int64) ** 2).sum(axis=1)
    else:
        d2 = 2 * (grid != 0).sum(axis=1).astype(np.int64)
    order = np.argsort(d2, kind="stable")
    grid, d2 = grid[order].astype(np.int8), d2[order]
    bounds = np.flatnonzero(np.diff(d2)) + 1
    return [
        (int(block_d2[0]), block) for block_d2, block in zip(np.split(d2, bounds), np.split(grid, bounds), strict=True)
    ]


def compile_table(sample_X: np.ndarray, sample_y: np.ndarray, k: int, encoding: str = encodings.ORDINAL) -> np.ndarray:
    """The prediction for every cell of the answer space, identical to :func:`neighbours` on each."""
    return compile_tables(sample_X, sample_y, (k,), encoding)[k]


def compile_tables(
    sample_X: np.ndarray, sample_y: np.ndarray, ks, encoding: str = encodings.ORDINAL
) -> dict[int, np.ndarray]:
    """The prediction table for each ``k`` in ``ks``, from one walk over the sample (tuning asks for many ``k``).

    ``sample_X`` holds answers 1..8 whatever the encoding. Sample rows sit on the 8**5 grid, so
    instead of measuring 32,768 x sample_size distances we walk outwards from every cell in
    shells of equal distance, adding whole shells of neighbours. A ``k`` whose count is reached
    inside a shell takes only that shell's rows that come first in sample order, as the tie rule
    says, into its own copy of the votes; the walk goes on for the larger ``k``.
    """
    ks = sorted(set(ks))
    for k in ks:
        _check_k(k, len(sample_y))
    sample_cells = cells_of(sample_X)
    direct_below = _DIRECT_BELOW
    if len(np.unique(sample_cells)) < _SPARSE_CELLS:
        direct_below = max(_DIRECT_BELOW, _DIRECT_BELOW_WHEN_SPARSE // len(ks))
    if len(sample_y) <= direct_below:
        return _compile_direct(sample_X, sample_y, ks, encoding)
    wrap = encodings.check(encoding) == encodings.ONE_HOT
    labels = np.asarray(sample_y, dtype=np.int64)
    by_cell = np.argsort(sample_cells, kind="stable")  # sample positions grouped by cell, in sample order
    cell_count = np.bincount(sample_cells, minlength=N_CELLS)
    cell_start = np.concatenate(([0], np.cumsum(cell_count)[:-1]))
    cell_labels = np.bincount(sample_cells * N_MYSFITS + labels, minlength=N_CELLS * N_MYSFITS).reshape(N_CELLS, -1)

    coords = ((np.arange(N_CELLS)[:, None] // _PLACE[None, :]) % N_OPTIONS).astype(np.int8)  # (cells, 5) 0..7
    n = len(labels)
    # Votes of the whole shells taken so far; first[cell, label] is the smallest "d2 * n + sample position"
    # among the label's neighbours so far.
    counts = np.zeros((N_CELLS, N_MYSFITS), dtype=np.int64)
    first = np.full((N_CELLS, N_MYSFITS), _NEVER, dtype=np.int64)
    votes = {k: (np.zeros_like(counts), np.full_like(first, _NEVER)) for k in ks}  # each k's final votes
    cell_first = np.full((N_CELLS, N_MYSFITS), _NEVER, dtype=np.int64)  # earliest sample position per cell and label
    np.minimum.at(cell_first, (sample_cells, labels), np.arange(n, dtype=np.int64))
    taken = np.zeros(N_CELLS, dtype=np.int64)
    active = np.arange(N_CELLS)
    k_max = ks[-1]
    for d2, offsets in _shells(encoding):
        if active.size == 0:
            break
        linear = offsets.astype(np.int64) @ _PLACE
        # A one-hot shell is every cell that differs in a given number of questions. Each question is a 3-bit field
        # of the cell index, and XOR with an offset's field is, like adding it modulo 8, a bijection of a field's
        # eight options that keeps 0 in place, so XOR reaches the same cells.
        # The rows each cell passes on when its shell is taken whole: its earliest per label, at this distance.
        shell_first = np.where(cell_first == _NEVER, _NEVER, d2 * n + cell_first)
        # Bound the (active x offsets) work arrays to a few million entries.
        step = max(1, 4_000_000 // len(offsets))
        still = []
        for lo in range(0, active.size, step):
            rows = active[lo : lo + step]
            if wrap:
                nb_cell = rows[:, None] ^ linear[None, :]
                nb_count = cell_count[nb_cell]
            else:
                nb = coords[rows][:, None, :] + offsets[None, :, :]  # (a, s, 5) int8
                valid = (nb.view(np.uint8) < N_OPTIONS).all(axis=2)  # negative int8 wraps to >= 128
                nb_cell = np.where(valid, rows[:, None] + linear[None, :], 0)
                nb_count = np.where(valid, cell_count[nb_cell], 0)
            before = taken[rows]
            after = before + nb_count.sum(axis=1)
            inside_by_k = {}
            for k in ks:
                inside = (before < k) & (after > k)  # k is reached inside this shell: take its first rows only
                if inside.any():
                    k_counts, k_first = votes[k]
                    k_counts[rows[inside]] = counts[rows[inside]]
                    k_first[rows[inside]] = first[rows[inside]]
                    inside_by_k[k] = inside
            if inside_by_k:
                _take_first(rows, before, inside_by_k, nb_cell, nb_count, d2, by_cell, cell_start, labels, votes)
            grows = nb_count.any(axis=1) & (before < k_max)
            if grows.any():
                g_rows = rows[grows]
                g_count = nb_count[grows]
                pair_row, pair_col = np.nonzero(g_count)  # row-major: each growing row's pairs together, in order
                pair_cell = nb_cell[grows][pair_row, pair_col]
                per_row = np.count_nonzero(g_count, axis=1)  # at least 1 for a growing row
                group = np.cumsum(per_row) - per_row
                counts[g_rows] += np.add.reduceat(cell_labels[pair_cell], group, axis=0)
                first[g_rows] = np.minimum(first[g_rows], np.minimum.reduceat(shell_first[pair_cell], group, axis=0))
            for k in ks:
                exact = (before < k) & (after == k)  # the whole shell makes exactly k
                if exact.any():
                    k_counts, k_first = votes[k]
                    k_counts[rows[exact]] = counts[rows[exact]]
                    k_first[rows[exact]] = first[rows[exact]]
            taken[rows] = after
            still.append(rows[after < k_max])
        active = np.concatenate(still) if still else np.empty(0, dtype=np.intp)
    return {k: _vote(*votes[k]).astype(np.uint8) for k in ks}


def _take_first(rows, before, inside_by_k, nb_cell, nb_count, d2, by_cell, cell_start, labels, votes) -> None:
    """For each ``k`` whose count is reached inside this shell, add each query's first ``k - before`` sample rows
    of the shell (by sample position) to that ``k``'s votes.

    The shell's candidates are gathered and ranked once, for the largest need of any ``k``: with one-hot's wide
    shells several ``k`` often end in the same shell, and gathering per ``k`` repeated the same sort. A neighbour
    cell's rows are stored in sample order, so no more than its first ``need`` can be among the query's first
    ``need``; only those are gathered and sorted, which keeps the sort small when ``k`` is.
    """
    n = len(labels)
    need = np.zeros(len(rows), dtype=np.int64)
    for k, inside in inside_by_k.items():
        need = np.where(inside, np.maximum(need, k - before), need)
    query = np.flatnonzero(need)  # positions in `rows` that take part of this shell for some k
    counts_in_shell = nb_count[query]
    pair_row, pair_col = np.nonzero(counts_in_shell)
    lengths = np.minimum(counts_in_shell[pair_row, pair_col], need[query][pair_row])
    starts = cell_start[nb_cell[query][pair_row, pair_col]]
    owner = np.repeat(pair_row.astype(np.int64), lengths)  # index into `query`, ascending
    offsets = np.cumsum(lengths) - lengths
    position = by_cell[np.arange(lengths.sum()) + np.repeat(starts - offsets, lengths)]  # each candidate's
    # Sorting by query, then sample position, leaves `owner` as it was (it is already ascending).
    position = np.sort(owner * n + position) - owner * n
    per_owner = np.bincount(owner, minlength=len(query))
    group_start = np.cumsum(per_owner) - per_owner
    for k, inside in inside_by_k.items():
        takers = np.flatnonzero(inside[query])  # index into `query`
        take = k - before[query[takers]]  # each taker's first `take` candidates, by rank
        picked = np.arange(take.sum()) + np.repeat(group_start[takers] - (np.cumsum(take) - take), take)
        cell, label = rows[query[owner[picked]]], labels[position[picked]]
        k_counts, k_first = votes[k]
        np.add.at(k_counts, (cell, label), 1)
        np.minimum.at(k_first, (cell, label), d2 * n + position[picked])


def _compile_direct(
    sample_X: np.ndarray, sample_y: np.ndarray, ks, encoding: str = encodings.ORDINAL, chunk: int = 512
) -> dict[int, np.ndarray]:
    """Brute force over all cells, for small samples where the shell walk would travel far.

    Distances between encoded grid points are small integers, so ``d2 * n + position`` is a
    unique integer key that orders candidates by distance and then by sample position in one go.
    The distances are computed once for every ``k``: the ``k`` smallest keys are the first ``k`` of the
    largest ``k``'s, sorted (tuning asks for seven ``k`` on the same sample).
    """
    ks = sorted(set(ks))
    n = len(sample_y)
    k_max = ks[-1]
    sample = encode_rows(sample_X, encoding).astype(np.float64)
    labels = np.asarray(sample_y, dtype=np.intp)
    queries = encoded_space(encoding).astype(np.float64)
    sample_sq = (sample**2).sum(axis=1)
    positions = np.arange(n, dtype=np.int64)
    out = {k: np.empty(N_CELLS, dtype=np.uint8) for k in ks}
    for start in range(0, N_CELLS, chunk):
        q = queries[start : start + chunk]
        # Float matmul is exact here: every term is an integer far below 2**53.
        d2 = np.rint((q**2).sum(axis=1)[:, None] + sample_sq[None, :] - 2.0 * q @ sample.T).astype(np.int64)
        key = d2 * n + positions[None, :]
        nearest = np.sort(np.partition(key, k_max - 1, axis=1)[:, :k_max] if k_max < n else key, axis=1)
        for k in ks:
            first_k = nearest[:, :k]
            lab = labels[first_k % n]
            counts = np.zeros((len(q), N_MYSFITS), dtype=np.int64)
            first = np.full((len(q), N_MYSFITS), _NEVER, dtype=np.int64)
            rows = np.repeat(np.arange(len(q)), first_k.shape[1])
            np.add.at(counts, (rows, lab.ravel()), 1)
            np.minimum.at(first, (rows, lab.ravel()), first_k.ravel())  # the key orders as the tie rule does
            out[k][start : start + len(q)] = _vote(counts, first)
    return out
