"""The bridge: a source's item ids resolved to the lake's movies, one row per source item and why it was kept.

A source hands `bridge_items` its items (`ITEMS_SCHEMA`: the item id, the TMDb and IMDb ids it gives, how many
events name it) and the lake's side, `LakeItems`, read once by `lake_items`; the bridge is a pure function of
the two. Each row gets one reason, the first of these that applies:

1. ``duplicate_tmdb_id`` (kept): the item resolves (by 2–4) to a movie that an earlier item of the bridge
   (in its order) already resolved to; both map to that movie, ``detail`` names the first (``first: <id>``).
2. ``imdb_mismatch`` (kept): the TMDb id is a lake movie whose imdb_id differs from the source's; kept through
   the TMDb id and flagged (``detail``: ``lake tt…, source tt…``).
3. ``matched`` (kept): the TMDb id is a lake movie (and the IMDb ids agree, or one side has none).
4. ``matched_by_imdb`` (kept): the TMDb id is missing, tombstoned or not a lake movie, but the IMDb id names
   exactly one lake movie (``detail`` says what was wrong with the TMDb id).
5. ``no_tmdb_id`` (dropped): no TMDb id, and the IMDb id names no single lake movie (``detail`` says what it
   named; ``not in links`` for a rated item the links file does not list).
6. ``tombstoned`` (dropped): TMDb answered 404 for the TMDb id (the lake's tombstones).
7. ``not_in_lake`` (dropped), ``detail`` one of ``policy`` (adult or video, outside the lake's policy),
   ``year_range`` (its release year is not one the lake holds), ``not_harvested`` (the details store never
   saw it) or ``not_built`` (known and allowed, yet its year's movies file lacks it).

`reconcile_bridge` checks that no event is lost between reading and keeping; `movie_assets.recsys.coverage`
turns a bridge into its report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.store import DetailsStore
from movie_assets.harvest.tombstones import tombstones
from movie_assets.lake import Lake
from movie_assets.lake.generations import current_generation, snapshot_dir
from movie_assets.lake.policy import resolve_policy
from movie_assets.lake.readers import LakeInputError, read_parquet

MATCHED, MATCHED_BY_IMDB, IMDB_MISMATCH, DUPLICATE_TMDB_ID = (
    "matched", "matched_by_imdb", "imdb_mismatch", "duplicate_tmdb_id")
NO_TMDB_ID, TOMBSTONED, NOT_IN_LAKE = "no_tmdb_id", "tombstoned", "not_in_lake"
REASONS = (MATCHED, MATCHED_BY_IMDB, IMDB_MISMATCH, DUPLICATE_TMDB_ID, NO_TMDB_ID, TOMBSTONED, NOT_IN_LAKE)
KEPT_REASONS = frozenset({MATCHED, MATCHED_BY_IMDB, IMDB_MISMATCH, DUPLICATE_TMDB_ID})
POLICY, YEAR_RANGE, NOT_HARVESTED, NOT_BUILT = "policy", "year_range", "not_harvested", "not_built"
NOT_IN_LAKE_DETAILS = (POLICY, YEAR_RANGE, NOT_HARVESTED, NOT_BUILT)
NOT_IN_LINKS = "not in links"

ITEMS_SCHEMA = pa.schema([
    ("source_item_id", pa.string()),
    ("imdb_id", pa.string()),  # "tt0114709" (`reading.normalize_imdb`), null when the source gives none
    ("tmdb_id", pa.int64()),
    ("events", pa.int64()),
    ("title", pa.string()),  # the source's title, null when it has none
    ("listed", pa.bool_()),  # False: a rated item the source's links file does not list
])
BRIDGE_SCHEMA = pa.schema([
    ("source_item_id", pa.string()),
    ("imdb_id", pa.string()),
    ("tmdb_id", pa.int64()),
    ("movie_id", pa.int64()),  # the lake movie its events go to; null when not kept
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("kept", pa.bool_()),
    ("events", pa.int64()),  # the source's events on this item, kept or not
    ("title", pa.string()),
    ("year", pa.int32()),  # the lake's release year when kept, else the year in the source's title
])
_TITLE_YEAR = r"\((?P<year>[0-9]{4})\)\s*$"


@dataclass(frozen=True)
class LakeItems:
    """What the lake knows about movies, in the arrays the bridge looks ids up in (`lake_items` reads them)."""

    movie_ids: pa.Array  # int64: the current movies, every year file
    movie_imdb: pa.Array  # string, aligned with movie_ids
    movie_years: pa.Array  # int32, aligned (null: undated)
    imdb_ids: pa.Array  # string: the IMDb ids that name exactly one current movie …
    imdb_movies: pa.Array  # int64: … and that movie
    imdb_shared: pa.Array  # string: the IMDb ids several current movies carry
    tombstoned: pa.Array  # int64
    store_ids: pa.Array  # int64: every movie the details store holds a good version of …
    store_allowed: pa.Array  # bool: … whether the policy allows its latest version's flags …
    store_years: pa.Array  # int32: … and that version's release year
    years: frozenset[int | None]  # the partitions the lake holds (None: the undated movies)
    generation: str | None = None  # the generation of movies_parquet read

    @classmethod
    def from_tables(cls, movies: pa.Table, tombstoned: Iterable[int], latest: pa.Table, allowed: Any,
                    years: Iterable[int | None], generation: str | None = None) -> LakeItems:
        """From the current movies (movie_id, imdb_id, year), the tombstoned ids, the store's latest versions
        (movie_id, status, release_year) with the policy's mask over them, and the years held."""
        imdb = movies.select(["movie_id", "imdb_id"]).filter(
            pc.fill_null(pc.not_equal(movies.column("imdb_id"), ""), False))
        counted = imdb.group_by("imdb_id").aggregate([("movie_id", "count"), ("movie_id", "min")])
        once = pc.equal(counted.column("movie_id_count"), 1)
        good = pc.fill_null(pc.equal(latest.column("status"), "ok"), False)
        stored = latest.append_column("allowed", allowed).filter(good)
        return cls(
            movie_ids=_array(movies, "movie_id", pa.int64()), movie_imdb=_array(movies, "imdb_id", pa.string()),
            movie_years=_array(movies, "year", pa.int32()),
            imdb_ids=_array(counted.filter(once), "imdb_id", pa.string()),
            imdb_movies=_array(counted.filter(once), "movie_id_min", pa.int64()),
            imdb_shared=_array(counted.filter(pc.invert(once)), "imdb_id", pa.string()),
            tombstoned=pa.array(list(tombstoned), pa.int64()),
            store_ids=_array(stored, "movie_id", pa.int64()), store_allowed=_array(stored, "allowed", pa.bool_()),
            store_years=_array(stored, "release_year", pa.int32()), years=frozenset(years), generation=generation,
        )


def _array(table: pa.Table, column: str, type_: pa.DataType) -> pa.Array:
    return table.column(column).combine_chunks().cast(type_)


def lake_items(lake: Lake) -> LakeItems:
    """The lake's movies (one generation of its year files), tombstones and details store, read once."""
    files = lake.movies_year_files(snapshot_dir(lake))
    if not files:
        raise LakeInputError(f"no materialized years under {lake.movies_dataset_dir} to bridge events to; "
                             "materialize `movies` first")
    schema = pa.schema([("movie_id", pa.int64()), ("imdb_id", pa.string())])
    tables = []
    for year, path in files:  # a year file holds no year column: its partition is the year
        table = read_parquet(path, columns=schema.names).cast(schema)
        tables.append(table.append_column("year", pa.nulls(table.num_rows, pa.int32()) if year is None
                                          else pa.repeat(pa.scalar(year, pa.int32()), table.num_rows)))
    movies = pa.concat_tables(tables)
    store = DetailsStore(lake.details_store_dir)
    latest = store.latest()
    allowed = resolve_policy(lake, record=False).mask(latest)
    gone = tombstones(lake, store, latest).column("movie_id").to_pylist()
    return LakeItems.from_tables(movies, gone, latest, allowed, (year for year, _ in files),
                                 current_generation(lake))


def title_years(titles: pa.Array) -> pa.Array:
    """The year in a MovieLens title such as ``Toy Story (1995)`` (int32, null without one)."""
    found = pc.extract_regex(pc.fill_null(titles.cast(pa.string()), ""), _TITLE_YEAR)
    years = found.field("year")
    return pc.if_else(pc.is_valid(found), years, pa.scalar(None, pa.string())).cast(pa.int32())


def _lookup(keys: pa.Array, value_set: pa.Array, values: pa.Array) -> list[Any]:
    """``values`` at each key's position in ``value_set`` (None where it is absent)."""
    if len(value_set) == 0:
        return [None] * len(keys)
    return values.take(pc.index_in(keys, value_set=value_set)).to_pylist()


def bridge_items(items: pa.Table, lake: LakeItems) -> pa.Table:
    """One `BRIDGE_SCHEMA` row per row of ``items`` (`ITEMS_SCHEMA`, in the bridge's order: an earlier item wins
    a movie two items resolve to), each with its reason (see the module)."""
    items = items.select(ITEMS_SCHEMA.names).cast(ITEMS_SCHEMA).combine_chunks()
    tmdb, imdb = items.column("tmdb_id").combine_chunks(), items.column("imdb_id").combine_chunks()
    columns = {name: items.column(name).to_pylist() for name in ("source_item_id", "imdb_id", "tmdb_id", "listed")}
    lake_imdb = _lookup(tmdb, lake.movie_ids, lake.movie_imdb)
    in_lake = pc.is_in(tmdb, value_set=lake.movie_ids).to_pylist()
    movie_year = _lookup(tmdb, lake.movie_ids, lake.movie_years)
    by_imdb = _lookup(imdb, lake.imdb_ids, lake.imdb_movies)
    by_imdb_year = _lookup(pa.array(by_imdb, pa.int64()), lake.movie_ids, lake.movie_years)
    shared = pc.is_in(imdb, value_set=lake.imdb_shared).to_pylist()
    gone = pc.is_in(tmdb, value_set=lake.tombstoned).to_pylist()
    allowed = _lookup(tmdb, lake.store_ids, lake.store_allowed)
    stored_year = _lookup(tmdb, lake.store_ids, lake.store_years)
    known = pc.is_in(tmdb, value_set=lake.store_ids).to_pylist()
    first: dict[int, str] = {}
    out: dict[str, list[Any]] = {name: [] for name in ("movie_id", "reason", "detail", "year")}
    for i, source_id in enumerate(columns["source_item_id"]):
        tmdb_id, source_imdb = columns["tmdb_id"][i], columns["imdb_id"][i]
        movie = year = detail = None
        if in_lake[i]:
            movie, year = tmdb_id, movie_year[i]
            reason = MATCHED
            if source_imdb and lake_imdb[i] and source_imdb != lake_imdb[i]:
                reason, detail = IMDB_MISMATCH, f"lake {lake_imdb[i]}, source {source_imdb}"
        elif by_imdb[i] is not None:
            movie, year, reason = by_imdb[i], by_imdb_year[i], MATCHED_BY_IMDB
            detail = ("tmdb_id missing" if tmdb_id is None
                      else f"tmdb_id {tmdb_id} " + ("tombstoned" if gone[i] else "not in the lake"))
        elif tmdb_id is None:
            reason = NO_TMDB_ID
            detail = (NOT_IN_LINKS if columns["listed"][i] is False else None if not source_imdb
                      else f"{source_imdb} names {'several lake movies' if shared[i] else 'no lake movie'}")
        elif gone[i]:
            reason = TOMBSTONED
        else:
            reason = NOT_IN_LAKE
            detail = (NOT_HARVESTED if not known[i] else POLICY if not allowed[i]
                      else YEAR_RANGE if stored_year[i] not in lake.years else NOT_BUILT)
        if movie is not None:
            if movie in first:
                reason, detail = DUPLICATE_TMDB_ID, f"first: {first[movie]}"
            else:
                first[movie] = source_id
        for name, value in (("movie_id", movie), ("reason", reason), ("detail", detail), ("year", year)):
            out[name].append(value)
    title_year = title_years(items.column("title").combine_chunks())
    year = pc.coalesce(pa.array(out["year"], pa.int32()), title_year)
    movie_id = pa.array(out["movie_id"], pa.int64())
    return pa.table({
        "source_item_id": items.column("source_item_id"), "imdb_id": items.column("imdb_id"),
        "tmdb_id": items.column("tmdb_id"), "movie_id": movie_id, "reason": pa.array(out["reason"], pa.string()),
        "detail": pa.array(out["detail"], pa.string()), "kept": pc.is_valid(movie_id),
        "events": items.column("events"), "title": items.column("title"), "year": year,
    }, schema=BRIDGE_SCHEMA)


def _sum(values: Any) -> int:
    return int(pc.sum(values).as_py() or 0)


def reconcile_bridge(bridge: pa.Table, events_read: int, events_kept: int) -> tuple[bool, str, dict[str, Any]]:
    """Whether every event read is accounted for: events read == events kept + events dropped, the events per
    reason sum to the bridge's total, the kept rows' events are the events kept (``events_kept``: the rows of
    the events table), and each row's ``kept`` and ``movie_id`` agree with its reason. Returns (passed, a
    one-line description, the counts as metadata)."""
    events, kept = bridge.column("events"), bridge.column("kept")
    total, kept_sum = _sum(events), _sum(pc.if_else(kept, events, 0))
    dropped = _sum(pc.if_else(kept, 0, events))
    per_reason = {reason: _sum(pc.if_else(pc.equal(bridge.column("reason"), reason), events, 0))
                  for reason in REASONS}
    should_keep = pc.is_in(bridge.column("reason"), value_set=pa.array(sorted(KEPT_REASONS)))
    odd_rows = _sum(pc.cast(pc.or_(
        pc.or_(pc.invert(pc.fill_null(pc.is_in(bridge.column("reason"), value_set=pa.array(REASONS)), False)),
               pc.not_equal(kept, should_keep)),
        pc.or_(pc.not_equal(kept, pc.is_valid(bridge.column("movie_id"))),
               pc.fill_null(pc.less(events, 0), True))), pa.int64()))
    failures = []
    if total != events_read:
        failures.append(f"{events_read} events read, but the bridge's items account for {total}")
    if kept_sum != events_kept:
        failures.append(f"{events_kept} events kept, but the bridge's kept items account for {kept_sum}")
    if events_read != events_kept + dropped:
        failures.append(f"events read {events_read} != kept {events_kept} + dropped {dropped}")
    if sum(per_reason.values()) != total:
        failures.append(f"the events per reason sum to {sum(per_reason.values())}, not the total {total}")
    if odd_rows:
        failures.append(f"{odd_rows} bridge rows whose reason, kept flag, movie id or events disagree")
    metadata = {"events_read": events_read, "events_kept": events_kept, "events_dropped": dropped,
                "bridge_events": total, "bridge_events_kept": kept_sum, "bridge_rows": bridge.num_rows,
                "inconsistent_rows": odd_rows, "events_per_reason": per_reason}
    if failures:
        return False, "; ".join(failures), metadata
    return True, (f"every event accounted for: {events_read} read = {events_kept} kept + {dropped} dropped, "
                  f"over {bridge.num_rows} bridge rows"), metadata
