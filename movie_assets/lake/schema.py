"""The lake's table schemas: the typed `movies` contract and the raw discover rows.

`MOVIES_SCHEMA` is the contract every consumer reads (one row per movie, sorted by ``(release_date,
movie_id)``); `COLUMN_DESCRIPTIONS` documents its columns in the Dagster UI. `DISCOVER_SCHEMA` is one
``/discover/movie`` result item as stored under ``raw/discover``; `EXPORT_SCHEMA` one line of TMDb's
daily ID export, as stored under ``raw/exports`` (``day`` is the export's date).
"""

from __future__ import annotations

import pyarrow as pa

CAST_TYPE = pa.struct(
    [
        ("person_id", pa.int64()),
        ("name", pa.string()),
        ("character", pa.string()),
        ("order", pa.int32()),
    ]
)
DIRECTOR_TYPE = pa.struct([("person_id", pa.int64()), ("name", pa.string())])
CREW_TYPE = pa.struct([("person_id", pa.int64()), ("name", pa.string()), ("department", pa.string()),
                       ("job", pa.string())])
COMPANY_TYPE = pa.struct([("company_id", pa.int64()), ("name", pa.string()), ("origin_country", pa.string())])
COLLECTION_TYPE = pa.struct([("collection_id", pa.int64()), ("name", pa.string())])
CERTIFICATION_TYPE = pa.struct([("country", pa.string()), ("certification", pa.string())])
RELEASE_EVENT_TYPE = pa.struct([("country", pa.string()), ("type", pa.string()), ("date", pa.date32()),
                                ("certification", pa.string()), ("note", pa.string())])
TRAILER_TYPE = pa.struct([("site", pa.string()), ("key", pa.string()), ("name", pa.string()), ("type", pa.string()),
                          ("official", pa.bool_()), ("published_at", pa.timestamp("us", tz="UTC")),
                          ("language", pa.string())])
TITLE_TYPE = pa.struct([("country", pa.string()), ("title", pa.string())])

# TMDb's release types (``release_dates.results[].release_dates[].type``), by number.
RELEASE_TYPES = {1: "premiere", 2: "limited", 3: "theatrical", 4: "digital", 5: "physical", 6: "tv"}
# The appends of the details call whose content `movies` reads (`details_appends` asks for these).
DETAILS_APPENDS = ("credits", "keywords", "release_dates", "external_ids", "videos", "alternative_titles")
# The Parquet metadata key under which a year file records how it was built (`harvest.year_build`).
BUILD_KEY = "movie_assets.build"
TRANSLATIONS = "translations"  # asked for too when MOVIE_ASSETS_LANGUAGES names more than the primary language


def wanted_appends(with_translations: bool) -> tuple[str, ...]:
    """The appends `movies` is read from: `DETAILS_APPENDS`, and `TRANSLATIONS` for a lake with translated text."""
    return (*DETAILS_APPENDS, TRANSLATIONS) if with_translations else DETAILS_APPENDS

MOVIES_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int64()),
        ("title", pa.string()),
        ("original_title", pa.string()),
        ("original_language", pa.string()),
        ("overview", pa.string()),
        ("tagline", pa.string()),
        ("status", pa.string()),
        ("imdb_id", pa.string()),
        ("release_date", pa.date32()),
        ("year", pa.int16()),
        ("adult", pa.bool_()),
        ("video", pa.bool_()),
        ("popularity", pa.float64()),
        ("vote_average", pa.float64()),
        ("vote_count", pa.int64()),
        ("runtime", pa.int64()),
        ("budget", pa.int64()),
        ("revenue", pa.int64()),
        ("genres", pa.list_(pa.string())),
        ("genre_ids", pa.list_(pa.int32())),
        ("cast", pa.list_(CAST_TYPE)),
        ("directors", pa.list_(DIRECTOR_TYPE)),
        ("keywords", pa.list_(pa.string())),
        ("homepage", pa.string()),
        ("collection", COLLECTION_TYPE),
        ("production_companies", pa.list_(COMPANY_TYPE)),
        ("production_countries", pa.list_(pa.string())),
        ("spoken_languages", pa.list_(pa.string())),
        ("origin_country", pa.list_(pa.string())),
        ("crew", pa.list_(CREW_TYPE)),
        ("certifications", pa.list_(CERTIFICATION_TYPE)),
        ("release_events", pa.list_(RELEASE_EVENT_TYPE)),
        ("first_theatrical_date", pa.date32()),
        ("first_digital_date", pa.date32()),
        ("wikidata_id", pa.string()),
        ("facebook_id", pa.string()),
        ("instagram_id", pa.string()),
        ("twitter_id", pa.string()),
        ("trailers", pa.list_(TRAILER_TYPE)),
        ("alternative_titles", pa.list_(TITLE_TYPE)),
        ("missing_appends", pa.list_(pa.string())),
        ("poster_path", pa.string()),
        ("backdrop_path", pa.string()),
        ("poster_url", pa.string()),
        ("backdrop_url", pa.string()),
        ("details_status", pa.string()),
        ("harvested_at", pa.timestamp("us", tz="UTC")),
    ]
)



def column_suffix(tag: str) -> str:
    """``pt-BR`` → ``pt_br`` (the suffix of ``title_<suffix>``)."""
    return tag.lower().replace("-", "_")


def movies_schema(languages: tuple[str, ...] = ()) -> pa.Schema:
    """`MOVIES_SCHEMA` plus, for each translated language (``de``, ``pt-BR``; `lake.languages`), its
    ``title_<l>``, ``overview_<l>`` and whether each fell back to the primary text (``…_fallback``)."""
    extra = []
    for tag in languages:
        suffix = column_suffix(tag)
        extra += [(f"title_{suffix}", pa.string()), (f"overview_{suffix}", pa.string()),
                  (f"title_{suffix}_fallback", pa.bool_()), (f"overview_{suffix}_fallback", pa.bool_())]
    return pa.schema([*MOVIES_SCHEMA, *extra]) if extra else MOVIES_SCHEMA


COLUMN_DESCRIPTIONS: dict[str, str] = {
    "movie_id": "TMDb movie id (unique)",
    "release_date": "primary release date; null when TMDb has none",
    "year": "partition key: the release year; null for movies without a release date",
    "popularity": "TMDb popularity as of harvested_at (leaks the future for release-time tasks)",
    "vote_average": "as of harvested_at",
    "vote_count": "as of harvested_at",
    "runtime": "minutes; null when TMDb sends 0",
    "budget": "USD; null when TMDb sends 0",
    "revenue": "USD; null when TMDb sends 0",
    "genres": "genre names",
    "cast": "full cast by billing order (order null when TMDb gives none: listed last)",
    "directors": "crew with job Director",
    "poster_url": "absolute URL; null exactly when poster_path is null",
    "backdrop_url": "absolute URL; null exactly when backdrop_path is null",
    "details_status": "ok (a movie TMDb answers 404 for is not a row)",
    "harvested_at": "server time of the details response",
}

DISCOVER_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int64()),
        ("title", pa.string()),
        ("original_title", pa.string()),
        ("original_language", pa.string()),
        ("overview", pa.string()),
        ("release_date", pa.string()),
        ("adult", pa.bool_()),
        ("video", pa.bool_()),
        ("popularity", pa.float64()),
        ("vote_average", pa.float64()),
        ("vote_count", pa.int64()),
        ("genre_ids", pa.list_(pa.int32())),
        ("poster_path", pa.string()),
        ("backdrop_path", pa.string()),
    ]
)

EXPORT_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("original_title", pa.string()),
        ("popularity", pa.float64()),
        ("adult", pa.bool_()),
        ("video", pa.bool_()),
        ("day", pa.date32()),
    ]
)

# A movie that left TMDb: when (the 404's observation, or the day of the export that no longer lists it) and why.
TOMBSTONE_SCHEMA = pa.schema(
    [("movie_id", pa.int64()), ("since", pa.timestamp("us", tz="UTC")), ("reason", pa.string())]
)
