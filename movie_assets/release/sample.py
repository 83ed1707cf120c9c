"""Stratified sample of the movies table: proportional by year, at least one per non-empty year.

Which movies are picked depends only on ``(seed, movie_id)``: each movie gets a pseudo-random 64-bit key
(splitmix64 of the id mixed with the seed) and every year keeps the movies with the smallest keys. So the
same input gives the same rows (and, written with `write_parquet_atomic`, the same bytes), and adding a
movie to one year changes at most that year's pick and its allocation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from movie_assets.common.hashing import MASK64, splitmix64
from movie_assets.lake import Lake, write_parquet_atomic

from .common import read_consolidated, year_key

DEFAULT_SAMPLE_SIZE = 10_000
DEFAULT_SEED = 42

def sample_keys(movie_ids: np.ndarray, seed: int) -> np.ndarray:
    seeded = splitmix64(np.array([seed & MASK64], dtype=np.uint64))[0]
    return splitmix64(movie_ids.astype(np.int64).view(np.uint64) ^ seeded)


def allocate(counts: Mapping[str, int], size: int) -> dict[str, int]:
    """Proportional allocation of ``size`` over strata (largest remainder), at least 1 per non-empty
    stratum when ``size`` allows, never more than a stratum holds. Ties go to the earlier key."""
    strata = [k for k, n in counts.items() if n > 0]
    total = sum(counts[k] for k in strata)
    size = max(0, min(size, total))
    if size == 0:
        return {k: 0 for k in counts}
    quota = {k: size * counts[k] / total for k in strata}
    alloc = {k: min(counts[k], int(quota[k])) for k in strata}
    if size >= len(strata):
        for k in strata:
            alloc[k] = max(alloc[k], 1)
    order = {k: i for i, k in enumerate(strata)}
    # too many (only possible through the minimum of 1): take back from the most over-allocated
    while sum(alloc.values()) > size:
        k = min((k for k in strata if alloc[k] > 1), key=lambda k: (quota[k] - alloc[k], order[k]))
        alloc[k] -= 1
    # too few: hand out to the largest remainders
    while sum(alloc.values()) < size:
        k = max((k for k in strata if alloc[k] < counts[k]), key=lambda k: (quota[k] - alloc[k], -order[k]))
        alloc[k] += 1
    return {k: alloc.get(k, 0) for k in counts}


def stratified_sample(table: pa.Table, size: int = DEFAULT_SAMPLE_SIZE, seed: int = DEFAULT_SEED) -> pa.Table:
    """``size`` rows (or all, if fewer) stratified by ``year`` (null years are one stratum), sorted by
    ``(release_date, movie_id)``."""
    if size < 0:
        raise ValueError(f"sample size must be >= 0, got {size}")
    years = [year_key(y) for y in table.column("year").to_pylist()]
    ids = table.column("movie_id").to_numpy(zero_copy_only=False)
    keys = sample_keys(ids, seed)
    by_year: dict[str, list[int]] = {}
    for index, year in enumerate(years):
        by_year.setdefault(year, []).append(index)
    ordered = dict(sorted(by_year.items(), key=lambda kv: (kv[0] == "undated", kv[0])))
    alloc = allocate({k: len(v) for k, v in ordered.items()}, size)
    chosen: list[np.ndarray] = []
    for year, indices in ordered.items():
        idx = np.asarray(indices, dtype=np.int64)
        take = alloc[year]
        if take == 0:
            continue
        # smallest keys win; movie_id breaks (astronomically unlikely) key ties
        order = np.lexsort((ids[idx], keys[idx]))
        chosen.append(idx[order[:take]])
    picked = np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=np.int64)
    result = table.take(pa.array(picked, pa.int64()))
    return result.sort_by([("release_date", "ascending"), ("movie_id", "ascending")])


def write_sample(lake: Lake, size: int = DEFAULT_SAMPLE_SIZE, seed: int = DEFAULT_SEED) -> pa.Table:
    """Sample the consolidated movies table into ``lake.sample_file`` (deterministic bytes)."""
    sample = stratified_sample(read_consolidated(lake), size, seed)
    write_parquet_atomic(sample, lake.sample_file)
    return sample
