"""Bad-input catalogue, part 3: an unlucky lake — odd paths, open readers, umasks, files left by a kill.

Kinds: 30 a data directory whose path holds quotes, brackets and glob characters; 31 a reader holding
``movies.duckdb`` open (the README's ``read_only=True`` snippet left open in a notebook) while ``movies_db``
rebuilds; 32 a umask that shares files with the group; 33 temporary files and half-swapped folders a
``kill -9`` left behind; 34 the release checksums must cover every published file.
(Part 1: `test_bad_input.py`; part 2: `tmdb/test_hostile_servers.py`.)
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from movie_assets.embeddings.index import IndexParams, build_index_files
from movie_assets.lake import Lake, LakeError, write_parquet_atomic
from movie_assets.lake.files import temporary_name
from movie_assets.release.checksums import write_checksums
from movie_assets.warehouse import build as warehouse

from .release.synthetic import YEARS, write_lake

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"  # the pinned duckdb-cli of the environment


def fingerprint(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# 30 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["o'brien [1]", "stars*and[!x]", "semi;colon -- 'x'); DROP VIEW movies; --"])
def test_a_data_dir_with_quotes_brackets_and_glob_characters_works(tmp_path, name):
    lake = Lake.at(tmp_path / name / "data")
    write_lake(lake.root)
    summary = warehouse.build_movies_db(lake)
    with duckdb.connect(str(lake.duckdb_file), read_only=True) as connection:
        per_year = dict(connection.execute("SELECT year, movies FROM movies_per_year").fetchall())
        consolidated = connection.execute("SELECT count(*) FROM movies_consolidated").fetchone()[0]
        views = {r[0] for r in connection.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert per_year == {year: n for year, n in YEARS.items()} and consolidated == summary.rows == sum(YEARS.values())
    assert {"movies", "movies_consolidated", "movie_cast", "movies_per_year", "tombstones"} <= views


@pytest.mark.parametrize(("name", "shown"), [("what?", "'?'"), ("back\\slash", "'\\\\'")])
def test_a_data_dir_duckdb_cannot_open_is_refused_naming_the_setting(tmp_path, name, shown):
    lake = Lake.at(tmp_path / name / "data")
    write_lake(lake.root)
    good = fingerprint(lake.root)
    with pytest.raises(LakeError, match="MOVIE_ASSETS_DATA_DIR") as info:
        warehouse.build_movies_db(lake)
    assert shown in str(info.value)
    assert fingerprint(lake.root) == good


# 31 -----------------------------------------------------------------------------------------------------
def test_an_open_reader_neither_blocks_movies_db_nor_sees_it_half_built(tmp_path):
    lake = Lake.at(tmp_path / "data")
    write_lake(lake.root)
    warehouse.build_movies_db(lake)
    reader = duckdb.connect(str(lake.duckdb_file), read_only=True)  # left open, as in a notebook
    cli = subprocess.Popen([str(DUCKDB_CLI), "-readonly", str(lake.duckdb_file)], stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if DUCKDB_CLI.exists() else None
    try:
        before = reader.execute("SELECT count(*) FROM movies").fetchone()[0]
        summary = warehouse.build_movies_db(lake)  # used to fail on DuckDB's file lock
        assert summary.rows == before
        old_file = reader.execute("SELECT count(*) FROM movies_consolidated").fetchone()[0]
        assert old_file == before  # the reader's old database, still whole
        with duckdb.connect(str(lake.duckdb_file), read_only=True) as fresh:
            assert fresh.execute("SELECT count(*) FROM movies").fetchone()[0] == before
    finally:
        reader.close()
        if cli is not None:
            cli.communicate(b".quit\n", timeout=30)
    assert sorted(p.name for p in lake.root.iterdir() if p.name.startswith(".movies.duckdb")) == []


# 32 -----------------------------------------------------------------------------------------------------
def test_published_files_honour_a_group_sharing_umask(tmp_path):
    old = os.umask(0o002)
    try:
        lake = Lake.at(tmp_path / "data")
        write_lake(lake.root)
        warehouse.build_movies_db(lake)
        published = [lake.movies_file, lake.duckdb_file, lake.tombstones_file, lake.movies_year_file(2021)]
        modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in published}
        folders = {oct(stat.S_IMODE(p.stat().st_mode)) for p in lake.root.rglob("*") if p.is_dir()}
    finally:
        os.umask(old)
    assert set(modes.values()) == {"0o664"}, modes
    assert folders == {"0o775"}


# 33 -----------------------------------------------------------------------------------------------------
def test_what_a_kill_left_behind_is_removed_by_the_next_run_and_good_output_kept(tmp_path):
    lake = Lake.at(tmp_path / "data")
    write_lake(lake.root)
    warehouse.build_movies_db(lake)
    good = fingerprint(lake.root)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    leftovers = [temporary_name(lake.movies_file), temporary_name(lake.movies_year_file(2021)),
                 temporary_name(lake.export_snapshot_file(dt.date(2026, 11, 1)))]
    leftovers = [p.with_name(p.name.replace(f"-{os.getpid()}-", f"-{pid}-")) for p in leftovers]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * 4096)  # some are as large as the consolidated file
    build = temporary_name(lake.splits_dir, "build")
    build = build.with_name(build.name.replace(f"-{os.getpid()}-", f"-{pid}-"))
    (build / "train.parquet").parent.mkdir(parents=True)
    (build / "train.parquet").write_bytes(b"x")
    removed = lake.remove_stale_temporaries()
    # the year file's leftover is found in its generation's folder (movies_parquet is a symlink to it)
    assert sorted(map(os.path.realpath, removed)) == sorted(map(os.path.realpath, [*leftovers, build]))
    assert fingerprint(lake.root) == good


def test_a_kill_inside_the_duckdb_build_leaves_nothing_after_the_sweep(tmp_path):
    """``kill -9`` while DuckDB writes the new ``movies.duckdb`` beside the old one leaves the temporary's
    write-ahead log (``.movies.duckdb.~<owner>.tmp.wal``): it belongs to the same dead owner and is swept."""
    lake = Lake.at(tmp_path / "data")
    write_lake(lake.root)
    warehouse.build_movies_db(lake)
    good = fingerprint(lake.root)
    script = (
        "import os, signal, sys\n"
        "from movie_assets.lake import Lake\n"
        "from movie_assets.warehouse import build\n"
        "def killed(lake, connection):\n"
        "    connection.execute('CREATE TABLE t AS SELECT range AS x FROM range(1000)')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "build.create_history_views = killed\n"
        "build.build_movies_db(Lake.at(sys.argv[1]))\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(lake.root)], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    assert [p.name for p in lake.root.glob(".movies.duckdb.~*.wal")]  # what the kill left
    lake.remove_stale_temporaries()
    assert fingerprint(lake.root) == good


# 34 -----------------------------------------------------------------------------------------------------
def test_checksums_cover_embeddings_and_index_files(tmp_path):
    lake = Lake.at(tmp_path / "data")
    write_lake(lake.root)
    warehouse.build_movies_db(lake)
    vectors = np.random.default_rng(0).standard_normal((20, 8)).astype("float32")
    write_parquet_atomic(pa.table({"movie_id": list(range(20))}), lake.embeddings_year_file(2024))
    build_index_files(lake, np.arange(20), vectors, params=IndexParams())
    _, lines = write_checksums(lake)
    paths = {line.split("  ", 1)[1] for line in lines}
    assert {"data/processed/embeddings_parquet/year=2024/part-0.parquet", "data/index/movies/movies.faiss",
            "data/index/movies/manifest.json"} <= paths
    assert not any("/." in p for p in paths)
    first = lake.checksums_file.read_bytes()
    build_index_files(lake, np.arange(20), vectors, params=IndexParams())  # a rebuild: same bytes
    write_checksums(lake)
    assert lake.checksums_file.read_bytes() == first
