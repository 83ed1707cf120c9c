"""TMDb's daily ID exports, as ``files.tmdb.org/p/exports`` serves them.

``movie_ids_MM_DD_YYYY.json.gz`` lists every non-adult movie and ``adult_movie_ids_MM_DD_YYYY.json.gz``
every adult one, one JSON object per line (gzip JSON Lines):
``{"adult":false,"id":3924,"original_title":"Blondie","popularity":1.2707,"video":false}``.
A day's files exist from `PUBLISH_HOUR` UTC of that day (by the emulator's clock) for `KEEP_DAYS` days;
any other name answers 403, as the real files host does for a key it does not hold.

Popularity varies from day to day (a deterministic ±20 % around the movie's discover popularity), so a
series of exports is a daily popularity history, as on TMDb. The body is generated and compressed one
year at a time while it is sent, so even the ~1.2M-line export of the default catalog streams in bounded
memory; gzip output carries no timestamp, so the same day gives the same bytes.

A living catalog's exports can be wrong: the movies `movie_assets.emulator.churn.export_omitted` draws for a
day (a daily share, more on a partial day) are left out of that day's files, though they still exist.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib
from collections.abc import Iterator

import numpy as np

from .catalog import Catalog
from .churn import export_omitted
from .hashing import mix64, mix_round

PUBLISH_HOUR = 8
KEEP_DAYS = 90
EXPORT_NAME = re.compile(r"^(adult_)?movie_ids_(\d\d)_(\d\d)_(\d{4})\.json\.gz$")
_S_EXPORT = 109  # salt of the daily popularity stream (the catalog's streams are salted 101-108)


def parse_export_name(name: str) -> tuple[dt.date, bool] | None:
    """``(day, adult)`` of an export file name, or None when the name is not one."""
    match = EXPORT_NAME.match(name)
    if match is None:
        return None
    try:
        day = dt.date(int(match.group(4)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return day, match.group(1) is not None


def is_published(day: dt.date, now: dt.datetime) -> bool:
    """Whether the export of ``day`` is on the files host at ``now`` (published, not yet deleted)."""
    published = dt.datetime.combine(day, dt.time(PUBLISH_HOUR), tzinfo=dt.UTC)
    return published <= now < published + dt.timedelta(days=KEEP_DAYS)


def daily_popularity(seed: int, day: dt.date, ids: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Each movie's popularity on ``day``: its discover popularity times a factor in [0.8, 1.2)."""
    h = mix_round(mix64(seed, _S_EXPORT, day.toordinal()), ids.astype(np.int64))
    factor = 0.8 + 0.4 * (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return np.round(popularity * factor, 4)


def export_lines(catalog: Catalog, day: dt.date, adult: bool) -> Iterator[bytes]:
    """The JSON lines of the export of ``day``: one chunk per year (oldest first, each in the year's id
    order), then the undated movies."""
    for year in catalog.years:
        if catalog.year_count(year):
            chunk = _lines(catalog, day, adult, catalog.year_data(year, day))
            if chunk:
                yield chunk
    undated = catalog.undated(day)
    if undated:
        ids = np.array([s.id for s in undated], np.int64)
        pop = np.array([s.popularity for s in undated], np.float64)
        flags = np.array([int(s.adult) | int(s.video) << 1 for s in undated], np.uint8)
        chunk = _lines(catalog, day, adult, None, ids, pop, flags)
        if chunk:
            yield chunk


def _lines(catalog: Catalog, day: dt.date, adult: bool, data, ids=None, pop=None, flags=None) -> bytes:
    if data is not None:
        ids, pop, flags = data.ids, data.pop, data.flags
    order = np.argsort(ids, kind="stable")
    ids, pop, flags = ids[order], pop[order], flags[order]
    keep = (((flags & 1) == 1) == adult) & ~export_omitted(catalog.seed, catalog.churn_rates, day, ids)
    ids, flags = ids[keep], flags[keep]
    popularity = daily_popularity(catalog.seed, day, ids, pop[keep])
    lines = [
        json.dumps(
            {"adult": adult, "id": movie_id, "original_title": catalog.original_title(movie_id),
             "popularity": p, "video": bool(f & 2)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for movie_id, p, f in zip(ids.tolist(), popularity.tolist(), flags.tolist(), strict=True)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def gzip_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Gzip a stream of chunks (no file name, no timestamp: the same input gives the same bytes)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()
