"""Anti-entropy: the year partitions compared, as sets, with what the details store says they must hold.

What ``movies`` must hold follows from the store alone: the latest good version of every movie the catalog
policy allows, in the year of that version's release date (`expected_rows`). What it holds is read from the
partition files (`lake_rows`: ids, years and observation times, a few columns). `differing_years` names
every partition where the two disagree — a movie missing or extra, in the wrong year, in two years, or
built from an older version — so rebuilding exactly those makes the lake equal to the store whatever
happened before: a kill between a store append and a rebuild, a lost delta, a bug fixed since, an older
lake. Everything is done on Arrow/NumPy columns: a 1.2M-movie catalog costs a few columns, not a dict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.store import OK
from movie_assets.lake import Lake
from movie_assets.lake.policy import CatalogPolicy
from movie_assets.lake.readers import read_parquet, read_parquet_schema
from movie_assets.lake.schema import BUILD_KEY

# The partition key of the undated movies in the comparison (Arrow joins need a non-null key).
UNDATED_KEY = -1
_ROWS_SCHEMA = pa.schema([("movie_id", pa.int64()), ("year", pa.int32()),
                          ("observed_at", pa.timestamp("us", tz="UTC"))])


def expected_rows(latest: pa.Table, policy: CatalogPolicy) -> pa.Table:
    """``movie_id, year, observed_at`` of every movie ``movies`` must hold, from the store's `latest` table:
    status ok and allowed by ``policy`` (``year`` `UNDATED_KEY` for no release date)."""
    good = latest.filter(pc.and_(pc.equal(latest.column("status"), OK), policy.mask(latest)))
    year = pc.fill_null(pc.cast(good.column("release_year"), pa.int32()), UNDATED_KEY)
    return pa.table([good.column("movie_id"), year, good.column("observed_at")], schema=_ROWS_SCHEMA)


def lake_rows(lake: Lake, build_fingerprint: str) -> pa.Table:
    """``movie_id, year, observed_at`` (the row's ``harvested_at``) of every row of every year partition; the
    rows of a file built by other rules or for other languages than ``build_fingerprint`` (an older release,
    a changed ``MOVIE_ASSETS_LANGUAGES``) have no ``observed_at``, so they count as stale."""
    parts = []
    for year, path in lake.movies_year_files():
        table = read_parquet(path, columns=["movie_id", "harvested_at"])
        key = pa.array(np.full(table.num_rows, UNDATED_KEY if year is None else year, np.int32))
        observed = table.column("harvested_at")
        if not built_by(table.schema, build_fingerprint):
            observed = pa.nulls(table.num_rows, observed.type)
        parts.append(pa.table([table.column("movie_id"), key, observed], schema=_ROWS_SCHEMA))
    return pa.concat_tables(parts) if parts else _ROWS_SCHEMA.empty_table()


def built_by(schema: pa.Schema, build_fingerprint: str) -> bool:
    """Whether a year file of ``schema`` records ``build_fingerprint`` (`movie_assets.harvest.year_build`)."""
    return (schema.metadata or {}).get(BUILD_KEY.encode()) == build_fingerprint.encode()


def years_built_otherwise(lake: Lake, build_fingerprint: str) -> list[int | None]:
    """The partitions whose file was built by other rules or for other languages than ``build_fingerprint``."""
    return [year for year, path in lake.movies_year_files()
            if not built_by(read_parquet_schema(path), build_fingerprint)]


@dataclass
class Difference:
    """How the partitions differ from the store: counts, and the partitions to rebuild."""

    missing: int  # movies the store says belong in movies and no partition holds
    extra: int  # rows of movies that must not be there (gone, excluded by policy, or a second copy)
    misplaced: int  # rows in a year other than the one their current date gives
    stale: int  # rows built from an older version than the store's latest
    years: list[int | None]  # the partitions to rebuild, oldest first, the undated one (None) last

    def describe(self) -> str:
        return (f"{self.missing:,} missing, {self.extra:,} extra, {self.misplaced:,} misplaced, {self.stale:,} "
                f"stale rows")


def differing_years(actual: pa.Table, expected: pa.Table) -> Difference:
    """Compare `lake_rows` with `expected_rows` (see the module docstring)."""
    joined = actual.join(expected, keys="movie_id", join_type="full outer", left_suffix="_lake",
                         right_suffix="_store", use_threads=False, coalesce_keys=True)
    lake_year = joined.column("year_lake").to_numpy(zero_copy_only=False)
    store_year = joined.column("year_store").to_numpy(zero_copy_only=False)
    in_lake = joined.column("year_lake").is_valid().to_numpy(zero_copy_only=False)
    in_store = joined.column("year_store").is_valid().to_numpy(zero_copy_only=False)
    both = in_lake & in_store
    misplaced = both & (np.nan_to_num(lake_year, nan=0) != np.nan_to_num(store_year, nan=0))
    same_time = pc.fill_null(pc.equal(joined.column("observed_at_lake"), joined.column("observed_at_store")), False)
    stale = both & ~misplaced & ~same_time.to_numpy(zero_copy_only=False)
    # A movie held by two partitions joins the store's row twice: the copy in the wrong year is misplaced.
    missing = ~in_lake & in_store
    extra = in_lake & ~in_store
    years: set[int] = set()
    years.update(lake_year[extra | misplaced | stale].astype(np.int64).tolist())
    # A movie twice in one partition joins the store's row twice in the same year: find it by counting.
    held = actual.column("movie_id").to_numpy()
    unique, counts = np.unique(held, return_counts=True)
    twice = np.isin(held, unique[counts > 1])
    years.update(actual.column("year").to_numpy()[twice].astype(np.int64).tolist())
    years.update(store_year[(missing | misplaced | stale)].astype(np.int64).tolist())
    ordered = sorted(y for y in years if y != UNDATED_KEY)
    return Difference(
        missing=int(missing.sum()),
        extra=int(extra.sum()) + int(twice.sum()) - int((counts > 1).sum()),
        misplaced=int(misplaced.sum()),
        stale=int(stale.sum()),
        years=[*ordered, *([None] if UNDATED_KEY in years else [])],
    )
