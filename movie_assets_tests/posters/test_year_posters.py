"""A year's posters end to end through the real client: every outcome recorded, nothing fetched or embedded twice,
a killed run resumed, a changed poster re-fetched and re-embedded alone; the poster index and the modality masks.

Bad-input catalogue, posters (each served by a real loopback server): a truncated JPEG, a PNG with alpha, a CMYK
JPEG, a 1 × 1 image, a 20,000 × 20,000 header (decompression bomb), HTML served as ``image/jpeg``, a 404 and a 429
from the image host."""

from __future__ import annotations

import asyncio

import pyarrow.parquet as pq
import pytest
from aiohttp import web

from movie_assets.emulator import Catalog, running_emulator
from movie_assets.posters import cache, poster_index, year_posters, year_vectors
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings
from movie_assets_tests.helpers import serve_handler
from movie_assets_tests.posters.images import (
    HOSTILE_BODIES,
    POSTER_JPEG,
    YEAR,
    TinyEncoder,
    poster_lake,
    set_posters,
)


def images_of(base_url: str) -> str:
    """The image base of a test server whose API root is ``base_url`` (it serves images at its root)."""
    return base_url.rsplit("/3", 1)[0] + "/t/p/"


def settings(base_url: str, **overrides) -> TMDbSettings:
    values = dict(base_url=base_url, requests_per_second=2000.0, backoff_base=0.01, backoff_max=0.02,
                  max_attempts=3, read_timeout=2.0, connect_timeout=1.0)
    values.update(overrides)
    return TMDbSettings(**values)


async def test_every_hostile_poster_is_recorded_with_its_reason(tmp_path):
    throttled = []

    async def host(request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[-1]
        if name == "busy.jpg" and not throttled:
            throttled.append(1)
            return web.Response(status=429, headers={"Retry-After": "0.05"})
        if name == "busy.jpg":
            return web.Response(body=POSTER_JPEG, content_type="image/jpeg")
        if name not in HOSTILE_BODIES:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=HOSTILE_BODIES[name][0], content_type="image/jpeg")

    names = [*HOSTILE_BODIES, "gone.jpg", "busy.jpg"]
    paths = {i + 1: f"/{name}" for i, name in enumerate(names)} | {99: None}
    lake = poster_lake(tmp_path, paths)
    async with serve_handler(host) as base, TMDbClient(settings(base)) as client:
        result = await year_posters.fetch_year_posters(lake, YEAR, client, concurrency=2, image_base=images_of(base))
    got = {row["poster_path"]: (row["status"], row["reason"]) for row in result.table.to_pylist()}
    expected = {f"/{name}": status for name, (_, status) in HOSTILE_BODIES.items()}
    expected |= {"/gone.jpg": "not_found", "/busy.jpg": "ok", None: "no_poster"}
    assert {path: status for path, (status, _) in got.items()} == expected
    assert "decompression bomb" in got["/bomb.png"][1] and "404" in got["/gone.jpg"][1]
    assert all(reason for status, reason in got.values() if status != "ok")
    assert client.stats.rate_limited == 1
    # Only usable posters are cached; transparent and CMYK posters decode to RGB for the encoder.
    cached = sorted(p.name for p in (lake.posters_dir / "w185").iterdir())
    assert cached == ["alpha.png", "busy.jpg", "cmyk.jpg"]
    encoder = TinyEncoder()
    vectors = year_vectors.embed_year_posters(lake, YEAR, encoder)
    assert vectors.table.num_rows == 3 and encoder.calls == 3
    # Answers about a path stand: the next run asks for nothing (unless told to).
    async with serve_handler(host) as base, TMDbClient(settings(base)) as client:
        kwargs = {"image_base": images_of(base)}
        # An error page or a cut-off body may be a passing fault: asked again until three runs have said so.
        for run in (2, 3):
            again = await year_posters.fetch_year_posters(lake, YEAR, client, **kwargs)
            assert {r["poster_path"]: r["attempts"] for r in again.table.to_pylist()
                    if r["status"] in ("not_image", "undecodable")} == {"/truncated.jpg": run, "/page.jpg": run}
        assert client.stats.requests == 2 * 2
        again = await year_posters.fetch_year_posters(lake, YEAR, client, **kwargs)
        assert client.stats.requests == 4 and again.downloaded == 0
        retried = await year_posters.fetch_year_posters(lake, YEAR, client, retry_unavailable=True, **kwargs)
        assert client.stats.requests == 4 + len(HOSTILE_BODIES) - 2 + 1  # the unavailable ones, again
    assert retried.table.drop_columns(["reason", "attempts"]).equals(result.table.drop_columns(["reason", "attempts"]))


async def test_exhausted_retries_are_recorded_as_failed_and_asked_again_a_refusal_stands(tmp_path):
    async def down(request: web.Request) -> web.Response:
        if request.path.endswith("/forbidden.jpg"):
            return web.Response(status=403, text="Forbidden")
        return web.Response(status=503)

    lake = poster_lake(tmp_path, {1: "/a.jpg", 2: "/forbidden.jpg", 3: "/" + "x" * 300 + ".jpg"})
    async with serve_handler(down) as base, TMDbClient(settings(base, max_attempts=2)) as client:
        result = await year_posters.fetch_year_posters(lake, YEAR, client, image_base=images_of(base))
        statuses = result.table.column("status").to_pylist()
        assert statuses == ["failed", "refused", "not_found"] and result.failed == 1
        assert "503" in result.table.column("reason")[0].as_py() and "403" in result.table.column("reason")[1].as_py()
        assert "not a TMDb image path" in result.table.column("reason")[2].as_py()  # too long for a file name
        again = await year_posters.fetch_year_posters(lake, YEAR, client, image_base=images_of(base))
    assert again.failed == 1 and client.stats.requests == 2 + 1 + 2  # only the failure is asked again


@pytest.fixture(scope="module")
def emulator():
    with running_emulator(catalog=Catalog(seed=1, movies_per_year=400)) as emu:
        yield emu


def emulator_posters(catalog: Catalog, year: int, n: int) -> dict[int, str | None]:
    out = {}
    for summary in catalog.movies_in_year(year):
        out[summary.id] = catalog.details(summary.id)["poster_path"]
        if len(out) == n:
            break
    return out


async def _image_base(emulator) -> str:
    async with TMDbClient(settings(emulator.base_url)) as client:
        return await cache.image_base_for(client)


class KilledAfter:
    """An image client that dies (as a killed process would stop) after ``n`` downloads."""

    def __init__(self, client: TMDbClient, n: int):
        self.client, self.n, self.base_url = client, n, client.base_url
        self.configuration = client.configuration

    async def get_bytes(self, url: str, **kwargs):
        if self.n <= 0:
            raise asyncio.CancelledError
        self.n -= 1
        return await self.client.get_bytes(url, **kwargs)


async def test_a_killed_run_resumes_without_downloading_again_and_a_new_poster_is_fetched_alone(emulator, tmp_path):
    posters = emulator_posters(emulator.catalog, 2001, 30)
    with_poster = [m for m, p in posters.items() if p]
    lake = poster_lake(tmp_path, posters)
    assert await _image_base(emulator) == emulator.root_url + "/t/p/"  # the emulator names itself in /configuration
    base = {"image_base": emulator.root_url + "/t/p/"}
    async with TMDbClient(settings(emulator.base_url)) as client:
        with pytest.raises(asyncio.CancelledError):
            await year_posters.fetch_year_posters(lake, YEAR, KilledAfter(client, 7), concurrency=1, **base)
        assert not lake.posters_year_file(YEAR).exists()  # nothing half written
        assert len(list((lake.posters_dir / "w185").iterdir())) == 7
        requests = client.stats.requests
        resumed = await year_posters.fetch_year_posters(lake, YEAR, client, **base)
        assert client.stats.requests - requests == len(with_poster) - 7 == resumed.downloaded
        assert resumed.counts() == {"ok": len(with_poster), **({"no_poster": 30 - len(with_poster)}
                                                                if len(with_poster) < 30 else {})}
        encoder = TinyEncoder()
        first = year_vectors.embed_year_posters(lake, YEAR, encoder)
        assert (first.encoded, first.reused) == (len(with_poster), 0)

        # TMDb gives one movie a new poster (here: a movie of 2002's file): that movie alone is fetched and embedded.
        changed = with_poster[0]
        new_path = next(p for p in emulator_posters(emulator.catalog, 2002, 10).values() if p)
        set_posters(lake, {**posters, changed: new_path})
        requests = client.stats.requests
        after = await year_posters.fetch_year_posters(lake, YEAR, client, **base)
        assert client.stats.requests - requests == after.downloaded == 1
    stale = poster_index.current_poster_vectors(lake)
    assert (stale.cached, stale.without_vectors, stale.years_to_embed) == (len(with_poster), 1, [str(YEAR)])
    second = year_vectors.embed_year_posters(lake, YEAR, encoder)
    assert (second.encoded, second.reused) == (1, len(with_poster) - 1)
    written = pq.read_table(lake.poster_vectors_year_file(YEAR), columns=["movie_id", "poster_path"]).to_pylist()
    assert {r["movie_id"]: r["poster_path"] for r in written}[changed] == new_path
    current = poster_index.current_poster_vectors(lake)
    assert current.without_vectors == 0 and current.table.num_rows == len(with_poster)


def test_a_poster_size_that_tmdb_does_not_serve_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="size='w9000' is not a TMDb poster size"):
        cache.check_size("w9000")


async def test_modalities_mark_every_movie_and_the_index_refuses_mixed_models(emulator, tmp_path):
    posters = emulator_posters(emulator.catalog, 2001, 20)
    lake = poster_lake(tmp_path, posters)
    async with TMDbClient(settings(emulator.base_url)) as client:
        await year_posters.fetch_year_posters(lake, YEAR, client)
    year_vectors.embed_year_posters(lake, YEAR, TinyEncoder())
    vectors = poster_index.current_poster_vectors(lake)
    assert vectors.source == {"model_id": "tiny@1", "backend": "tiny"}
    # A second year embedded by another model: one index cannot hold both.
    other = emulator_posters(emulator.catalog, 2002, 5)
    set_posters(lake, other, 2002)
    async with TMDbClient(settings(emulator.base_url)) as client:
        await year_posters.fetch_year_posters(lake, 2002, client)

    class OtherEncoder(TinyEncoder):
        model_id = "other@2"

    year_vectors.embed_year_posters(lake, 2002, OtherEncoder())
    with pytest.raises(poster_index.MixedEmbeddingsError, match="MOVIE_ASSETS_IMAGE_BACKEND"):
        poster_index.current_poster_vectors(lake)
    year_vectors.embed_year_posters(lake, 2002, TinyEncoder())  # same model: the year is encoded again
    assert poster_index.current_poster_vectors(lake).table.num_rows == sum(1 for p in [*posters.values(),
                                                                                      *other.values()] if p)
