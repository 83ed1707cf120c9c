"""Typed ``movies`` rows from stored details payloads, a column at a time (no Python object per movie).

`movies_from_payloads` gives exactly what `records.movie_row` and `records.movies_table` give for the same
payloads — the same bytes once written — at a fraction of the cost: the payloads are parsed by
``pyarrow.json`` against `PAYLOAD_SCHEMA` (the fields of TMDb's ``/movie/{id}`` answer the lake keeps), and
each rule of `movie_row` is an Arrow compute step: blank strings become null, 0 becomes null, the cast is
sorted by billing order, directors are kept once each, image URLs are built only for a path.

A batch whose payloads stray from that schema (a string where a number belongs, a null inside a list, a
date that is not ``YYYY-MM-DD``) is built row by row with `movie_row` instead, so odd data is read exactly as
before, never dropped and never read differently.

The details store keeps each payload's typed reading (`TYPED_TYPE`) beside it, stamped with
`TYPED_FINGERPRINT`: a hash of `TYPED_TYPE`, `PAYLOAD_SCHEMA` and `RULES_VERSION`. A stored reading of another
fingerprint is derived again from its payload when read, so a new column is filled for every stored movie
whose payload has the field. Adding or changing a field changes the fingerprint by itself; **bump
`RULES_VERSION` by hand whenever a parsing rule changes** (here or in `records.movie_row`) without changing a
type, e.g. what counts as blank.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from movie_assets.harvest.records import movie_row
from movie_assets.lake.schema import CAST_TYPE, DIRECTOR_TYPE, MOVIES_SCHEMA

_ID_NAME = pa.struct([("id", pa.int64()), ("name", pa.string())])
PAYLOAD_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("title", "original_title", "original_language", "overview", "tagline",
                                      "status", "imdb_id", "release_date", "poster_path", "backdrop_path")]
    + [("adult", pa.bool_()), ("video", pa.bool_()), ("popularity", pa.float64()),
       ("vote_average", pa.float64()), ("vote_count", pa.int64()), ("runtime", pa.int64()),
       ("budget", pa.int64()), ("revenue", pa.int64()), ("genres", pa.list_(_ID_NAME))]
    + [("credits", pa.struct([
        ("cast", pa.list_(pa.struct([("id", pa.int64()), ("name", pa.string()), ("character", pa.string()),
                                     ("order", pa.int64())]))),
        ("crew", pa.list_(pa.struct([("id", pa.int64()), ("name", pa.string()), ("job", pa.string())]))),
    ])), ("keywords", pa.struct([("keywords", pa.list_(pa.struct([("name", pa.string())])))]))]
)

# Exactly the characters for which Python's str.isspace() is true (what `blank_to_none`'s strip() removes).
_PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                  "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_BLANK = "^[" + "".join(f"\\x{{{ord(c):04x}}}" for c in _PY_WHITESPACE) + "]*$"
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


# What a payload alone determines of a `movies` row: all but the id, the partition year, the image URLs (they
# depend on the image base and sizes of the build) and what the store records of the call itself.
BUILD_TIME_FIELDS = ("movie_id", "year", "poster_url", "backdrop_url", "details_status", "harvested_at")
TYPED_TYPE = pa.struct([f for f in MOVIES_SCHEMA if f.name not in BUILD_TIME_FIELDS])
# Bump when a rule that turns a payload into `TYPED_TYPE` changes while the types stay the same (see above).
RULES_VERSION = 1
TYPED_FINGERPRINT = hashlib.sha256(
    f"{TYPED_TYPE}\n{PAYLOAD_SCHEMA}\nrules {RULES_VERSION}".encode()).hexdigest()[:16]
"""The fingerprint of the rules and schema that make a typed reading; stored typed readings carry it."""
# The input of `movies_from_payloads`: good versions with their payload (`DetailsStore.latest_versions`).
PAYLOADS_SCHEMA = pa.schema([("movie_id", pa.int64()), ("status", pa.string()),
                             ("observed_at", pa.timestamp("us", tz="UTC")), ("payload", pa.string())])


class _Unusual(Exception):
    """The batch strays from `PAYLOAD_SCHEMA`: read it row by row."""


def typed_fields(payloads: pa.Array | pa.ChunkedArray, *, unreadable_as_null: bool = False) -> pa.StructArray:
    """The `TYPED_TYPE` reading of each details payload (compact JSON strings, none null), as `movie_row`
    reads it. A payload `movie_row` cannot read raises its error, or with ``unreadable_as_null`` gives a null
    (the store keeps the payload, and the build that needs it reports the error)."""
    payloads = payloads.combine_chunks() if isinstance(payloads, pa.ChunkedArray) else payloads
    if len(payloads) == 0:
        return pa.array([], TYPED_TYPE)
    if payloads.null_count:
        raise ValueError("typed_fields needs a payload for every row")
    try:
        return _columnar(payloads)
    except (_Unusual, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return _row_by_row(payloads, unreadable_as_null)


def movies_from_typed(
    versions: pa.Table, *, image_base_url: str | None, poster_size: str = "w500", backdrop_size: str = "w780"
) -> pa.Table:
    """``versions`` (``movie_id, status, observed_at, typed``) → `MOVIES_SCHEMA` rows in the same order."""
    typed = versions.column("typed").combine_chunks()
    fields = {f.name: typed.field(i) for i, f in enumerate(TYPED_TYPE)}
    release_date = fields["release_date"]
    columns = {
        **fields,
        "movie_id": versions.column("movie_id"),
        "year": pc.cast(pc.year(release_date), pa.int16()),
        "poster_url": _image_url(image_base_url, poster_size, fields["poster_path"]),
        "backdrop_url": _image_url(image_base_url, backdrop_size, fields["backdrop_path"]),
        "details_status": versions.column("status"),
        "harvested_at": versions.column("observed_at"),
    }
    return pa.Table.from_arrays([_as_array(columns[f.name], f.type) for f in MOVIES_SCHEMA], schema=MOVIES_SCHEMA)


def movies_from_payloads(
    batch: pa.Table, *, image_base_url: str | None, poster_size: str = "w500", backdrop_size: str = "w780"
) -> pa.Table:
    """``batch`` (`PAYLOADS_SCHEMA`) → `MOVIES_SCHEMA` rows in batch order: `typed_fields`, then
    `movies_from_typed`."""
    versions = batch.select(["movie_id", "status", "observed_at"]).append_column(
        "typed", typed_fields(batch.column("payload")))
    return movies_from_typed(versions, image_base_url=image_base_url, poster_size=poster_size,
                             backdrop_size=backdrop_size)


def _row_by_row(payloads: pa.StringArray, unreadable_as_null: bool) -> pa.StructArray:
    rows: list[dict | None] = []
    for payload in payloads.to_pylist():
        try:
            row = movie_row({"movie_id": 0}, json.loads(payload), status="", harvested_at=None, genre_names={},
                            image_base_url=None)
            rows.append(pa.Table.from_pylist([row], schema=MOVIES_SCHEMA).select(TYPED_TYPE.names).to_pylist()[0])
        except (ValueError, TypeError, KeyError, AttributeError, pa.ArrowException):
            if not unreadable_as_null:
                raise
            rows.append(None)
    return pa.array(rows, TYPED_TYPE)


def _columnar(payloads: pa.StringArray) -> pa.StructArray:
    lines = _json_lines(payloads)
    parsed = pa_json.read_json(
        pa.BufferReader(lines),
        read_options=pa_json.ReadOptions(use_threads=True, block_size=max(1 << 20, lines.size // 4 + 1)),
        parse_options=pa_json.ParseOptions(explicit_schema=PAYLOAD_SCHEMA, unexpected_field_behavior="ignore",
                                           newlines_in_values=False),
    )
    if parsed.num_rows != len(payloads):
        raise _Unusual("a payload that is not one JSON object")
    parsed = parsed.combine_chunks()
    text = {name: _blank_to_null(parsed.column(name)) for name in (
        "title", "original_title", "original_language", "overview", "tagline", "status", "imdb_id",
        "poster_path", "backdrop_path")}
    genres = _list(parsed.column("genres"))
    keywords = _list(_struct_field(parsed.column("keywords"), "keywords"))
    columns = {
        **text,
        "release_date": _release_date(parsed.column("release_date")),
        "adult": pc.fill_null(parsed.column("adult"), False),
        "video": pc.fill_null(parsed.column("video"), False),
        "popularity": parsed.column("popularity"),
        "vote_average": parsed.column("vote_average"),
        "vote_count": parsed.column("vote_count"),
        **{name: _zero_to_null(parsed.column(name)) for name in ("runtime", "budget", "revenue")},
        "genres": _relist(genres, pc.struct_field(genres.values, "name")),
        "genre_ids": _relist(genres, pc.cast(pc.struct_field(genres.values, "id"), pa.int32())),
        "cast": _cast(_list(_struct_field(parsed.column("credits"), "cast"))),
        "directors": _directors(_list(_struct_field(parsed.column("credits"), "crew"))),
        "keywords": _relist(keywords, pc.struct_field(keywords.values, "name")),
    }
    return pa.StructArray.from_arrays([_as_array(columns[f.name], f.type) for f in TYPED_TYPE], fields=list(TYPED_TYPE))


def _json_lines(payloads: pa.StringArray) -> pa.Buffer:
    """The payloads as one newline-delimited buffer, built by Arrow (a stored payload is compact JSON: it holds
    no raw newline)."""
    lines = pc.binary_join_element_wise(payloads, "", "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return lines.buffers()[2][offsets[0]:offsets[-1]]


def _as_array(values, type_: pa.DataType) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(type_) if values.type != type_ else values


def _blank_to_null(values: pa.ChunkedArray) -> pa.Array:
    """`blank_to_none`: a string that is empty or only whitespace (as Python's str.isspace()) becomes null."""
    blank = pc.match_substring_regex(values, _BLANK)
    return pc.if_else(blank, pa.scalar(None, pa.string()), values)


def _zero_to_null(values: pa.ChunkedArray) -> pa.Array:
    """`zero_to_none`: TMDb's 0 for an unknown runtime, budget or revenue becomes null."""
    return pc.if_else(pc.equal(values, 0), pa.scalar(None, pa.int64()), values)


def _release_date(values: pa.ChunkedArray) -> pa.Array:
    """`parse_date`: blank → null, else the first ten characters as an ISO date; anything else is unusual
    (Python's ``date.fromisoformat`` decides, row by row)."""
    text = pc.utf8_slice_codeunits(_blank_to_null(values), 0, 10)
    if pc.all(pc.match_substring_regex(text, _ISO_DATE)).as_py() not in (True, None):
        raise _Unusual("a release date that is not YYYY-MM-DD")
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    if parsed.null_count != text.null_count:
        raise _Unusual("a release date that is not a calendar date")
    return pc.cast(parsed, pa.date32())


def _struct_field(values: pa.ChunkedArray, name: str) -> pa.Array:
    """A field of a struct column; a null struct gives a null field."""
    array = values.combine_chunks()
    field = pc.struct_field(array, name)
    return pc.if_else(pc.is_valid(array), field, pa.scalar(None, field.type))


class _Lists:
    """A list column as flat ``values`` and per-row ``counts`` (a null list counts as empty, as ``or []``)."""

    def __init__(self, values: pa.Array, counts: np.ndarray):
        self.values = values
        self.counts = counts

    @property
    def parents(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.counts)), self.counts)


def _list(values: pa.Array | pa.ChunkedArray) -> _Lists:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    flat = pc.list_flatten(values)
    if flat.null_count:
        raise _Unusual("a null inside a list")
    counts = pc.fill_null(pc.list_value_length(values), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return _Lists(flat, counts)


def _offsets(counts: np.ndarray) -> pa.Array:
    return pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))


def _relist(lists: _Lists, values: pa.Array) -> pa.Array:
    return pa.ListArray.from_arrays(_offsets(lists.counts), values)


def _cast(lists: _Lists) -> pa.Array:
    """`parse_credits`' cast: by (order, person id), a missing order or id last; ties keep TMDb's order."""
    flat = lists.values
    order = pc.struct_field(flat, "order")
    person = pc.struct_field(flat, "id")
    keys = [np.arange(len(flat))]
    for column in (person, order):  # np.lexsort: the last key sorts first
        keys.append(pc.fill_null(column, 0).to_numpy(zero_copy_only=False))
        keys.append(pc.is_null(column).to_numpy(zero_copy_only=False))
    keys.append(lists.parents)
    sorted_flat = flat.take(pa.array(np.lexsort(keys)))
    members = pa.StructArray.from_arrays(
        [pc.struct_field(sorted_flat, "id"), pc.struct_field(sorted_flat, "name"),
         _blank_to_null(pc.struct_field(sorted_flat, "character")),
         pc.cast(pc.struct_field(sorted_flat, "order"), pa.int32())],
        fields=list(CAST_TYPE),
    )
    return pa.ListArray.from_arrays(_offsets(lists.counts), members)


def _directors(lists: _Lists) -> pa.Array:
    """`parse_credits`' directors: crew with job ``Director``, once each (by person id, or by name when TMDb
    gives no id), in crew order."""
    flat = lists.values
    is_director = pc.fill_null(pc.equal(pc.struct_field(flat, "job"), "Director"), False)
    position = np.flatnonzero(is_director.to_numpy(zero_copy_only=False))
    crew = flat.take(pa.array(position))
    person = pc.struct_field(crew, "id")
    no_id = pc.is_null(person)
    candidates = pa.table({
        "parent": pa.array(lists.parents[position]),
        "no_id": no_id,
        "person": pc.fill_null(person, 0),
        "name": pc.if_else(no_id, pc.struct_field(crew, "name"), pa.scalar(None, pa.string())),
        "position": pa.array(np.arange(len(position))),
    })
    firsts = candidates.group_by(["parent", "no_id", "person", "name"], use_threads=False).aggregate(
        [("position", "min")])
    keep = np.sort(firsts.column("position_min").to_numpy())
    kept = crew.take(pa.array(keep))
    members = pa.StructArray.from_arrays([pc.struct_field(kept, "id"), pc.struct_field(kept, "name")],
                                         fields=list(DIRECTOR_TYPE))
    counts = np.bincount(lists.parents[position][keep], minlength=len(lists.counts)) if len(keep) else \
        np.zeros(len(lists.counts), np.int64)
    return pa.ListArray.from_arrays(_offsets(counts), members)


def _image_url(base_url: str | None, size: str, paths: pa.Array) -> pa.Array:
    """`image_url`: ``base/size + path`` where there is a path (already blank-to-null) and a base."""
    if not base_url:
        return pa.nulls(len(paths), pa.string())
    return pc.binary_join_element_wise(f"{base_url.rstrip('/')}/{size}", paths, "")


__all__ = ["PAYLOADS_SCHEMA", "PAYLOAD_SCHEMA", "TYPED_TYPE", "movies_from_payloads", "movies_from_typed",
           "typed_fields"]
