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
`RULES_VERSION` by hand whenever a parsing rule changes** (here, in `columnar_fields`, `arrow_rules`,
`payload_fields` or `records.movie_row`) without changing a type, e.g. what counts as blank.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from movie_assets.harvest.arrow_rules import (
    ISO_DATE,
    Lists,
    Unusual,
    as_lists,
    blank_to_null,
    calendar_times,
    first_of_groups,
    offsets,
    relist,
    struct_field,
    where,
)
from movie_assets.harvest.columnar_fields import RICH_PAYLOAD_FIELDS, TRANSLATION_TYPE, rich_columns
from movie_assets.harvest.payload_fields import rich_fields
from movie_assets.harvest.records import movie_row
from movie_assets.harvest.translated import translated_columns, without_unwanted_appends
from movie_assets.lake.schema import CAST_TYPE, DIRECTOR_TYPE, MOVIES_SCHEMA, movies_schema

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
        ("crew", pa.list_(pa.struct([("id", pa.int64()), ("name", pa.string()), ("department", pa.string()),
                                     ("job", pa.string())]))),
    ])), ("keywords", pa.struct([("keywords", pa.list_(pa.struct([("name", pa.string())])))]))]
    + RICH_PAYLOAD_FIELDS
)



# What a payload alone determines of a `movies` row: all but the id, the partition year, the image URLs (they
# depend on the image base and sizes of the build) and what the store records of the call itself.
BUILD_TIME_FIELDS = ("movie_id", "year", "poster_url", "backdrop_url", "details_status", "harvested_at")
# The typed reading also keeps every translation: the build picks the languages the lake wants.
TYPED_TYPE = pa.struct([f for f in MOVIES_SCHEMA if f.name not in BUILD_TIME_FIELDS]
                       + [pa.field("translations", pa.list_(TRANSLATION_TYPE))])
# Bump when a rule that turns a payload into `TYPED_TYPE` changes while the types stay the same (see above).
RULES_VERSION = 2
TYPED_FINGERPRINT = hashlib.sha256(
    f"{TYPED_TYPE}\n{PAYLOAD_SCHEMA}\nrules {RULES_VERSION}".encode()).hexdigest()[:16]
"""The fingerprint of the rules and schema that make a typed reading; stored typed readings carry it."""
# The input of `movies_from_payloads`: good versions with their payload (`DetailsStore.latest_versions`).
PAYLOADS_SCHEMA = pa.schema([("movie_id", pa.int64()), ("status", pa.string()),
                             ("observed_at", pa.timestamp("us", tz="UTC")), ("payload", pa.string())])


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
    except (Unusual, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return _row_by_row(payloads, unreadable_as_null)


def movies_from_typed(
    versions: pa.Table, *, image_base_url: str | None, poster_size: str = "w500", backdrop_size: str = "w780",
    languages: tuple[str, ...] = (),
) -> pa.Table:
    """``versions`` (``movie_id, status, observed_at, typed``) → `movies_schema` rows in the same order, with
    the translated text of each of ``languages`` (the translated ones, see `lake.languages`)."""
    typed = versions.column("typed").combine_chunks()
    fields = {f.name: typed.field(i) for i, f in enumerate(TYPED_TYPE)}
    release_date = fields["release_date"]
    schema = movies_schema(languages)
    columns = {
        **fields,
        **translated_columns(fields["translations"], fields["title"], fields["overview"], languages),
        "missing_appends": without_unwanted_appends(fields["missing_appends"], languages),
        "movie_id": versions.column("movie_id"),
        "year": pc.cast(pc.year(release_date), pa.int16()),
        "poster_url": _image_url(image_base_url, poster_size, fields["poster_path"]),
        "backdrop_url": _image_url(image_base_url, backdrop_size, fields["backdrop_path"]),
        "details_status": versions.column("status"),
        "harvested_at": versions.column("observed_at"),
    }
    return pa.Table.from_arrays([_as_array(columns[f.name], f.type) for f in schema], schema=schema)


def movies_from_payloads(
    batch: pa.Table, *, image_base_url: str | None, poster_size: str = "w500", backdrop_size: str = "w780",
    languages: tuple[str, ...] = (),
) -> pa.Table:
    """``batch`` (`PAYLOADS_SCHEMA`) → `MOVIES_SCHEMA` rows in batch order: `typed_fields`, then
    `movies_from_typed`."""
    versions = batch.select(["movie_id", "status", "observed_at"]).append_column(
        "typed", typed_fields(batch.column("payload")))
    return movies_from_typed(versions, image_base_url=image_base_url, poster_size=poster_size,
                             backdrop_size=backdrop_size, languages=languages)


def _row_by_row(payloads: pa.StringArray, unreadable_as_null: bool) -> pa.StructArray:
    rows: list[dict | None] = []
    for payload in payloads.to_pylist():
        try:
            details = json.loads(payload)
            row = movie_row({"movie_id": 0}, details, status="", harvested_at=None, genre_names={},
                            image_base_url=None)
            row.update(rich_fields(details))  # the typed reading: every translation, every missing append
            typed = {name: row[name] for name in TYPED_TYPE.names}
            pa.array([typed], TYPED_TYPE)  # a value of another type (a number for a title) fails here, for this row
            rows.append(typed)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, pa.ArrowException):
            if not unreadable_as_null:
                raise
            rows.append(None)
    return pa.array(rows, TYPED_TYPE)


def _columnar(payloads: pa.StringArray) -> pa.StructArray:
    if not pc.all(pc.starts_with(payloads, "{")).as_py():  # pyarrow's JSON reader crashes on a bare `null`
        raise Unusual("a payload that is not a JSON object")
    lines = _json_lines(payloads)
    parsed = pa_json.read_json(
        pa.BufferReader(lines),
        read_options=pa_json.ReadOptions(use_threads=True, block_size=max(1 << 20, lines.size // 4 + 1)),
        parse_options=pa_json.ParseOptions(explicit_schema=PAYLOAD_SCHEMA, unexpected_field_behavior="ignore",
                                           newlines_in_values=False),
    )
    if parsed.num_rows != len(payloads):
        raise Unusual("a payload that is not one JSON object")
    parsed = parsed.combine_chunks()
    text = {name: blank_to_null(parsed.column(name)) for name in (
        "title", "original_title", "original_language", "overview", "tagline", "status", "imdb_id",
        "poster_path", "backdrop_path")}
    genres = as_lists(parsed.column("genres"))
    keywords = as_lists(struct_field(parsed.column("keywords"), "keywords"))
    columns = {
        **text,
        "release_date": _release_date(parsed.column("release_date")),
        "adult": pc.fill_null(parsed.column("adult"), False),
        "video": pc.fill_null(parsed.column("video"), False),
        "popularity": parsed.column("popularity"),
        "vote_average": parsed.column("vote_average"),
        "vote_count": parsed.column("vote_count"),
        **{name: _zero_to_null(parsed.column(name)) for name in ("runtime", "budget", "revenue")},
        "genres": relist(genres, pc.struct_field(genres.values, "name")),
        "genre_ids": relist(genres, pc.cast(pc.struct_field(genres.values, "id"), pa.int32())),
        "cast": _cast(as_lists(struct_field(parsed.column("credits"), "cast"))),
        "directors": _directors(as_lists(struct_field(parsed.column("credits"), "crew"))),
        "keywords": relist(keywords, pc.struct_field(keywords.values, "name")),
        **rich_columns(parsed),
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


def _zero_to_null(values: pa.ChunkedArray) -> pa.Array:
    """`zero_to_none`: TMDb's 0 for an unknown runtime, budget or revenue becomes null."""
    return pc.if_else(pc.equal(values, 0), pa.scalar(None, pa.int64()), values)


def _release_date(values: pa.ChunkedArray) -> pa.Array:
    """`parse_date`: blank → null, else the first ten characters as an ISO date; anything else is unusual
    (Python's ``date.fromisoformat`` decides, row by row)."""
    text = blank_to_null(values)
    dates = calendar_times(text, 10, ISO_DATE, "%Y-%m-%d", pa.date32())
    if dates.null_count != text.null_count:
        raise Unusual("a release date that is not a YYYY-MM-DD calendar date")
    return dates


def _cast(lists: Lists) -> pa.Array:
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
         blank_to_null(pc.struct_field(sorted_flat, "character")),
         pc.cast(pc.struct_field(sorted_flat, "order"), pa.int32())],
        fields=list(CAST_TYPE),
    )
    return pa.ListArray.from_arrays(offsets(lists.counts), members)


def _directors(lists: Lists) -> pa.Array:
    """`parse_credits`' directors: crew with job ``Director``, once each (by person id, or by name when TMDb
    gives no id), in crew order."""
    flat = lists.values
    position = where(pc.equal(pc.struct_field(flat, "job"), "Director"))
    crew = flat.take(pa.array(position, pa.int64()))
    person = pc.struct_field(crew, "id")
    name_if_no_id = pc.if_else(pc.is_null(person), pc.struct_field(crew, "name"), pa.scalar(None, pa.string()))
    keep = first_of_groups(lists.parents[position], [person, name_if_no_id])
    kept = crew.take(pa.array(keep, pa.int64()))
    members = pa.StructArray.from_arrays([pc.struct_field(kept, "id"), pc.struct_field(kept, "name")],
                                         fields=list(DIRECTOR_TYPE))
    return relist(lists.take(position[keep]), members)


def _image_url(base_url: str | None, size: str, paths: pa.Array) -> pa.Array:
    """`image_url`: ``base/size + path`` where there is a path (already blank-to-null) and a base."""
    if not base_url:
        return pa.nulls(len(paths), pa.string())
    return pc.binary_join_element_wise(f"{base_url.rstrip('/')}/{size}", paths, "")


__all__ = ["PAYLOADS_SCHEMA", "PAYLOAD_SCHEMA", "TYPED_TYPE", "movies_from_payloads", "movies_from_typed",
           "typed_fields"]
