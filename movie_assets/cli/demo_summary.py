"""Print where `make demo` put the data and how to look at it."""

from __future__ import annotations

import json

import duckdb

from movie_assets.cli.similar import format_neighbours
from movie_assets.embeddings.index import index_dir
from movie_assets.embeddings.search import MovieSearch
from movie_assets.lake import Lake
from movie_assets.lake.readers import read_parquet
from movie_assets.lake.schema import DETAILS_APPENDS
from movie_assets.posters import similar as multimodal
from movie_assets.posters.poster_index import INDEX_NAME
from movie_assets.recsys import summary
from movie_assets.settings import data_dir_from_env
from movie_assets.warehouse.appends import missing_append_counts, movies_missing_any, refetch_command


def show_similar(lake: Lake, by: str) -> None:
    """Print the neighbours by ``by`` of the first movie with a poster vector, the way `movie-assets similar`
    does."""
    searches = multimodal.load_searches(lake, by)
    posters = MovieSearch.load(lake, INDEX_NAME) if index_dir(lake, INDEX_NAME).exists() else None
    movie = (posters or next(iter(searches.values()))).movies[0]
    print(f'   similar by {by:<7} : movie-assets similar --id {movie.movie_id} --by {by} -k 5')
    answer = multimodal.similar(lake, searches, by=by, movie_id=movie.movie_id, k=5)
    for line in format_neighbours(answer.movie, answer.neighbours, by).splitlines():
        print(f"      {line}")


def show_modalities(lake: Lake) -> None:
    """Coverage of the two modalities."""
    report_file = lake.reports_dir / "item_modalities.json"
    if report_file.exists():
        overall = json.loads(report_file.read_text())["overall"]
        print(f"   modalities         : {overall['movies']:,} movies, text {overall['text']:.1%}, poster "
              f"{overall['poster']:.1%} (FROM item_modalities; reports/item_modalities.json)")


def show_recsys(lake: Lake, source: str = "synth") -> None:
    """The demo's synthetic recommender dataset: counts, cut-offs, cold items, coverage."""
    latest = lake.recsys_latest_file(source)
    if not latest.exists():
        return
    folder = lake.recsys_dataset_dir(latest.read_text(encoding="utf-8").strip())
    if (folder / "manifest.json").exists():
        print("   recommender data   : " + summary.describe(folder).replace("\n", "\n      "))
        exports = sorted(p.parent.name for p in folder.glob("*/export.json"))
        if exports:
            print(f"   framework exports  : {', '.join(exports)} under {folder}/ (each README.md says how to train; "
                  "movie-assets export --help)")


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
        show_similar(lake, "text")
    if index_dir(lake, INDEX_NAME).exists():
        show_similar(lake, "poster")
    show_modalities(lake)
    show_recsys(lake)
    show_missing_appends(lake)
    print("   open the UI        : make ui   → http://127.0.0.1:3000")
    print("This product uses the TMDB API but is not endorsed or certified by TMDB.")


if __name__ == "__main__":
    main()
