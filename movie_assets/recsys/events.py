"""What every interaction source hands the dataset builder: events on the lake's movies, one table.

A source (a MovieLens zip, a team's own log file, the synthetic generator) reads its input, resolves its item ids
to the lake's movies (the bridge) and returns `SourceEvents`: the events it kept as an `EVENTS_SCHEMA` table,
the bridge when it had one, its reports, and what it read (each input's path and sha256). The builder
(`movie_assets.recsys.build`) turns that into the dataset: indexes, split, features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

EVENTS_SCHEMA = pa.schema([
    ("user_id", pa.string()),  # the source's user id, as text
    ("movie_id", pa.int64()),  # the lake movie the event is about (the bridge resolved it)
    ("source_item_id", pa.string()),  # the source's own item id (MovieLens movieId, the file's id, the movie id)
    ("timestamp", pa.timestamp("s", tz="UTC")),
    ("rating", pa.float32()),  # null for implicit feedback
    ("event", pa.string()),  # "rating", "view", … (a source's own vocabulary)
    ("weight", pa.float32()),  # 1.0 unless the source says otherwise
])
EVENT_DESCRIPTIONS = {
    "user_id": "the source's user id, as text",
    "movie_id": "TMDb movie id of the lake",
    "source_item_id": "the source's item id (MovieLens movieId, the log's id, or the movie id)",
    "timestamp": "when the event happened (UTC, seconds)",
    "rating": "explicit rating (null for implicit feedback)",
    "event": "the kind of event (rating, view, …)",
    "weight": "the event's weight (1.0 unless the source gives one)",
}

MOVIELENS, FILE, SYNTHETIC = "movielens", "file", "synthetic"
KINDS = (MOVIELENS, FILE, SYNTHETIC)


class SourceError(ValueError):
    """An interaction source cannot be read as it is: the message names the file or setting to fix."""


@dataclass(frozen=True)
class InputFile:
    """A file a source read, recorded in the manifest so a dataset names exactly what it was built from."""

    kind: str  # "movielens_zip", "links", "interactions_file", …
    path: str
    sha256: str
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256, "bytes": self.bytes}


@dataclass
class SourceEvents:
    """A source read and bridged to the lake."""

    kind: str  # one of KINDS
    events: pa.Table  # EVENTS_SCHEMA: the kept events, any order
    inputs: list[InputFile] = field(default_factory=list)
    bridge: pa.Table | None = None  # one row per source item and why it was (not) kept; None: no bridge needed
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → JSON, written as reports/<name>.json
    tables: dict[str, pa.Table] = field(default_factory=dict)  # extra files, relative path → table (ground truth)
    policies: dict[str, Any] = field(default_factory=dict)  # the source's settings, for the manifest
    publishable: bool = True  # False when a licence forbids redistributing anything derived (MovieLens)
    licence: dict[str, Any] = field(default_factory=dict)  # terms of the source, for the manifest
    # Failed checks of the source itself (the bridge's reconciliation, the kept share under the floor): the
    # builder refuses to write a dataset from it.
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def empty_events() -> pa.Table:
    return EVENTS_SCHEMA.empty_table()
