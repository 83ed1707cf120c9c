"""Registered interaction sources: what a recommender dataset is built from, by name.

``data/recsys/sources/<name>.json`` holds one `SourceSpec`: a MovieLens zip the user supplies (read in place,
never copied), a team's own log file, or the synthetic generator's settings. ``movie-assets interactions import``
and ``interactions synth`` register one; the ``recsys_sources`` sensor turns each into a partition of the recsys
assets, so a dataset is rebuilt from the UI, a schedule or the shell the same way.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from movie_assets.lake import Lake, write_json_atomic
from movie_assets.lake.state import StateFileError, read_state_json
from movie_assets.recsys.events import FILE, KINDS, MOVIELENS, SYNTHETIC, SourceError, SourceEvents
from movie_assets.recsys.log_file import read_log_file
from movie_assets.recsys.movielens import read_movielens
from movie_assets.recsys.synthetic import generate
from movie_assets.recsys.timeline import parse_time

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
DEFAULT_FLOOR = 0.5  # below this share of events kept, a bridge fails the build


@dataclass(frozen=True)
class SourceSpec:
    """One interaction source. ``path``/``links`` are absolute; ``synthetic`` holds the generator's settings."""

    name: str
    kind: str
    path: str | None = None
    links: str | None = None
    floor: float = DEFAULT_FLOOR
    synthetic: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not NAME.match(self.name or ""):
            raise SourceError(f"source name {self.name!r} must be 1-63 characters of a-z, 0-9, '.', '_', '-' "
                              "(it names the dataset folder)")
        if self.kind not in KINDS:
            raise SourceError(f"source kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind in (MOVIELENS, FILE) and not self.path:
            raise SourceError(f"a {self.kind} source needs the path of its file")
        if not 0.0 <= self.floor <= 1.0:
            raise SourceError(f"floor={self.floor} must be a share between 0 and 1 (of events kept by the bridge)")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str) -> SourceSpec:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SourceError(f"{origin}: unknown keys {unknown}; expected {sorted(known)}")
        return cls(**data)


def register(lake: Lake, spec: SourceSpec) -> Path:
    """Write ``spec`` as ``sources/<name>.json`` (replacing a source of that name)."""
    return write_json_atomic(spec.as_dict(), lake.recsys_source_file(spec.name))


def registered(lake: Lake) -> list[str]:
    """The names of the registered sources, sorted."""
    folder = lake.recsys_sources_dir
    return sorted(p.stem for p in folder.glob("*.json")) if folder.exists() else []


def load_spec(lake: Lake, name: str) -> SourceSpec:
    """The registered source ``name``; a clear error when there is none or its file is damaged."""
    path = lake.recsys_source_file(name)
    if not path.exists():
        known = ", ".join(registered(lake)) or "none"
        raise SourceError(f"no interaction source named {name!r} (registered: {known}); register one with "
                          "`movie-assets interactions import` or `movie-assets interactions synth`")
    fix = "register the source again (movie-assets interactions import|synth)"
    try:
        return read_state_json(path, "an interaction source", fix=fix, shape=dict,
                               parse=lambda data: SourceSpec.from_dict(data, str(path)))
    except (StateFileError, OSError) as exc:
        raise SourceError(str(exc) if isinstance(exc, StateFileError) else f"{path}: {exc}; {fix}") from None


def read_source(lake: Lake, spec: SourceSpec) -> SourceEvents:
    """Read ``spec``'s events, bridged to the lake's movies."""
    if spec.kind == MOVIELENS:
        return read_movielens(lake, Path(spec.path), Path(spec.links) if spec.links else None, floor=spec.floor)
    if spec.kind == FILE:
        return read_log_file(lake, Path(spec.path), Path(spec.links) if spec.links else None, floor=spec.floor)
    assert spec.kind == SYNTHETIC
    settings = dict(spec.synthetic)
    for moment in ("start", "end"):  # JSON holds times as ISO text
        if isinstance(settings.get(moment), str):
            settings[moment] = parse_time(settings[moment], f"synthetic {moment}")
    return generate(lake, **settings)
