"""The poster neighbour preview: a contact sheet (query poster, then its nearest posters) as one small JPEG, for
the Dagster UI's metadata (markdown with an inline image) and for a quick look at whether the index makes sense."""

from __future__ import annotations

import base64
import io

import pyarrow as pa
import pyarrow.parquet as pq

from movie_assets.embeddings import preview as text_preview
from movie_assets.embeddings.search import MovieSearch
from movie_assets.lake import Lake
from movie_assets.posters import cache, decode

THUMB = (92, 138)  # TMDb's w92, 2:3
GAP = 6


def poster_files(lake: Lake) -> dict[int, str]:
    """movie id → cached poster file, of every year's ok posters."""
    out: dict[int, str] = {}
    for _, path in lake.posters_year_files():
        table = pq.read_table(path, columns=["movie_id", "poster_path", "size", "status"])
        for row in table.filter(pa.compute.equal(table.column("status"), decode.OK)).to_pylist():
            out[row["movie_id"]] = str(cache.poster_file(lake, row["poster_path"], row["size"]))
    return out


def contact_sheet(lake: Lake, search: MovieSearch, rows: list[int], k: int = 5) -> tuple[bytes, list[str]]:
    """A JPEG with one line per query row: its poster, a gap, its ``k`` nearest posters; and a caption per line."""
    from PIL import Image

    files = poster_files(lake)
    lines, captions = [], []
    for row in rows:
        movie = search.movies[row]
        neighbours = search.neighbours_of_row(row, k)
        lines.append([movie.movie_id] + [n.movie.movie_id for n in neighbours])
        captions.append(f"{movie.label()} → " + ", ".join(f"{n.movie.label()} ({n.score:.2f})" for n in neighbours))
    width = (k + 1) * THUMB[0] + (k + 1) * GAP + GAP
    sheet = Image.new("RGB", (width, max(1, len(lines)) * (THUMB[1] + GAP) + GAP), (255, 255, 255))
    for y, ids in enumerate(lines):
        for x, movie_id in enumerate(ids):
            file = files.get(movie_id)
            if file is None:
                continue
            try:
                with Image.open(file) as im:
                    thumb = decode.to_rgb(im).resize(THUMB)
            except OSError:  # removed or replaced since its row was written: a gap, not a failed index
                continue
            left = GAP + x * (THUMB[0] + GAP) + (GAP if x else 0)
            sheet.paste(thumb, (left, GAP + y * (THUMB[1] + GAP)))
    out = io.BytesIO()
    sheet.save(out, format="JPEG", quality=80)
    return out.getvalue(), captions


def preview_markdown(lake: Lake, search: MovieSearch, k: int = 5) -> str:
    """Markdown for the UI: the contact sheet of a few well-known (else the most popular) movies, inline, with
    one caption per line."""
    rows = text_preview.preview_rows(lake, search)[:3]
    if not rows:
        return "_the poster index is empty_"
    jpeg, captions = contact_sheet(lake, search, rows, k)
    image = base64.b64encode(jpeg).decode("ascii")
    listing = "\n".join(f"{i + 1}. {caption}" for i, caption in enumerate(captions))
    return f"![poster neighbours](data:image/jpeg;base64,{image})\n\n{listing}"
