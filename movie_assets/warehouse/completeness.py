"""Is the lake exactly TMDb's catalog? A set comparison with the newest daily ID export, never a count.

Every movie the export lists (under the adult/video policy) must be a row of ``movies``, in the year of its
current release date or in the undated partition, unless TMDb answers 404 for it. Rows must obey the policy,
and a row the export does not list although it was observed before the export was made must be gone once
the export was whole (a partial one keeps such rows until a whole export decides: reported, not failed).
Missing, misplaced, policy-violating and deleted-but-kept rows fail the check; newer movies the export
cannot know yet are reported as extra. Counts and examples of each are in the metadata. The
comparison applies once the catalog sync has run (``movie-assets sync``): a lake harvested year by year
from discover only holds the years asked for.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.harvest.cursor import SyncCursor
from movie_assets.harvest.deletions import export_made_at
from movie_assets.harvest.exports import read_snapshot
from movie_assets.harvest.store import NOT_FOUND, OK, DetailsStore
from movie_assets.lake import Lake
from movie_assets.lake.policy import CatalogPolicy
from movie_assets.warehouse.validation import CheckOutcome

EXAMPLES = 10


def check_complete(lake: Lake, *, include_adult: bool = False, include_video: bool = False) -> CheckOutcome:
    """The lake against the newest export (see the module docstring)."""
    days = lake.export_days()
    if not days or not lake.sync_cursor_file.exists():
        return CheckOutcome(True, "no catalog sync yet: the lake holds the discovered years asked for "
                                  "(run movie-assets sync to make it the whole catalog)", {"synced": False})
    day = days[-1]
    policy = CatalogPolicy(include_adult, include_video)
    export = read_snapshot(lake, day, ["id", "adult", "video"])
    every_id = set(export.column("id").to_pylist())
    listed = set(export.filter(policy.mask(export)).column("id").to_pylist())
    table = pq.read_table(lake.movies_file, columns=["movie_id", "year", "adult", "video", "harvested_at"])
    rows = dict(zip(table.column("movie_id").to_pylist(), table.column("year").to_pylist(), strict=True))
    outside_policy = sorted(table.filter(pc.invert(policy.mask(table))).column("movie_id").to_pylist())
    latest = DetailsStore(lake.details_store_dir).latest()
    current = dict(zip(latest.column("movie_id").to_pylist(), latest.column("release_year").to_pylist(),
                       strict=True))
    not_found = set(latest.filter(pc.equal(latest.column("status"), NOT_FOUND)).column("movie_id").to_pylist())
    made = pa.scalar(export_made_at(day), latest.schema.field("observed_at").type)
    # A flag that changed after the export was made: the store's newer version decides, as in the sync.
    newer = latest.filter(pc.and_(pc.fill_null(pc.greater_equal(latest.column("observed_at"), made), False),
                                  pc.equal(latest.column("status"), OK)))
    excluded_since = set(newer.filter(pc.invert(policy.mask(newer))).column("movie_id").to_pylist())
    missing = sorted(listed - set(rows) - not_found - excluded_since)
    misplaced = sorted(i for i, year in rows.items() if i in current and current[i] != year)
    made = pa.scalar(export_made_at(day), table.schema.field("harvested_at").type)
    seen_before = table.filter(pc.fill_null(pc.less(table.column("harvested_at"), made), False))
    unlisted = set(seen_before.column("movie_id").to_pylist()) - every_id
    whole = SyncCursor.read(lake, dt.date.max).export_whole
    # Rows the export does not list: released after it was made (reported), or gone (a failure, once a whole
    # export decided; a partial one keeps them, reported).
    extra = sorted(set(rows) - listed)
    gone = sorted(unlisted) if whole else []
    passed = not missing and not misplaced and not outside_policy and not gone
    problems = [f"{len(v):,} {k}" for k, v in (("missing", missing), ("misplaced", misplaced),
                                                 ("outside the adult/video policy", outside_policy),
                                                 ("deleted but still rows", gone)) if v]
    description = (
        f"every one of the {len(listed):,} movies in the export of {day} is in movies or tombstoned"
        if passed else f"movies against the export of {day}: " + ", ".join(problems)
    )
    return CheckOutcome(passed, description, {
        "synced": True,
        "export_day": day.isoformat(),
        "export_whole": whole,
        "listed": len(listed),
        "rows": len(rows),
        "not_found": len(not_found),
        "missing": len(missing),
        "misplaced": len(misplaced),
        "outside_policy": len(outside_policy),
        "deleted_but_rows": len(gone),
        "kept_for_a_whole_export": 0 if whole else len(unlisted),
        "extra": len(extra),
        "missing_examples": missing[:EXAMPLES],
        "misplaced_examples": misplaced[:EXAMPLES],
        "outside_policy_examples": outside_policy[:EXAMPLES],
        "deleted_but_rows_examples": gone[:EXAMPLES],
        "extra_examples": extra[:EXAMPLES],
    })
