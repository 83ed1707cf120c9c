"""Generations of the typed dataset: every read of ``movies_parquet/`` sees one completed build or sync.

``processed/movies_parquet`` is a relative symlink to one generation, ``processed/.movies_generations/<N>/``,
holding ``year=Y/part-<hash>.parquet`` (each file named by the sha256 of its bytes). A published
generation is never changed. The writer holding the partitions lock exclusively (`movie_assets.lake.locks`)
gets a staging generation at its first write: an owner-tagged build folder with every current file
hard-linked (copied where links fail), in which `write_partition_file` and `remove_partition` work. When
the outermost holder releases the lock, the staging folder becomes generation N+1 and the symlink is
switched to it by one rename; an exception discards it and leaves the current generation as it was. So a
sync that rebuilds several years publishes them together, and unchanged files keep their inode.

What readers get:

* a path resolved once (`snapshot_dir`, ``os.path.realpath``) is a frozen snapshot: ``movies.parquet`` and
  the DuckDB views are built from one, and it stays on disk at least `GRACE_S` after it stops being current;
* a reader that lists through the symlink and opens after a switch finds only files whose bytes are those it
  listed (the names are content hashes) or gets ``FileNotFoundError`` (retry): never a mix of two builds.

A generation is removed by a later commit once it is not current, not held by a `pinned` reader (the
database ``movies.duckdb`` reads one) and was switched out or released more than `GRACE_S` ago. A lake
from before generations (``movies_parquet`` a real folder) becomes one at its next write, or at
``movies_db`` (`migrate`): the folder is hard-linked into a generation, files renamed by content, and
exchanged with the symlink in one step.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from movie_assets.lake.files import (
    create_build_dir,
    file_sha256,
    replace_dir_atomic,
    temporary_name,
    write_json_atomic,
    write_parquet_atomic,
)
from movie_assets.lake.paths import Lake

log = logging.getLogger(__name__)

# How long a generation stays after it stopped being current (or a pin released it): the longest a reader
# that resolved the symlink (a query, a notebook's dataset, an old DuckDB connection) may keep using it.
GRACE_S = 600.0
_NAME = re.compile(r"^\d{8}$")
_RETIRED = "retired.json"  # generation -> when it was switched out
_PINS = "pins"  # <holder>.json: generation -> None (held) or when it was released
_open = threading.local()


@dataclass
class _Transaction:
    lake: Lake
    staging: Path | None = None
    number: int = 0


def snapshot_dir(lake: Lake) -> Path:
    """The current generation's folder, resolved once: an immutable snapshot of the dataset (the plain
    folder of a lake from before generations)."""
    return Path(os.path.realpath(lake.movies_dataset_dir))


def current_generation(lake: Lake) -> str | None:
    """The name of the current generation; None when the dataset is not a generation (new or legacy lake)."""
    link = lake.movies_dataset_dir
    return Path(os.readlink(link)).name if link.is_symlink() else None


def is_legacy(lake: Lake) -> bool:
    """Whether ``movies_parquet`` is still a real folder (a lake from before generations)."""
    folder = lake.movies_dataset_dir
    return folder.is_dir() and not folder.is_symlink()


def content_name(path: Path) -> str:
    """The name a year file gets in a generation: ``part-<first 16 hex digits of its sha256>.parquet``."""
    return f"part-{file_sha256(path)[:16]}.parquet"


@contextlib.contextmanager
def transaction(lake: Lake) -> Iterator[None]:
    """Collect the block's partition writes in a staging generation and publish them together at its end
    (nothing when nothing was written; on an exception they are discarded). Opened by the outermost
    exclusive `movie_assets.lake.locks.partitions_lock`, which is what callers hold."""
    transactions: dict[Path, _Transaction] = _open.__dict__.setdefault("transactions", {})
    key = lake.partitions_lock_file
    if key in transactions:
        raise RuntimeError(f"a generation of {lake.movies_dataset_dir} is already being staged in this thread")
    current = transactions[key] = _Transaction(lake)
    try:
        yield
    except BaseException:
        _discard(current)
        raise
    finally:
        del transactions[key]
    try:
        if current.staging is not None:
            _commit(current)
    finally:
        _discard(current)


def _transaction(lake: Lake) -> _Transaction:
    found = _open.__dict__.get("transactions", {}).get(lake.partitions_lock_file)
    if found is None:
        raise RuntimeError("year partitions are written while holding partitions_lock(lake) exclusively")
    return found


def staging_dir(lake: Lake) -> Path:
    """The staging generation of this thread's transaction, made at the first call: what a reader inside the
    transaction must list to see the years it already wrote (the symlink still shows the committed ones)."""
    current = _transaction(lake)
    if current.staging is None:
        generations = lake.movies_generations_dir
        generations.mkdir(parents=True, exist_ok=True)
        current.number = 1 + max((int(p.name) for p in generations.iterdir() if _NAME.match(p.name)), default=0)
        build = create_build_dir(generations / f"{current.number:08d}")
        current.staging = build
        legacy = is_legacy(lake)
        for _, path in lake.movies_year_files():
            folder = build / path.parent.name
            folder.mkdir(exist_ok=True)
            _link(path, folder / (content_name(path) if legacy else path.name))
    return current.staging


def write_partition_file(lake: Lake, year: int | str | None, table: pa.Table) -> Path:
    """Write ``table`` as the one file of partition ``year`` of the staging generation (deterministic bytes,
    `write_parquet_atomic`); returns the path it will have through ``movies_parquet`` once published."""
    folder = staging_dir(lake) / lake.movies_year_dir(year).name
    if folder.exists():
        shutil.rmtree(folder)  # links to the previous file; the published generations keep theirs
    folder.mkdir()
    pending = write_parquet_atomic(table, folder / "part.pending")
    name = content_name(pending)
    os.replace(pending, folder / name)
    return lake.movies_year_dir(year) / name


def remove_partition(lake: Lake, year: int | str | None) -> None:
    """Drop partition ``year`` from the staging generation (no generation is staged just to remove nothing)."""
    current = _transaction(lake)
    name = lake.movies_year_dir(year).name
    if current.staging is None and not lake.movies_year_dir(year).exists():
        return
    shutil.rmtree(staging_dir(lake) / name, ignore_errors=True)


def migrate(lake: Lake) -> None:
    """Inside a transaction: make a lake from before generations one at its commit (nothing otherwise)."""
    if is_legacy(lake):
        staging_dir(lake)


@contextlib.contextmanager
def pinned(lake: Lake, holder: str, snapshot: Path) -> Iterator[None]:
    """Keep ``snapshot``'s generation while ``holder`` (such as ``movies.duckdb``, whose views read it) uses
    it: held from the start of the block; at its end the generations the holder held before are released
    (kept `GRACE_S` longer for readers still on them), or, on an exception, ``snapshot``'s is."""
    name = snapshot.name if snapshot.parent == Path(os.path.realpath(lake.movies_generations_dir)) else None
    if name is None or not _NAME.match(name):  # a legacy folder: nothing to keep
        yield
        return
    path = lake.movies_generations_dir / _PINS / f"{holder}.json"
    before = _read_times(path)
    _write_pins(path, {**before, name: None})
    try:
        yield
    except BaseException:
        _write_pins(path, {**before, name: before.get(name, time.time())})
        raise
    now = time.time()
    _write_pins(path, {**{k: (now if v is None else v) for k, v in before.items()}, name: None})


def _write_pins(path: Path, pins: dict[str, float | None]) -> None:
    now = time.time()
    write_json_atomic({k: v for k, v in pins.items() if v is None or now - v < GRACE_S}, path)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links (or across devices): a copy is as good
        shutil.copy2(source, target)


def _discard(current: _Transaction) -> None:
    if current.staging is not None and current.staging.exists():
        shutil.rmtree(current.staging, ignore_errors=True)
    current.staging = None


def _files(lake: Lake, folder: Path) -> set[str]:
    return {f"{p.parent.name}/{p.name}" for _, p in lake.movies_year_files(folder)}


def _commit(current: _Transaction) -> None:
    lake, staging = current.lake, current.staging
    assert staging is not None
    before = current_generation(lake)
    generations = lake.movies_generations_dir
    if before is not None and _files(lake, staging) == _files(lake, generations / before):
        return  # the same files (names are contents): nothing to publish
    final = generations / f"{current.number:08d}"
    os.replace(staging, final)
    current.staging = None
    link = lake.movies_dataset_dir
    switch = temporary_name(link)
    os.symlink(os.path.relpath(final, link.parent), switch)
    try:
        if is_legacy(lake):
            replace_dir_atomic(switch, link)  # a folder cannot be renamed over: exchanged, then removed
        else:
            os.replace(switch, link)
    finally:
        if switch.is_symlink():
            switch.unlink()
    try:
        prune(lake)
    except OSError as exc:  # published already; the next commit prunes again
        log.warning("could not remove old generations under %s: %s", generations, exc)


def _read_times(path: Path) -> dict[str, float | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): (None if v is None else float(v)) for k, v in data.items()}
    except (OSError, ValueError, AttributeError, TypeError):  # missing or damaged: rebuilt from what is seen
        return {}


def prune(lake: Lake, now: float | None = None) -> list[Path]:
    """Remove generations that are not current, held by no pin, and were switched out (or released) more than
    `GRACE_S` ago; returns them. Run by each commit, under the exclusive lock."""
    now = time.time() if now is None else now
    generations = lake.movies_generations_dir
    current = current_generation(lake)
    retired = _read_times(generations / _RETIRED)
    pins = [_read_times(p) for p in sorted((generations / _PINS).glob("*.json"))]
    keep: dict[str, float | None] = {}
    removed = []
    for folder in sorted(generations.iterdir()) if generations.is_dir() else []:
        if not _NAME.match(folder.name) or folder.name == current:
            continue
        switched = retired.get(folder.name) or now  # first seen switched out: now
        pinned_at = [p[folder.name] for p in pins if folder.name in p]
        if None in pinned_at or now - max([switched, *pinned_at]) < GRACE_S:  # type: ignore[type-var]
            keep[folder.name] = switched
            continue
        gone = temporary_name(folder, "gone")  # a kill while deleting leaves a folder the sweep finishes
        os.replace(folder, gone)
        shutil.rmtree(gone)
        removed.append(folder)
    if keep != retired:
        write_json_atomic(keep, generations / _RETIRED)
    return removed
