"""The warehouse: every materialized year in one consolidated Parquet file and DuckDB views over the lake
(``movies``, ``movies_consolidated``, ``movies_per_year``, ``tombstones``, the one-row-per-element views of
`movie_assets.warehouse.list_views` such as ``movie_cast``, and the history views of
`movie_assets.warehouse.history`).

Plain Python, no Dagster; `movie_assets.defs.warehouse` wires it as the ``movies_db`` asset.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from movie_assets.harvest.tombstones import tombstones
from movie_assets.harvest.year_build import built_languages
from movie_assets.lake import Lake, LakeError, atomic_path, generations, write_parquet_atomic
from movie_assets.lake.locks import migrate_to_generations, partitions_lock
from movie_assets.lake.readers import LakeInputError, read_parquet, read_parquet_schema
from movie_assets.lake.schema import MOVIES_SCHEMA, movies_schema
from movie_assets.warehouse.history import create_history_views
from movie_assets.warehouse.list_views import create_list_views
from movie_assets.warehouse.sql import path_literal


def movie_year_tables(lake: Lake, snapshot: Path | None = None) -> Iterator[pa.Table]:
    """Each materialized year of one generation (``snapshot``, default the current one, resolved once) as a
    table of its `dataset_schema`, oldest first — so, concatenated, they are sorted by (release_date, movie_id)
    like each year file."""
    files = _year_files(lake, snapshot)
    schema = dataset_schema(lake, snapshot)
    for year, path in files:
        try:
            part = read_parquet(path)
        except LakeInputError as exc:  # named as users see it: through movies_parquet/, not its generation
            raise LakeInputError(str(exc).replace(str(path), str(lake.movies_year_dir(year) / path.name))) from None
        with_year = part.append_column("year", pa.array([year] * part.num_rows, pa.int16()))
        if movies_schema(built_languages(part.schema)) != schema or set(schema.names) - set(with_year.column_names):
            raise LakeInputError(f"{lake.movies_year_dir(year)} was built by an older release or for other "
                                 "MOVIE_ASSETS_LANGUAGES than the other years; materialize `movies` (or run "
                                 "`movie-assets sync`) to rebuild the years")
        yield with_year.select(schema.names).cast(schema)


def dataset_schema(lake: Lake, snapshot: Path | None = None) -> pa.Schema:
    """The `movies` schema of one generation: with the translated columns its year files were built for (a
    changed ``MOVIE_ASSETS_LANGUAGES`` shows once the years are rebuilt, which happens together)."""
    year, path = _year_files(lake, snapshot)[0]
    try:
        schema = read_parquet_schema(path)
    except LakeInputError as exc:  # named as users see it: through movies_parquet/, not its generation
        raise LakeInputError(str(exc).replace(str(path), str(lake.movies_year_dir(year) / path.name))) from None
    return movies_schema(built_languages(schema))


def _year_files(lake: Lake, snapshot: Path | None) -> list[tuple[int | None, Path]]:
    files = lake.movies_year_files(snapshot or generations.snapshot_dir(lake))
    if not files:
        raise LakeInputError(f"no materialized years under {lake.movies_dataset_dir}; materialize `movies` first")
    return files


def read_movies(lake: Lake) -> pa.Table:
    """All materialized years as one table of the lake's `movies` schema, sorted by (release_date, movie_id)."""
    return pa.concat_tables(movie_year_tables(lake))


@dataclass
class MoviesDbSummary:
    rows: int
    head: pa.Table  # the first rows, for previews and the schema
    per_year: list[tuple[int | None, int]]  # (year, movies), years ascending, undated (None) last


def build_movies_db(lake: Lake, database: str | os.PathLike | None = None) -> MoviesDbSummary:
    """Write the consolidated ``movies.parquet`` year by year (memory bounded by the largest year) and build
    the DuckDB database of views over the lake (``database``, default ``data/movies.duckdb``).

    The database is built as a new file and renamed over the old one, so open readers (a notebook, the
    README's ``read_only`` snippet, the DuckDB CLI) neither block the build nor see it half made: they keep
    the old file until they reconnect. The consolidated file and the views read one generation of the
    dataset (`movie_assets.lake.generations`), resolved under the shared partitions lock and pinned while
    this database uses it, so ``movies`` and ``movies_consolidated`` hold the same build.
    """
    target = Path(database) if database is not None else lake.duckdb_file
    # DuckDB reads what follows '?' in a database path as options, and no escape gets a '\\' through its globs.
    for character in ("?", "\\"):
        if character in str(target.resolve()) or character in str(lake.root.resolve()):
            raise LakeError(f"DuckDB cannot use a path that holds {character!r} ({lake.root}); set "
                            "MOVIE_ASSETS_DATA_DIR (or the duckdb resource's database) to a path without "
                            f"{character!r}")
    summary = MoviesDbSummary(rows=0, head=MOVIES_SCHEMA.empty_table(), per_year=[])

    def counted(tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
        for table in tables:
            if summary.head.num_rows < 5:
                summary.head = pa.concat_tables([summary.head, table.slice(0, 5)]).slice(0, 5)
            summary.rows += table.num_rows
            yield table

    migrate_to_generations(lake)
    write_parquet_atomic(tombstones(lake), lake.tombstones_file)
    # Shared: no writer publishes (or prunes) a generation until the database naming this one is in place.
    with partitions_lock(lake, shared=True):
        snapshot = generations.snapshot_dir(lake)
        schema = dataset_schema(lake, snapshot)
        summary.head = schema.empty_table()
        write_parquet_atomic(counted(movie_year_tables(lake, snapshot)), lake.movies_file, schema=schema)
        with generations.pinned(lake, target.name, snapshot), atomic_path(target) as tmp:
            tmp.unlink()  # DuckDB creates its own file; an empty one is not a database
            with duckdb.connect(str(tmp)) as connection:
                create_views(lake, connection, snapshot)
                summary.per_year = connection.execute(
                    "SELECT year, count(*) FROM movies_consolidated GROUP BY year ORDER BY year NULLS LAST"
                ).fetchall()
            # A write-ahead log left by a killed writer of the old file must not be replayed onto the new one.
            Path(f"{target}.wal").unlink(missing_ok=True)
    return summary


def create_views(lake: Lake, connection: duckdb.DuckDBPyConnection, snapshot: Path | None = None) -> None:
    """(Re)create the views over the lake in ``connection``'s database; ``movies`` reads one generation of the
    dataset (``snapshot``, default the current one), which never changes under it."""
    snapshot = snapshot or generations.snapshot_dir(lake)
    dataset = path_literal(snapshot, lake.movies_dataset_glob.relative_to(lake.movies_dataset_dir).as_posix())
    connection.execute(
        f"CREATE OR REPLACE VIEW movies AS SELECT * FROM read_parquet({dataset}, "
        "hive_partitioning = true, hive_types = {'year': SMALLINT})"
    )
    connection.execute(
        f"CREATE OR REPLACE VIEW movies_consolidated AS SELECT * FROM read_parquet({path_literal(lake.movies_file)})"
    )
    create_list_views(lake, connection)
    connection.execute(
        "CREATE OR REPLACE VIEW movies_per_year AS "
        "SELECT year, count(*) AS movies FROM movies GROUP BY year ORDER BY year"
    )
    connection.execute(
        f"CREATE OR REPLACE VIEW tombstones AS SELECT * FROM read_parquet({path_literal(lake.tombstones_file)})"
    )
    create_history_views(lake, connection)
    create_file_views(lake, connection)


def file_views(lake: Lake) -> dict[str, Path]:
    """Views over one file each that another asset writes after ``movies_db`` (present only once written)."""
    return {"item_modalities": lake.item_modalities_file}


def create_file_views(lake: Lake, connection: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the `file_views` whose file exists."""
    for name, file in file_views(lake).items():
        if file.exists():
            connection.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({path_literal(file)})")


def refresh_file_views(lake: Lake, database: str | os.PathLike | None = None) -> bool:
    """Add the `file_views` to an existing ``movies.duckdb`` the way `build_movies_db` writes it: a copy changed and
    renamed over the old file, so open readers never see it half made. False when there is no database yet (the next
    ``movies_db`` creates the views)."""
    target = Path(database) if database is not None else lake.duckdb_file
    if not target.exists():
        return False
    with atomic_path(target) as tmp:
        shutil.copyfile(target, tmp)
        with duckdb.connect(str(tmp)) as connection:
            create_file_views(lake, connection)
        # As in the build: a write-ahead log left by a killed writer of the old file must not be replayed.
        Path(f"{target}.wal").unlink(missing_ok=True)
    return True
