"""The catalog policy: which titles the lake holds (adult titles, video releases), one rule for every part.

A lake holds one policy, recorded in ``state/policy.json`` by its first writer (`resolve_policy`): a writer
that asks for another is refused in one line naming the settings, instead of two writers rebuilding the
lake back and forth; a caller that asks for none gets the lake's (readers such as ``movies_as_of`` too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from movie_assets.lake.files import write_json_once
from movie_assets.lake.paths import Lake, LakeError
from movie_assets.lake.state import read_state_json

# settings.INCLUDE_ADULT_ENV / INCLUDE_VIDEO_ENV and DATA_DIR_ENV, named here: lake imports no settings
SETTINGS = ("MOVIE_ASSETS_INCLUDE_ADULT", "MOVIE_ASSETS_INCLUDE_VIDEO")
DATA_DIR_VARIABLE = "MOVIE_ASSETS_DATA_DIR"


@dataclass(frozen=True)
class CatalogPolicy:
    """Which titles the lake holds, applied the same way by discover, the export, the sync and every year
    build: by default neither adult titles nor video releases, as TMDb's discover defaults. A movie whose
    flag flips out of the policy leaves ``movies`` (excluded by policy, not deleted) and returns when it
    flips back."""

    include_adult: bool = False
    include_video: bool = False

    def allows(self, adult: bool | None, video: bool | None) -> bool:
        """Whether a title with these flags belongs in the lake (an unknown flag counts as false)."""
        return (self.include_adult or not adult) and (self.include_video or not video)

    def mask(self, table: pa.Table) -> pa.ChunkedArray:
        """A boolean mask over ``table``'s ``adult`` and ``video`` columns: the rows the policy allows."""
        allowed = pa.chunked_array([pa.array([True] * table.num_rows, pa.bool_())])
        for flag, included in (("adult", self.include_adult), ("video", self.include_video)):
            if not included:
                allowed = pc.and_(allowed, pc.invert(pc.fill_null(table.column(flag), False)))
        return allowed

    def describe(self) -> str:
        return (f"{SETTINGS[0]}={str(self.include_adult).lower()}, "
                f"{SETTINGS[1]}={str(self.include_video).lower()}")


class LakePolicyError(LakeError):
    """A writer asks for another adult/video policy than the lake holds."""


def policy_file(lake: Lake) -> Path:
    """Where the lake records its policy."""
    return lake.state_dir / "policy.json"


def recorded_policy(lake: Lake) -> CatalogPolicy | None:
    """The policy the lake records (None: none written yet)."""
    path = policy_file(lake)
    if not path.exists():
        return None
    return read_state_json(
        path, "the lake's adult/video policy", shape={"include_adult": bool, "include_video": bool},
        parse=lambda data: CatalogPolicy(data["include_adult"], data["include_video"]),
        fix="it records which titles the lake holds; write the policy you want into it (the next sync then "
            "reconciles every partition with it)",
    )


def resolve_policy(lake: Lake, policy: CatalogPolicy | None = None, *, record: bool = True) -> CatalogPolicy:
    """The policy to apply to ``lake``: ``policy`` (recorded if the lake has none yet, when ``record``), or
    the lake's when None (the default one for a new lake); `LakePolicyError` when it differs from the lake's."""
    recorded = recorded_policy(lake)
    if policy is None:
        return recorded or CatalogPolicy()
    if recorded is None and record:
        lake.ensure_writable()
        write_json_once({"include_adult": policy.include_adult, "include_video": policy.include_video},
                        policy_file(lake))
        recorded = recorded_policy(lake)
    if recorded is not None and recorded != policy:
        raise LakePolicyError(
            f"{DATA_DIR_VARIABLE}={lake.root} holds the titles of {recorded.describe()}, not {policy.describe()}; "
            f"set {SETTINGS[0]} and {SETTINGS[1]} to the lake's (or the runs' config to match), or use another "
            f"{DATA_DIR_VARIABLE} for this policy"
        )
    return policy
