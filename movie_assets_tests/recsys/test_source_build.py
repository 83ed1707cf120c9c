"""A MovieLens zip and a log file over a lake the harvest wrote, built into a dataset: the bridge's blocking
check passes on what the builder wrote."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movie_assets.recsys import build, checks, sources
from movie_assets.recsys.events import FILE, MOVIELENS
from movie_assets.recsys.log_file import read_log_file
from movie_assets.recsys.movielens import read_movielens
from movie_assets.recsys.timeline import SplitPolicy
from movie_assets.warehouse import build as warehouse
from movie_assets_tests.recsys.bridge_lake import write_zip
from movie_assets_tests.recsys.lakes import CLOCK, changed_lake

CONFIG = build.DatasetConfig(split=SplitPolicy(val_start=(CLOCK + dt.timedelta(days=5)).isoformat(),
                                               test_start=(CLOCK + dt.timedelta(days=15)).isoformat()))
N, UNKNOWN = 900, 40  # events, and how many of them name a movie the lake never saw


@pytest.fixture(scope="module")
def harvested(tmp_path_factory):
    lake, _, _ = changed_lake(tmp_path_factory.mktemp("bridged"))
    return lake, warehouse.read_movies(lake).select(["movie_id", "imdb_id"])


def draws(movies: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, index into the lake's movies or -1 for an unknown one, epoch seconds) of each event."""
    rng = np.random.default_rng(3)
    picks = np.concatenate([rng.integers(0, movies.num_rows, N - UNKNOWN), np.full(UNKNOWN, -1)])
    start, end = (CLOCK - dt.timedelta(days=60)).timestamp(), (CLOCK + dt.timedelta(days=25)).timestamp()
    return np.arange(N) % 30 + 1, picks, rng.integers(int(start), int(end), N)


def movielens_source(lake, movies, directory):
    users, picks, seconds = draws(movies)
    tmdb = movies.column("movie_id").to_pylist()
    links = "movieId,imdbId,tmdbId\n" + "".join(f"{i + 1},{i + 1:07d},{t}\n" for i, t in enumerate(tmdb))
    links += f"{len(tmdb) + 1},9999999,999999999\n"
    movie = np.where(picks < 0, len(tmdb) + 1, picks + 1)
    ratings = "userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{m},4.0,{s}\n" for u, m, s in zip(users, movie, seconds, strict=True))
    path = write_zip(directory / "ml.zip", {"ml-x/ratings.csv": ratings, "ml-x/links.csv": links,
                                            "ml-x/movies.csv": "movieId,title,genres\n"})
    return sources.SourceSpec(name="ml", kind=MOVIELENS, path=str(path)), read_movielens(lake, path)


def log_source(lake, movies, directory):
    users, picks, seconds = draws(movies)
    tmdb = np.where(picks < 0, 999_999_999, movies.column("movie_id").to_numpy()[picks])
    path = directory / "log.parquet"
    pq.write_table(pa.table({"user_id": [f"u{u}" for u in users], "tmdb_id": tmdb, "timestamp": seconds}), path)
    return sources.SourceSpec(name="log", kind=FILE, path=str(path)), read_log_file(lake, path)


@pytest.mark.parametrize("make", [movielens_source, log_source])
def test_a_bridged_source_builds_a_dataset_that_passes_the_bridge_check(harvested, tmp_path, make):
    lake, movies = harvested
    spec, source = make(lake, movies, tmp_path)
    report = source.reports["bridge_coverage"]
    assert (report["events_read"], report["events_kept"]) == (N, N - UNKNOWN) and source.errors == []
    assert report["reasons"]["not_in_lake"]["details"]["not_harvested"]["events"] == UNKNOWN
    result = build.build_from_events(lake, spec, source, CONFIG)
    outcome = checks.check_bridge(result.directory)
    assert outcome.passed, outcome.description
    assert pq.read_table(result.directory / "bridge.parquet").num_rows == source.bridge.num_rows


def test_the_cli_registers_builds_checks_and_prints_a_summary(harvested, tmp_path, capsys, monkeypatch):
    from movie_assets.cli import main

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    lake, movies = harvested
    spec, _ = movielens_source(lake, movies, tmp_path)
    window = ["--val-start", (CLOCK + dt.timedelta(days=5)).isoformat(),
              "--test-start", (CLOCK + dt.timedelta(days=15)).isoformat()]
    argv = ["interactions", "import", "--movielens", spec.path, "--data-dir", str(lake.root), "--name", "ml-cli"]
    assert main([*argv, *window]) == 0
    out = capsys.readouterr().out
    assert "registered source 'ml-cli'" in out and "dataset ml-cli__lake-" in out and "bridge:" in out
    assert sources.load_spec(lake, "ml-cli").path == spec.path
    latest = lake.recsys_latest_file("ml-cli").read_text().strip()
    assert (lake.recsys_dataset_dir(latest) / "manifest.json").exists()
    assert main([*argv, "--floor", "0.99", *window]) == 2  # 40 of 900 events dropped: under the floor
    assert "floor" in capsys.readouterr().err
    assert main(["interactions", "import", "--movielens", str(tmp_path / "nope.zip"), "--data-dir",
                 str(lake.root)]) == 2
    assert "nope.zip: no such file" in capsys.readouterr().err
