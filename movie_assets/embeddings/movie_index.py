"""``movie_index`` as plain Python: every partition's current vectors into one FAISS index (with a row →
movie map and a manifest naming the model and backend), and what the build found on the way (movies without
a current vector — never embedded, or embedded from a document that has changed since — and years still read
from the old single embeddings file)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow.parquet as pq

from movie_assets.embeddings import encode, index, partitions
from movie_assets.lake import Lake


@dataclass(frozen=True)
class MovieIndexBuild:
    inputs: partitions.IndexInputs
    report: index.IndexReport
    source: dict[str, str]  # model id and backend of the vectors
    legacy_file_removed: bool

    def coverage(self) -> str:
        """One line: whether every movie is indexed, else how many are not and which years to embed."""
        if not self.inputs.without_vectors:
            return "every movie is indexed"
        return f"{missing_vectors(self.inputs)}; materialize movie_embeddings for them"


def missing_vectors(inputs: partitions.IndexInputs) -> str:
    """How many movies have no current vector, and where: years never embedded, years with stale vectors."""
    years = ", ".join(inputs.years_without_embeddings) or "none"
    line = f"{inputs.without_vectors:,} of {inputs.movies:,} movies have no current vector (years without " \
           f"embeddings: {years}"
    if inputs.stale:
        line += (f"; {inputs.stale:,} stale, their document changed since they were embedded, in "
                 f"{', '.join(inputs.years_with_stale_vectors)}")
    return line + ")"


def index_inputs(lake: Lake, *, log: Callable[[str], None], warn: Callable[[str], None]) -> partitions.IndexInputs:
    """Every year's vectors of its current movies (`partitions.index_table`), saying what is not covered."""
    inputs = partitions.index_table(lake)
    if inputs.without_vectors:
        warn(f"{missing_vectors(inputs)}; they are left out of the index: materialize movie_embeddings for them")
    if inputs.years_from_legacy_file:
        log(
            f"{len(inputs.years_from_legacy_file)} years have no embeddings partition yet; their vectors come from "
            f"{lake.legacy_embeddings_file.name} until movie_embeddings is materialized for them"
        )
    return inputs


def build_movie_index(lake: Lake, inputs: partitions.IndexInputs, params: index.IndexParams, *,
                      log: Callable[[str], None]) -> MovieIndexBuild:
    """Index ``inputs`` (see `index_inputs`) under ``data/index/movies/``."""
    embeddings = inputs.table
    titles = None
    if lake.movies_file.exists():
        titles = pq.read_table(lake.movies_file, columns=["movie_id", "title", "year"])
    source = encode.embedding_source(embeddings)  # model id and backend: recorded so an index names its vectors
    report = index.build_index_files(lake, embeddings.column("movie_id").to_numpy(), encode.vectors_of(embeddings),
                                     titles, params, extra_manifest={"embeddings_rows": embeddings.num_rows, **source})
    removed = partitions.remove_legacy_file_when_migrated(lake)
    if removed:
        log(f"every year has its embeddings partition: removed {lake.legacy_embeddings_file}")
    log(f"movie_index: {report.index_type} over {report.vectors:,} vectors in {report.build_seconds:.2f}s, "
        f"{report.size_bytes / 1e6:.1f} MB, recall@{report.recall_k} {report.recall_at_k:.4f}")
    return MovieIndexBuild(inputs, report, source, removed)
