"""The lake snapshot a dataset is built from, named by its content.

A dataset folder is ``<source>__<snapshot>``: the same interactions over another lake (a sync moved movies,
changed overviews, re-embedded posters) are another dataset, never a silent overwrite of the one a paper or a
model was made with. The snapshot id hashes what the dataset reads: every year file of the movies, the text and
poster vectors and the poster outcomes (path and sha256 each), and the newest observation in the details store
(the as-of features read its history).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pyarrow.compute as pc

from movie_assets.harvest.store import DetailsStore
from movie_assets.lake import Lake, file_sha256
from movie_assets.release.common import relative_to_root


def lake_snapshot(lake: Lake) -> dict[str, Any]:
    """``{"id": "lake-<12 hex>", "files": {path: sha256}, "observed_until": ISO, "versions": n}``."""
    files: dict[str, str] = {}
    for listing in (lake.movies_year_files(), lake.embeddings_year_files(), lake.posters_year_files(),
                    lake.poster_vectors_year_files()):
        for _, path in listing:
            files[relative_to_root(lake, path)] = file_sha256(path)
    latest = DetailsStore(lake.details_store_dir).latest()
    newest = pc.max(latest.column("observed_at")).as_py() if latest.num_rows else None
    until = newest.astimezone(dt.UTC).isoformat() if newest is not None else None
    digest = hashlib.sha256(json.dumps({"files": files, "observed_until": until}, sort_keys=True).encode())
    return {"id": f"lake-{digest.hexdigest()[:12]}", "files": dict(sorted(files.items())),
            "observed_until": until, "movies_known": latest.num_rows}
