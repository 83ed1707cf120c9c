"""The emulator's generated catalog: determinism, year curve, ids, dates, field distributions, changes."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest

from movie_assets.emulator import Catalog
from movie_assets.emulator.catalog import CHANGE_PROBABILITY
from movie_assets.emulator.vocab import GENRES


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(seed=42)


def test_same_seed_identical_different_seed_different() -> None:
    a, b = Catalog(seed=7, movies_per_year=800), Catalog(seed=7, movies_per_year=800)
    c = Catalog(seed=8, movies_per_year=800)
    ids_a = [m.id for m in a.movies_in_year(2010)]
    assert ids_a == [m.id for m in b.movies_in_year(2010)]
    assert a.movies_in_year(2010) == b.movies_in_year(2010)
    for movie_id in ids_a[:50]:
        assert a.details(movie_id, dt.date(2026, 11, 1)) == b.details(movie_id, dt.date(2026, 11, 1))
    assert a.movies_in_year(2010) != c.movies_in_year(2010)
    shared = [i for i in ids_a if c.exists(i)][:30]
    assert [a.details(i)["title"] for i in shared] != [c.details(i)["title"] for i in shared]
    assert a.changed_ids(dt.date(2026, 10, 1), dt.date(2026, 10, 10)) == b.changed_ids(
        dt.date(2026, 10, 1), dt.date(2026, 10, 10)
    )


def test_year_curve_defaults(catalog: Catalog) -> None:
    assert 100 <= catalog.year_count(1925) <= 1000
    assert (
        catalog.year_count(1925)
        < catalog.year_count(1975)
        < catalog.year_count(2000)
        < catalog.year_count(2024)
    )
    assert catalog.year_count(2024) == 30000 > 10000
    assert catalog.year_count(1899) == 0 and catalog.year_count(2027) == 0
    assert 1_000_000 < catalog.total_movies < 1_400_000


def test_year_generation_is_fast_and_lazy() -> None:
    cat = Catalog(seed=3)
    assert cat._years == {}
    start = time.perf_counter()
    movies = cat.movies_in_year(2023)
    assert time.perf_counter() - start < 1.5
    assert len(movies) == 30000
    assert list(cat._years) == [2023]


def test_ids_unique_decodable_and_not_date_ordered() -> None:
    cat = Catalog(seed=1, movies_per_year=400, first_year=1990, last_year=2000)
    all_ids = []
    for year in cat.years:
        movies = cat.movies_in_year(year)
        assert len(movies) == cat.year_count(year)
        for m in movies:
            assert m.release_date.year == year
            assert cat.decode_id(m.id)[0] == year
        all_ids.extend(m.id for m in movies)
    assert len(all_ids) == len(set(all_ids)) and min(all_ids) > 0
    ordered = sorted(all_ids)
    assert ordered[-1] - ordered[0] + 1 > len(ordered)  # holes: not contiguous
    by_date = [m.id for y in cat.years for m in sorted(cat.movies_in_year(y), key=lambda m: m.release_date)]
    assert by_date != ordered  # ids are not sorted by date
    assert cat.summary(max(all_ids) + 10_000) is None and cat.details(0) is None


def test_dates_cluster_on_jan_1_and_autumn(catalog: Catalog) -> None:
    movies = catalog.movies_in_year(2019)
    jan1 = sum(m.release_date == dt.date(2019, 1, 1) for m in movies)
    assert 0.04 * len(movies) < jan1 < 0.09 * len(movies)
    months = Counter(m.release_date.month for m in movies)
    assert months[10] > 1.3 * months[4]
    assert len({m.release_date for m in movies}) == 365


def test_day_cluster_puts_more_than_10000_on_one_day() -> None:
    cat = Catalog(seed=5, day_cluster=0.4)
    ids = cat.discover_ids(dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert len(ids) > 10000


def test_field_distributions(catalog: Catalog) -> None:
    movies = catalog.movies_in_year(2015)[::6]  # 5000 movies
    details = [catalog.details(m.id) for m in movies]
    n = len(details)

    def share(pred) -> float:
        return sum(1 for d in details if pred(d)) / n

    assert 0.10 < share(lambda d: d["overview"] == "") < 0.20
    assert 0.09 < share(lambda d: d["poster_path"] is None) < 0.17
    assert 0.40 < share(lambda d: d["backdrop_path"] is None) < 0.60
    assert 0.15 < share(lambda d: not d["credits"]["cast"]) < 0.35
    directors = [sum(c["job"] == "Director" for c in d["credits"]["crew"]) for d in details]
    assert 0.05 < directors.count(0) / n < 0.13 and max(directors) == 2
    assert 0.40 < share(lambda d: d["original_language"] == "en") < 0.50
    assert share(lambda d: d["original_title"] != d["title"]) > 0.2
    assert any(not d["original_title"].isascii() for d in details)
    assert 0.005 < sum(m.adult for m in movies) / n < 0.03
    assert 0.005 < sum(m.video for m in movies) / n < 0.04
    assert share(lambda d: d["vote_count"] == 0) > 0.25
    assert share(lambda d: d["runtime"] == 0) > 0.03 and share(lambda d: d["budget"] == 0) > 0.6
    assert share(lambda d: d["imdb_id"] is None) > 0.1
    assert max(len(d["credits"]["cast"]) for d in details) <= 30
    assert max(len(d["keywords"]["keywords"]) for d in details) <= 10
    genre_ids = {g for g, _ in GENRES}
    assert all(g["id"] in genre_ids for d in details for g in d["genres"])
    pops = sorted(m.popularity for m in movies)
    assert pops[-1] > 20 * pops[n // 2]  # heavy tail
    for d in details:
        cast = d["credits"]["cast"]
        assert [c["order"] for c in cast] == list(range(len(cast)))
    appearances = Counter(c["id"] for d in details for c in d["credits"]["cast"])
    assert appearances.most_common(1)[0][1] >= 3  # actors are reused across films
    assert any(
        not c["name"].isascii() or c["name"] != c["original_name"]
        for d in details
        for c in d["credits"]["cast"]
    )


def test_overviews_follow_genres(catalog: Catalog) -> None:
    horror_words, music_words = Counter(), Counter()
    for m in catalog.movies_in_year(2012)[:3000]:
        d = catalog.details(m.id)
        ids = [g["id"] for g in d["genres"]]
        if ids == [27]:
            horror_words.update(d["overview"].lower().replace(".", "").replace(",", "").split())
        elif ids == [10402]:
            music_words.update(d["overview"].lower().replace(".", "").replace(",", "").split())
    assert horror_words["demon"] > 0 and music_words["demon"] == 0
    assert music_words["band"] + music_words["concert"] + music_words["singer"] > 0


def test_changes_are_deterministic_sparse_and_bump_revisions(catalog: Catalog) -> None:
    day = dt.date(2026, 10, 20)
    changed = catalog.changed_ids(day, day)
    assert changed == catalog.changed_ids(day, day)
    expected = catalog.total_movies * CHANGE_PROBABILITY
    assert 0.8 * expected < len(changed) < 1.2 * expected
    assert all(catalog.exists(i) for i in changed)
    window = catalog.changed_ids(dt.date(2026, 10, 18), dt.date(2026, 10, 31))
    assert len(window) == len(set(window)) and set(changed) <= set(window)
    movie_id = changed[0]
    before, after = day - dt.timedelta(days=1), day
    assert catalog.revision(movie_id, after) == catalog.revision(movie_id, before) + 1
    d_before, d_after = catalog.details(movie_id, before), catalog.details(movie_id, after)
    assert d_after["vote_count"] > d_before["vote_count"] or d_after["popularity"] != d_before["popularity"]
    assert {k: v for k, v in d_before.items() if k not in ("vote_count", "vote_average", "popularity")} == {
        k: v for k, v in d_after.items() if k not in ("vote_count", "vote_average", "popularity")
    }


def test_discover_ids_respect_filters(catalog: Catalog) -> None:
    gte, lte = dt.date(1980, 3, 1), dt.date(1980, 3, 31)
    default = set(catalog.discover_ids(gte, lte))
    with_all = set(catalog.discover_ids(gte, lte, include_adult=True, include_video=True))
    assert default < with_all
    for movie_id in with_all - default:
        s = catalog.summary(movie_id)
        assert s.adult or s.video
    for movie_id in default:
        s = catalog.summary(movie_id)
        assert gte <= s.release_date <= lte and not s.adult and not s.video
