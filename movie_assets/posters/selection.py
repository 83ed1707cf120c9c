"""Which movies' posters to fetch or embed: the movies of ``movies.parquet`` that have a ``poster_path``, most
popular first."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.lake import Lake


def poster_rows(lake: Lake, years: list[int] | None, limit: int | None) -> pa.Table:
    """movie_id, poster_path (and year, popularity, title when present) of the movies with a poster, in
    ``years`` (None: all), most popular first, at most ``limit``."""
    source = lake.movies_file
    if not source.exists():
        raise FileNotFoundError(f"{str(source)!r} does not exist; materialize movies_db first")
    names = pq.read_schema(source).names
    columns = [c for c in ("movie_id", "poster_path", "year", "popularity", "title") if c in names]
    only_years = [("year", "in", list(years))] if years else None
    table = pq.read_table(source, columns=columns, filters=only_years)
    table = table.filter(pc.is_valid(table.column("poster_path")))
    if "popularity" in table.column_names:
        table = table.sort_by([("popularity", "descending"), ("movie_id", "ascending")])
    else:
        table = table.sort_by("movie_id")
    return table.slice(0, limit) if limit is not None else table


def poster_pairs(table: pa.Table) -> list[tuple[int, str]]:
    """(movie_id, poster_path) of each row of a `poster_rows` table."""
    return list(zip(table.column("movie_id").to_pylist(), table.column("poster_path").to_pylist(), strict=True))
