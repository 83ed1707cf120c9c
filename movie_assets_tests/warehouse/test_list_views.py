"""The one-row-per-element views of ``movies.duckdb`` (crew, companies, countries, certifications, release
events, trailers, titles) on hand-made year files in the rich schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa

from movie_assets.harvest.year_build import build_fingerprint, write_year_partition
from movie_assets.lake import Lake
from movie_assets.lake.languages import record_languages
from movie_assets.lake.schema import BUILD_KEY, movies_schema
from movie_assets.warehouse import build as warehouse

from ..release.synthetic import rich_row, write_lake

LANGUAGES = ("de", "pt-BR")
SCHEMA = movies_schema(LANGUAGES)
UTC = dt.UTC


def row(movie_id: int, year: int, **values: Any) -> dict[str, Any]:
    return rich_row(movie_id, year, LANGUAGES, **values)


ROWS = [
    row(1, 2020,
        crew=[{"person_id": 10, "name": "Ann, Jr.", "department": "Writing", "job": "Screenplay"},
              {"person_id": 11, "name": "Bo", "department": "Sound", "job": "Original Music Composer"}],
        production_companies=[{"company_id": 5, "name": "Acme, Inc.", "origin_country": "US"},
                              {"company_id": None, "name": "Nobody", "origin_country": None}],
        production_countries=["US", "GB"],
        certifications=[{"country": "DE", "certification": "12"}, {"country": "US", "certification": "PG-13"}],
        release_events=[{"country": "US", "type": "premiere", "date": dt.date(2020, 4, 1), "certification": None,
                         "note": "Festival"},
                        {"country": "US", "type": "theatrical", "date": dt.date(2020, 5, 1),
                         "certification": "PG-13", "note": None}],
        trailers=[{"site": "YouTube", "key": "abc_123", "name": "Official Trailer", "type": "Trailer",
                   "official": True, "published_at": dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC), "language": "en"},
                  {"site": "Vimeo", "key": "987", "name": "Teaser", "type": "Teaser", "official": False,
                   "published_at": None, "language": None},
                  {"site": "Dailymotion", "key": "x1", "name": "Clip", "type": "Teaser", "official": None,
                   "published_at": None, "language": "fr"}],
        alternative_titles=[{"country": "FR", "title": "Le Film"}, {"country": None, "title": "Working Title"}],
        title_de="Der Film", title_de_fallback=False, title_pt_br="O Filme", title_pt_br_fallback=False),
    row(2, 2020, crew=[], production_companies=[], production_countries=[], certifications=[], release_events=[],
        trailers=[], alternative_titles=[], title_de="Zwei", title_de_fallback=False),
    row(3, 2021),  # every list null: a payload that predates its appends
]


def views_lake(tmp_path, languages=("en", *LANGUAGES)) -> Lake:
    lake = Lake.at(tmp_path / "data")
    record_languages(lake, languages)
    table = pa.Table.from_pylist(ROWS, schema=SCHEMA).replace_schema_metadata(
        {BUILD_KEY: build_fingerprint(LANGUAGES)})  # as the year build records it
    for year in (2020, 2021):
        write_year_partition(lake, year, table.filter(pa.compute.equal(table.column("year"), year)))
    warehouse.build_movies_db(lake)
    return lake


def query(lake: Lake, sql: str) -> list[tuple]:
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_list_views_give_one_row_per_element(tmp_path):
    lake = views_lake(tmp_path)
    assert query(lake, "SELECT * FROM movie_crew ORDER BY person_id") == [
        (1, 2020, 10, "Ann, Jr.", "Writing", "Screenplay"), (1, 2020, 11, "Bo", "Sound", "Original Music Composer")]
    assert query(lake, "SELECT * FROM movie_companies ORDER BY name") == [
        (1, 2020, 5, "Acme, Inc.", "US"), (1, 2020, None, "Nobody", None)]
    assert query(lake, "SELECT * FROM movie_countries ORDER BY country") == [(1, 2020, "GB"), (1, 2020, "US")]
    assert query(lake, "SELECT * FROM movie_certifications ORDER BY country") == [
        (1, 2020, "DE", "12"), (1, 2020, "US", "PG-13")]
    assert query(lake, "SELECT * FROM movie_release_events ORDER BY date") == [
        (1, 2020, "US", "premiere", dt.date(2020, 4, 1), None, "Festival"),
        (1, 2020, "US", "theatrical", dt.date(2020, 5, 1), "PG-13", None)]
    columns = [r[0] for r in query(lake, "SELECT column_name FROM (DESCRIBE movie_trailers)")]
    assert columns == ["movie_id", "year", "position", "site", "key", "name", "type", "official", "published_at",
                       "language", "url"]
    trailers = query(lake, "SELECT position, site, key, official, published_at, url FROM movie_trailers "
                           "ORDER BY position")
    assert [t[:4] for t in trailers] == [(1, "YouTube", "abc_123", True), (2, "Vimeo", "987", False),
                                         (3, "Dailymotion", "x1", None)]
    assert trailers[0][4] == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert [t[5] for t in trailers] == ["https://www.youtube.com/watch?v=abc_123", "https://vimeo.com/987", None]


def test_movie_titles_hold_primary_alternative_and_translated_titles(tmp_path):
    lake = views_lake(tmp_path, ("en", *LANGUAGES, "fr"))  # fr recorded, but no year file has its columns yet
    titles = query(lake, "SELECT * FROM movie_titles ORDER BY movie_id, kind, language NULLS FIRST, title")
    assert titles == [
        (1, 2020, "alternative", None, "FR", "Le Film"),
        (1, 2020, "alternative", None, None, "Working Title"),
        (1, 2020, "primary", "en", None, "Film 1"),
        (1, 2020, "translation", "de", None, "Der Film"),
        (1, 2020, "translation", "pt", "BR", "O Filme"),
        (2, 2020, "primary", "en", None, "Film 2"),
        (2, 2020, "translation", "de", None, "Zwei"),  # pt-BR fell back to English: not a translation
        (3, 2021, "primary", "en", None, "Film 3"),
    ]


def test_a_lake_without_languages_or_rich_lists_has_the_views_empty(tmp_path):
    lake = write_lake(tmp_path / "data")
    warehouse.build_movies_db(lake)
    for view in ("movie_crew", "movie_companies", "movie_countries", "movie_certifications",
                 "movie_release_events", "movie_trailers"):
        assert query(lake, f"SELECT count(*) FROM {view}") == [(0,)]
    assert query(lake, "SELECT DISTINCT kind, language FROM movie_titles") == [("primary", "en")]
