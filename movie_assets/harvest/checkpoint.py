"""Per-movie details checkpoint: Parquet shards, one per finished batch.

Each shard row is ``movie_id, status (ok | not_found | failed), harvested_at, payload (details JSON),
error``. Shards are written atomically and never modified; a later shard supersedes earlier rows for
the same id. A shard that cannot be read is moved aside as ``*.corrupt`` and its movies count as
missing, so they are fetched again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from movie_assets.lake import write_parquet_atomic

log = logging.getLogger(__name__)

OK, NOT_FOUND, FAILED = "ok", "not_found", "failed"
DONE_STATUSES = frozenset({OK, NOT_FOUND})

SHARD_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int64()),
        ("status", pa.string()),
        ("harvested_at", pa.timestamp("us", tz="UTC")),
        ("payload", pa.string()),
        ("error", pa.string()),
    ]
)


@dataclass(frozen=True)
class DetailsRecord:
    """The latest known outcome of one movie's details call."""

    movie_id: int
    status: str
    harvested_at: dt.datetime | None
    payload: str | None
    error: str | None

    def details(self) -> dict[str, Any] | None:
        return json.loads(self.payload) if self.payload else None


class DetailsCheckpoint:
    """The shard directory of one year."""

    def __init__(self, directory: str | os.PathLike, logger: logging.Logger | None = None):
        self.directory = Path(directory)
        self.log = logger or log
        self.discarded_shards: list[str] = []

    def shard_paths(self) -> list[Path]:
        return sorted(self.directory.glob("shard-*.parquet"))

    def load(self) -> dict[int, DetailsRecord]:
        """Latest record per movie id; unreadable shards are set aside and reported."""
        records: dict[int, DetailsRecord] = {}
        for path in self.shard_paths():
            try:
                table = pq.read_table(path, schema=SHARD_SCHEMA)
            except (OSError, pa.ArrowException) as exc:
                aside = path.with_suffix(".corrupt")
                os.replace(path, aside)
                self.discarded_shards.append(path.name)
                self.log.warning(
                    "checkpoint shard %s is corrupt (%s); moved to %s, its movies will be fetched again",
                    path, exc, aside.name,
                )
                continue
            for row in table.to_pylist():
                records[row["movie_id"]] = DetailsRecord(**row)
        return records

    def _next_shard_path(self) -> Path:
        existing = [int(p.stem.split("-")[1]) for p in self.shard_paths()]
        existing += [int(p.stem.split("-")[1]) for p in self.directory.glob("shard-*.corrupt")]
        return self.directory / f"shard-{max(existing, default=0) + 1:06d}.parquet"

    def append(self, records: Iterable[DetailsRecord]) -> Path:
        """Write one batch as a new shard, atomically."""
        rows = sorted((r.__dict__ for r in records), key=lambda r: r["movie_id"])
        table = pa.Table.from_pylist(rows, schema=SHARD_SCHEMA)
        self.directory.mkdir(parents=True, exist_ok=True)
        return write_parquet_atomic(table, self._next_shard_path())

    def compact(self, records: dict[int, DetailsRecord]) -> None:
        """Replace all shards by one holding ``records`` (written first, old shards removed after)."""
        old = self.shard_paths()
        if len(old) <= 1:
            return
        new = self.append(records.values())
        for path in old:
            if path != new:
                path.unlink()
