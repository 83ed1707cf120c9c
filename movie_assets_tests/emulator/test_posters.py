"""The emulator's poster JPEGs: deterministic, sized as TMDb's size names, tied to the movie (genre, decade,
collection), changing with the living catalog, served through a rate limit of the image host's own."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import movie_assets
from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, running_emulator
from movie_assets.emulator.images import poster_path
from movie_assets.emulator.posters import PosterFacts, poster_dimensions, poster_facts, poster_jpeg

START = dt.date(2026, 11, 1)
SIZES = {"w92": (92, 138), "w154": (154, 231), "w185": (185, 278), "w342": (342, 513), "w500": (500, 750),
         "w780": (780, 1170), "original": (600, 900)}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(seed=7, movies_per_year=300, first_year=1990, last_year=2026)


@pytest.fixture(scope="module")
def movie_ids(catalog: Catalog) -> list[int]:
    return [s.id for year in catalog.years for s in catalog.movies_in_year(year)]


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def with_poster(catalog: Catalog, ids: list[int]) -> int:
    return next(i for i in ids if catalog.details(i)["poster_path"])


# ---------------------------------------------------------------------- bytes
def test_the_bytes_are_the_same_on_every_call_and_every_run(catalog, movie_ids):
    movie_id = with_poster(catalog, movie_ids)
    first = poster_jpeg(catalog, movie_id, "w185")
    assert poster_jpeg(catalog, movie_id, "w185") == first
    facts = poster_facts(catalog, movie_id)
    assert poster_jpeg(facts, size="w185") == first
    again = Catalog(seed=7, movies_per_year=300, first_year=1990, last_year=2026)
    assert poster_jpeg(again, movie_id, "w185") == first
    script = ("import hashlib; from movie_assets.emulator.posters import PosterFacts, poster_jpeg; "
              f"print(hashlib.sha256(poster_jpeg(PosterFacts(*{tuple(vars(facts).values())!r}), size='w185'))"
              ".hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "123", "PYTHONPATH": str(Path(movie_assets.__file__).parents[1])}
    other_run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert other_run.stdout.strip() == hashlib.sha256(first).hexdigest()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_poster_decodes_as_an_rgb_jpeg_of_its_sizes_pixels(catalog, movie_ids, size):
    assert poster_dimensions(size) == SIZES[size]
    with Image.open(io.BytesIO(poster_jpeg(catalog, with_poster(catalog, movie_ids), size))) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", SIZES[size])


def test_a_size_that_is_none_or_a_movie_that_is_none_is_refused(catalog):
    with pytest.raises(ValueError):
        poster_jpeg(PosterFacts(1, 18, 2000), size="huge")
    with pytest.raises(KeyError):
        poster_jpeg(catalog, 1, "w185")  # id 1 is never a movie


# ---------------------------------------------------------------------- structure
def descriptor(jpeg: bytes) -> np.ndarray:
    """The poster shrunk to 8×12 pixels: a plain image descriptor."""
    with Image.open(io.BytesIO(jpeg)) as image:
        small = image.convert("RGB").resize((8, 12), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32).ravel() / 255.0


def test_franchises_look_alike_and_genres_look_alike(catalog, movie_ids):
    cache: dict[int, np.ndarray] = {}

    def distance(a: int, b: int) -> float:
        for i in (a, b):
            if i not in cache:
                cache[i] = descriptor(poster_jpeg(catalog, i, "w92"))
        return float(np.linalg.norm(cache[a] - cache[b]))

    rng = random.Random(1)
    collections_ = collections.defaultdict(list)
    for movie_id in movie_ids:
        if (cid := catalog.collection_id(movie_id)) is not None:
            collections_[cid].append(movie_id)
    same = [(g[a], g[a + 1]) for g in collections_.values() for a in range(len(g) - 1)][:120]
    anything = [tuple(rng.sample(movie_ids, 2)) for _ in range(200)]
    same_collection = np.mean([distance(a, b) for a, b in same])
    random_pairs = np.mean([distance(a, b) for a, b in anything])
    assert len(same) >= 60 and same_collection < 0.7 * random_pairs  # measured ~0.5

    solo = [i for i in rng.sample(movie_ids, 500) if catalog.collection_id(i) is None]
    genre = {i: poster_facts(catalog, i).first_genre for i in solo}
    by_genre = collections.defaultdict(list)
    for movie_id, g in genre.items():
        by_genre[g].append(movie_id)
    same_genre = [distance(m[k], m[k + 1]) for m in by_genre.values() for k in range(min(8, len(m) - 1))]
    other_genre = [distance(a, b) for a, b in (rng.sample(solo, 2) for _ in range(300)) if genre[a] != genre[b]]
    assert len(same_genre) >= 60 and np.mean(same_genre) < 0.7 * np.mean(other_genre)  # measured ~0.3


def test_older_decades_are_grainier_and_less_saturated():
    def stats(year: int) -> tuple[float, float]:
        with Image.open(io.BytesIO(poster_jpeg(PosterFacts(11, 35, year), size="w185"))) as image:
            hsv = np.asarray(image.convert("HSV"), dtype=np.float32)
            grey = np.asarray(image.convert("L"), dtype=np.float32)
        grain = np.abs(np.diff(grey, axis=1)).mean()  # the drawing is flat: pixel-to-pixel change is grain
        return hsv[..., 1].mean(), grain

    (old_saturation, old_grain), (new_saturation, new_grain) = stats(1935), stats(2022)
    assert old_saturation < 0.6 * new_saturation and old_grain > 3 * new_grain


def test_a_collection_spans_a_few_movies_of_neighbouring_years_with_one_id_and_name(catalog, movie_ids):
    members = collections.defaultdict(list)
    for movie_id in movie_ids:
        collection = catalog.collection(movie_id)
        if collection is not None:
            members[(collection["id"], collection["name"])].append(movie_id)
    for group in list(members.values())[:20]:
        assert len({str(catalog.details(i)["belongs_to_collection"]) for i in group}) == 1
    in_one = sum(len(m) for m in members.values())
    assert 0.05 < in_one / len(movie_ids) < 0.11
    assert len({cid for cid, _ in members}) == len(members)  # one name per id
    sizes = collections.Counter(len(m) for m in members.values())
    assert max(sizes) <= 4 and sum(n for size, n in sizes.items() if size >= 2) > 0.7 * len(members)
    for group in members.values():
        years = sorted(catalog.decode_id(i)[0] for i in group)
        assert years[-1] - years[0] <= 3


# ---------------------------------------------------------------------- the living catalog
def test_a_new_poster_shows_in_details_discover_the_feed_and_the_image_server():
    catalog = Catalog(seed=5, movies_per_year=400, first_year=1990, last_year=2026,
                      churn=ChurnRates(move=0.0, delete=0.0, add=0.0, poster=0.5))
    day = START + dt.timedelta(days=20)
    catalog.set_day(day)
    changed = [i for i in catalog.overlay().posters if catalog.details(i)["poster_path"]]
    assert changed, "no new poster in 20 days at half the changes"
    movie_id = changed[0]
    version = catalog.poster_version(movie_id)
    details = catalog.details(movie_id, day)
    assert details["poster_path"] == poster_path(catalog.seed, movie_id, version) == catalog.discover_item(
        movie_id)["poster_path"]
    first_change = next(d for d in sorted(catalog.overlay().events) if catalog.overlay(d).posters.get(movie_id))
    assert movie_id in catalog.changed_ids(first_change, first_change)
    assert catalog.overlay(first_change - dt.timedelta(days=1)).posters.get(movie_id, 0) == 0
    with running_emulator(catalog, EmulatorOptions(as_of=dt.datetime(2026, 11, 21))) as emu:
        status, body, _ = fetch(f"{emu.base_url}/movie/{movie_id}")
        assert status == 200 and json.loads(body)["poster_path"] == details["poster_path"]
        old, new, future = (f"{emu.root_url}/t/p/w185{poster_path(catalog.seed, movie_id, v)}"
                            for v in (0, version, version + 1))
        (s_old, b_old, _), (s_new, b_new, headers) = fetch(old), fetch(new)
        assert s_old == s_new == 200 and headers["Content-Type"] == "image/jpeg" and b_old != b_new
        assert fetch(future)[0] == 404  # a path never handed out
        assert emu.stats()["images"] == {"requests": 3, "served": 2, "not_found": 1, "rate_limited": 0, "other": 0}


def test_unknown_image_paths_are_404_through_a_real_server(catalog, movie_ids):
    movie_id = with_poster(catalog, movie_ids)
    path = catalog.details(movie_id)["poster_path"]
    with running_emulator(catalog) as emu:
        assert fetch(f"{emu.root_url}/t/p/w185{path}")[0] == 200
        for bad in (f"/t/p/w185/{'A' * 27}.jpg", f"/t/p/w9999{path}", f"/t/p/w185{path[:-5]}x.jpg"):
            assert fetch(emu.root_url + bad)[0] == 404


def test_the_image_host_has_a_rate_limit_of_its_own(catalog, movie_ids):
    path = catalog.details(with_poster(catalog, movie_ids))["poster_path"]
    with running_emulator(catalog, EmulatorOptions(image_rate_limit=2)) as emu:
        answers = [fetch(f"{emu.root_url}/t/p/w92{path}") for _ in range(6)]
        limited = [headers for status, _, headers in answers if status == 429]
        assert limited and all(int(h["Retry-After"]) >= 1 for h in limited)
        assert all(fetch(f"{emu.base_url}/configuration")[0] == 200 for _ in range(5))  # the API: unlimited
        images = emu.stats()["images"]
        assert images["requests"] == 6 and images["rate_limited"] == len(limited)
        assert images["served"] == 6 - len(limited) and emu.stats()["faults"]["rate_limited"] == 0
        emu.configure(image_rate_limit=None)
        assert all(fetch(f"{emu.root_url}/t/p/w92{path}")[0] == 200 for _ in range(5))
    with pytest.raises(ValueError):
        EmulatorOptions(image_rate_limit=0)
