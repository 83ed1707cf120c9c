"""The partitions lock: who may replace year partitions of the typed dataset, and who reads them whole.

A single file rename keeps each year whole for any reader (old file or new, never neither), but some work
needs the dataset consistent across years: a movie whose date moved must leave one year and join another
together, and ``movies.parquet`` must not read one year before a rebuild and the next after it. Writers
(each year's build, the catalog sync's rebuild of the partitions it touched) hold the lock exclusively while
they load the details store and write; readers that combine years (``movies_db``) hold it shared. Holders
keep it for seconds to minutes, so a waiter blocks, up to `DEFAULT_WAIT_S`.

It is an ``flock`` on a file beside the dataset: released by the kernel when a holder dies, valid across
processes on one host and on file systems whose locks span hosts. Re-entrant within a thread, so a sync
that holds it may call the year builds, which take it too (one thread's coroutines count as one holder: the
holders here are synchronous, and a wait blocks the event loop of an async caller, which has nothing else
to do meanwhile).

The outermost exclusive holder of a thread also opens a generation transaction
(`movie_assets.lake.generations.transaction`): everything written under it is published by one symlink switch
when it releases the lock, so readers see the lake before or after the whole block, never in between.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from movie_assets.lake import generations
from movie_assets.lake.paths import Lake, LakeError

DEFAULT_WAIT_S = 1800.0
_POLL_S = 0.05
_held = threading.local()


@contextlib.contextmanager
def partitions_lock(lake: Lake, *, shared: bool = False, wait_s: float = DEFAULT_WAIT_S) -> Iterator[None]:
    """Hold the partitions lock (``shared``: as a reader) for the block; `LakeError` after ``wait_s``."""
    path = lake.partitions_lock_file
    held: dict[Path, tuple[bool, int]] = _held.__dict__.setdefault("locks", {})
    if path in held:
        is_shared, depth = held[path]
        if is_shared and not shared:
            raise RuntimeError("cannot take the partitions lock exclusively while holding it shared")
        held[path] = (is_shared, depth + 1)
        try:
            yield
        finally:
            held[path] = (is_shared, depth)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)  # flock needs no write access: a shared lake's users
    try:
        _acquire(fd, path, shared, wait_s)
        held[path] = (shared, 1)
        try:
            if shared:
                yield
            else:
                with generations.transaction(lake):
                    yield
        finally:
            del held[path]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, shared: bool, wait_s: float) -> None:
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, mode)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LakeError(
                    f"the year partitions under {path.parent} have been locked by another process for "
                    f"{wait_s:.0f} s ({path}); wait for the running sync or build to finish and retry"
                ) from None
            time.sleep(_POLL_S)


def migrate_to_generations(lake: Lake) -> None:
    """Make a lake whose ``movies_parquet`` is still a real folder use generations (once, under the lock)."""
    if generations.is_legacy(lake):
        with partitions_lock(lake):
            generations.migrate(lake)
