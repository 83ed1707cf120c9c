"""TMDb's reference data that rows are built with: the image base URL and the genre names (two requests)."""

from __future__ import annotations

from typing import Any

from movie_assets.lake import Lake, write_json_atomic
from movie_assets.tmdb.client import TMDbClient


async def read_reference(client: TMDbClient) -> dict[str, Any]:
    """The image base URL (``/configuration``) and the genre names by id (``/genre/movie/list``)."""
    configuration = await client.configuration()
    genres = await client.movie_genres()
    return {
        "image_base_url": configuration.get("images", {}).get("secure_base_url"),
        "genres": {str(k): v for k, v in sorted(genres.items())},
    }


async def fetch_reference(client: TMDbClient, lake: Lake) -> dict[str, Any]:
    """Read the reference data into the lake-wide reference file (`movie_assets.lake.readers.load_reference`
    reads it back)."""
    reference = await read_reference(client)
    write_json_atomic(reference, lake.reference_file)
    return reference
