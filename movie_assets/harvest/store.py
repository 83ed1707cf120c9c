"""The details store: every fetched version of every movie's details, keyed by movie id, append-only.

One store for the whole catalog (``lake.details_store_dir``), not one per discover year, so a movie has one
record however its release date moves, and the year it belongs to is derived from its latest version.

Layout:

* ``store.json``: ``{"schema_version": 1}``; a store written by a newer schema is refused (`StoreError`).
* ``versions-NNNNNNNN.parquet``: immutable shards of `VERSION_SCHEMA`, one per flushed batch, written
  atomically; a later shard (and a later row) supersedes earlier ones for the same id. A row records one
  observation: when the details call answered (the server's ``Date``), ``ok`` or ``not_found`` (404), the
  content hash of the payload and its release year. The payload itself is stored only when its content
  is new for that movie, so an unchanged refetch adds a few bytes, not a copy.
* ``.lock``: held by the one writer (`DetailsStore.writer`); a second writer fails at once with
  `StoreBusy` instead of interleaving with the first.

A failed call is never written (`append` drops it): the previous good version stays the latest. A shard
that cannot be read is moved aside as ``*.corrupt`` (its movies count as never fetched, so they are
fetched again); small shards are merged now and then (`compact`) so a year's build reads few files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.lake import write_json_atomic, write_parquet_atomic

log = logging.getLogger(__name__)

OK, NOT_FOUND, FAILED = "ok", "not_found", "failed"
DONE_STATUSES = frozenset({OK, NOT_FOUND})
SCHEMA_VERSION = 1
MERGE_AT_SHARDS = 64  # merge the small shards once this many exist
SMALL_SHARD_BYTES = 64 << 20

VERSION_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int64()),
        ("observed_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),
        ("content_hash", pa.string()),
        ("release_year", pa.int16()),
        ("has_payload", pa.bool_()),  # this row holds the payload of its content hash
        ("payload", pa.string()),
    ]
)
INDEX_COLUMNS = ["movie_id", "observed_at", "status", "content_hash", "release_year"]
COMPACT_JOURNAL = "compact.json"


class StoreError(RuntimeError):
    """The store cannot be used as it is; the message says what to fix."""


class StoreBusy(StoreError):
    """Another process is writing the store."""


@dataclass(frozen=True)
class DetailsRecord:
    """The outcome of one details call (``payload``: the canonical details JSON, for ``ok``)."""

    movie_id: int
    status: str
    harvested_at: dt.datetime | None
    payload: str | None
    error: str | None = None

    def details(self) -> dict[str, Any] | None:
        return json.loads(self.payload) if self.payload else None


def content_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def release_year(payload: str) -> int | None:
    """The year of the payload's ``release_date`` (None when TMDb has no date)."""
    value = json.loads(payload).get("release_date") or ""
    try:
        return dt.date.fromisoformat(str(value)[:10]).year
    except ValueError:
        return None


@dataclass
class StoreState:
    """The latest status of every movie, and the content hash of every latest good version (`DetailsStore.state`)."""

    statuses: dict[int, str]
    hashes: dict[int, str]


def _shard_number(path: Path) -> int:
    number = path.name.split("-", 1)[1].split(".", 1)[0]
    return int(number) if number.isdigit() else 0


class DetailsStore:
    """The store under one directory. Reading needs no lock; writing goes through `writer`."""

    def __init__(self, directory: str | os.PathLike, logger: logging.Logger | None = None):
        self.directory = Path(directory)
        self.log = logger or log
        self.discarded_shards: list[str] = []
        self._writing = False
        self._check_schema()

    # -- layout ------------------------------------------------------------------------------------------
    @property
    def manifest_file(self) -> Path:
        return self.directory / "store.json"

    def shard_paths(self) -> list[Path]:
        """The shards, oldest first (by number, however many digits it has)."""
        return sorted(self.directory.glob("versions-*.parquet"), key=_shard_number)

    def _check_schema(self) -> None:
        if not self.manifest_file.exists():
            return
        try:
            version = int(json.loads(self.manifest_file.read_text(encoding="utf-8"))["schema_version"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.manifest_file} is unreadable ({exc}); it should hold "
                             f'{{"schema_version": {SCHEMA_VERSION}}}') from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the details store {self.directory} was written by a newer movie_assets (schema {version}, "
                f"this one reads {SCHEMA_VERSION}); upgrade movie_assets or point MOVIE_ASSETS_DATA_DIR elsewhere"
            )

    # -- writing -----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writer(self) -> Iterator[DetailsStore]:
        """Hold the store's write lock for the block; `StoreBusy` at once if another process holds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise StoreBusy(
                    f"the details store {self.directory} is being written by {holder}; wait for that run to "
                    "finish (one writer at a time keeps runs from undoing each other's work)"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            try:
                if not self.manifest_file.exists():
                    write_json_atomic({"schema_version": SCHEMA_VERSION}, self.manifest_file)
                self._writing = True
                self._finish_compaction()
                yield self
            finally:
                self._writing = False
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, records: Iterable[DetailsRecord], known_hashes: dict[int, str] | None = None) -> Path | None:
        """Write one batch of observations as a new shard (failed ones are dropped). ``known_hashes`` (the
        latest stored content hash per id) lets an unchanged payload be recorded without a copy."""
        known = known_hashes if known_hashes is not None else {}
        rows = []
        for record in sorted(records, key=lambda r: r.movie_id):
            if record.status == FAILED:
                continue
            digest = content_hash(record.payload) if record.payload else None
            stored = digest is not None and known.get(record.movie_id) != digest
            rows.append({
                "movie_id": record.movie_id,
                "observed_at": record.harvested_at,
                "status": record.status,
                "content_hash": digest,
                "release_year": release_year(record.payload) if record.payload else None,
                "has_payload": stored,
                "payload": record.payload if stored else None,
            })
            if digest is not None:
                known[record.movie_id] = digest
        if not rows:
            return None
        return write_parquet_atomic(pa.Table.from_pylist(rows, schema=VERSION_SCHEMA), self._next_shard_path())

    def _next_shard_path(self) -> Path:
        numbers = [_shard_number(p) for p in self.directory.glob("versions-*.*")]
        return self.directory / f"versions-{max(numbers, default=0) + 1:08d}.parquet"

    def compact(self) -> None:
        """Merge the small shards into one (call inside `writer`), oldest first so order is kept.

        The merged shard takes the number of the newest shard it holds, so it sorts before every later one.
        A journal names the shards it replaces, so a merge cut short by a kill is finished (or undone) by
        the next writer: never two copies of a version, never a stray merged file."""
        small = [p for p in self.shard_paths() if p.stat().st_size < SMALL_SHARD_BYTES]
        if len(small) < MERGE_AT_SHARDS:
            return
        target = small[-1].with_name(small[-1].name.replace(".parquet", ".merged"))
        write_parquet_atomic((self._read(p) for p in small), target, schema=VERSION_SCHEMA)
        write_json_atomic({"merged": target.name, "into": small[-1].name, "sources": [p.name for p in small]},
                          self.directory / COMPACT_JOURNAL)
        os.replace(target, small[-1])
        self._finish_compaction()

    def _finish_compaction(self) -> None:
        """Complete (or roll back) a merge a kill interrupted; drop stray merged files."""
        journal = self.directory / COMPACT_JOURNAL
        if journal.exists():
            plan = json.loads(journal.read_text(encoding="utf-8"))
            if not (self.directory / plan["merged"]).exists():  # the merged shard is in place: drop its sources
                for name in plan["sources"]:
                    if name != plan["into"]:
                        (self.directory / name).unlink(missing_ok=True)
            journal.unlink()
        for stray in self.directory.glob("versions-*.merged"):
            stray.unlink()

    # -- reading -----------------------------------------------------------------------------------------
    def _read(self, path: Path, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(path, columns=columns, schema=VERSION_SCHEMA)

    def _tables(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        for path in self.shard_paths():
            try:
                yield self._read(path, columns)
            except FileNotFoundError:
                continue  # merged away while we read: its rows are in the newer merged shard
            except (OSError, pa.ArrowException) as exc:
                if path.name in self.discarded_shards:
                    continue
                self.discarded_shards.append(path.name)
                if not self._writing:  # only the writer sets a shard aside; a reader just leaves it out
                    self.log.warning("details store shard %s is unreadable (%s); left out", path, exc)
                    continue
                aside = path.with_suffix(".corrupt")
                os.replace(path, aside)
                self.log.warning("details store shard %s is corrupt (%s); moved to %s, its movies will be "
                                 "fetched again", path, exc, aside.name)

    @property
    def shard_glob(self) -> Path:
        """The glob of the shards, for readers such as DuckDB's ``read_parquet``."""
        return self.directory / "versions-*.parquet"

    def latest(self, as_of: dt.datetime | None = None) -> pa.Table:
        """The latest observation of every movie in the store (`INDEX_COLUMNS`, no payloads), by id; with
        ``as_of``, the latest observed at or before that time (the store as it was then)."""
        tables = self._tables(INDEX_COLUMNS)
        if as_of is not None:
            tables = (t.filter(pc.less_equal(t.column("observed_at"), pa.scalar(as_of, VERSION_SCHEMA.field(
                "observed_at").type))) for t in tables)
        parts = [t.append_column("seq", pa.array(range(t.num_rows), pa.int64())).append_column(
            "shard", pa.array([n] * t.num_rows, pa.int64())) for n, t in enumerate(tables)]
        if not parts:
            return pa.schema([VERSION_SCHEMA.field(c) for c in INDEX_COLUMNS]).empty_table()
        table = pa.concat_tables(parts).sort_by([("movie_id", "ascending"), ("shard", "descending"),
                                                 ("seq", "descending")])
        ids = table.column("movie_id").to_numpy()
        first = np.concatenate([[True], ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, bool)
        return table.filter(pa.array(first)).select(INDEX_COLUMNS)

    def _payload_keys(self) -> set[tuple[int, str]]:
        """(movie id, content hash) of every payload the readable shards hold."""
        keys: set[tuple[int, str]] = set()
        for table in self._tables(["movie_id", "content_hash", "has_payload"]):
            held = table.filter(pc.fill_null(table.column("has_payload"), False))
            keys.update(zip(held.column("movie_id").to_pylist(), held.column("content_hash").to_pylist(), strict=True))
        return keys

    def state(self) -> StoreState:
        """What a writer decides with, read in one pass: the latest status of every movie, and the content
        hash of every latest good version. A movie whose latest good payload was lost with an unreadable
        shard counts as never fetched (so it is fetched again, payload and all)."""
        latest, held = self.latest(), self._payload_keys()
        state = StoreState({}, {})
        for movie_id, status, digest in zip(
            *(latest.column(c).to_pylist() for c in ("movie_id", "status", "content_hash")), strict=True
        ):
            if status != OK:
                state.statuses[movie_id] = status
            elif (movie_id, digest) in held:
                state.statuses[movie_id] = status
                state.hashes[movie_id] = digest
        return state

    def statuses(self) -> dict[int, str]:
        """The latest status of every movie in the store (see `state`)."""
        return self.state().statuses

    def latest_hashes(self) -> dict[int, str]:
        """The content hash of every movie's latest good version whose payload the store holds."""
        return self.state().hashes

    def records(self, latest: pa.Table) -> dict[int, DetailsRecord]:
        """`DetailsRecord`s (payload included) for the rows of ``latest`` (a filtered `latest` table)."""
        wanted = {(i, h) for i, h in zip(latest.column("movie_id").to_pylist(),
                                           latest.column("content_hash").to_pylist(), strict=True) if h}
        ids = pa.array(sorted({i for i, _ in wanted}), pa.int64())
        payloads: dict[tuple[int, str], str] = {}
        for table in self._tables(["movie_id", "content_hash", "payload"]):
            hits = table.filter(pc.and_(pc.is_in(table.column("movie_id"), value_set=ids),
                                        pc.is_valid(table.column("payload"))))
            for movie_id, digest, payload in zip(*(hits.column(c).to_pylist() for c in hits.column_names),
                                                 strict=True):
                if (movie_id, digest) in wanted:
                    payloads[(movie_id, digest)] = payload
        records = {}
        for row in latest.to_pylist():
            payload = payloads.get((row["movie_id"], row["content_hash"])) if row["content_hash"] else None
            if row["content_hash"] and payload is None:
                continue  # its payload was in a shard set aside as corrupt: fetch it again
            records[row["movie_id"]] = DetailsRecord(row["movie_id"], row["status"], row["observed_at"], payload)
        return records
