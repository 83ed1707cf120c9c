"""The warehouse: every materialized year in one consolidated Parquet file and DuckDB views over the lake
(``movies``, ``movies_consolidated``, ``movie_cast``, ``movies_per_year``, and the history views of
`movie_assets.warehouse.history`).

Plain Python, no Dagster; `movie_assets.defs.warehouse` wires it as the ``movies_db`` asset.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from movie_assets.harvest.stages import IngestError, read_parquet
from movie_assets.harvest.tombstones import tombstones
from movie_assets.lake import Lake, write_parquet_atomic
from movie_assets.lake.schema import MOVIES_SCHEMA
from movie_assets.warehouse.history import create_history_views, sql_string


def movie_year_tables(lake: Lake) -> Iterator[pa.Table]:
    """Each materialized year as a `MOVIES_SCHEMA` table, oldest first — so, concatenated, they are sorted
    by (release_date, movie_id) like each year file."""
    files = lake.movies_year_files()
    if not files:
        raise IngestError(f"no materialized years under {lake.movies_dataset_dir}; materialize `movies` first")
    for year, path in files:
        part = read_parquet(path)
        with_year = part.append_column("year", pa.array([year] * part.num_rows, pa.int16()))
        yield with_year.select(MOVIES_SCHEMA.names).cast(MOVIES_SCHEMA)


def read_movies(lake: Lake) -> pa.Table:
    """All materialized years as one table with `MOVIES_SCHEMA`, sorted by (release_date, movie_id)."""
    return pa.concat_tables(movie_year_tables(lake))


@dataclass
class MoviesDbSummary:
    rows: int
    head: pa.Table  # the first rows, for previews and the schema


def build_movies_db(lake: Lake, connection: duckdb.DuckDBPyConnection) -> MoviesDbSummary:
    """Write the consolidated ``movies.parquet`` year by year (memory bounded by the largest year) and
    (re)create the DuckDB views over the lake."""
    summary = MoviesDbSummary(rows=0, head=MOVIES_SCHEMA.empty_table())

    def counted(tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
        for table in tables:
            if summary.head.num_rows < 5:
                summary.head = pa.concat_tables([summary.head, table.slice(0, 5)]).slice(0, 5)
            summary.rows += table.num_rows
            yield table

    write_parquet_atomic(counted(movie_year_tables(lake)), lake.movies_file, schema=MOVIES_SCHEMA)
    dataset_glob = lake.movies_dataset_glob.resolve().as_posix()
    consolidated = lake.movies_file.resolve().as_posix()
    # Views store their SQL text, so paths are inlined (DuckDB does not allow parameters in a view).
    connection.execute(
        f"CREATE OR REPLACE VIEW movies AS SELECT * FROM read_parquet({sql_string(dataset_glob)}, "
        "hive_partitioning = true, hive_types = {'year': SMALLINT})"
    )
    connection.execute(
        f"CREATE OR REPLACE VIEW movies_consolidated AS SELECT * FROM read_parquet({sql_string(consolidated)})"
    )
    connection.execute(
        "CREATE OR REPLACE VIEW movie_cast AS SELECT movie_id, year, c.person_id, c.name, c.character, c.order "
        "AS cast_order FROM movies, UNNEST(movies.cast) AS t(c)"
    )
    connection.execute(
        "CREATE OR REPLACE VIEW movies_per_year AS "
        "SELECT year, count(*) AS movies FROM movies GROUP BY year ORDER BY year"
    )
    write_parquet_atomic(tombstones(lake), lake.tombstones_file)
    tombstones_file = sql_string(lake.tombstones_file.resolve().as_posix())
    connection.execute(f"CREATE OR REPLACE VIEW tombstones AS SELECT * FROM read_parquet({tombstones_file})")
    create_history_views(lake, connection)
    return summary
