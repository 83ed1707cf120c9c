"""The DuckDB views that give a list column of ``movies`` one row per element: ``movie_cast``, ``movie_crew``,
``movie_companies``, ``movie_countries``, ``movie_certifications``, ``movie_release_events``,
``movie_trailers`` and ``movie_titles``.

Each reads the ``movies`` view (so one generation of the dataset) and keeps ``movie_id`` and ``year`` (the
Hive partition: a filter on it reads only that year's file). A movie whose list is empty or null has no row.
"""

from __future__ import annotations

import duckdb

from movie_assets.lake import Lake
from movie_assets.lake.languages import PRIMARY_LANGUAGE, lake_languages, translated
from movie_assets.lake.schema import column_suffix
from movie_assets.warehouse.sql import sql_string

# Where a trailer of a site plays, by its key (TMDb's ``site`` values); other sites get no url.
VIDEO_URLS = {"YouTube": "https://www.youtube.com/watch?v=", "Vimeo": "https://vimeo.com/"}

LIST_VIEWS = {
    "movie_cast": "SELECT movie_id, year, c.person_id, c.name, c.character, c.order AS cast_order "
                  "FROM movies, UNNEST(movies.cast) AS t(c)",
    "movie_crew": "SELECT movie_id, year, c.person_id, c.name, c.department, c.job "
                  "FROM movies, UNNEST(movies.crew) AS t(c)",
    "movie_companies": "SELECT movie_id, year, c.company_id, c.name, c.origin_country "
                       "FROM movies, UNNEST(movies.production_companies) AS t(c)",
    "movie_countries": "SELECT movie_id, year, c AS country FROM movies, UNNEST(movies.production_countries) AS t(c)",
    "movie_certifications": "SELECT movie_id, year, c.country, c.certification "
                            "FROM movies, UNNEST(movies.certifications) AS t(c)",
    "movie_release_events": "SELECT movie_id, year, e.country, e.type, e.date, e.certification, e.note "
                            "FROM movies, UNNEST(movies.release_events) AS t(e)",
    "movie_trailers": "SELECT movie_id, year, t.position, t.v.site, t.v.key, t.v.name, t.v.type, t.v.official, "
                      "t.v.published_at, t.v.language, CASE t.v.site "
                      + " ".join(f"WHEN {sql_string(site)} THEN {sql_string(url)} || t.v.key"
                                 for site, url in VIDEO_URLS.items())
                      + " END AS url FROM movies, UNNEST(movies.trailers) WITH ORDINALITY AS t(v, position)",
}


def title_rows_sql(languages: tuple[str, ...]) -> str:
    """``movie_titles``: the primary title (kind ``primary``), each alternative title (``alternative``: its
    country, no language) and, for each of ``languages`` (translated, like ``pt-BR``), the title in it where
    TMDb has one (``translation``: never the English fallback)."""
    parts = [
        f"SELECT movie_id, year, 'primary' AS kind, {sql_string(PRIMARY_LANGUAGE)} AS language, "
        "NULL::VARCHAR AS country, title FROM movies WHERE title IS NOT NULL",
        "SELECT movie_id, year, 'alternative', NULL, a.country, a.title "
        "FROM movies, UNNEST(movies.alternative_titles) AS t(a)",
    ]
    for tag in languages:
        language, _, country = tag.partition("-")
        column = f"title_{column_suffix(tag)}"
        parts.append(f"SELECT movie_id, year, 'translation', {sql_string(language)}, "
                     f"{sql_string(country) if country else 'NULL'}, {column} FROM movies "
                     f"WHERE NOT {column}_fallback AND {column} IS NOT NULL")
    return " UNION ALL ".join(parts)


def create_list_views(lake: Lake, connection: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the list views over the ``movies`` view in ``connection``. ``movie_titles`` takes the
    translated titles of the lake's languages whose columns the year files have (a language added since the
    last year build has none yet)."""
    for name, select in LIST_VIEWS.items():
        connection.execute(f"CREATE OR REPLACE VIEW {name} AS {select}")
    columns = {row[0] for row in connection.execute("SELECT column_name FROM (DESCRIBE movies)").fetchall()}
    languages = tuple(tag for tag in translated(lake_languages(lake))
                      if {f"title_{column_suffix(tag)}", f"title_{column_suffix(tag)}_fallback"} <= columns)
    connection.execute(f"CREATE OR REPLACE VIEW movie_titles AS {title_rows_sql(languages)}")
