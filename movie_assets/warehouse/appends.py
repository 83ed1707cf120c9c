"""Which parts of the details call the stored payloads predate (``missing_appends``), counted per append,
and the command that fetches them.

A movie harvested before `movie_details` asked for an append (``release_dates``, ``videos``, …) has null in
the columns read from it until its payload is fetched again; ``translations`` counts only in a lake with
translated columns (``title_<l>``), as only there the build wants it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

REFETCH_COMMAND = "movie-assets refetch --missing"
_TRANSLATED_FLAG = re.compile(r"title_[a-z]{2}(_[a-z]{2})?_fallback")


def has_translated_columns(columns: Iterable[str]) -> bool:
    """Whether a `movies` table with these ``columns`` holds translated text (``title_<l>_fallback``)."""
    return any(_TRANSLATED_FLAG.fullmatch(name) for name in columns)


def missing_append_counts(missing_appends: pa.Array | pa.ChunkedArray, appends: Iterable[str]) -> dict[str, int]:
    """Per append of ``appends``, how many movies' payloads predate it (a null list counts for none)."""
    counts = {append: 0 for append in appends}
    flat = pc.list_flatten(missing_appends)
    if len(flat):
        for entry in pc.value_counts(flat).to_pylist():
            if entry["values"] in counts:
                counts[entry["values"]] = int(entry["counts"])
    return counts


def movies_missing_any(missing_appends: pa.Array | pa.ChunkedArray, appends: Iterable[str]) -> int:
    """How many movies' payloads predate at least one of ``appends``."""
    flat = pc.list_flatten(missing_appends)
    if not len(flat):
        return 0
    parents = pc.list_parent_indices(missing_appends)
    return len(pc.unique(parents.filter(pc.is_in(flat, pa.array(list(appends), pa.string())))))


def refetch_command(counts: dict[str, int]) -> str | None:
    """The command that fetches the appends some movie lacks (None when none does)."""
    lacking = [append for append, count in counts.items() if count]
    return f"{REFETCH_COMMAND} {','.join(lacking)}" if lacking else None
