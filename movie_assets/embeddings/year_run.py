"""One embeddings partition end to end: load the chosen backend (offline, weights sha256-verified), encode the
year's new or changed movies with throttled progress, write the partition. `movie_embeddings[Y]` and
`undated_movie_embeddings` are this plus metadata."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from movie_assets.embeddings import backends, encode, partitions
from movie_assets.lake import Lake


@dataclass(frozen=True)
class EmbeddingOptions:
    """How a partition is encoded (the asset's config, resolved)."""

    backend: str  # a validated choice: auto, torch or onnx-int8
    chosen_by: str  # where the choice came from (config or the environment variable), for the log
    model_path: str | os.PathLike | None = None
    model_sha256: str | None = None
    device: str | None = None
    onnx_cache_dir: str | os.PathLike | None = None
    threads: int | None = None
    batch_size: int = encode.DEFAULT_BATCH_SIZE
    log_every_seconds: float = 15.0


@dataclass(frozen=True)
class YearEmbedding:
    """What encoding one partition did, and with which backend."""

    backend: backends.EmbeddingBackend
    result: encode.EmbedResult


def embed_partition(lake: Lake, year: int | None, options: EmbeddingOptions,
                    log: Callable[[str], None]) -> YearEmbedding:
    """Encode ``year``'s movies (None: the undated ones) into its embeddings partition."""
    label = partitions.year_label(year)
    loaded = backends.load_backend(
        options.backend,
        model_path=options.model_path or None,
        expected_sha256=options.model_sha256 or None,
        device=options.device,
        cache_dir=options.onnx_cache_dir or (lake.root / "models"),
        threads=options.threads,
        log=log,
    )
    log(f"{label}: backend {loaded.name} on {loaded.device} ({options.backend!r} from {options.chosen_by}); model "
        f"{loaded.model_id} from {loaded.path}")
    last = [0.0]

    def progress(done: int, total: int, rate: float) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= options.log_every_seconds:
            last[0] = now
            log(f"{label}: encoded {done:,}/{total:,} texts ({rate:,.1f}/s)")

    result = partitions.embed_year(lake, year, loaded, loaded.model_id, dimension=loaded.dimension,
                                   batch_size=options.batch_size, progress=progress, backend=loaded.name)
    log(f"{label}: {result.table.num_rows:,} rows, {result.encoded:,} encoded, {result.reused:,} reused, "
        f"{result.removed:,} removed")
    return YearEmbedding(loaded, result)
