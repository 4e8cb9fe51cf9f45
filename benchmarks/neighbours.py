"""Verbose answers from a sample of a million rows (what retraining's recombination makes): a scan of the whole
sample (``knn.NeighbourIndex``) against the walk over the answer cells' shells (``knn.GridIndex``), on the same
queries in the same run. Both return the same neighbours; the check is repeated here on every query."""

from __future__ import annotations

import time

import numpy as np

from mysfits.model import dataset as ds
from mysfits.model import knn

ROWS, K, QUERIES, SEED = 1_000_000, 80, 200, 7


def run() -> str:
    lines = [
        "## Verbose answers from a million-row sample (`benchmarks/neighbours.py`)",
        "",
        f"`python -m benchmarks neighbours`: {ROWS:,} rows with categorical tastes, k={K}, {QUERIES} answer vectors "
        "drawn at random, one query at a time as the endpoint answers the page.",
        "",
        "| encoding | index | build, s | index memory, MB | per query, ms | ratio |",
        "|---|---|---:|---:|---:|---:|",
    ]
    data = ds.generate(ROWS, seed=SEED, preferences=ds.CATEGORICAL)
    cells = np.random.default_rng(SEED).integers(0, 8**5, QUERIES)
    answers = (cells[:, None] // 8 ** np.arange(4, -1, -1)) % 8 + 1
    for encoding in ("ordinal", "one-hot"):
        started = time.perf_counter()
        scan = knn.NeighbourIndex(knn.encode_rows(data.X, encoding), data.y)
        scan_build = time.perf_counter() - started
        started = time.perf_counter()
        walk = knn.GridIndex(data.X, data.y, encoding)
        walk_build = time.perf_counter() - started
        queries = knn.encode_rows(answers, encoding).astype(np.float64)
        started = time.perf_counter()
        scanned = [scan.query(queries[i : i + 1], K) for i in range(QUERIES)]
        scan_ms = (time.perf_counter() - started) / QUERIES * 1000
        started = time.perf_counter()
        walked = [walk.query_cell(int(cell), K) for cell in cells]
        walk_ms = (time.perf_counter() - started) / QUERIES * 1000
        for (p, d, lab), (gp, gd, glab) in zip(scanned, walked, strict=True):
            assert p[0] == gp and np.array_equal(d[0], gd) and np.array_equal(lab[0], glab)
        scan_mb = (scan.sample_t.nbytes + scan.sample_sq.nbytes + scan.labels.nbytes + scan.positions.nbytes) / 1e6
        walk_mb = (walk.by_cell.nbytes + walk.count.nbytes + walk.start.nbytes + walk.labels.nbytes) / 1e6
        lines.append(f"| {encoding} | scan | {scan_build:.2f} | {scan_mb:.0f} | {scan_ms:.2f} | 1 |")
        lines.append(
            f"| {encoding} | cell walk | {walk_build:.2f} | {walk_mb:.0f} | {walk_ms:.3f} | {walk_ms / scan_ms:.3f}x |"
        )
    return "\n".join(lines)
