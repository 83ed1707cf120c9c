"""One document text per movie, and the content hash that decides whether it must be re-embedded.

Short, structured fields come first (title · year · genres · directors · top cast · keywords · overview) so
that the model's 256-word-piece truncation cuts the overview, never the structured fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

TOP_CAST = 5
MAX_KEYWORDS = 20
SEPARATOR = " · "
TEXT_COLUMNS = ("movie_id", "title", "year", "release_date", "genres", "directors", "cast", "keywords", "overview")


def _names(items: Sequence[Any] | None, limit: int | None = None) -> list[str]:
    out: list[str] = []
    for item in items or []:
        name = item.get("name") if isinstance(item, Mapping) else item
        if name and str(name).strip():
            out.append(str(name).strip())
        if limit is not None and len(out) >= limit:
            break
    return out


def _top_cast(cast: Sequence[Mapping[str, Any]] | None, limit: int = TOP_CAST) -> list[str]:
    ordered = sorted(cast or [], key=lambda c: (c.get("order") if c.get("order") is not None else 1 << 30))
    return _names(ordered, limit)


def document_text(movie: Mapping[str, Any]) -> str:
    """The text embedded for one movie row (a dict with `MOVIES_SCHEMA` field names).

    Parts, in order, each only when present: title, year, ``Genres: …``, ``Directed by …``,
    ``Starring …`` (top 5 by billing order), ``Keywords: …``, overview; joined by `` · ``.
    """
    parts: list[str] = []
    title = (movie.get("title") or "").strip()
    if title:
        parts.append(title)
    year = movie.get("year")
    if year is None and movie.get("release_date") is not None:
        year = movie["release_date"].year
    if year is not None:
        parts.append(str(int(year)))
    genres = _names(movie.get("genres"))
    if genres:
        parts.append("Genres: " + ", ".join(genres))
    directors = _names(movie.get("directors"))
    if directors:
        parts.append("Directed by " + ", ".join(directors))
    cast = _top_cast(movie.get("cast"))
    if cast:
        parts.append("Starring " + ", ".join(cast))
    keywords = _names(movie.get("keywords"), MAX_KEYWORDS)
    if keywords:
        parts.append("Keywords: " + ", ".join(keywords))
    overview = " ".join((movie.get("overview") or "").split())
    if overview:
        parts.append(overview)
    return SEPARATOR.join(parts)


def content_hash(model_id: str, text: str) -> str:
    """sha256 (hex) of the model id and the document text: equal hash ⇒ the stored vector is still valid."""
    digest = hashlib.sha256()
    digest.update(model_id.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def documents(movies: pa.Table) -> tuple[list[int], list[str]]:
    """(movie ids, document texts) for every row of a movies table, in table order.

    Only the columns the text needs are converted to Python, in slices, so memory stays modest.
    """
    columns = [c for c in TEXT_COLUMNS if c in movies.column_names]
    ids: list[int] = []
    texts: list[str] = []
    for batch in movies.select(columns).to_batches(max_chunksize=50_000):
        for row in batch.to_pylist():
            ids.append(int(row["movie_id"]))
            texts.append(document_text(row))
    return ids, texts
