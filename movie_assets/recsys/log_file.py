"""A team's own interaction log (CSV or Parquet) bridged to the lake's movies.

Columns: ``user_id``; exactly one item id column — ``tmdb_id`` (the lake's movie ids), ``imdb_id`` (``tt0114709``
or its digits) or ``movielens_id`` (with a MovieLens links.csv, ``links_path``); ``timestamp`` (epoch seconds,
ISO-8601 text with a zone or without one (UTC), or a Parquet timestamp); optional ``rating`` (a number, empty
for implicit feedback), ``event`` (default ``interaction``) and ``weight`` (default 1.0, never negative). Other
columns are ignored. Every item id goes through the same bridge as MovieLens, one bridge row per distinct id.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
import pyarrow.parquet as pq

from movie_assets.lake import Lake
from movie_assets.recsys.bridge import ITEMS_SCHEMA, bridge_items, lake_items
from movie_assets.recsys.coverage import bridged_source, check_floor
from movie_assets.recsys.events import EVENTS_SCHEMA, FILE, SourceError, SourceEvents
from movie_assets.recsys.movielens import read_links
from movie_assets.recsys.reading import (
    Rows,
    convert,
    input_file,
    normalize_imdb,
    parse_timestamps,
    refuse_where,
    require,
)

ID_COLUMNS = ("tmdb_id", "imdb_id", "movielens_id")
COLUMNS = ("user_id", *ID_COLUMNS, "timestamp", "rating", "event", "weight")
DEFAULT_EVENT = "interaction"
LICENCE = {"name": "the team's own interaction log",
           "terms": "the owner's: nothing in the file allows redistributing it, so datasets built from it are "
                    "not published unless its owner decides otherwise"}


def _read_table(path: Path) -> tuple[pa.Table, Rows, str]:
    """The file's columns this reader knows (text as text: values are converted, and refused, here), how to
    name its rows, and its format."""
    name = path.name.lower()
    if path.stat().st_size == 0:
        raise SourceError(f"{path} is empty; give a file with a header and one row per event")
    try:
        if name.endswith((".parquet", ".pq")):
            return pq.read_table(path), Rows(str(path), 1, "row"), "parquet"
        if name.endswith((".csv", ".csv.gz")):
            table = csv.read_csv(path, convert_options=csv.ConvertOptions(
                column_types=dict.fromkeys(COLUMNS, pa.string()), null_values=[""], strings_can_be_null=True))
            return table, Rows(str(path)), "csv"
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(f"{path} cannot be read as {'Parquet' if 'parquet' in name else 'CSV'} ({exc}); "
                          "check that the file is whole and in that format") from None
    raise SourceError(f"{path} is neither .csv nor .parquet; give an interaction log in one of those formats")


def _id_column(names: list[str], path: Path, links_path: Path | None) -> str:
    given = [column for column in ID_COLUMNS if column in names]
    if not given:
        raise SourceError(f"{path} has none of the item id columns {', '.join(ID_COLUMNS)}; add exactly one "
                          f"(its columns: {', '.join(names)})")
    if len(given) > 1:
        raise SourceError(f"{path} has the item id columns {' and '.join(given)}; keep exactly one of them")
    if given[0] == "movielens_id" and links_path is None:
        raise SourceError(f"{path} names items by movielens_id: pass --links with a MovieLens links.csv "
                          "(links_path) to resolve them to TMDb ids")
    return given[0]


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _item_ids(table: pa.Table, column: str, rows: Rows) -> pa.Array:
    """The item of each event as text: the TMDb or MovieLens id as digits, or the IMDb id as ``tt0114709``."""
    values = _column(table, column)
    require(values, rows, column)
    if column == "imdb_id":
        ids = normalize_imdb(values, rows, column)
        require(ids, rows, column)
        return ids
    numbers = convert(values, pa.int64(), rows, column, "an id (a positive integer)")
    refuse_where(pc.less(numbers, 1), numbers, rows, column, "an id (a positive integer)")
    return pc.cast(numbers, pa.string())


def log_items(item_ids: pa.Array, column: str, links: pa.Table | None) -> pa.Table:
    """The bridge's items (`ITEMS_SCHEMA`): one per distinct item id with its events, numeric ids in numeric
    order, IMDb ids in text order."""
    counted = pc.value_counts(item_ids)
    ids, events = counted.field("values"), counted.field("counts").cast(pa.int64())
    numeric = column != "imdb_id"
    order = pc.sort_indices(pc.cast(ids, pa.int64()) if numeric else ids)
    ids, events = ids.take(order), events.take(order)
    none_text, none_int = pa.nulls(len(ids), pa.string()), pa.nulls(len(ids), pa.int64())
    imdb, tmdb, listed = none_text, none_int, pa.array(np.ones(len(ids), bool))
    if column == "tmdb_id":
        tmdb = pc.cast(ids, pa.int64())
    elif column == "imdb_id":
        imdb = ids
    elif links is not None:
        where = pc.index_in(pc.cast(ids, pa.int64()), value_set=links.column("movie_id"))
        imdb = links.column("imdb_id").combine_chunks().take(where)
        tmdb = links.column("tmdb_id").combine_chunks().take(where)
        listed = pc.is_valid(where)
    return pa.table({"source_item_id": ids, "imdb_id": imdb, "tmdb_id": tmdb, "events": events,
                     "title": none_text, "listed": listed}, schema=ITEMS_SCHEMA)


def _optional(table: pa.Table, rows: Rows) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(rating, event, weight) of every row, with their defaults where the file has none."""
    n = table.num_rows
    rating = pa.nulls(n, pa.float32())
    if "rating" in table.column_names:
        rating = convert(_column(table, "rating"), pa.float32(), rows, "rating", "a number")
        refuse_where(pc.is_nan(rating), rating, rows, "rating", "a number")
    event = pa.repeat(pa.scalar(DEFAULT_EVENT), n)
    if "event" in table.column_names:
        given = convert(_column(table, "event"), pa.string(), rows, "event", "text")
        event = pc.if_else(pc.fill_null(pc.not_equal(given, ""), False), given, DEFAULT_EVENT)
    weight = pa.repeat(pa.scalar(1.0, pa.float32()), n)
    if "weight" in table.column_names:
        given = convert(_column(table, "weight"), pa.float32(), rows, "weight", "a number")
        refuse_where(pc.or_(pc.less(given, 0), pc.is_nan(given)), given, rows, "weight",
                     "a weight (a number, 0 or more)")
        weight = pc.fill_null(given, pa.scalar(1.0, pa.float32()))
    return rating, event, weight


def read_log_file(lake: Lake, path: str | Path, links_path: str | Path | None = None,
                  floor: float = 0.5) -> SourceEvents:
    """The events of an interaction log as `SourceEvents` on the lake's movies (kind ``file``), with the bridge
    and its ``bridge_coverage`` report; an error when less than ``floor`` of the events reach a lake movie.
    ``links_path``: a MovieLens links.csv, needed when the log names items by ``movielens_id``."""
    floor = check_floor(floor)
    path = Path(path)
    inputs = [input_file("interactions_file", path, "the interactions file")]
    links_file = Path(links_path) if links_path is not None else None
    table, rows, kind = _read_table(path)
    if not table.num_rows:
        raise SourceError(f"{path} has a header but no rows; give a file with one row per event")
    for required in ("user_id", "timestamp"):
        if required not in table.column_names:
            raise SourceError(f"{path} has no column {required} (its columns: {', '.join(table.column_names)}); "
                              "add it")
    column = _id_column(table.column_names, path, links_file)
    links, notes = None, []
    if links_file is not None and column == "movielens_id":
        inputs.append(input_file("links", links_file, "--links"))
        links = read_links(links_file, f"--links {links_file}")
    elif links_file is not None:
        notes.append(f"--links {links_file} was not used: {path} names its items by {column}")
    users = convert(_column(table, "user_id"), pa.string(), rows, "user_id", "text")
    require(pc.if_else(pc.equal(users, ""), pa.scalar(None, pa.string()), users), rows, "user_id")
    item_ids = _item_ids(table, column, rows)
    timestamps = parse_timestamps(_column(table, "timestamp"), rows, "timestamp")
    rating, event, weight = _optional(table, rows)
    bridge = bridge_items(log_items(item_ids, column, links), lake_items(lake))
    kept = bridge.filter(bridge.column("kept"))
    movie_id = kept.column("movie_id").combine_chunks().take(
        pc.index_in(item_ids, value_set=kept.column("source_item_id")))
    events = pa.table([users, movie_id, item_ids, timestamps, rating, event, weight],
                      schema=EVENTS_SCHEMA).filter(pc.is_valid(movie_id))
    policies = {"floor": floor, "format": kind, "id_column": column,
                "links": str(links_file) if links is not None else None}
    source = bridged_source(FILE, events, bridge, table.num_rows, floor, inputs, policies=policies,
                            publishable=False, licence=LICENCE)
    source.warnings.extend(notes)
    return source
