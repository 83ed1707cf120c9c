"""How the lake writes files: modes that honour the umask, owner-tagged temporaries swept after a kill, and
directory swaps that readers never see half done."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from movie_assets.lake import Lake, atomic_dir, write_parquet_atomic, write_text_atomic
from movie_assets.lake import files as lake_files


@pytest.fixture
def umask():
    """Set a umask for the test and restore the old one."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_written_files_and_folders_honour_the_umask(tmp_path, umask, mask):
    umask(mask)
    text = write_text_atomic("x", tmp_path / "a" / "note.txt")
    table = write_parquet_atomic(pa.table({"a": [1]}), tmp_path / "t.parquet")
    with atomic_dir(tmp_path / "folder") as build:
        (build / "inside.txt").write_text("y")
    assert mode(text) == mode(table) == 0o666 & ~mask
    assert mode(tmp_path / "folder") == 0o777 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "folder", "t.parquet"]  # no temporaries left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = write_text_atomic("old", tmp_path / "f.txt")
    with pytest.raises(RuntimeError), lake_files.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def test_sweep_removes_what_dead_writers_left_and_keeps_live_work(tmp_path):
    lake = Lake.at(tmp_path / "data")
    year = lake.movies_year_file(2020)
    write_parquet_atomic(pa.table({"a": [1]}), year)
    live = lake_files.create_temporary_file(year)  # this process: a write in progress
    dead = year.with_name(live.name.replace(f"-{os.getpid()}-", f"-{_dead_pid()}-"))
    dead.write_bytes(b"half a parquet file")
    build_name = dead.name.replace(".tmp", ".build").replace(year.name, "movies")
    dead_build = lake.index_dir_for("movies").with_name(build_name)
    dead_build.mkdir(parents=True)
    (dead_build / "movies.faiss").write_bytes(b"x" * 100)
    unrelated = year.with_name(".notes.tmp")  # not ours: never touched
    unrelated.write_text("keep")
    poster_leftover = lake.posters_dir / "w185" / dead.name.replace(year.name, "a.jpg")
    poster_leftover.parent.mkdir(parents=True)
    poster_leftover.write_bytes(b"x")

    removed = lake.remove_stale_temporaries()
    assert sorted(removed) == sorted([dead, dead_build])
    assert live.exists() and unrelated.exists() and year.exists()
    assert poster_leftover.exists()  # the image cache is swept by the poster step itself
    assert lake_files.sweep_stale_temporaries(lake.posters_dir) == [poster_leftover]


def test_another_hosts_temporaries_are_swept_only_when_old(tmp_path):
    foreign = tmp_path / ".movies.parquet.~0123abcd-1-deadbeef.tmp"
    foreign.write_text("x")
    assert lake_files.sweep_stale_temporaries(tmp_path) == []
    old = foreign.stat().st_mtime - lake_files.FOREIGN_LEFTOVER_AGE_S - 60
    os.utime(foreign, (old, old))
    assert lake_files.sweep_stale_temporaries(tmp_path) == [foreign]


def _as_dead(path: Path) -> Path:
    return path.with_name(path.name.replace(f"-{os.getpid()}-", f"-{_dead_pid()}-"))


def test_a_swap_killed_between_its_renames_loses_nothing(tmp_path):
    target = tmp_path / "splits"
    with atomic_dir(target) as build:
        (build / "train.parquet").write_text("v1")
    swapped_out = _as_dead(lake_files.temporary_name(target, "old"))
    os.replace(target, swapped_out)  # a fallback swap killed after its first rename
    assert lake_files.sweep_stale_temporaries(tmp_path) == []  # the next run's sweep puts it back
    assert (target / "train.parquet").read_text() == "v1" and os.listdir(tmp_path) == ["splits"]


def test_a_removal_killed_midway_is_finished_not_resurrected(tmp_path):
    target = tmp_path / "year=__HIVE_DEFAULT_PARTITION__"
    target.mkdir()
    (target / "part-0.parquet").write_text("x")
    gone = _as_dead(lake_files.temporary_name(target, "gone"))
    os.replace(target, gone)  # killed while deleting
    assert lake_files.sweep_stale_temporaries(tmp_path) == [gone]
    assert os.listdir(tmp_path) == []


def test_a_live_swap_and_a_users_own_dot_old_folders_are_left_alone(tmp_path):
    (tmp_path / "mybackup").mkdir()
    (tmp_path / ".mybackup.old").mkdir()  # a user's, not ours
    (tmp_path / ".other.old").mkdir()
    live = lake_files.temporary_name(tmp_path / "splits", "old")  # this process: a swap in progress
    live.mkdir()
    assert lake_files.sweep_stale_temporaries(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == sorted([".mybackup.old", ".other.old", "mybackup", live.name])


def test_directories_are_exchanged_in_one_step_where_the_system_can(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "which").write_text("a")
    (b / "which").write_text("b")
    if not lake_files._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not supported here")
    assert (a / "which").read_text() == "b" and (b / "which").read_text() == "a"
