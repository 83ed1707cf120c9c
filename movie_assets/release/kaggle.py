"""The ``kaggle`` layout of `movies_csv_export`: the columns, order and encodings of the Kaggle dump "Full TMDB
Movies Dataset 2024 (1M Movies)" by asaniczka (``asaniczka/tmdb-movies-dataset-2023-930k-movies``,
``TMDB_movie_dataset_v11.csv``), so code written for that file reads ours.

Lists are names joined by ``", "`` (``Action, Science Fiction``): genres, production companies, keywords,
production countries by TMDb's English country name (``United States of America``) and spoken languages by
TMDb's English language name (``English, French``), an unknown code as itself (`iso_names`). A name that
holds a comma cannot be told from two names, as in the dump. ``revenue``, ``budget`` and ``runtime`` are
``0`` when unknown (the lake stores null); other missing values are empty cells; ``adult`` is
``True``/``False``; ``release_date`` ``YYYY-MM-DD``.
"""

from __future__ import annotations

from typing import Any

from .common import COMMA, csv_cell, format_names
from .iso_names import country_name, language_name

KAGGLE_COLUMNS = (
    "id", "title", "vote_average", "vote_count", "status", "release_date", "revenue", "runtime", "adult",
    "backdrop_path", "budget", "homepage", "imdb_id", "original_language", "original_title", "overview",
    "popularity", "poster_path", "tagline", "genres", "production_companies", "production_countries",
    "spoken_languages", "keywords",
)  # the header of TMDB_movie_dataset_v11.csv, in its order
SOURCE_COLUMNS = tuple("movie_id" if c == "id" else c for c in KAGGLE_COLUMNS)
ZERO_WHEN_UNKNOWN = ("revenue", "budget", "runtime")


# The list columns: how one element becomes a name (a null element is left out).
_NAMES = {
    "genres": lambda name: name,
    "keywords": lambda name: name,
    "production_companies": lambda company: company.get("name"),
    "production_countries": country_name,
    "spoken_languages": language_name,
}


def kaggle_row(row: dict[str, Any]) -> list[str]:
    """One `movies` row (with `SOURCE_COLUMNS`) as the cells of `KAGGLE_COLUMNS`."""
    cells = []
    for column, source in zip(KAGGLE_COLUMNS, SOURCE_COLUMNS, strict=True):
        value = row.get(source)
        if column in ZERO_WHEN_UNKNOWN:
            cells.append(str(value or 0))
        elif column in _NAMES:
            cells.append(format_names([_NAMES[column](v) for v in value or [] if v is not None], COMMA))
        else:
            cells.append(csv_cell(value))
    return cells
