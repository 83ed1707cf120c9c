"""The catalog sync's cursor: how far the lake has read TMDb's changes, and against which daily export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from movie_assets.lake import Lake, write_json_atomic
from movie_assets.lake.state import read_state_json

CURSOR_FIX = ("delete it: the next sync then reads every change since the store's oldest version and "
              "reconciles every partition with the store (slower, nothing lost)")


class SyncError(RuntimeError):
    """The sync cannot run or finish; the message says what to fix. The cursor did not move."""


@dataclass(frozen=True)
class SyncCursor:
    """Every change up to and including ``changes_through`` is in the store (as the export of ``export_day``
    knew the catalog). That day is read again next time: it may have been partial. ``export_whole``: that
    export was whole, so its deletions were applied (False: it looked partial, see
    `movie_assets.harvest.deletions`)."""

    changes_through: dt.date
    export_day: dt.date
    export_whole: bool = True

    @classmethod
    def read(cls, lake: Lake, today: dt.date) -> SyncCursor | None:
        path = lake.sync_cursor_file
        if not path.exists():
            return None
        cursor = read_state_json(
            path, "the sync cursor", shape={"changes_through": str, "export_day": str},
            parse=lambda data: cls(dt.date.fromisoformat(data["changes_through"]),
                                   dt.date.fromisoformat(data["export_day"]), bool(data.get("export_whole", True))),
            fix=CURSOR_FIX,
        )
        if cursor.changes_through > today:
            raise SyncError(
                f"{path} says changes were read through {cursor.changes_through}, after today ({today}) as TMDb "
                "sees it: the file is wrong or the clock moved back; delete it to sync every listed movie again"
            )
        return cursor

    def write(self, lake: Lake) -> None:
        write_json_atomic({"changes_through": self.changes_through.isoformat(),
                           "export_day": self.export_day.isoformat(), "export_whole": self.export_whole},
                          lake.sync_cursor_file)
