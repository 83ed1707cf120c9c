"""`enrich`'s promise to a kill: never more than one batch of fetched movies is unsaved, even while an append
is slow (a busy disk, another writer holding the store's lock) and the workers keep fetching."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest

from movie_assets.harvest import enrich as enrich_lib
from movie_assets.harvest.store import DetailsStore
from movie_assets.tmdb.responses import TMDbResponse

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


class CountingClient:
    """Answers every details call at once, counting what was asked."""

    def __init__(self) -> None:
        self.requested = 0

    async def movie_details(self, movie_id: int, append: tuple[str, ...] = ()) -> TMDbResponse:
        self.requested += 1
        await asyncio.sleep(0)
        return TMDbResponse({"id": movie_id, "title": f"movie {movie_id}"}, NOW)


@pytest.mark.parametrize("movies, batch_size, concurrency", [(150, 50, 20), (60, 10, 20), (12, 1, 4)])
def test_unsaved_movies_never_exceed_a_batch_while_appends_are_slow(tmp_path, monkeypatch, movies, batch_size,
                                                                 concurrency):
    store = DetailsStore(tmp_path / "store")
    client = CountingClient()
    saved = {"movies": 0}
    worst = {"unsaved": 0}
    lock = threading.Lock()
    append = DetailsStore.append

    def slow_append(self, records, known_hashes=None, known_times=None):
        records = list(records)
        time.sleep(0.03)  # the workers go on fetching meanwhile
        path = append(self, records, known_hashes, known_times)
        with lock:
            saved["movies"] += len(records)
        return path

    def watch_request(movie_id):
        with lock:  # what a SIGKILL now would lose: asked for, not yet in a shard
            worst["unsaved"] = max(worst["unsaved"], client.requested - saved["movies"])

    monkeypatch.setattr(DetailsStore, "append", slow_append)
    original = client.movie_details

    async def counted(movie_id, append=()):
        response = await original(movie_id, append)
        watch_request(movie_id)
        return response

    client.movie_details = counted
    ids = list(range(1, movies + 1))
    result = asyncio.run(enrich_lib.enrich(client, ids, store, batch_size=batch_size, concurrency=concurrency))
    assert result.count("ok") == len(ids) and client.requested == len(ids)
    assert 0 < worst["unsaved"] <= batch_size
