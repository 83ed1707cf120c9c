"""The reading of a details payload beyond its core fields, one movie at a time: companies, countries and
languages, the collection, the key crew, release events and certifications, external ids, trailers,
alternative titles and translations.

These are the rules `movie_row` applies (and `columnar_fields` applies a column at a time, to the same
result). Their source paths in TMDb's answer are in docs/concepts.md (the `movies` contract). A list is
``[]`` when TMDb answered with none and null when the payload does not hold its part at all (an append the
call did not ask for): `missing_appends` names those parts, so a null is never silent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from movie_assets.lake.schema import RELEASE_TYPES, wanted_appends

# The crew jobs `crew` keeps (beside `directors`): writing, producing, music, camera, editing, casting.
KEY_JOBS = ("Screenplay", "Writer", "Story", "Novel", "Producer", "Executive Producer", "Original Music Composer",
            "Director of Photography", "Editor", "Casting")
TRAILER_TYPES = ("Trailer", "Teaser")  # in the order `trailers` lists them, after official ones first
THEATRICAL, DIGITAL = 3, 4
EXTERNAL_IDS = ("wikidata_id", "facebook_id", "instagram_id", "twitter_id")
# Every append `missing_appends` can name (translations only matter when more languages are wanted).
ALL_APPENDS = wanted_appends(with_translations=True)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")


def blank_to_none(value: Any) -> Any:
    """TMDb writes "missing" as ``""`` or null; store null."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _block(details: Mapping[str, Any], append: str, key: str) -> list[Mapping[str, Any]] | None:
    """The list under an append (``videos.results``); None when the payload lacks the append."""
    block = details.get(append)
    return _mappings(block.get(key)) if isinstance(block, Mapping) else None


def event_date(value: Any) -> dt.date | None:
    """A release event's date: the day of TMDb's ``2004-11-19T00:00:00.000Z``; null when unreadable."""
    text = value[:10] if isinstance(value, str) else ""
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def published_at(value: Any) -> dt.datetime | None:
    """A video's ``published_at`` to the second, UTC (TMDb sends ``…T16:30:02.000Z``); null when unreadable."""
    text = value[:19] if isinstance(value, str) else ""
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def codes(items: Any, key: str) -> list[str]:
    """The non-blank ``key`` of each item (ISO codes of countries or languages), in TMDb's order."""
    return [c for c in (blank_to_none(i.get(key)) for i in _mappings(items)) if c is not None]


def key_crew(credits: Any) -> list[dict[str, Any]]:
    """Crew with a job in `KEY_JOBS`, in TMDb's crew order, each (person, job) once (by id, else by name)."""
    crew = credits.get("crew") if isinstance(credits, Mapping) else None
    kept: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for c in _mappings(crew):
        if c.get("job") not in KEY_JOBS:
            continue
        person_id = optional_int(c.get("id"))
        key = (person_id is None, person_id or 0, c.get("name") if person_id is None else None, c.get("job"))
        if key not in seen:
            seen.add(key)
            kept.append({"person_id": person_id, "name": c.get("name"),
                         "department": blank_to_none(c.get("department")), "job": c.get("job")})
    return kept


def release_events(details: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """Every release of every country, by (country, date, release type), unreadable dates and countries
    last; ties keep TMDb's order. The type is named (`RELEASE_TYPES`; an unknown number as its digits)."""
    countries = _block(details, "release_dates", "results")
    if countries is None:
        return None
    events = []
    for country in countries:
        code = blank_to_none(country.get("iso_3166_1"))
        for event in _mappings(country.get("release_dates")):
            number = optional_int(event.get("type"))
            events.append(({"country": code, "type": _type_name(number), "date": event_date(event.get("release_date")),
                            "certification": blank_to_none(event.get("certification")),
                            "note": blank_to_none(event.get("note"))}, number))
    events.sort(key=lambda e: (e[0]["country"] is None, e[0]["country"] or "", e[0]["date"] is None,
                               e[0]["date"] or dt.date.min, e[1] is None, e[1] or 0))
    return [e for e, _ in events]


def _type_name(number: int | None) -> str | None:
    return None if number is None else RELEASE_TYPES.get(number, str(number))


def certifications(events: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Per country, the certification of its earliest theatrical release that has one (countries in order)."""
    if events is None:
        return None
    first: dict[str, str] = {}
    for e in events:
        if e["type"] == RELEASE_TYPES[THEATRICAL] and e["certification"] and e["country"] is not None:
            first.setdefault(e["country"], e["certification"])
    return [{"country": c, "certification": first[c]} for c in sorted(first)]


def first_date(events: list[dict[str, Any]] | None, number: int) -> dt.date | None:
    """The earliest date of a release of type ``number`` in any country."""
    dates = [e["date"] for e in events or [] if e["type"] == RELEASE_TYPES[number] and e["date"] is not None]
    return min(dates, default=None)


def trailers(details: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """Videos of type Trailer or Teaser: official first, trailers before teasers, earliest published first
    (unknown last), then by site and key; ties keep TMDb's order."""
    videos = _block(details, "videos", "results")
    if videos is None:
        return None
    kept = [{"site": blank_to_none(v.get("site")), "key": blank_to_none(v.get("key")),
             "name": blank_to_none(v.get("name")), "type": v.get("type"),
             "official": v.get("official") if isinstance(v.get("official"), bool) else None,
             "published_at": published_at(v.get("published_at")),
             "language": blank_to_none(v.get("iso_639_1"))}
            for v in videos if v.get("type") in TRAILER_TYPES]
    kept.sort(key=lambda t: (t["official"] is not True, t["official"] is None, TRAILER_TYPES.index(t["type"]),
                             t["published_at"] is None, t["published_at"] or dt.datetime.min.replace(tzinfo=dt.UTC),
                             t["site"] is None, t["site"] or "", t["key"] is None, t["key"] or ""))
    return kept


def alternative_titles(details: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``alternative_titles.titles`` with a title, in TMDb's order."""
    titles = _block(details, "alternative_titles", "titles")
    if titles is None:
        return None
    return [{"country": blank_to_none(t.get("iso_3166_1")), "title": t.get("title")} for t in titles
            if blank_to_none(t.get("title")) is not None]


def translations(details: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``translations.translations`` as ``language, country, title, overview`` (blank text null)."""
    entries = _block(details, "translations", "translations")
    if entries is None:
        return None
    rows = []
    for t in entries:
        data = t.get("data") if isinstance(t.get("data"), Mapping) else {}
        rows.append({"language": blank_to_none(t.get("iso_639_1")), "country": blank_to_none(t.get("iso_3166_1")),
                     "title": blank_to_none(data.get("title")), "overview": blank_to_none(data.get("overview"))})
    return rows


def rich_fields(details: Mapping[str, Any]) -> dict[str, Any]:
    """Every column this module reads, plus the typed-only ``translations``."""
    collection = details.get("belongs_to_collection")
    external = details.get("external_ids")
    external = external if isinstance(external, Mapping) else {}
    events = release_events(details)
    companies = details.get("production_companies")
    return {
        "homepage": blank_to_none(details.get("homepage")),
        "collection": ({"collection_id": optional_int(collection.get("id")),
                        "name": blank_to_none(collection.get("name"))} if isinstance(collection, Mapping) else None),
        "production_companies": None if companies is None else [
            {"company_id": optional_int(c.get("id")), "name": blank_to_none(c.get("name")),
             "origin_country": blank_to_none(c.get("origin_country"))} for c in _mappings(companies)],
        **{column: None if details.get(key) is None else codes(details.get(key), code) for column, key, code in (
            ("production_countries", "production_countries", "iso_3166_1"),
            ("spoken_languages", "spoken_languages", "iso_639_1"))},
        "origin_country": None if details.get("origin_country") is None else [
            c for c in (blank_to_none(c) for c in _strings(details["origin_country"])) if c is not None],
        "crew": None if not isinstance(details.get("credits"), Mapping) else key_crew(details["credits"]),
        "certifications": certifications(events),
        "release_events": events,
        "first_theatrical_date": first_date(events, THEATRICAL),
        "first_digital_date": first_date(events, DIGITAL),
        **{name: blank_to_none(external.get(name)) for name in EXTERNAL_IDS},
        "trailers": trailers(details),
        "alternative_titles": alternative_titles(details),
        "missing_appends": [name for name in ALL_APPENDS if not isinstance(details.get(name), Mapping)],
        "translations": translations(details),
    }
