"""The ingest stages as plain functions over a `Lake`: discover → details → typed year → DuckDB views.

Each function reads what the previous stage wrote, does its work through the TMDb library, writes its
outputs atomically and returns a small summary. The Dagster assets in `movie_assets.assets.ingest` are
thin wrappers around these.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from movie_assets.lake import Lake, atomic_path, replace_dir_atomic, write_parquet_atomic
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.harvest.checkpoint import FAILED, DetailsCheckpoint
from movie_assets.tmdb.harvest.discover import DiscoverHarvester, DiscoverSnapshot
from movie_assets.tmdb.harvest.enrich import BatchProgress, EnrichResult, enrich
from movie_assets.tmdb.records import DISCOVER_SCHEMA, MOVIES_SCHEMA, discover_row, movie_row, movies_table

log = logging.getLogger(__name__)

WINDOWS_FILE = "windows.json"
REFERENCE_FILE = "reference.json"


class IngestError(RuntimeError):
    """A stage cannot run or finish; the message says what to fix."""


def write_json_atomic(data: Any, target: Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def read_parquet(path: Path, **kwargs: Any) -> pa.Table:
    """Read one lake file; an unreadable one is an `IngestError` that says how to rebuild it."""
    try:
        return pq.read_table(path, **kwargs)
    except (OSError, pa.ArrowException) as exc:
        raise IngestError(
            f"{path} is unreadable ({exc}); delete it and re-materialize the asset that writes it"
        ) from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise IngestError(f"{path} is corrupt ({exc}); delete it and re-materialize the partition") from None


# -- discover ---------------------------------------------------------------------------------------
@dataclass
class DiscoverSummary:
    year: int
    movies: int
    requests: int
    windows: int
    reused_windows: int
    repaged_windows: int
    path: Path


def load_discover_snapshot(lake: Lake, year: int) -> DiscoverSnapshot | None:
    """The previous harvest of ``year``, or None when there is none (or it is unreadable)."""
    directory = lake.discover_dir(year)
    state_path, data_path = directory / WINDOWS_FILE, lake.discover_file(year)
    if not (state_path.exists() and data_path.exists()):
        return None
    try:
        table = pq.read_table(data_path)
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, pa.ArrowException, json.JSONDecodeError) as exc:
        log.warning("previous discover snapshot of %s is unreadable (%s); harvesting from scratch", year, exc)
        return None
    items = [{**row, "id": row["movie_id"], "_window": row["discover_window"]} for row in table.to_pylist()]
    return DiscoverSnapshot.from_state(state, items)


async def run_discover(
    client: TMDbClient,
    lake: Lake,
    year: int,
    *,
    include_adult: bool = False,
    include_video: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DiscoverSummary:
    """Harvest the discover list of ``year`` into ``raw/discover/year=Y/``."""
    lake.ensure_writable()
    configuration = await client.configuration()
    genres = await client.movie_genres()
    harvester = DiscoverHarvester(
        client,
        include_adult=include_adult,
        include_video=include_video,
        previous=load_discover_snapshot(lake, year),
        progress=progress,
    )
    snapshot = await harvester.harvest_year(year)
    rows = []
    for movie_id in sorted(snapshot.items):
        item = snapshot.items[movie_id]
        rows.append({**discover_row(item), "discover_window": item["_window"]})
    schema = DISCOVER_SCHEMA.append(pa.field("discover_window", pa.string()))
    directory = lake.discover_dir(year)
    write_parquet_atomic(pa.Table.from_pylist(rows, schema=schema), lake.discover_file(year))
    write_json_atomic(snapshot.windows_state(), directory / WINDOWS_FILE)
    reference = {
        "image_base_url": configuration.get("images", {}).get("secure_base_url"),
        "genres": {str(k): v for k, v in sorted(genres.items())},
    }
    write_json_atomic(reference, directory / REFERENCE_FILE)
    return DiscoverSummary(
        year=year,
        movies=len(rows),
        requests=snapshot.requests + 2,
        windows=len(snapshot.totals),
        reused_windows=snapshot.reused_windows,
        repaged_windows=snapshot.repaged_windows,
        path=lake.discover_file(year),
    )


def discover_ids(lake: Lake, year: int) -> list[int]:
    path = lake.discover_file(year)
    if not path.exists():
        raise IngestError(f"no discover output for {year} at {path}; materialize discover_movies for {year} first")
    return read_parquet(path, columns=["movie_id"]).column("movie_id").to_pylist()


# -- details ----------------------------------------------------------------------------------------
@dataclass
class DetailsSummary:
    year: int
    movies: int
    requested: int
    ok: int
    not_found: int
    failed: int
    discarded_shards: list[str] = field(default_factory=list)


async def run_details(
    client: TMDbClient,
    lake: Lake,
    year: int,
    *,
    batch_size: int = 500,
    concurrency: int = 20,
    refetch_all: bool = False,
    refetch: set[int] | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    logger: logging.Logger | None = None,
) -> DetailsSummary:
    """Fetch missing details of ``year``'s movies into the checkpoint; raise if any movie still failed."""
    ids = discover_ids(lake, year)
    checkpoint = DetailsCheckpoint(lake.details_checkpoint_dir(year), logger=logger)
    result: EnrichResult = await enrich(
        client,
        ids,
        checkpoint,
        batch_size=batch_size,
        concurrency=concurrency,
        refetch=set(ids) if refetch_all else (refetch or set()),
        progress=progress,
    )
    checkpoint.compact(result.records)
    summary = DetailsSummary(
        year=year,
        movies=len(result.records),
        requested=result.requested,
        ok=result.count("ok"),
        not_found=result.count("not_found"),
        failed=result.count(FAILED),
        discarded_shards=result.discarded_shards,
    )
    if result.failed:
        sample = ", ".join(str(i) for i in result.failed[:10])
        reason = result.records[result.failed[0]].error
        raise IngestError(
            f"{len(result.failed)} of {len(ids)} movies of {year} still failed after retries "
            f"(e.g. {sample}; first error: {reason}). The {summary.ok} that succeeded are checkpointed; "
            "re-materialize to fetch only the failed ones."
        )
    return summary


# -- typed year ---------------------------------------------------------------------------------------
def build_movies_year(lake: Lake, year: int, *, poster_size: str = "w500", backdrop_size: str = "w780") -> pa.Table:
    """Join discover and details of ``year`` into the typed contract and replace ``year=Y/`` atomically."""
    discover_path = lake.discover_file(year)
    if not discover_path.exists():
        raise IngestError(f"no discover output for {year}; materialize discover_movies for {year} first")
    reference = read_json(lake.discover_dir(year) / REFERENCE_FILE)
    genre_names = {int(k): v for k, v in reference["genres"].items()}
    records = DetailsCheckpoint(lake.details_checkpoint_dir(year)).load()
    rows = []
    missing = []
    for summary in read_parquet(discover_path).to_pylist():
        record = records.get(summary["movie_id"])
        if record is None or record.status == FAILED:
            missing.append(summary["movie_id"])
            continue
        rows.append(
            movie_row(
                summary,
                record.details(),
                status=record.status,
                harvested_at=record.harvested_at,
                genre_names=genre_names,
                image_base_url=reference["image_base_url"],
                poster_size=poster_size,
                backdrop_size=backdrop_size,
            )
        )
    if missing:
        raise IngestError(
            f"{len(missing)} movies of {year} have no details yet (e.g. {missing[:5]}); "
            f"materialize movie_details for {year} first"
        )
    table = movies_table(rows)
    write_year_partition(lake, year, table)
    return table


def write_year_partition(lake: Lake, year: int, table: pa.Table) -> Path:
    """Write ``year=Y/part-0.parquet`` (partition column dropped, as Hive layout implies) and swap it in."""
    target = lake.movies_year_dir(year)
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".year={year}."))
    try:
        write_parquet_atomic(table.drop_columns(["year"]), build / "part-0.parquet")
        replace_dir_atomic(build, target)
    finally:
        if build.exists():
            shutil.rmtree(build)
    return target / "part-0.parquet"


# -- all years ------------------------------------------------------------------------------------------
HIVE_GLOB = "year=*/*.parquet"


def movie_year_tables(lake: Lake) -> Iterator[pa.Table]:
    """Each materialized year as a `MOVIES_SCHEMA` table, oldest first — so, concatenated, they are sorted
    by (release_date, movie_id) like each year file."""
    files = sorted(lake.movies_dataset_dir.glob(HIVE_GLOB))
    if not files:
        raise IngestError(f"no materialized years under {lake.movies_dataset_dir}; materialize `movies` first")
    for path in files:
        year = int(path.parent.name.split("=", 1)[1])
        part = read_parquet(path)
        with_year = part.append_column("year", pa.array([year] * part.num_rows, pa.int16()))
        yield with_year.select(MOVIES_SCHEMA.names).cast(MOVIES_SCHEMA)


def read_movies(lake: Lake) -> pa.Table:
    """All materialized years as one table with `MOVIES_SCHEMA`, sorted by (release_date, movie_id)."""
    return pa.concat_tables(movie_year_tables(lake))


@dataclass
class MoviesDbSummary:
    rows: int
    head: pa.Table  # the first rows, for previews and the schema


def build_movies_db(lake: Lake, connection: duckdb.DuckDBPyConnection) -> MoviesDbSummary:
    """Write the consolidated ``movies.parquet`` year by year (memory bounded by the largest year) and
    (re)create the DuckDB views over the lake."""
    summary = MoviesDbSummary(rows=0, head=MOVIES_SCHEMA.empty_table())

    def counted(tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
        for table in tables:
            if summary.head.num_rows < 5:
                summary.head = pa.concat_tables([summary.head, table.slice(0, 5)]).slice(0, 5)
            summary.rows += table.num_rows
            yield table

    write_parquet_atomic(counted(movie_year_tables(lake)), lake.movies_file, schema=MOVIES_SCHEMA)
    dataset_glob = (lake.movies_dataset_dir / HIVE_GLOB).resolve().as_posix()
    consolidated = lake.movies_file.resolve().as_posix()
    # Views store their SQL text, so paths are inlined (DuckDB does not allow parameters in a view).
    connection.execute(
        f"CREATE OR REPLACE VIEW movies AS SELECT * FROM read_parquet('{dataset_glob}', "
        "hive_partitioning = true, hive_types = {'year': SMALLINT})"
    )
    connection.execute(f"CREATE OR REPLACE VIEW movies_consolidated AS SELECT * FROM read_parquet('{consolidated}')")
    connection.execute(
        "CREATE OR REPLACE VIEW movie_cast AS SELECT movie_id, year, c.person_id, c.name, c.character, c.order "
        "AS cast_order FROM movies, UNNEST(movies.cast) AS t(c)"
    )
    connection.execute(
        "CREATE OR REPLACE VIEW movies_per_year AS "
        "SELECT year, count(*) AS movies FROM movies GROUP BY year ORDER BY year"
    )
    return summary
