"""The emulator's living catalog: a clock that moves day by day, with TMDb-like churn consistent everywhere."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import urllib.error
import urllib.request

import pytest

from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.emulator.churn import NO_CHURN, ChurnRates
from movie_assets.emulator.exports import export_lines

START = dt.date(2026, 11, 1)
# Rates high enough that a small catalog sees every kind of event within a few days.
BUSY = ChurnRates(move=0.004, delete=0.002, add=0.004)


def busy_catalog(**kwargs) -> Catalog:
    return Catalog(seed=21, movies_per_year=400, first_year=1990, last_year=2026, churn=BUSY, **kwargs)


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def export_ids(catalog: Catalog, day: dt.date) -> set[int]:
    lines = b"".join(chunk for adult in (False, True) for chunk in export_lines(catalog, day, adult))
    return {json.loads(line)["id"] for line in lines.splitlines()}


def test_on_its_base_day_the_catalog_is_the_static_one():
    catalog, static = busy_catalog(), Catalog(seed=21, movies_per_year=400, first_year=1990, last_year=2026,
                                              churn=NO_CHURN)
    assert catalog.overlay().empty and catalog.day == START
    catalog.set_day(START - dt.timedelta(days=30))  # never before the base day
    assert catalog.day == START
    assert catalog.discover_ids(dt.date(1990, 1, 1), dt.date(2026, 12, 31)) == static.discover_ids(
        dt.date(1990, 1, 1), dt.date(2026, 12, 31))


def test_each_day_moves_deletes_and_adds_reproducibly():
    catalog = busy_catalog()
    catalog.set_day(START + dt.timedelta(days=10))
    overlay = catalog.overlay()
    assert overlay.moved and overlay.deleted and overlay.added
    assert any(d is None for d in overlay.moved.values()) or any(
        s.release_date is None for s in overlay.added.values())  # undated titles appear
    assert any(s.release_date and s.release_date.year < 2020 for s in overlay.added.values())  # old years grow
    assert min(overlay.added) > max(i for y in catalog.years for i in catalog.year_data(y, START).ids.tolist())

    stepwise = busy_catalog()
    for days in range(1, 11):
        stepwise.set_day(START + dt.timedelta(days=days))
    again = stepwise.overlay()
    assert (again.moved, again.deleted, again.added, again.events) == (
        overlay.moved, overlay.deleted, overlay.added, overlay.events)


def test_every_view_of_the_catalog_agrees_on_the_clocks_day():
    catalog = busy_catalog()
    day = START + dt.timedelta(days=8)
    catalog.set_day(day)
    overlay = catalog.overlay()
    everything = set(catalog.discover_ids(dt.date(1990, 1, 1), dt.date(2026, 12, 31), True, True))
    undated = {s.id for s in catalog.undated()}
    assert not everything & set(overlay.deleted) and not everything & undated
    assert export_ids(catalog, day) == everything | undated  # the export lists exactly what exists
    for movie_id, new_date in overlay.moved.items():
        summary = catalog.summary(movie_id)
        assert summary.release_date == new_date
        years = [y for y in catalog.years if movie_id in set(catalog.year_data(y).ids.tolist())]
        assert years == ([new_date.year] if new_date else [])  # in exactly one year, or in none when undated
    for movie_id in overlay.deleted:
        assert catalog.summary(movie_id) is None and catalog.details(movie_id) is None
    # The changes feed: moves and additions of each day; deletions never (as on TMDb).
    changed = set(catalog.changed_ids(START + dt.timedelta(days=1), day))
    assert set(overlay.moved) <= changed | set(overlay.deleted)
    assert set(overlay.added) <= changed
    for n in range(1, 9):
        one_day = START + dt.timedelta(days=n)
        listed = catalog.changed_ids(one_day, one_day)
        assert not [i for i in listed if overlay.deleted.get(i, dt.date.max) <= one_day]
        assert set(overlay.events[one_day]) <= set(listed)
    # An export of a past day still lists what existed then.
    earlier = START + dt.timedelta(days=2)
    assert export_ids(catalog, earlier) >= {i for i, d in overlay.deleted.items() if d > earlier}


def test_the_server_follows_its_clock():
    catalog = busy_catalog()
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=dt.datetime(2026, 11, 1, 9))) as emu:
        emu.advance(5)
        assert catalog.day == START + dt.timedelta(days=5)
        overlay = catalog.overlay()
        gone = min(overlay.deleted)
        status, body = get_json(f"{emu.base_url}/movie/{gone}")
        assert status == 404 and body["status_code"] == 34
        undated = next(s for s in catalog.undated())
        status, body = get_json(f"{emu.base_url}/movie/{undated.id}?append_to_response=release_dates")
        assert status == 200 and body["release_date"] == "" and body["release_dates"] == {"results": []}
        moved = next(i for i, d in overlay.moved.items() if d is not None)
        status, body = get_json(f"{emu.base_url}/movie/{moved}")
        assert body["release_date"] == overlay.moved[moved].isoformat()
        status, body = get_json(f"{emu.base_url}/movie/changes?start_date=2026-11-02&end_date=2026-11-06")
        assert body["total_results"] == len(catalog.changed_ids(dt.date(2026, 11, 2), dt.date(2026, 11, 6)))
        name = f"movie_ids_{catalog.day:%m_%d_%Y}.json.gz"
        with urllib.request.urlopen(f"{emu.root_url}/p/exports/{name}") as response:
            listed = {json.loads(x)["id"] for x in gzip.decompress(response.read()).splitlines()}
        assert gone not in listed and undated.id in listed or undated.adult
        # Standalone emulators are driven over HTTP.
        request = urllib.request.Request(f"{emu.root_url}/__emulator/clock", data=b'{"advance_days": 2}',
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            assert json.loads(response.read())["catalog_day"] == str(START + dt.timedelta(days=7))


@pytest.mark.parametrize("name", ["move", "delete", "add"])
def test_rates_outside_zero_to_one_are_refused(name):
    with pytest.raises(ValueError, match=name):
        ChurnRates(**{name: 1.5})


def test_discover_pages_list_exactly_the_movies_dated_in_the_window_today():
    catalog = busy_catalog()
    with running_emulator(catalog=catalog, options=EmulatorOptions(as_of=dt.datetime(2026, 11, 1, 9))) as emu:
        emu.advance(12)
        moved_in = {i for i, d in catalog.overlay().moved.items() if d and d.year == 2025}
        assert moved_in, "some movie must have moved into 2025 for this test to mean anything"
        found, page, pages = [], 1, 1
        while page <= pages:
            _, body = get_json(f"{emu.base_url}/discover/movie?primary_release_date.gte=2025-01-01"
                               f"&primary_release_date.lte=2025-12-31&sort_by=primary_release_date.asc&page={page}")
            found += [item["id"] for item in body["results"]]
            pages, page = body["total_pages"], page + 1
        assert set(found) == set(catalog.discover_ids(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
        assert moved_in <= set(found) and len(found) == len(set(found)) == body["total_results"]
