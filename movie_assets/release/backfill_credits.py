"""Fill missing actors/directors in a movies CSV through the TMDb client (``movie-assets backfill-credits``).

For people holding a CSV in the earlier tool's layout (``actors``/``directors`` as ``", "``-joined names) or
this project's export (JSON arrays). Rows whose ``actors`` and ``directors`` are both blank are fetched
(``/movie/{id}?append_to_response=credits,…`` via `fetch_one`, with the client's throttling and retries), in
batches; after each batch the whole CSV is rewritten atomically (temp file + rename — a kill never leaves a
half-written file) and a sidecar ``<csv>.credits-state.json`` records the movies that were fetched but
truly have no credits (or are unknown to TMDb), so later runs do not fetch them again. Movies whose call
failed are not recorded and are retried on the next run. Each list column keeps the file's own format.
``runtime`` is filled too when its cell is blank.
"""

from __future__ import annotations

import csv
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from movie_assets.common.concurrency import bounded_map
from movie_assets.harvest.enrich import chunks, fetch_one
from movie_assets.harvest.records import parse_credits
from movie_assets.harvest.store import FAILED, NOT_FOUND, OK, DetailsRecord
from movie_assets.lake import write_json_atomic
from movie_assets.lake.state import StateFileError, read_state_json
from movie_assets.release.common import JSON, format_names
from movie_assets.release.export import detect_list_format, is_blank_list_cell, write_csv
from movie_assets.tmdb.client import TMDbClient

log = logging.getLogger(__name__)

STATE_SUFFIX = ".credits-state.json"
STATE_VERSION = 1


class BackfillInputError(ValueError):
    """The CSV cannot be backfilled (missing, no id/actors/directors column, …)."""


@dataclass
class BackfillProgress:
    batch: int
    batches: int
    done: int
    total: int
    filled: int
    empty: int
    failed: int

    def describe(self) -> str:
        return (f"batch {self.batch}/{self.batches}: {self.done}/{self.total} movies "
                f"({self.filled} filled, {self.empty} without credits, {self.failed} failed)")


@dataclass
class BackfillResult:
    rows: int
    candidates: int  # rows with both columns blank
    known_empty: int  # of those, skipped because an earlier run found no credits
    requested: int
    filled: int = 0
    empty: int = 0
    failed: list[int] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)


@dataclass
class CreditsState:
    """Movies already tried that have no credits (``no_credits``) or that TMDb does not know (``not_found``)."""

    no_credits: set[int] = field(default_factory=set)
    not_found: set[int] = field(default_factory=set)

    @property
    def tried_empty(self) -> set[int]:
        return self.no_credits | self.not_found

    @classmethod
    def path_for(cls, csv_path: Path) -> Path:
        return csv_path.with_name(csv_path.name + STATE_SUFFIX)

    @classmethod
    def load(cls, path: Path) -> CreditsState:
        if not path.exists():
            return cls()
        try:  # a hint: what it lists is only asked again, so a corrupt one is dropped with a warning
            data = read_state_json(path, "the credits backfill state", fix="it is rewritten by the next backfill",
                                   shape={"no_credits?": [int], "not_found?": [int]})
        except StateFileError as exc:
            log.warning("credits state %s is unreadable (%s); those movies will be fetched again", path, exc)
            return cls()
        return cls(set(data.get("no_credits", [])), set(data.get("not_found", [])))

    def save(self, path: Path) -> None:
        data = {"version": STATE_VERSION, "no_credits": sorted(self.no_credits), "not_found": sorted(self.not_found)}
        write_json_atomic(data, path)


def parse_id(cell: str | None) -> int | None:
    text = (cell or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            value = float(text)  # pandas writes ids of a column with gaps as "123.0"
        except ValueError:
            return None
        return int(value) if value.is_integer() else None


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise BackfillInputError(f"{path} is empty") from None
        rows = [row + [""] * (len(header) - len(row)) for row in reader if row]
    return header, rows


def credits_of(record: DetailsRecord) -> tuple[list[str], list[str], int | None]:
    """(actor names by billing order, director names, runtime) of one details record."""
    details = record.details() or {}
    cast, directors = parse_credits(details.get("credits"))
    runtime = details.get("runtime")
    return [c["name"] for c in cast if c["name"]], [d["name"] for d in directors if d["name"]], (
        int(runtime) if runtime else None
    )


async def backfill_with_client(
    client: TMDbClient,
    csv_path: str | Path,
    *,
    concurrency: int = 10,
    batch_size: int = 500,
    progress: Callable[[BackfillProgress], Any] | None = None,
    logger: logging.Logger | None = None,
) -> BackfillResult:
    """Backfill ``csv_path`` through an open client (see module docstring)."""
    logger = logger or log
    if concurrency < 1 or batch_size < 1:
        raise BackfillInputError("--concurrency and --batch-size must be at least 1")
    path = Path(csv_path)
    if not path.is_file():
        raise BackfillInputError(f"{path} does not exist")
    header, rows = read_csv(path)
    missing = [c for c in ("id", "actors", "directors") if c not in header]
    if missing:
        raise BackfillInputError(f"{path} has no {', '.join(missing)} column(s); header is {header}")
    col = {name: header.index(name) for name in header}
    i_id, i_actors, i_directors = col["id"], col["actors"], col["directors"]
    i_runtime = col.get("runtime")

    detected = {name: detect_list_format(r[col[name]] for r in rows) for name in ("actors", "directors")}
    fallback = detected["actors"] or detected["directors"] or JSON
    formats = {name: fmt or fallback for name, fmt in detected.items()}

    state_path = CreditsState.path_for(path)
    state = CreditsState.load(state_path)
    tried = state.tried_empty
    by_id: dict[int, list[int]] = {}
    candidates = known_empty = 0
    for index, row in enumerate(rows):
        movie_id = parse_id(row[i_id])
        if movie_id is None or not (is_blank_list_cell(row[i_actors]) and is_blank_list_cell(row[i_directors])):
            continue
        candidates += 1
        if movie_id in tried:
            known_empty += 1
            continue
        by_id.setdefault(movie_id, []).append(index)
    todo = sorted(by_id)
    result = BackfillResult(len(rows), candidates, known_empty, len(todo), formats=formats)
    logger.info("%s: %d rows, %d without credits, %d known to have none, %d to fetch (actors %s, directors %s)",
                path, len(rows), candidates, known_empty, len(todo), formats["actors"], formats["directors"])

    batches = max(1, -(-len(todo) // batch_size))
    done = 0
    for number, batch in enumerate(chunks(todo, batch_size), start=1):
        records = await bounded_map(lambda movie_id: fetch_one(client, movie_id), batch, concurrency)
        for record in records:
            if record.status == FAILED:
                result.failed.append(record.movie_id)
                continue
            if record.status == NOT_FOUND:
                state.not_found.add(record.movie_id)
                result.empty += 1
                continue
            assert record.status == OK
            actors, directors, runtime = credits_of(record)
            if not actors and not directors:
                state.no_credits.add(record.movie_id)
                result.empty += 1
            else:
                result.filled += 1
            for index in by_id[record.movie_id]:
                row = rows[index]
                if actors or directors:
                    row[i_actors] = format_names(actors, formats["actors"])
                    row[i_directors] = format_names(directors, formats["directors"])
                if i_runtime is not None and runtime and not row[i_runtime].strip():
                    row[i_runtime] = str(runtime)
        write_csv(rows, header, path)  # the CSV first: a kill before the state only means a refetch
        state.save(state_path)
        done += len(batch)
        report = BackfillProgress(number, batches, done, len(todo), result.filled, result.empty, len(result.failed))
        logger.info("backfill %s", report.describe())
        if progress:
            progress(report)
    result.failed.sort()
    return result
