"""How the lake writes and hashes files: atomically, deterministically, one way each.

`atomic_path` yields a temporary path beside the target and renames it into place only when the block
finishes without error; `atomic_dir` does the same for a whole directory. Parquet is written with a
fixed codec and no wall-clock metadata, JSON with sorted keys, so the same input gives the same bytes.

Temporary files and build folders are created with the ordinary modes (0666 / 0777 less the umask), as
any other file: a release can be shared. Their names carry their owner (``.<name>.~<host>-<pid>-<random>``
plus ``.tmp`` or ``.build``), so `sweep_stale_temporaries` can remove what a killed process left behind
without touching the work of a live one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2
_renameat2 = getattr(ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True), "renameat2", None)
# Another host's leftovers (a shared lake) are only judged by age: their process cannot be asked.
FOREIGN_LEFTOVER_AGE_S = 24 * 3600
def _host_tag() -> str:
    """Who can judge whether a pid is alive: this host and pid namespace (containers may share a hostname)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return hashlib.sha256(f"{socket.gethostname()}|{namespace}".encode()).hexdigest()[:8]


_HOST_TAG = _host_tag()
# A ``.wal`` beside a temporary is the write-ahead log DuckDB keeps for a database being built there
# (``movies.duckdb`` is built as a temporary): a kill leaves it too, and it has the same owner.
# kinds: tmp (a file being written), build (a folder being built), old (a folder swapped out, put back if its
# swap died between two renames), gone (a folder being deleted); a DuckDB database being built adds ``.wal``.
_TEMPORARY = re.compile(
    r"^\.(?P<target>.+)\.~(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}\.(?P<kind>tmp|build|old|gone)(?:\.wal)?$")


def temporary_name(target: Path, kind: str = "tmp") -> Path:
    """A unique hidden name beside ``target`` that says which process owns it (see `sweep_stale_temporaries`)."""
    return target.with_name(f".{target.name}.~{_HOST_TAG}-{os.getpid()}-{secrets.token_hex(4)}.{kind}")


def create_temporary_file(target: Path) -> Path:
    """Create an empty temporary file beside ``target``, mode 0666 less the umask (not mkstemp's 0600)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = temporary_name(target)
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue


def create_build_dir(target: Path) -> Path:
    """Create an empty build folder beside ``target``, mode 0777 less the umask (not mkdtemp's 0700)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        build = temporary_name(target, "build")
        try:
            build.mkdir(0o777)
            return build
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue


def _owner_is_gone(host: str, pid: int, path: Path) -> bool:
    if host != _HOST_TAG:
        with contextlib.suppress(FileNotFoundError):
            return time.time() - path.lstat().st_mtime > FOREIGN_LEFTOVER_AGE_S
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def sweep_stale_temporaries(root: str | os.PathLike, *, skip: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Remove temporary files and folders under ``root`` whose writer was killed (its process is gone on this
    host, or, from another host, older than a day); a folder swapped out by a swap killed between its two
    renames is put back where its target is missing. A live writer's files, and names that are not ours, are
    never touched. Returns what was removed. Folders in ``skip`` are not searched (large caches)."""
    removed: list[Path] = []
    skipped = {Path(p).resolve() for p in skip}
    for here, dirs, files in os.walk(root):
        folder = Path(here)
        keep = []
        for name in dirs:
            path = folder / name
            match = _TEMPORARY.match(name)
            stale = match is not None and _owner_is_gone(match["host"], int(match["pid"]), path)
            if stale and match["kind"] == "old" and not (folder / match["target"]).exists():
                os.replace(path, folder / match["target"])  # killed between the two renames of a swap
                keep.append(match["target"])
            elif stale and path.is_symlink():  # a generation switch killed before its rename
                path.unlink()
                removed.append(path)
            elif stale:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
            elif not match and path.resolve() not in skipped:
                keep.append(name)
        dirs[:] = keep
        for name in files:
            match = _TEMPORARY.match(name)
            if match and _owner_is_gone(match["host"], int(match["pid"]), folder / name):
                with contextlib.suppress(FileNotFoundError):
                    (folder / name).unlink()
                    removed.append(folder / name)
    return removed


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    tmp = create_temporary_file(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def replace_dir_atomic(build: Path, target: Path) -> None:
    """Swap a fully built directory into place, removing whatever the target held before.

    Readers see the old folder or the new one, never none: the two are exchanged in one step where the
    system can (Linux), else renamed one after the other (a gap of microseconds; a kill in that gap leaves
    the old folder under an owner-tagged name, which `sweep_stale_temporaries` puts back).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and _exchange(build, target):
        shutil.rmtree(build)
        return
    old = temporary_name(target, "old")
    if target.exists():
        os.replace(target, old)
    os.replace(build, target)
    if old.exists():
        shutil.rmtree(old)


def remove_dir_atomic(target: Path) -> None:
    """Remove a directory so that readers see it whole or not at all (renamed away first, then deleted; a kill
    while deleting leaves an owner-tagged folder that `sweep_stale_temporaries` removes)."""
    if not target.exists():
        return
    gone = temporary_name(target, "gone")
    os.replace(target, gone)
    shutil.rmtree(gone)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty build directory beside ``target``; swap it in for ``target`` only on success."""
    target = Path(target)
    build = create_build_dir(target)
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


def write_json_once(data: Any, target: Path) -> bool:
    """Write ``data`` to ``target`` unless it exists (first writer wins, also between processes: the file is
    linked into place whole); True when this call wrote it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = create_temporary_file(target)
    try:
        tmp.write_text(json_text(data))
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)
