"""Is the lake exactly TMDb's catalog? A set comparison with the newest daily ID export, never a count.

Every movie the export lists (under the adult/video policy) must be a row of ``movies``, in the year of its
current release date or in the undated partition, or be tombstoned with a reason. Counts of missing,
misplaced and extra movies (and examples) are reported; missing or misplaced ones fail the check. The
comparison applies once the catalog sync has run (``movie-assets sync``): a lake harvested year by year
from discover only holds the years asked for.
"""

from __future__ import annotations

import pyarrow.parquet as pq

from movie_assets.harvest.exports import listed_ids
from movie_assets.harvest.store import DetailsStore
from movie_assets.harvest.tombstones import tombstoned_ids
from movie_assets.lake import Lake
from movie_assets.warehouse.validation import CheckOutcome

EXAMPLES = 10


def check_complete(lake: Lake, *, include_adult: bool = False, include_video: bool = False) -> CheckOutcome:
    """The lake against the newest export (see the module docstring)."""
    days = lake.export_days()
    if not days or not lake.sync_cursor_file.exists():
        return CheckOutcome(True, "no catalog sync yet: the lake holds the discovered years asked for "
                                  "(run movie-assets sync to make it the whole catalog)", {"synced": False})
    day = days[-1]
    listed = listed_ids(lake, day, include_adult, include_video)
    table = pq.read_table(lake.movies_file, columns=["movie_id", "year"])
    rows = dict(zip(table.column("movie_id").to_pylist(), table.column("year").to_pylist(), strict=True))
    store = DetailsStore(lake.details_store_dir)
    latest = store.latest()
    current = dict(zip(latest.column("movie_id").to_pylist(), latest.column("release_year").to_pylist(),
                       strict=True))
    gone = tombstoned_ids(lake, store, latest)
    missing = sorted(listed - set(rows) - gone)
    misplaced = sorted(i for i, year in rows.items() if i in current and current[i] != year)
    extra = sorted(set(rows) - listed)  # e.g. released after the export was made: reported, not failed
    passed = not missing and not misplaced
    description = (
        f"every one of the {len(listed):,} movies in the export of {day} is in movies or tombstoned"
        if passed else f"{len(missing):,} movies of the export of {day} are missing, {len(misplaced):,} misplaced"
    )
    return CheckOutcome(passed, description, {
        "synced": True,
        "export_day": day.isoformat(),
        "listed": len(listed),
        "rows": len(rows),
        "tombstoned": len(gone),
        "missing": len(missing),
        "misplaced": len(misplaced),
        "extra": len(extra),
        "missing_examples": missing[:EXAMPLES],
        "misplaced_examples": misplaced[:EXAMPLES],
        "extra_examples": extra[:EXAMPLES],
    })
