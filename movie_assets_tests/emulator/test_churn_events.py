"""The living catalog's other events: flag flips, overview edits, exports that omit movies, answers without a
``Date`` header; all deterministic, all consistent across details, discover, the exports and the truth."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest

from movie_assets.emulator import Catalog, ChurnRates, EmulatorOptions, RemoteEmulator, running_emulator
from movie_assets.emulator.churn import is_partial_export
from movie_assets.emulator.exports import export_lines

START = dt.date(2026, 11, 1)
QUIET = dict(move=0.0, delete=0.0, add=0.0)


def catalog_with(seed: int = 23, **rates) -> Catalog:
    return Catalog(seed=seed, movies_per_year=400, first_year=1990, last_year=2026,
                   churn=ChurnRates(**{**QUIET, **rates}))


def export_rows(catalog: Catalog, day: dt.date) -> dict[int, dict]:
    """Every line of both files of the export of ``day``, by id."""
    rows = {}
    for adult in (False, True):
        for line in b"".join(export_lines(catalog, day, adult)).splitlines():
            row = json.loads(line)
            assert row["adult"] is adult
            rows[row["id"]] = row
    return rows


def events_of(catalog: Catalog, day: dt.date) -> list[int]:
    return catalog.overlay(day).events.get(day, [])


def test_a_flip_shows_everywhere():
    catalog = catalog_with(flip=0.01)
    base = {i: catalog.summary(i) for i in catalog.live_movies(True, True)}
    day = START + dt.timedelta(days=1)
    catalog.set_day(day)
    flipped = events_of(catalog, day)
    assert flipped, "no flip on a day at 1 %"
    assert sorted(catalog.overlay().flags) == flipped
    kinds = set()
    rows = export_rows(catalog, day)
    for movie_id in flipped:
        before, now = base[movie_id], catalog.summary(movie_id)
        assert (before.adult != now.adult) != (before.video != now.video), "exactly one flag toggles"
        kinds.add("adult" if before.adult != now.adult else "video")
        assert now.release_date == before.release_date
        assert movie_id in catalog.changed_ids(day, day)
        details = catalog.details(movie_id, day)
        assert (details["adult"], details["video"]) == (now.adult, now.video)
        assert catalog.discover_item(movie_id)["adult"] is now.adult
        assert (rows[movie_id]["adult"], rows[movie_id]["video"]) == (now.adult, now.video)
        assert (movie_id in catalog.live_movies()) == (not now.adult and not now.video)
        assert movie_id in catalog.live_movies(True, True)
        on_day = now.release_date
        for adult in (False, True):
            for video in (False, True):
                listed = movie_id in catalog.discover_ids(on_day, on_day, include_adult=adult, include_video=video)
                assert listed == ((adult or not now.adult) and (video or not now.video))
    assert kinds == {"adult", "video"}
    untouched = next(i for i in base if i not in flipped)
    assert catalog.summary(untouched) == base[untouched]


def test_flips_can_flip_back():
    catalog = Catalog(seed=23, movies_per_year=100, first_year=2000, last_year=2026,
                      churn=ChurnRates(**{**QUIET, "flip": 0.1}))
    day = START + dt.timedelta(days=10)
    overlay = catalog.overlay(day)
    flipped_more_than_once = [
        i for i in overlay.flags if sum(i in overlay.events[d] for d in overlay.events) > 1
    ]
    back = [i for i in flipped_more_than_once if catalog.summary(i, day) == catalog.summary(i, START)]
    assert back, "no movie flipped back to its first flags"
    catalog.set_day(day)
    assert all(i in catalog.live_movies(True, True) for i in back)


def test_an_edit_rewrites_the_overview_and_nothing_else():
    catalog = catalog_with(edit=0.01)
    day = START + dt.timedelta(days=1)
    edited = events_of(catalog, day)
    assert edited and sorted(catalog.overlay(day).edits) == edited
    untouched = next(i for i in sorted(catalog.live_movies(True, True)) if i not in edited)
    before = {i: catalog.details(i, day) for i in [*edited, untouched]}
    catalog.set_day(day)
    for movie_id in edited:
        after = catalog.details(movie_id, day)
        assert movie_id in catalog.changed_ids(day, day)
        assert after["overview"] and after["overview"] != before[movie_id]["overview"]
        # The English translation is the overview itself, so it follows; nothing else changes.
        english = after["translations"]["translations"][0]
        assert english["iso_639_1"] == "en" and english["data"]["overview"] == after["overview"]
        english["data"]["overview"] = before[movie_id]["overview"]
        assert {k: v for k, v in after.items() if k != "overview"} == {
            k: v for k, v in before[movie_id].items() if k != "overview"}
        assert catalog.discover_item(movie_id)["overview"] == after["overview"]
    assert catalog.details(untouched, day) == before[untouched]
    # A second edit writes yet another overview; the record cache never holds an edited one.
    later = START + dt.timedelta(days=60)
    twice = next(i for i, n in catalog.overlay(later).edits.items() if n == 2)
    first_edit, second_edit = (d for d in sorted(catalog.overlay(later).events)
                               if twice in catalog.overlay(later).events[d])
    overviews = []
    for moment in (first_edit, second_edit):
        catalog.set_day(moment)
        overviews.append(catalog.details(twice)["overview"])
    assert overviews[0] != overviews[1]
    catalog.set_day(START)
    assert catalog.details(edited[0])["overview"] == before[edited[0]]["overview"]


def test_an_omitted_movie_still_exists():
    catalog = catalog_with(export_omit=0.01)
    day = START + dt.timedelta(days=2)
    catalog.set_day(day)
    live = catalog.live_movies(True, True)
    omitted = catalog.export_omitted(day)
    rows = export_rows(catalog, day)
    assert omitted and omitted <= set(live)
    assert set(rows) == set(live) - omitted
    assert 0.005 < len(omitted) / len(live) < 0.02
    assert set(catalog.live_movies(True, True)) == set(live), "omissions are not deletions"
    following = START + dt.timedelta(days=3)
    assert omitted - catalog.export_omitted(following) <= set(export_rows(catalog, following))
    assert omitted & catalog.export_omitted(following) != omitted, "each day's omissions are drawn anew"
    movie_id = min(omitted)
    with running_emulator(catalog, EmulatorOptions(as_of=dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC))) as emu:
        with urllib.request.urlopen(f"{emu.base_url}/movie/{movie_id}") as response:
            assert response.status == 200
        release = catalog.summary(movie_id).release_date
        if release is not None and not (catalog.summary(movie_id).adult or catalog.summary(movie_id).video):
            assert movie_id in catalog.discover_ids(release, release)


def test_a_partial_day_omits_about_its_share():
    catalog = catalog_with(export_omit=0.002, export_partial=0.5, export_partial_share=0.05)
    partial = whole = 0
    for offset in range(1, 9):
        day = START + dt.timedelta(days=offset)
        catalog.set_day(day)
        share = len(catalog.export_omitted(day)) / len(catalog.live_movies(True, True))
        if is_partial_export(catalog.seed, catalog.churn_rates, day):
            partial += 1
            assert 0.04 < share < 0.065, (day, share)
        else:
            whole += 1
            assert share < 0.005, (day, share)
    assert partial and whole


def test_no_date_header_when_switched_off_while_running():
    catalog = catalog_with()
    as_of = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    with running_emulator(catalog, EmulatorOptions(as_of=as_of)) as emu:
        def headers(path: str):
            try:
                with urllib.request.urlopen(f"{emu.root_url}{path}") as response:
                    response.read()
                    return response.headers
            except urllib.error.HTTPError as exc:  # the 404 of an unknown movie
                return exc.headers
        export = "/p/exports/movie_ids_11_02_2026.json.gz"
        assert headers("/3/configuration")["Date"] == "Mon, 02 Nov 2026 09:00:00 GMT"
        emu.configure(date_header=False)
        assert emu.options.date_header is False
        for path in ("/3/movie/999999999", f"/3/movie/{min(catalog.live_movies())}"):  # details answers
            assert "Date" not in headers(path), path
        for path in ("/3/configuration", export):  # "today" stays the emulator's
            assert headers(path)["Date"] == "Mon, 02 Nov 2026 09:00:00 GMT"
        RemoteEmulator(emu.root_url).configure(date_header=True)
        assert headers("/3/configuration")["Date"] == "Mon, 02 Nov 2026 09:00:00 GMT"
        with pytest.raises(TypeError):
            emu.configure(no_such_option=1)
        with pytest.raises(ValueError):
            emu.configure(error_rate=2.0)
        assert emu.options.error_rate == 0.0


def test_the_same_seed_gives_the_same_events():
    rates = dict(move=0.004, delete=0.002, add=0.004, flip=0.005, edit=0.005, export_omit=0.01, export_partial=0.3)
    day = START + dt.timedelta(days=5)
    first, second, other = catalog_with(**rates), catalog_with(**rates), catalog_with(seed=24, **rates)
    a, b = first.overlay(day), second.overlay(day)
    assert (a.events, a.flags, a.edits, a.moved, a.deleted) == (b.events, b.flags, b.edits, b.moved, b.deleted)
    assert a.flags and a.edits
    assert first.export_omitted(day) == second.export_omitted(day)
    assert export_rows(first, day) == export_rows(second, day)
    assert other.overlay(day).events != a.events
    for catalog in (first, second):
        catalog.set_day(day)
    movie_id = next(iter(a.edits))
    assert first.details(movie_id) == second.details(movie_id)


@pytest.mark.parametrize("name", ["flip", "edit", "export_omit", "export_partial", "export_partial_share"])
def test_new_rates_outside_zero_to_one_are_refused(name):
    with pytest.raises(ValueError):
        ChurnRates(**{name: 1.5})
    with pytest.raises(ValueError):
        ChurnRates(**{name: -0.1})
