"""``poster_embeddings`` as plain Python: embed the cached posters of the chosen movies with CLIP and index
them with the text index's machinery."""

from __future__ import annotations

from dataclasses import dataclass

from movie_assets.embeddings import index
from movie_assets.embeddings.encode import vectors_of
from movie_assets.lake import Lake
from movie_assets.posters import cache, clip
from movie_assets.posters.selection import poster_pairs, poster_rows


@dataclass(frozen=True)
class PosterIndexBuild:
    cached: int  # cached posters of the chosen movies
    embedded: clip.PosterEmbedResult
    report: index.IndexReport


def embed_and_index_posters(lake: Lake, model: clip.ClipImageModel, *, years: list[int] | None, size: str,
                            batch_size: int) -> PosterIndexBuild:
    """Embed the cached ``size`` posters of the movies in ``years`` (None: all) and build their index."""
    movies = poster_rows(lake, years, None)
    cached = cache.cached_posters(lake, poster_pairs(movies), size)
    result = clip.embed_posters(model, lake, cached, batch_size=batch_size)
    titles = movies.select([c for c in ("movie_id", "title", "year") if c in movies.column_names])
    if "title" not in titles.column_names or "year" not in titles.column_names:
        titles = None
    report = clip.build_poster_index(
        lake,
        result.table.column("movie_id").to_numpy(),
        vectors_of(result.table),
        titles,
        index.IndexParams(),
        extra_manifest={"model_path": str(model.path), "size": size},
    )
    return PosterIndexBuild(len(cached), result, report)
