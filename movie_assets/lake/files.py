"""How the lake writes and hashes files: atomically, deterministically, one way each.

`atomic_path` yields a temporary path beside the target and renames it into place only when the block
finishes without error; `atomic_dir` does the same for a whole directory. Parquet is written with a
fixed codec and no wall-clock metadata, JSON with sorted keys, so the same input gives the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def replace_dir_atomic(build: Path, target: Path) -> None:
    """Swap a fully built directory into place, removing whatever the target held before."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(build, target)
    if old.exists():
        shutil.rmtree(old)


def remove_dir_atomic(target: Path) -> None:
    """Remove a directory so that readers see it whole or not at all (renamed away first, then deleted)."""
    if not target.exists():
        return
    gone = target.with_name(f".{target.name}.old")
    if gone.exists():
        shutil.rmtree(gone)
    os.replace(target, gone)
    shutil.rmtree(gone)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike, prefix: str | None = None) -> Iterator[Path]:
    """Yield an empty build directory beside ``target``; swap it in for ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix or f".{target.name}.build-"))
    try:
        yield build
        replace_dir_atomic(build, target)
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)


def write_parquet_atomic(
    data: pa.Table | Iterable[pa.Table],
    target: str | os.PathLike,
    *,
    schema: pa.Schema | None = None,
    row_group_size: int = 64_000,
) -> Path:
    """Write deterministically (fixed codec, no wall-clock metadata) and atomically.

    ``data`` is one table, or tables written one after another so that only one is in memory at a time
    (then ``schema`` is required).
    """
    tables = [data] if isinstance(data, pa.Table) else data
    schema = schema if schema is not None else data.schema  # type: ignore[union-attr]
    with atomic_path(target) as tmp, pq.ParquetWriter(
        tmp, schema, compression="zstd", write_statistics=True, store_schema=True
    ) as writer:
        for table in tables:
            writer.write_table(table, row_group_size=row_group_size)
    return Path(target)


def json_text(data: Any) -> str:
    """The one JSON layout of the project's files: indented, sorted keys, UTF-8, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json_atomic(data: Any, target: str | os.PathLike) -> Path:
    """Write ``data`` as `json_text` atomically."""
    return write_text_atomic(json_text(data), target)


def write_text_atomic(text: str, target: str | os.PathLike) -> Path:
    """Write UTF-8 ``text`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, streamed."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
