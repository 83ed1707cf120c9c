"""The columnar reading of the payload fields beyond the core (`payload_fields` reads them one movie at a
time, to the same values): companies, countries, languages, the collection, the key crew, release events and
certifications, external ids, trailers, alternative titles, translations, and which appends a payload lacks.

`RICH_PAYLOAD_FIELDS` are the parts of TMDb's answer ``pyarrow.json`` parses for them; `rich_columns` turns
the parsed table into the columns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.arrow_rules import (
    ISO_DATE,
    Lists,
    as_lists,
    blank_to_null,
    calendar_times,
    first_of_groups,
    relist,
    row_minimum,
    sorted_positions,
    struct_field,
    where,
)
from movie_assets.harvest.payload_fields import (
    ALL_APPENDS,
    DIGITAL,
    EXTERNAL_IDS,
    KEY_JOBS,
    THEATRICAL,
    TRAILER_TYPES,
)
from movie_assets.lake.schema import (
    CERTIFICATION_TYPE,
    COLLECTION_TYPE,
    COMPANY_TYPE,
    CREW_TYPE,
    RELEASE_EVENT_TYPE,
    RELEASE_TYPES,
    TITLE_TYPE,
    TRAILER_TYPE,
)

_S = pa.string()
TRANSLATION_TYPE = pa.struct([("language", _S), ("country", _S), ("title", _S), ("overview", _S)])
RICH_PAYLOAD_FIELDS = [
    ("homepage", _S),
    ("belongs_to_collection", pa.struct([("id", pa.int64()), ("name", _S)])),
    ("production_companies", pa.list_(pa.struct([("id", pa.int64()), ("name", _S), ("origin_country", _S)]))),
    ("production_countries", pa.list_(pa.struct([("iso_3166_1", _S)]))),
    ("spoken_languages", pa.list_(pa.struct([("iso_639_1", _S)]))),
    ("origin_country", pa.list_(_S)),
    ("release_dates", pa.struct([("results", pa.list_(pa.struct([
        ("iso_3166_1", _S),
        ("release_dates", pa.list_(pa.struct([("certification", _S), ("note", _S), ("release_date", _S),
                                              ("type", pa.int64())]))),
    ])))])),
    ("external_ids", pa.struct([(name, _S) for name in EXTERNAL_IDS])),
    ("videos", pa.struct([("results", pa.list_(pa.struct([
        ("site", _S), ("key", _S), ("name", _S), ("type", _S), ("official", pa.bool_()), ("published_at", _S),
        ("iso_639_1", _S)])))])),
    ("alternative_titles", pa.struct([("titles", pa.list_(pa.struct([("iso_3166_1", _S), ("title", _S)])))])),
    ("translations", pa.struct([("translations", pa.list_(pa.struct([
        ("iso_639_1", _S), ("iso_3166_1", _S), ("data", pa.struct([("title", _S), ("overview", _S)]))])))])),
]
# `credits.crew` also reads ``department`` for `crew` (declared with the core fields in `columnar`).
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$"
_TYPE_NAMES = pa.array([None, *(RELEASE_TYPES[n] for n in sorted(RELEASE_TYPES))], _S)


def rich_columns(parsed: pa.Table) -> dict[str, pa.Array]:
    """The columns of `payload_fields.rich_fields` from the payloads parsed by ``pyarrow.json``."""
    rows = parsed.num_rows
    events, event_types = _release_events(parsed.column("release_dates"))
    external = parsed.column("external_ids")
    return {
        "homepage": blank_to_null(parsed.column("homepage")),
        "collection": _collection(parsed.column("belongs_to_collection")),
        "production_companies": _companies(as_lists(parsed.column("production_companies"))),
        "production_countries": _kept(as_lists(parsed.column("production_countries")), "iso_3166_1"),
        "spoken_languages": _kept(as_lists(parsed.column("spoken_languages")), "iso_639_1"),
        "origin_country": _kept(as_lists(parsed.column("origin_country")), None),
        "crew": _crew(_block(parsed.column("credits"), "crew")),
        "certifications": _certifications(events, event_types),
        "release_events": relist(events, events.values, keep_nulls=True),
        "first_theatrical_date": _first_date(events, event_types, THEATRICAL, rows),
        "first_digital_date": _first_date(events, event_types, DIGITAL, rows),
        **{name: blank_to_null(struct_field(external, name)) for name in EXTERNAL_IDS},
        "trailers": _trailers(_block(parsed.column("videos"), "results")),
        "alternative_titles": _titles(_block(parsed.column("alternative_titles"), "titles")),
        "missing_appends": _missing(parsed),
        "translations": _translations(_block(parsed.column("translations"), "translations")),
    }


def _block(values: pa.ChunkedArray, key: str) -> Lists:
    """The list under an object (``videos.results``): present, possibly empty, wherever the object is."""
    values = values.combine_chunks()
    lists = as_lists(struct_field(values, key))
    return Lists(lists.values, lists.counts, pc.is_valid(values).to_numpy(zero_copy_only=False))


def _collection(values: pa.ChunkedArray) -> pa.Array:
    values = values.combine_chunks()
    return pa.StructArray.from_arrays([pc.struct_field(values, "id"), blank_to_null(pc.struct_field(values, "name"))],
                                      fields=list(COLLECTION_TYPE), mask=pc.is_null(values))


def _companies(lists: Lists) -> pa.Array:
    flat = lists.values
    members = pa.StructArray.from_arrays(
        [pc.struct_field(flat, "id"), blank_to_null(pc.struct_field(flat, "name")),
         blank_to_null(pc.struct_field(flat, "origin_country"))], fields=list(COMPANY_TYPE))
    return relist(lists, members, keep_nulls=True)


def _kept(lists: Lists, field: str | None) -> pa.Array:
    """The non-blank strings of a list (of a struct field ``field``), in order."""
    values = lists.values if field is None else pc.struct_field(lists.values, field)
    values = blank_to_null(values)
    kept = lists.take(where(pc.is_valid(values)))
    return relist(kept, values.filter(pc.is_valid(values)), keep_nulls=True)


def _crew(lists: Lists) -> pa.Array:
    """`payload_fields.key_crew`: key jobs, each (person, job) once, in crew order."""
    flat = lists.values
    keep = where(pc.is_in(pc.struct_field(flat, "job"), value_set=pa.array(KEY_JOBS, _S)))
    crew = flat.take(pa.array(keep, pa.int64()))
    person = pc.struct_field(crew, "id")
    name_if_no_id = pc.if_else(pc.is_null(person), pc.struct_field(crew, "name"), pa.scalar(None, _S))
    firsts = first_of_groups(lists.parents[keep], [person, name_if_no_id, pc.struct_field(crew, "job")])
    kept = lists.take(keep[firsts])
    chosen = crew.take(pa.array(firsts, pa.int64()))
    members = pa.StructArray.from_arrays(
        [pc.struct_field(chosen, "id"), pc.struct_field(chosen, "name"),
         blank_to_null(pc.struct_field(chosen, "department")), pc.struct_field(chosen, "job")],
        fields=list(CREW_TYPE))
    return relist(kept, members, keep_nulls=True)


def _release_events(values: pa.ChunkedArray) -> tuple[Lists, np.ndarray]:
    """`payload_fields.release_events` as flat events per movie (sorted), and each event's type number
    (0 for none)."""
    countries = _block(values, "results")
    per_country = as_lists(pc.struct_field(countries.values, "release_dates"))
    flat = per_country.values
    movie_of_event = countries.parents[per_country.parents]
    country = blank_to_null(pc.struct_field(countries.values, "iso_3166_1")).take(
        pa.array(per_country.parents, pa.int64()))
    number = pc.struct_field(flat, "type")
    in_range = pc.and_(pc.greater_equal(number, 1), pc.less_equal(number, len(RELEASE_TYPES)))
    type_name = pc.if_else(in_range, _TYPE_NAMES.take(pc.if_else(in_range, number, 0)), pc.cast(number, _S))
    date = calendar_times(pc.struct_field(flat, "release_date"), 10, ISO_DATE, "%Y-%m-%d", pa.date32())
    order = sorted_positions(movie_of_event, [("country", country), ("date", date), ("type", number)])
    members = pa.StructArray.from_arrays(
        [country, type_name, date, blank_to_null(pc.struct_field(flat, "certification")),
         blank_to_null(pc.struct_field(flat, "note"))], fields=list(RELEASE_EVENT_TYPE)
    ).take(pa.array(order, pa.int64()))
    counts = np.bincount(movie_of_event, minlength=len(countries.counts)) if len(movie_of_event) else \
        np.zeros(len(countries.counts), np.int64)
    numbers = pc.fill_null(number, 0).to_numpy(zero_copy_only=False)[order]
    return Lists(members, counts, countries.valid), numbers


def _certifications(events: Lists, numbers: np.ndarray) -> pa.Array:
    """`payload_fields.certifications`: per country its earliest theatrical certification, countries in order."""
    flat = events.values
    country = pc.struct_field(flat, "country")
    candidates = where((numbers == THEATRICAL) & pc.is_valid(pc.struct_field(flat, "certification")).to_numpy(
        zero_copy_only=False) & pc.is_valid(country).to_numpy(zero_copy_only=False))
    firsts = candidates[first_of_groups(events.parents[candidates], [country.take(pa.array(candidates, pa.int64()))])]
    chosen = flat.take(pa.array(firsts, pa.int64()))
    order = sorted_positions(events.parents[firsts], [("country", pc.struct_field(chosen, "country"))])
    chosen = chosen.take(pa.array(order, pa.int64()))
    members = pa.StructArray.from_arrays([pc.struct_field(chosen, "country"), pc.struct_field(chosen, "certification")],
                                         fields=list(CERTIFICATION_TYPE))
    return relist(events.take(firsts), members, keep_nulls=True)


def _first_date(events: Lists, numbers: np.ndarray, number: int, rows: int) -> pa.Array:
    date = pc.struct_field(events.values, "date")
    positions = where((numbers == number) & pc.is_valid(date).to_numpy(zero_copy_only=False))
    days = pc.cast(date, pa.int32()).to_numpy(zero_copy_only=False)[positions].astype(np.int32)
    smallest, present = row_minimum(events.parents[positions], days, rows)
    return pa.array(smallest, pa.int32(), mask=~present).cast(pa.date32())


def _trailers(lists: Lists) -> pa.Array:
    """`payload_fields.trailers`."""
    flat = lists.values
    type_ = pc.struct_field(flat, "type")
    keep = where(pc.is_in(type_, value_set=pa.array(TRAILER_TYPES, _S)))
    videos = flat.take(pa.array(keep, pa.int64()))
    official = pc.struct_field(videos, "official")
    official_rank = pc.if_else(pc.is_null(official), 2, pc.if_else(official, 0, 1))
    type_rank = pc.index_in(pc.struct_field(videos, "type"), value_set=pa.array(TRAILER_TYPES, _S))
    published = calendar_times(pc.struct_field(videos, "published_at"), 19, _TIMESTAMP, "%Y-%m-%dT%H:%M:%S",
                               pa.timestamp("us", tz="UTC"))
    site, key = blank_to_null(pc.struct_field(videos, "site")), blank_to_null(pc.struct_field(videos, "key"))
    order = sorted_positions(lists.parents[keep], [("official", official_rank), ("type", type_rank),
                                                   ("published", published), ("site", site), ("key", key)])
    taken = pa.array(order, pa.int64())
    members = pa.StructArray.from_arrays(
        [site.take(taken), key.take(taken), blank_to_null(pc.struct_field(videos, "name")).take(taken),
         pc.struct_field(videos, "type").take(taken), official.take(taken), published.take(taken),
         blank_to_null(pc.struct_field(videos, "iso_639_1")).take(taken)], fields=list(TRAILER_TYPE))
    return relist(lists.take(keep), members, keep_nulls=True)


def _titles(lists: Lists) -> pa.Array:
    """`payload_fields.alternative_titles`."""
    flat = lists.values
    keep = where(pc.is_valid(blank_to_null(pc.struct_field(flat, "title"))))
    titles = flat.take(pa.array(keep, pa.int64()))
    members = pa.StructArray.from_arrays([blank_to_null(pc.struct_field(titles, "iso_3166_1")),
                                          pc.struct_field(titles, "title")], fields=list(TITLE_TYPE))
    return relist(lists.take(keep), members, keep_nulls=True)


def _translations(lists: Lists) -> pa.Array:
    flat = lists.values
    data = pc.struct_field(flat, "data")
    members = pa.StructArray.from_arrays(
        [blank_to_null(pc.struct_field(flat, "iso_639_1")), blank_to_null(pc.struct_field(flat, "iso_3166_1")),
         blank_to_null(struct_field(data, "title")), blank_to_null(struct_field(data, "overview"))],
        fields=list(TRANSLATION_TYPE))
    return relist(lists, members, keep_nulls=True)


def _missing(parsed: pa.Table) -> pa.Array:
    """`missing_appends`: the appends (in `ALL_APPENDS` order) whose object the payload lacks."""
    absent = np.stack([pc.is_null(parsed.column(name)).to_numpy(zero_copy_only=False) for name in ALL_APPENDS], 1)
    counts = absent.sum(axis=1)
    names = np.broadcast_to(np.array(ALL_APPENDS, dtype=object), absent.shape)[absent]
    return pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)),
                                    pa.array(names.tolist(), _S))
