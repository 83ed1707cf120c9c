"""The shape every TMDb-calling asset shares: open the client (TMDb or the built-in emulator), turn errors that
need a person's fix into a failure that is not retried, and report what the step cost (``seconds`` and the
client's ``tmdb/*`` counters) in its metadata."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from movie_assets.tmdb.client import TMDbClient
from movie_assets.wiring.metadata import counter_metadata
from movie_assets.wiring.policies import fail_fast_on_bad_input
from movie_assets.wiring.resources import LakeResource, TMDbResource


@dataclass
class TMDbStep:
    """An open client for one step; after the ``async with``, what the step cost."""

    client: TMDbClient
    started: float = field(default_factory=time.monotonic)
    stats: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def metadata(self) -> dict[str, Any]:
        """``seconds`` and ``tmdb/<counter>`` (requests, retries, 429s …) for the asset's metadata."""
        return {"seconds": round(self.seconds, 2), **counter_metadata("tmdb", self.stats)}


@contextlib.asynccontextmanager
async def tmdb_step(context: dg.AssetExecutionContext, tmdb: TMDbResource, lake: LakeResource
                    ) -> AsyncIterator[TMDbStep]:
    """``async with tmdb_step(context, tmdb, lake) as step:`` — call TMDb through ``step.client``; afterwards
    ``step.metadata()`` holds the cost. A bad setting or input fails the step at once (no retry), and so does
    a lake of another source (before any request)."""
    started = time.monotonic()
    with fail_fast_on_bad_input():
        async with tmdb.client(context.log, lake=lake.lake()) as client:
            step = TMDbStep(client, started)
            yield step
            step.stats = client.stats.as_dict()
    step.seconds = time.monotonic() - started
