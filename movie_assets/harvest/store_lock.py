"""The details store's write lock: ``.lock`` beside the shards, one writer at a time across processes."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from movie_assets.harvest.store_shards import StoreError


class StoreBusy(StoreError):
    """Another process is writing the store."""


@contextlib.contextmanager
def write_lock(directory: Path, wait: float) -> Iterator[None]:
    """Hold ``directory/.lock`` for the block, the holder's pid written in it; `StoreBusy`, naming the holder,
    if another process still holds it after ``wait`` seconds."""
    with open(directory / ".lock", "a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise StoreBusy(
                    f"the details store {directory} is being written by {holder}; wait for that run "
                    "to finish (one writer at a time keeps runs from undoing each other's work)"
                ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
