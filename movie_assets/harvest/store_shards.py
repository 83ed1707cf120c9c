"""The details store's files: the shards' schema and names, reading one shard, and the merge journal.

A shard (``versions-NNNNNNNN.parquet``) is immutable; reading it tells a corrupt shard (content Arrow cannot
decode) from a machine's failure (an I/O error: `StoreError`, the shard stays) and from a shard merged away
under the reader (`ShardVanished`: read the store again). ``compact.json`` journals a merge in progress, so
the next writer can finish or undo one a kill cut short (`finish_compaction`). `movie_assets.harvest.store`
is the store built on these.

Each shard records, in its Parquet key-value metadata, the fingerprint of the rules that made its ``typed``
column (`columnar.TYPED_FINGERPRINT`, under `TYPED_FINGERPRINT_KEY`). A shard whose fingerprint differs or is
absent (a store of older rules, or of schema 1 or 2) has ``typed`` derived again from its payloads when read,
never read as it is: a field added to the typed reading is filled, not left null. Nothing is fetched again;
a merge (`DetailsStore.compact`) writes the merged shard with the current fingerprint.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movie_assets.harvest.columnar import TYPED_FINGERPRINT, TYPED_TYPE, typed_fields
from movie_assets.lake.state import is_corrupt_parquet_error, read_state_json

VERSION_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int64()),
        ("observed_at", pa.timestamp("us", tz="UTC")),
        # this machine's clock when the answer arrived (null: not a fetched answer, or an older shard)
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),
        ("content_hash", pa.string()),
        ("release_year", pa.int16()),
        # the payload's flags, for the catalog policy without reading payloads (null: not an ``ok`` row, or a
        # row of a shard written before these columns, read from its typed reading where it holds one)
        ("adult", pa.bool_()),
        ("video", pa.bool_()),
        # where ``observed_at`` came from: "server" (the response's Date header) or "local" (no Date header:
        # this machine's clock); null in shards written before this column (server)
        ("clock", pa.string()),
        ("has_payload", pa.bool_()),  # this row holds the payload of its content hash
        ("payload", pa.string()),
        # the payload as the `movies` table reads it (null where it holds no payload, or one movie_row cannot
        # read): a build reads these typed columns instead of parsing JSON again
        ("typed", TYPED_TYPE),
    ]
)
INDEX_COLUMNS = ["movie_id", "observed_at", "fetched_at", "status", "content_hash", "release_year", "adult", "video",
                 "clock"]
FLAG_COLUMNS = ("adult", "video")
TYPED_FINGERPRINT_KEY = b"movie_assets.typed_fingerprint"
# Every table of this schema, so every shard written (an append, a merge), carries the current fingerprint.
VERSION_SCHEMA = VERSION_SCHEMA.with_metadata({TYPED_FINGERPRINT_KEY: TYPED_FINGERPRINT.encode()})
COMPACT_JOURNAL = "compact.json"
_SHARD_NAME = re.compile(r"versions-[0-9]+\.parquet")
_MERGED_NAME = re.compile(r"versions-[0-9]+\.merged")


class StoreError(RuntimeError):
    """The store cannot be used as it is; the message says what to fix."""


class ShardVanished(Exception):
    """A shard was deleted (or replaced) while being read: a concurrent compaction; read the store again."""


def shard_number(path: Path) -> int:
    """The number in a shard's (or merged file's) name; 0 for a name without one."""
    number = path.name.split("-", 1)[1].split(".", 1)[0]
    return int(number) if number.isdigit() else 0


def with_typed(table: pa.Table) -> pa.Table:
    """``table`` with ``typed`` filled in from ``payload`` wherever a payload is held and ``typed`` is null."""
    typed = table.column("typed").combine_chunks() if "typed" in table.column_names else pa.nulls(
        table.num_rows, TYPED_TYPE)
    missing = pc.and_(pc.fill_null(table.column("has_payload"), False), pc.is_null(typed))
    positions = np.flatnonzero(missing.to_numpy(zero_copy_only=False))
    if len(positions):
        derived = typed_fields(table.column("payload").take(pa.array(positions)), unreadable_as_null=True)
        index = np.arange(table.num_rows)
        index[positions] = table.num_rows + np.arange(len(positions))
        typed = pa.concat_arrays([typed, derived]).take(pa.array(index))
    if "typed" in table.column_names:
        return table.set_column(table.column_names.index("typed"), "typed", typed)
    return table.append_column(pa.field("typed", TYPED_TYPE), typed)


def typed_is_current(schema: pa.Schema) -> bool:
    """Whether a shard's ``typed`` column was made by the current rules (its recorded fingerprint)."""
    return (schema.metadata or {}).get(TYPED_FINGERPRINT_KEY) == TYPED_FINGERPRINT.encode()


def _decode(handle: Any, columns: list[str] | None, ids: pa.Array | None) -> pa.Table:
    """Decode a shard from an open file; with ``ids``, only those movies' rows, and a shard holding none
    of them costs one small column (its payloads are not decoded). ``typed`` missing from a schema-1
    shard, or made by other rules (`typed_is_current`), is derived from its payloads."""
    names = list(columns) if columns is not None else VERSION_SCHEMA.names
    stale = "typed" in names and not typed_is_current(pq.read_schema(handle))
    handle.seek(0)
    if stale:
        table = _decode(handle, [c for c in names if c != "typed"] + [
            c for c in ("has_payload", "payload") if c not in names], ids)
        table = with_typed(table.append_column(pa.field("typed", TYPED_TYPE), pa.nulls(table.num_rows, TYPED_TYPE)))
        return table.select(names)
    mask = None
    if ids is not None:
        held = pq.read_table(handle, columns=["movie_id"], schema=VERSION_SCHEMA).column("movie_id")
        mask = pc.is_in(held, value_set=ids)
        handle.seek(0)
        if not pc.any(mask).as_py():
            return pa.schema([VERSION_SCHEMA.field(c) for c in names]).empty_table()
    wanted = names + [c for c in ("has_payload",) if "typed" in names and c not in names]
    table = pq.read_table(handle, columns=wanted, schema=VERSION_SCHEMA)
    table = table.filter(mask) if mask is not None else table
    if "typed" in names:
        missing = pc.and_(pc.fill_null(table.column("has_payload"), False), pc.is_null(table.column("typed")))
        if pc.any(missing).as_py():
            if "payload" not in table.column_names:
                handle.seek(0)
                payload = pq.read_table(handle, columns=["payload"], schema=VERSION_SCHEMA).column("payload")
                table = table.append_column("payload", payload.filter(mask) if mask is not None else payload)
            table = with_typed(table)
    return table.select(names)


def read_shard(
    path: Path,
    columns: list[str] | None,
    ids: pa.Array | None,
    *,
    writing: bool,
    discarded: list[str],
    log: logging.Logger,
) -> pa.Table | None:
    """One shard; None when it is corrupt (a ``writing`` store sets it aside, a reader leaves it out; its name
    is added to ``discarded`` the first time).

    `ShardVanished` when it is gone (a concurrent compaction merged it away); `StoreError` for an I/O
    error (too many open files, a failing disk): that is the machine's fault, not the shard's, so the
    shard stays where it is and the run fails loudly. Only content proven bad (Arrow cannot decode it,
    twice, from the same open file, which is still the shard at ``path``) counts as corrupt."""
    try:
        with open(path, "rb") as handle:
            opened = os.fstat(handle.fileno())
            for _ in range(2):
                try:
                    return _decode(handle, columns, ids)
                except (OSError, pa.ArrowException) as exc:
                    if not is_corrupt_parquet_error(exc):
                        raise
                    corrupt = exc
                    handle.seek(0)
    except FileNotFoundError:
        raise ShardVanished(path) from None
    except OSError as exc:
        raise StoreError(
            f"cannot read details store shard {path} ({exc}); this is an error of the machine (open files, "
            "disk, permissions), not of the data: the shard was left in place; fix the cause and run again"
        ) from exc
    try:
        now = path.stat()
    except FileNotFoundError:
        raise ShardVanished(path) from None
    if (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) != (
            opened.st_dev, opened.st_ino, opened.st_size, opened.st_mtime_ns):
        raise ShardVanished(path)  # replaced while read: what was read is not the shard there now
    problem = str(corrupt).strip().splitlines()[0]
    first_time = path.name not in discarded
    if first_time:
        discarded.append(path.name)
    if writing:  # only the writer sets a shard aside; a reader just leaves it out
        aside = path.with_suffix(".corrupt")
        os.replace(path, aside)
        log.warning("details store shard %s is corrupt (%s); moved to %s, its movies will be "
                    "fetched again", path, problem, aside.name)
    elif first_time:
        log.warning("details store shard %s is unreadable (%s); left out", path, problem)
    return None


def finish_compaction(directory: Path) -> None:
    """Complete (or roll back) a merge a kill interrupted; drop stray merged files."""
    journal = directory / COMPACT_JOURNAL
    if journal.exists():
        plan = _read_journal(journal)
        if not (directory / plan["merged"]).exists():  # the merged shard is in place: drop its sources
            for name in plan["sources"]:
                if name != plan["into"]:
                    (directory / name).unlink(missing_ok=True)
        journal.unlink()
    for stray in directory.glob("versions-*.merged"):
        stray.unlink()


def _read_journal(journal: Path) -> dict[str, Any]:
    """The compaction journal, checked: it names the files the writer deletes, so nothing but shards of
    this store may be in it."""

    def checked(plan: dict[str, Any]) -> dict[str, Any]:
        names = [plan["merged"], plan["into"], *plan["sources"]]
        if not _MERGED_NAME.fullmatch(plan["merged"]) or not all(map(_SHARD_NAME.fullmatch, names[1:])):
            raise ValueError(f"it names files that are not shards of the store: {names[:3]}…")
        if plan["into"] not in plan["sources"]:
            raise ValueError(f"{plan['into']!r} is not one of the merged sources")
        return plan

    return read_state_json(
        journal, "the details store's compaction journal", parse=checked,
        shape={"merged": str, "into": str, "sources": [str]},
        fix="if a versions-*.merged file is beside it, the merge had not happened: delete both; otherwise "
            "delete only the journal (the store then keeps some versions twice, which reads the same). "
            "No shard was deleted",
    )
