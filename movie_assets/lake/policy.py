"""The catalog policy: which titles the lake holds (adult titles, video releases), one rule for every part."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


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
