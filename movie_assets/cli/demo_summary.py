"""Print where `make demo` put the data and how to look at it."""

from __future__ import annotations

import duckdb

from movie_assets.cli.similar import format_neighbours
from movie_assets.embeddings.index import index_dir
from movie_assets.embeddings.search import MovieSearch
from movie_assets.lake import Lake
from movie_assets.lake.readers import read_parquet
from movie_assets.lake.schema import DETAILS_APPENDS
from movie_assets.settings import data_dir_from_env
from movie_assets.warehouse.appends import missing_append_counts, movies_missing_any, refetch_command


def show_similar(lake: Lake) -> None:
    """Print the neighbours of the first indexed movie, the way `movie-assets similar` does."""
    search = MovieSearch.load(lake)
    movie = search.movies[0]
    print(f'   similar movies     : movie-assets similar "{movie.title}" --year {movie.year} -k 5')
    _, neighbours = search.similar(movie.title, movie.year, k=5)
    for line in format_neighbours(movie, neighbours).splitlines():
        print(f"      {line}")


def show_missing_appends(lake: Lake) -> None:
    """A lake harvested by an older release: how many movies lack the newer appends, and the command."""
    if not lake.movies_file.exists():
        return
    missing = read_parquet(lake.movies_file, columns=["missing_appends"]).column("missing_appends")
    counts = missing_append_counts(missing, DETAILS_APPENDS)
    command = refetch_command(counts)
    if command is not None:
        print(f"   older payloads     : {movies_missing_any(missing, DETAILS_APPENDS):,} movies lack appends of "
              f"today's details call (their columns are null until fetched): {command}")


def main() -> None:
    lake = Lake.at(data_dir_from_env())
    print("\n== movie_assets demo finished")
    if lake.duckdb_file.exists():
        with duckdb.connect(str(lake.duckdb_file), read_only=True) as con:
            for year, n in con.execute("SELECT year, movies FROM movies_per_year").fetchall():
                print(f"   {year if year is not None else 'undated'}: {n:>6} movies")
    print(f"   typed Parquet lake : {lake.movies_dataset_dir}/year=*/part-*.parquet")
    print(f"   all years          : {lake.movies_file}")
    query = f".venv/bin/duckdb -readonly {lake.duckdb_file} -c 'FROM movies LIMIT 5'"
    print(f"   DuckDB views       : {lake.duckdb_file}  ({query})")
    if lake.reports_dir.exists():
        print(f"   reports            : {lake.reports_dir}/ (sha256sum -c reports/checksums.txt)")
    if index_dir(lake).exists():
        show_similar(lake)
    show_missing_appends(lake)
    print("   open the UI        : make ui   → http://127.0.0.1:3000")
    print("This product uses the TMDB API but is not endorsed or certified by TMDB.")


if __name__ == "__main__":
    main()
