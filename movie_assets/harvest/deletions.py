"""Which movies left TMDb, judged from one daily ID export against the lake, and when to believe it.

The candidates are the movies whose latest stored version is good, that were observed before the export was
made (its day, 00:00 UTC: a movie seen later may be newer than the file), and that the export does not list
(an adult title does not count when the export was read without its adult file). They are judged against
the lake itself, not against the snapshot before, so a lost or corrupt snapshot, a kill or an older lake
never loses a deletion.

An export can be partial (a file cut short upstream, a day that drops movies by mistake). It is trusted for
deletions only when it is whole: it still lists at least ``min_share`` of the previous snapshot's ids and
its candidates are at most ``1 - min_share`` of the lake's live movies. A partial export deletes nothing:
its candidates are kept, with a warning giving the counts, until a whole export decides (two partial files
cut the same way do not confirm each other). If TMDb really deleted more than that share — a lake synced
after months — the warning names the setting to lower for one run.

The sync then asks TMDb once about each candidate of a whole export (`movie_assets.harvest.sync`): a 404 is
stored as a ``not_found`` version, stamped when it was seen (history never changes after the fact), so the movie
leaves ``movies`` and history from then on; one that still answers was omitted by mistake and stays.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest import exports
from movie_assets.harvest.store import OK
from movie_assets.lake import Lake

DEFAULT_MIN_SHARE = 0.99


@dataclass
class DeletionVerdict:
    """What one export says about deletions, and what was applied."""

    day: dt.date
    candidates: int  # live movies of the lake the export does not list
    applied: int  # deletions written (all candidates when the export is whole)
    share_of_previous: float | None  # share of the previous snapshot's ids this export still lists
    share_of_lake: float  # 1 - candidates / live movies of the lake
    trusted: bool

    @property
    def kept(self) -> int:
        return self.candidates - self.applied

    def describe(self) -> str:
        previous = "no previous snapshot" if self.share_of_previous is None else (
            f"{self.share_of_previous:.2%} of the previous snapshot's ids")
        if self.trusted:
            return f"export of {self.day} is whole ({previous}): {self.applied:,} movies deleted"
        return (f"export of {self.day} looks partial ({previous}, {self.share_of_lake:.2%} of the lake's live "
                f"movies): the {self.kept:,} movies it omits are kept until a whole export decides (if TMDb "
                "really deleted them, run the sync once with a lower --min-export-share / min_export_share)")


def export_made_at(day: dt.date) -> dt.datetime:
    """The time a day's export stands for: the start of its day (UTC)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def judge_deletions(
    lake_latest: pa.Table, export: pa.Table, previous_ids: pa.Array | None, *, day: dt.date,
    with_adult: bool, min_share: float = DEFAULT_MIN_SHARE,
) -> tuple[DeletionVerdict, pa.Array]:
    """The verdict on the export of ``day`` (its ``id`` column in ``export``) and the ids to delete, given
    the store's latest observations and the previous snapshot's ids (None: no readable previous snapshot)."""
    if not 0.0 < min_share <= 1.0:
        raise ValueError(f"the export's minimum share must be within (0, 1], not {min_share}")
    listed = export.column("id").combine_chunks()
    live = lake_latest.filter(pc.equal(lake_latest.column("status"), OK))
    made = pa.scalar(export_made_at(day), live.schema.field("observed_at").type)
    # Seen before the export was made by the server's clock; a time from another clock (no Date header, or
    # adjusted by the clock rule) cannot be compared with the export's day, so such a movie is a candidate
    # too: every candidate of a whole export is asked about before anything is deleted.
    seen_before = pc.or_(pc.fill_null(pc.less(live.column("observed_at"), made), False),
                         pc.fill_null(pc.not_equal(live.column("clock"), "server"), False))
    unlisted = pc.and_(seen_before, pc.invert(pc.is_in(live.column("movie_id"), value_set=listed)))
    if not with_adult:
        unlisted = pc.and_(unlisted, pc.invert(pc.fill_null(live.column("adult"), False)))
    candidates = live.filter(unlisted).column("movie_id").combine_chunks()
    share_of_lake = 1.0 - len(candidates) / live.num_rows if live.num_rows else 1.0
    share_of_previous = None
    if previous_ids is not None and len(previous_ids):
        share_of_previous = pc.sum(pc.is_in(previous_ids, value_set=listed)).as_py() / len(previous_ids)
    trusted = share_of_lake >= min_share and (share_of_previous is None or share_of_previous >= min_share)
    applied = candidates if trusted else pa.array([], pa.int64())
    verdict = DeletionVerdict(day, len(candidates), len(applied), share_of_previous, share_of_lake, trusted)
    return verdict, applied


def judge_export(
    lake: Lake, store_latest: pa.Table, day: dt.date, *, with_adult: bool, min_share: float = DEFAULT_MIN_SHARE,
    logger: logging.Logger | None = None,
) -> tuple[DeletionVerdict, pa.Array]:
    """`judge_deletions` for the stored export of ``day`` against the newest readable earlier snapshot."""
    export = exports.read_snapshot(lake, day, ["id"])
    previous_day = exports.previous_snapshot_day(lake, day, logger)
    previous = exports.read_snapshot_ids(lake, previous_day) if previous_day is not None else None
    return judge_deletions(store_latest, export, previous, day=day, with_adult=with_adult, min_share=min_share)
