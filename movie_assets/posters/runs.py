"""Each poster asset's work end to end, without Dagster: open the image host's client beside the API's and fetch a
year, load the image encoder and embed a year (with throttled progress), write the modality table, its report and
its view. The Dagster assets (`movie_assets.defs.posters`) and the CLI add only metadata."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from movie_assets.embeddings.partitions import year_label
from movie_assets.lake import Lake, write_json_atomic, write_parquet_atomic
from movie_assets.posters import cache, modalities, year_posters, year_vectors
from movie_assets.posters.image_backends import load_image_encoder
from movie_assets.tmdb.client import TMDbClient
from movie_assets.warehouse.build import refresh_file_views

Log = Callable[[str], None]
LOG_EVERY_SECONDS = 15.0


def _throttled(log: Log, every: float = LOG_EVERY_SECONDS) -> Callable[[str, bool], None]:
    last = [time.monotonic()]

    def say(line: str, final: bool) -> None:
        now = time.monotonic()
        if final or now - last[0] >= every:
            last[0] = now
            log(line)

    return say


async def fetch_posters(lake: Lake, year: int | None, api: TMDbClient, size: str, concurrency: int,
                        retry_unavailable: bool, logger: Any) -> tuple[year_posters.YearPosters, dict[str, Any]]:
    """Fetch ``year``'s posters through a client of the image host (`TMDbSettings.for_images`) opened beside
    ``api``; (what was done, the image client's counters)."""
    label = year_label(year)
    say = _throttled(logger.info)

    def progress(done: int, total: int) -> None:
        say(f"{label}: {done:,}/{total:,} posters downloaded", done == total)

    image_base = await cache.image_base_for(api)  # the API's /configuration, through the API's client
    async with TMDbClient(api.settings.for_images(), logger=logger) as images:
        result = await year_posters.fetch_year_posters(lake, year, images, size=size, concurrency=concurrency,
                                                       retry_unavailable=retry_unavailable, image_base=image_base,
                                                       progress=progress)
        stats = images.stats.as_dict()
    counts = ", ".join(f"{n:,} {status}" for status, n in result.counts().items())
    logger.info(f"{label}: {result.table.num_rows:,} movies: {counts or 'none'} ({result.downloaded:,} downloaded, "
                f"{result.reused:,} kept, {result.bytes_downloaded / 1e6:.1f} MB in {result.seconds:.1f}s)")
    for error in result.errors[:5]:
        logger.warning(error)
    return result, stats


def image_encoder(lake: Lake, backend: str, *, model_path: str | None = None, model_sha256: str | None = None,
                  device: str | None = None, cache_dir: str | None = None, threads: int | None = None,
                  log: Log | None = None) -> Any:
    """The image encoder ``backend`` names, its ONNX export cached under ``<data dir>/models`` unless told
    otherwise."""
    kwargs: dict[str, Any] = {}
    if model_sha256:
        kwargs["expected_sha256"] = model_sha256
    encoder = load_image_encoder(backend, model_path=model_path or None, device=device,
                                 cache_dir=cache_dir or (lake.root / "models"), threads=threads, log=log, **kwargs)
    if log is not None:
        log(f"image encoder: {encoder.name} on {encoder.device}, model {encoder.model_id}")
    return encoder


def embed_posters(lake: Lake, year: int | None, encoder: Any, batch_size: int, log: Log) -> year_vectors.YearVectors:
    """Embed ``year``'s cached posters into its partition, logging progress."""
    label = year_label(year)
    say = _throttled(log)

    def progress(done: int, total: int, rate: float) -> None:
        say(f"{label}: embedded {done:,}/{total:,} posters ({rate:,.1f}/s)", done == total)

    result = year_vectors.embed_year_posters(lake, year, encoder, batch_size=batch_size, progress=progress)
    log(f"{label}: {result.table.num_rows:,} poster vectors, {result.encoded:,} encoded, {result.reused:,} reused")
    return result


@dataclass(frozen=True)
class WrittenModalities:
    table: pa.Table
    report: dict[str, Any]
    report_file: Path


def write_item_modalities(lake: Lake, database: str | None = None) -> WrittenModalities:
    """Write ``item_modalities.parquet``, ``reports/item_modalities.json`` and the view in ``database`` (default
    ``movies.duckdb``)."""
    table, catalog = modalities.item_modalities(lake)
    report = modalities.coverage_report(table, catalog)
    write_parquet_atomic(table, lake.item_modalities_file)
    report_file = lake.reports_dir / "item_modalities.json"
    write_json_atomic(report, report_file)
    refresh_file_views(lake, database)
    return WrittenModalities(table, report, report_file)
