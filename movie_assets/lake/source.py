"""Which TMDb a lake mirrors: real TMDb (the API's host) or the built-in emulator (its seed and size).

Movie ids are unique only within one source, so one lake must never mix two: a movie of the emulator and a
real movie of the same id would be taken for one. The source is recorded in ``state/source.json`` by the first
writer (`claim_source`, before its first request) and every later writer compares its own with it, refusing
another in one line (`LakeSourceError`) that names ``MOVIE_ASSETS_DATA_DIR`` and both sources. The record
holds no credential: a host name, or the emulator's seed and size.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from movie_assets.lake.files import write_json_once
from movie_assets.lake.paths import Lake, LakeError
from movie_assets.lake.state import read_state_json

DATA_DIR_VARIABLE = "MOVIE_ASSETS_DATA_DIR"  # settings.DATA_DIR_ENV; named here, as lake imports no settings
TMDB, EMULATOR = "tmdb", "emulator"
# A server on this machine (a test server, an emulator started by hand) may adopt an unrecorded lake.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class LakeSourceError(LakeError):
    """The lake mirrors another source than the writer's."""


@dataclass(frozen=True)
class LakeSource:
    """One TMDb: the real API at ``host`` (kind ``tmdb``) or the built-in emulator's catalog of ``seed`` and
    ``movies_per_year`` (kind ``emulator``)."""

    kind: str
    host: str | None = None
    seed: int | None = None
    movies_per_year: int | None = None

    @classmethod
    def api(cls, host: str) -> LakeSource:
        return cls(TMDB, host=host.lower())

    @classmethod
    def emulator(cls, seed: int, movies_per_year: int) -> LakeSource:
        return cls(EMULATOR, seed=int(seed), movies_per_year=int(movies_per_year))

    def describe(self) -> str:
        if self.kind == EMULATOR:
            return f"the built-in emulator (seed {self.seed}, {self.movies_per_year:,} movies in a peak year)"
        return f"TMDb at {self.host}"


def source_file(lake: Lake) -> Path:
    """Where the lake records its source."""
    return lake.state_dir / "source.json"


def recorded_source(lake: Lake) -> LakeSource | None:
    """The source the lake records (None: a new lake, or one made before sources were recorded)."""
    path = source_file(lake)
    if not path.exists():
        return None
    return read_state_json(
        path, "the lake's source record", shape={"kind": str},
        parse=lambda data: LakeSource(**{k: data.get(k) for k in ("kind", "host", "seed", "movies_per_year")}),
        fix="it names the TMDb this lake mirrors; delete it only if you know which, and the next writer records "
            "its own",
    )


def source_without_nulls(source: LakeSource) -> dict:
    """The record's fields that are set."""
    return {k: v for k, v in asdict(source).items() if v is not None}


def claim_source(lake: Lake, source: LakeSource) -> None:
    """Record ``source`` as the lake's if it records none yet; `LakeSourceError` if it records another."""
    recorded = recorded_source(lake)
    if recorded is None and source.kind == TMDB and source.host not in LOCAL_HOSTS and any(
            lake.details_store_dir.glob("versions-*.parquet")):
        # Made before sources were recorded: most likely the demo's emulator lake; real ids must not join it.
        raise LakeSourceError(
            f"{DATA_DIR_VARIABLE}={lake.root} already holds movies of an unrecorded source (a lake made before "
            f"sources were recorded, e.g. the demo's emulator lake); set {DATA_DIR_VARIABLE} to another "
            f"directory for {source.describe()}, or, if this lake does mirror it, record that in "
            f"{source_file(lake)}: {json.dumps(source_without_nulls(source))}"
        )
    if recorded is None:
        lake.ensure_writable()  # an unusable data dir says so, naming the setting, before a record is tried
        write_json_once(source_without_nulls(source), source_file(lake))
        recorded = recorded_source(lake)
    if recorded != source:
        raise LakeSourceError(
            f"{DATA_DIR_VARIABLE}={lake.root} mirrors {recorded.describe()}, not {source.describe()}; movie ids "
            f"are unique only within one source, so set {DATA_DIR_VARIABLE} to another directory for "
            f"{source.describe()}"
        )

