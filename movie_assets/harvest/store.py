"""The details store: every fetched version of every movie's details, keyed by movie id, append-only.

One store for the whole catalog (``lake.details_store_dir``), not one per discover year, so a movie has one
record however its release date moves, and the year it belongs to is derived from its latest version.

Layout:

* ``store.json``: ``{"schema_version": 2}``; a store written by a newer schema is refused (`StoreError`);
  a schema-1 store (shards without ``typed``) is read as is, its typed readings derived on the fly.
* ``versions-NNNNNNNN.parquet``: immutable shards of `VERSION_SCHEMA`, one per flushed batch, written
  atomically; for the same id the latest ``observed_at`` wins, and at equal times a later shard (and a
  later row) supersedes earlier ones (appends of several processes need not arrive in the order they were
  fetched). A row records one observation: when the details call answered (the server's ``Date``), ``ok``
  or ``not_found`` (404), the content hash of the payload and its release year. The payload itself is
  stored only when its content is new for that movie, so an unchanged refetch adds a few bytes, not a
  copy; beside it, ``typed``, the
  payload as the ``movies`` table reads it (`movie_assets.harvest.columnar`), parsed once when stored so
  that building a year reads typed columns instead of parsing every payload again.
* ``.lock``: held while the store is written. A year's details run takes it for each shard it appends
  (`append`: milliseconds, waiting up to `APPEND_WAIT_SECONDS` for another writer), so the details runs of
  several years, in several processes, fill the store at once; the catalog sync holds it for its whole run
  (`DetailsStore.writer`), and a second such writer fails at once with `StoreBusy` instead of
  interleaving with the first. Versions are matched to payloads by content hash, so appends of different
  processes never misattribute one.

* ``compact.json``: the journal of a merge in progress (`compact`), finished or undone by the next writer.

A failed call is never written (`append` drops it): the previous good version stays the latest. A shard
whose content Arrow cannot decode is moved aside as ``*.corrupt`` by the writer (its movies count as never
fetched, so they are fetched again; a reader only leaves it out); an I/O error (too many open files, a
failing disk) is a `StoreError` and moves nothing. Small shards are merged now and then (`compact`) so a
year's build reads few files; a reader needs no lock, and reads again from a fresh listing when a merge
deletes a shard under it. A corrupt ``store.json`` or ``compact.json`` is a `StateFileError` that says
what to do.

This module is the store's API; the shard files (schema, reading one, the merge journal) are
`movie_assets.harvest.store_shards`, the write lock `movie_assets.harvest.store_lock`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.harvest.columnar import PAYLOADS_SCHEMA
from movie_assets.harvest.observations import (  # noqa: F401  (the store's vocabulary, used through it)
    DONE_STATUSES,
    FAILED,
    LOCAL_CLOCK,
    NOT_FOUND,
    OK,
    SERVER_CLOCK,
    DetailsRecord,
    content_hash,
    release_year,
    version_row,
)
from movie_assets.harvest.store_lock import StoreBusy, write_lock
from movie_assets.harvest.store_shards import (
    COMPACT_JOURNAL,
    FLAG_COLUMNS,
    INDEX_COLUMNS,
    VERSION_SCHEMA,
    ShardVanished,
    StoreError,
    finish_compaction,
    read_shard,
    shard_number,
    with_typed,
)
from movie_assets.lake import write_json_atomic, write_parquet_atomic
from movie_assets.lake.state import read_state_json

log = logging.getLogger(__name__)

# 2: shards carry ``typed``, the payload's typed reading (a schema-1 store is read, and its ``typed`` derived).
SCHEMA_VERSION = 2
MERGE_AT_SHARDS = 64  # merge the small shards once this many exist
SMALL_SHARD_BYTES = 64 << 20
READ_ATTEMPTS = 10  # fresh listings a read tries while compactions keep merging shards away
# How long an append waits for another writer (a sync holds the lock for its whole run, a year's details run
# for a few milliseconds per shard) before it fails with `StoreBusy`.
APPEND_WAIT_SECONDS = 120.0
# How long a details run's closing merge waits for the lock before leaving the merge to the next writer.
COMPACT_WAIT_SECONDS = 10.0


@dataclass
class StoreState:
    """The latest status of every movie, the content hash of every latest good version, and when each latest
    version was observed and fetched (`DetailsStore.state`)."""

    statuses: dict[int, str]
    hashes: dict[int, str]
    times: dict[int, tuple[dt.datetime, dt.datetime | None]] = field(default_factory=dict)


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
        return sorted(self.directory.glob("versions-*.parquet"), key=shard_number)

    def _check_schema(self) -> None:
        version = self._manifest_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the details store {self.directory} was written by a newer movie_assets (schema {version}, "
                f"this one reads {SCHEMA_VERSION}); upgrade movie_assets or point MOVIE_ASSETS_DATA_DIR elsewhere"
            )

    def _manifest_version(self) -> int:
        if not self.manifest_file.exists():
            return 0
        return read_state_json(
            self.manifest_file, "the details store's manifest", shape={"schema_version": int},
            parse=lambda data: data["schema_version"],
            fix=f'it should hold {{"schema_version": {SCHEMA_VERSION}}}; if this movie_assets wrote the store, '
                "write exactly that into it (the shards beside it are not affected)",
        )

    # -- writing -----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writer(self, wait: float = 0.0) -> Iterator[DetailsStore]:
        """Hold the store's write lock for the block; `StoreBusy` if another writer still holds it after
        ``wait`` seconds (at once by default). Re-entrant: a block inside another holds nothing more."""
        if self._writing:
            yield self
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with write_lock(self.directory, wait):
            try:
                if self._manifest_version() < SCHEMA_VERSION:  # new, or older shards beside new ones from now on
                    write_json_atomic({"schema_version": SCHEMA_VERSION}, self.manifest_file)
                self._writing = True
                finish_compaction(self.directory)
                yield self
            finally:
                self._writing = False

    def append(self, records: Iterable[DetailsRecord], known_hashes: dict[int, str] | None = None,
               known_times: dict[int, tuple[dt.datetime, dt.datetime | None]] | None = None) -> Path | None:
        """Write one batch of observations as a new shard (failed ones are dropped). ``known_hashes`` (the
        latest stored content hash per id) lets an unchanged payload be recorded without a copy.

        ``known_times`` (when each movie's latest stored version was observed and fetched) applies the clock
        rule: the newest observation wins, by ``observed_at`` — but an answer fetched *after* the stored one
        whose server ``Date`` is earlier (the server's clock stepped back, or the stored one was stamped by
        a clock running ahead) is stamped 1 µs after the stored one and marked ``adjusted``, so an older
        observation never wins over a newer one. An answer fetched *before* the stored one (appended late, e.g.
        a batch that waited behind a sync) keeps its time and stays older. Answers of one second (``Date`` has
        one-second resolution) with different content are ordered 1 µs apart by when they were fetched."""
        known = known_hashes if known_hashes is not None else {}
        times = known_times if known_times is not None else {}
        rows = []
        for record in sorted(records, key=lambda r: r.movie_id):
            if record.status == FAILED:
                continue
            if record.harvested_at is None:
                raise ValueError(f"the observation of movie {record.movie_id} has no time; it cannot be ordered")
            rows.append(version_row(record, known, times))
        if not rows:
            return None
        table = with_typed(pa.Table.from_pylist(rows, schema=VERSION_SCHEMA))
        with self.writer(wait=APPEND_WAIT_SECONDS):  # the shard's number is taken under the lock
            return write_parquet_atomic(table, self._next_shard_path())

    def _next_shard_path(self) -> Path:
        numbers = [shard_number(p) for p in self.directory.glob("versions-*.*")]
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

        def tables() -> Iterator[pa.Table]:
            for path in small:
                table = self._read_shard(path, None)
                if table is None:  # set aside as corrupt: merge next time, without it
                    raise ShardVanished(path)
                yield table

        try:
            write_parquet_atomic(tables(), target, schema=VERSION_SCHEMA)
        except ShardVanished:
            return
        write_json_atomic({"merged": target.name, "into": small[-1].name, "sources": [p.name for p in small]},
                          self.directory / COMPACT_JOURNAL)
        os.replace(target, small[-1])
        finish_compaction(self.directory)

    def compact_unless_busy(self, wait: float = COMPACT_WAIT_SECONDS) -> bool:
        """`compact` under the lock if it is free within ``wait`` seconds; False (nothing done) when another
        writer keeps it, e.g. a catalog sync holding it for its whole run: a merge can wait for the next
        writer, and a run whose versions are all stored must not fail for want of one."""
        try:
            with self.writer(wait=wait):
                self.compact()
        except StoreBusy:
            self.log.info("details store %s is busy (a sync?); its small shards are merged next time", self.directory)
            return False
        return True

    # -- reading -----------------------------------------------------------------------------------------
    def _read_shard(self, path: Path, columns: list[str] | None, ids: pa.Array | None = None) -> pa.Table | None:
        """One shard (`read_shard`): None when corrupt, set aside by a writer and left out by a reader."""
        return read_shard(path, columns, ids, writing=self._writing, discarded=self.discarded_shards, log=self.log)

    def _tables(self, columns: list[str] | None = None,
                keep: Callable[[pa.Table], pa.Table] | None = None, ids: pa.Array | None = None) -> list[pa.Table]:
        """Every readable shard, oldest first (``keep``: what to hold of each, so that only one whole
        shard is in memory at a time; ``ids``: only the rows of these movies).

        A reader needs no lock, so a writer may compact while it reads: the merged shard is renamed over
        the newest of its sources before the others are deleted, so a shard that vanishes mid-read had its
        rows copied into a shard that sorts after it. Rather than reason about which, the read starts
        over from a fresh listing (a few times, then `StoreError`): every result comes from one listing
        in which every shard was read, so no version is missing."""
        for attempt in range(READ_ATTEMPTS):
            try:
                tables = []
                for path in self.shard_paths():
                    table = self._read_shard(path, columns, ids)
                    if table is not None:
                        tables.append(keep(table) if keep is not None else table)
                return tables
            except ShardVanished as gone:
                self.log.debug("details store shard %s vanished while read (compaction); reading again", gone)
                time.sleep(0.01 * attempt)
        raise StoreError(f"the details store {self.directory} changed under every one of {READ_ATTEMPTS} reads "
                         "(shards merged away while being read); run again once the writer is done")

    @property
    def shard_glob(self) -> Path:
        """The glob of the shards, for readers such as DuckDB's ``read_parquet``."""
        return self.directory / "versions-*.parquet"

    def latest(self, as_of: dt.datetime | None = None, ids: Iterable[int] | None = None) -> pa.Table:
        """The latest observation of every movie in the store (`INDEX_COLUMNS`, no payloads), by id; with
        ``as_of``, the latest observed at or before that time (the store as it was then); with ``ids``, of
        those movies only (a shard holding none of them costs one small column)."""
        keep = None
        if as_of is not None:
            until = pa.scalar(as_of, VERSION_SCHEMA.field("observed_at").type)
            keep = lambda t: t.filter(pc.less_equal(t.column("observed_at"), until))  # noqa: E731
        return self._with_flags(self._one_per_movie(keep, ids, newest=True))

    def first_good(self, after: dt.datetime, ids: Iterable[int] | None = None) -> pa.Table:
        """The earliest good (``ok``) observation of every movie observed after ``after`` (`INDEX_COLUMNS`), by id:
        what a reader of the past falls back to for a movie the past did not know yet."""
        since = pa.scalar(after, VERSION_SCHEMA.field("observed_at").type)
        keep = lambda t: t.filter(pc.and_(pc.greater(t.column("observed_at"), since),  # noqa: E731
                                          pc.equal(t.column("status"), OK)))
        return self._with_flags(self._one_per_movie(keep, ids, newest=False))

    def _one_per_movie(self, keep: Callable[[pa.Table], pa.Table] | None, ids: Iterable[int] | None,
                       newest: bool) -> pa.Table:
        tables = self._tables(INDEX_COLUMNS, keep, ids=_id_array(ids))
        parts = [t.append_column("seq", pa.array(range(t.num_rows), pa.int64())).append_column(
            "shard", pa.array([n] * t.num_rows, pa.int64())) for n, t in enumerate(tables)]
        if not parts:
            return pa.schema([VERSION_SCHEMA.field(c) for c in INDEX_COLUMNS]).empty_table()
        # The newest observation wins, whichever process appended it last: a details run whose append waited
        # behind a sync (or another year's run) must not put its older reading over a newer one. Shard and
        # row order break ties (the server's Date has whole seconds); the oldest is the first in that order.
        order = "descending" if newest else "ascending"
        table = pa.concat_tables(parts).sort_by([("movie_id", "ascending"), ("observed_at", order),
                                                 ("shard", order), ("seq", order)])
        ids = table.column("movie_id").to_numpy()
        first = np.concatenate([[True], ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, bool)
        return table.filter(pa.array(first)).select(INDEX_COLUMNS)

    def _with_flags(self, latest: pa.Table) -> pa.Table:
        """``latest`` with the adult/video flags of good versions recorded before shards carried them read
        from those versions' typed readings (only for such rows: a store written since reads nothing more)."""
        unknown = pc.and_(pc.equal(latest.column("status"), OK), pc.is_null(latest.column("adult")))
        if not pc.any(unknown).as_py():
            return latest
        flags: dict[int, tuple[bool | None, bool | None]] = {}
        for table in self.latest_versions(latest.filter(unknown), "typed"):
            typed = table.column("typed").combine_chunks()
            flags.update(zip(table.column("movie_id").to_pylist(),
                             zip(typed.field("adult").to_pylist(), typed.field("video").to_pylist(), strict=True),
                             strict=True))
        filled = {name: [] for name in FLAG_COLUMNS}
        for movie_id, *values in zip(*(latest.column(c).to_pylist() for c in ("movie_id", *FLAG_COLUMNS)),
                                     strict=True):
            known = flags.get(movie_id, tuple(values))
            for name, value in zip(FLAG_COLUMNS, known, strict=True):
                filled[name].append(value)
        for name in FLAG_COLUMNS:
            latest = latest.set_column(latest.column_names.index(name), name, pa.array(filled[name], pa.bool_()))
        return latest

    def _payload_keys(self, ids: Iterable[int] | None = None) -> set[tuple[int, str]]:
        """(movie id, content hash) of every payload the readable shards hold."""
        keys: set[tuple[int, str]] = set()
        def payload_rows(table: pa.Table) -> pa.Table:
            return table.filter(pc.fill_null(table.column("has_payload"), False))

        for held in self._tables(["movie_id", "content_hash", "has_payload"], payload_rows, ids=_id_array(ids)):
            keys.update(zip(held.column("movie_id").to_pylist(), held.column("content_hash").to_pylist(), strict=True))
        return keys

    def held(self, latest: pa.Table) -> pa.Table:
        """The rows of ``latest`` (a `latest` table) whose version the store can still read: good versions
        whose payload is in a readable shard, and every status without a payload. In Arrow, for the whole
        catalog at once (`state` builds Python dicts, for the few movies a run fetches)."""
        def payload_rows(table: pa.Table) -> pa.Table:
            return table.filter(pc.fill_null(table.column("has_payload"), False)).select(["movie_id", "content_hash"])

        payloads = self._tables(["movie_id", "content_hash", "has_payload"], payload_rows)
        keys = pa.concat_tables(payloads) if payloads else pa.table(
            {"movie_id": pa.array([], pa.int64()), "content_hash": pa.array([], pa.string())})
        keys = keys.group_by(["movie_id", "content_hash"], use_threads=False).aggregate([])
        keys = keys.append_column("_held", pa.array(np.ones(keys.num_rows, bool)))
        joined = latest.join(keys, keys=["movie_id", "content_hash"], join_type="left outer", use_threads=False)
        keep = pc.or_(pc.fill_null(joined.column("_held"), False), pc.is_null(joined.column("content_hash")))
        return joined.filter(keep).drop_columns(["_held"]).select(latest.column_names).sort_by("movie_id")

    def state(self, ids: Iterable[int] | None = None) -> StoreState:
        """What a writer decides with, read in one pass: the latest status of every movie (``ids``: of those
        only, so a year's run holds its own movies, not the catalog's), and the content hash of every latest
        good version. A movie whose latest good payload was lost with an unreadable
        shard counts as never fetched (so it is fetched again, payload and all)."""
        latest, held = self.latest(ids=ids), self._payload_keys(ids)
        state = StoreState({}, {})
        for movie_id, status, digest, observed, fetched in zip(
            *(latest.column(c).to_pylist() for c in ("movie_id", "status", "content_hash", "observed_at",
                                                     "fetched_at")), strict=True
        ):
            state.times[movie_id] = (observed, fetched)
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

    def latest_versions(self, latest: pa.Table, column: str = "payload",
                        transform: Callable[[pa.Table], pa.Table] | None = None) -> list[pa.Table]:
        """For the rows of ``latest`` (a filtered `latest` table) whose good version the store holds: tables of
        ``movie_id, status, observed_at`` and ``column`` (``payload``, or ``typed``, its typed reading), one per
        shard that holds any, each movie once, each passed through ``transform`` as soon as its shard is read
        (only one shard in memory at a time). A movie whose payload was in a shard set aside as corrupt is
        missing: fetch it again."""
        wanted = latest.select(["movie_id", "content_hash", "status", "observed_at"]).filter(
            pc.is_valid(latest.column("content_hash")))

        def keep(shard: pa.Table) -> pa.Table:
            held = shard.filter(pc.fill_null(shard.column("has_payload"), False))
            keys = held.select(["movie_id", "content_hash"]).append_column("row", pa.array(
                np.arange(held.num_rows, dtype=np.int64)))  # matched without dragging the values along
            hits = keys.join(wanted, keys=["movie_id", "content_hash"], join_type="inner", use_threads=False)
            hits = hits.sort_by("row")
            # One payload per movie: a shard may hold the same content twice (a movie whose content came back,
            # e.g. a flag flipped and flipped back, stored again; two shards holding it, merged into one).
            _, first = np.unique(hits.column("movie_id").to_numpy(), return_index=True)
            if len(first) < hits.num_rows:
                hits = hits.take(pa.array(np.sort(first))).sort_by("row")
            values = held.column(column).take(hits.column("row"))
            hits = hits.select(["movie_id", "status", "observed_at"]).append_column(column, values)
            hits = hits.cast(pa.schema([*PAYLOADS_SCHEMA][:3] + [VERSION_SCHEMA.field(column)]))
            return transform(hits) if transform is not None else hits

        tables, seen = [], None
        for table in self._tables(["movie_id", "content_hash", "has_payload", column], keep,
                                  ids=wanted.column("movie_id").combine_chunks()):
            if seen is not None:  # an unchanged payload held by two shards (before a compaction merged them)
                table = table.filter(pc.invert(pc.is_in(table.column("movie_id"), value_set=seen)))
            if table.num_rows:
                tables.append(table)
                ids = table.column("movie_id").combine_chunks()
                seen = ids if seen is None else pa.concat_arrays([seen, ids])
        return tables

    def records(self, latest: pa.Table) -> dict[int, DetailsRecord]:
        """`DetailsRecord`s (payload included) for the rows of ``latest`` whose good version the store holds,
        and those of its rows that have no payload (404s); for a few movies (see `latest_versions` for many)."""
        records = {}
        for table in self.latest_versions(latest):
            for movie_id, status, observed_at, payload in zip(
                    *(table.column(c).to_pylist() for c in PAYLOADS_SCHEMA.names), strict=True):
                records[movie_id] = DetailsRecord(movie_id, status, observed_at, payload)
        without = latest.filter(pc.is_null(latest.column("content_hash")))
        for row in without.select(["movie_id", "status", "observed_at"]).to_pylist():
            records[row["movie_id"]] = DetailsRecord(row["movie_id"], row["status"], row["observed_at"], None)
        return records


def _id_array(ids: Iterable[int] | None) -> pa.Array | None:
    if ids is None:
        return None
    return ids if isinstance(ids, pa.Array) else pa.array(sorted(set(ids)), pa.int64())
