"""The emulator's appends (release dates, external ids, videos, alternative titles, translations): TMDb's shapes,
determinism, consistency with the rest of the catalog (also under churn), TMDb's empty and odd cases, and the
``append_to_response`` / sub-resource endpoints over real HTTP."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from movie_assets.emulator import Catalog, ChurnRates, running_emulator, vocab
from movie_assets.emulator import appends as appends_module
from movie_assets.emulator.endpoints import APPENDABLE, DETAIL_KEYS, MAX_APPENDS
from movie_assets.emulator.runner import RunningEmulator

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "tmdb-openapi-movie-subset.json"
NEW = ("release_dates", "external_ids", "videos", "alternative_titles", "translations")
START = dt.date(2026, 11, 1)
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$")
RELEASE_KEYS = {"certification", "descriptors", "iso_639_1", "note", "release_date", "type"}
VIDEO_KEYS = {"iso_639_1", "iso_3166_1", "name", "key", "site", "size", "type", "official", "published_at", "id"}
TRANSLATION_DATA_KEYS = {"homepage", "overview", "runtime", "tagline", "title"}


def small_catalog(seed: int = 7, **kwargs: Any) -> Catalog:
    return Catalog(seed=seed, movies_per_year=400, first_year=1990, last_year=2026, **kwargs)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return small_catalog()


@pytest.fixture(scope="module")
def sample(catalog: Catalog) -> list[dict[str, Any]]:
    """Details of ~1,900 movies: every 6th movie of the catalog plus the 40 most popular."""
    ids = sorted(catalog.live_movies(True, True))[::6]
    ids += [int(i) for i in catalog.select(None, None).ids[:40] if int(i) not in ids]
    return [catalog.details(i, START) for i in ids]


@pytest.fixture(scope="module")
def emulator(catalog: Catalog) -> Iterator[RunningEmulator]:
    with running_emulator(catalog) as emu:
        yield emu


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def validator(path: str, nullable_strings: bool = False) -> jsonschema.Draft202012Validator:
    """A validator of the OpenAPI 200 schema of ``path``; with ``nullable_strings``, every string may also be
    null (TMDb's external ids are)."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    raw = copy.deepcopy(spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    if nullable_strings:
        for name, prop in raw["properties"].items():
            if name != "id":
                prop["type"] = ["string", "null"]
    return jsonschema.Draft202012Validator(raw)


def first_country_events(movie: dict[str, Any]) -> list[dict[str, Any]]:
    home = movie["origin_country"][0]
    return next(c["release_dates"] for c in movie["release_dates"]["results"] if c["iso_3166_1"] == home)


# ---------------------------------------------------------------------- shapes
def test_release_dates_shape(sample: list[dict[str, Any]]) -> None:
    release_schema = validator("/3/movie/{movie_id}/release_dates")
    systems = {c: {*levels, "12", "NR", ""} for c, levels in vocab.CERTIFICATIONS.items()}
    for movie in sample:
        block = movie["release_dates"]
        assert set(block) == {"results"}
        release_schema.validate({"id": movie["id"], **block})
        countries = [c["iso_3166_1"] for c in block["results"]]
        assert countries == sorted(set(countries))
        for country in block["results"]:
            assert set(country) == {"iso_3166_1", "release_dates"} and country["release_dates"]
            for event in country["release_dates"]:
                assert set(event) == RELEASE_KEYS and 1 <= event["type"] <= 6
                assert STAMP.match(event["release_date"]) and event["iso_639_1"] in ("", movie["original_language"])
                assert event["certification"] in systems.get(country["iso_3166_1"], {""})
                assert all(isinstance(d, str) for d in event["descriptors"]) and isinstance(event["note"], str)


def test_external_ids_shape(sample: list[dict[str, Any]]) -> None:
    ids_schema = validator("/3/movie/{movie_id}/external_ids", nullable_strings=True)
    for movie in sample:
        ids = movie["external_ids"]
        assert list(ids) == ["imdb_id", "wikidata_id", "facebook_id", "instagram_id", "twitter_id"]
        ids_schema.validate({"id": movie["id"], **ids})
        assert ids["imdb_id"] == movie["imdb_id"]
        assert ids["wikidata_id"] in (None, "") or re.fullmatch(r"Q[1-9]\d*", ids["wikidata_id"])
        assert ids["twitter_id"] is None or len(ids["twitter_id"]) <= 15


def test_videos_shape(sample: list[dict[str, Any]]) -> None:
    for movie in sample:
        assert set(movie["videos"]) == {"results"}
        published = [v["published_at"] for v in movie["videos"]["results"]]
        assert published == sorted(published, reverse=True)
        for video in movie["videos"]["results"]:
            assert set(video) == VIDEO_KEYS and video["iso_639_1"] == "en"
            assert video["iso_3166_1"] in ("US", "GB", "CA", "AU")
            assert video["type"] in vocab.VIDEO_TYPE_WEIGHTS and isinstance(video["official"], bool)
            assert video["size"] in (480, 720, 1080, 2160) and STAMP.match(video["published_at"])
            if video["site"] == "YouTube":
                assert re.fullmatch(r"[A-Za-z0-9_-]{11}", video["key"])
            else:
                assert video["site"] == "Vimeo" and video["key"].isdigit()
            assert re.fullmatch(r"[0-9a-f]{24}", video["id"])
            published_at = dt.datetime.fromisoformat(video["published_at"].replace("Z", "+00:00"))
            assert int(video["id"][:8], 16) > published_at.timestamp()  # an ObjectId: added after publication
            assert published_at.date() <= START and published_at.year >= 2006


def test_alternative_titles_shape(sample: list[dict[str, Any]]) -> None:
    for movie in sample:
        assert set(movie["alternative_titles"]) == {"titles"}
        for alt in movie["alternative_titles"]["titles"]:
            assert set(alt) == {"iso_3166_1", "title", "type"} and len(alt["iso_3166_1"]) == 2
            assert alt["title"] and alt["title"] != movie["title"] and isinstance(alt["type"], str)


def test_translations_shape_and_english_entry(sample: list[dict[str, Any]]) -> None:
    for movie in sample:
        entries = movie["translations"]["translations"]
        assert set(movie["translations"]) == {"translations"}
        english = entries[0]
        assert english == {
            "iso_3166_1": "US",
            "iso_639_1": "en",
            "name": "English",
            "english_name": "English",
            "data": {k: movie[k] for k in ("homepage", "overview", "runtime", "tagline", "title")},
        }
        locales = [(t["iso_639_1"], t["iso_3166_1"]) for t in entries]
        assert len(locales) == len(set(locales))
        if movie["original_language"] != "en":
            assert locales[1][0] == movie["original_language"]
        for entry in entries[1:]:
            english_name, native = vocab.LANGUAGE_NAMES[entry["iso_639_1"]]
            assert (entry["name"], entry["english_name"]) == (native, english_name)
            data = entry["data"]
            assert set(data) == TRANSLATION_DATA_KEYS and data["runtime"] in (0, movie["runtime"])
            for field in ("title", "overview", "tagline"):
                assert isinstance(data[field], str) and (data[field] == "" or data[field] != movie[field])


def test_base_payload_odd_cases_keep_the_shape(sample: list[dict[str, Any]]) -> None:
    for movie in sample:
        assert set(DETAIL_KEYS) <= set(movie)
        for spoken in movie["spoken_languages"]:
            assert set(spoken) == {"english_name", "iso_639_1", "name"}
        if movie["spoken_languages"]:
            assert movie["spoken_languages"][0]["iso_639_1"] == movie["original_language"]
        assert all(isinstance(c["origin_country"], str) for c in movie["production_companies"])
        collection = movie["belongs_to_collection"]
        assert collection is None or set(collection) == {"id", "name", "poster_path", "backdrop_path"}


# ---------------------------------------------------------------------- determinism and independence
def test_appends_are_deterministic_and_seeded(sample: list[dict[str, Any]]) -> None:
    again, other = small_catalog(), small_catalog(seed=8)
    for movie in sample[:300]:
        assert again.details(movie["id"], START) == movie
    differing = sum(
        other.details(m["id"], START) is not None
        and other.details(m["id"], START)["videos"] != m["videos"]
        for m in sample[:300]
        if m["videos"]["results"]
    )
    assert differing > 0


def test_appends_draw_nothing_from_the_base_streams(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = sorted(catalog.live_movies(True, True))[::50]
    full = {i: catalog.details(i, START) for i in ids}
    monkeypatch.setattr(appends_module, "build", lambda *args, **kwargs: {})
    for movie_id, movie in full.items():
        base = catalog.details(movie_id, START)
        assert set(base) == set(DETAIL_KEYS) | {"credits", "keywords"}
        assert base == {k: movie[k] for k in base}


# ---------------------------------------------------------------------- consistency
def test_release_events_follow_the_release_date(sample: list[dict[str, Any]]) -> None:
    premieres_earlier = 0
    for movie in sample:
        if not movie["release_date"]:
            assert movie["release_dates"] == {"results": []}
            continue
        home = first_country_events(movie)
        theatrical = sorted(e["release_date"][:10] for e in home if e["type"] == 3)
        assert theatrical[0] == movie["release_date"]
        for country in movie["release_dates"]["results"]:
            for event in country["release_dates"]:
                if event["type"] == 1:
                    premieres_earlier += event["release_date"][:10] < movie["release_date"]
                else:
                    assert event["release_date"][:10] >= movie["release_date"]
    assert premieres_earlier > 0


def test_a_moved_or_removed_date_moves_the_events() -> None:
    catalog = small_catalog(seed=21, churn=ChurnRates(move=0.01, delete=0.0, add=0.0, move_to_undated=0.2))
    day = START + dt.timedelta(days=3)
    before = {i: catalog.details(i) for i in catalog.overlay(day).moved}
    catalog.set_day(day)
    moved = catalog.overlay().moved
    assert any(d is None for d in moved.values()) and any(d is not None for d in moved.values())
    for movie_id, new_date in moved.items():
        after = catalog.details(movie_id)
        if new_date is None:
            assert after["release_date"] == "" and after["release_dates"] == {"results": []}
            assert after["videos"] == {"results": []}
            continue
        assert after["release_date"] == new_date.isoformat() != before[movie_id]["release_date"]
        assert min(e["release_date"][:10] for e in first_country_events(after) if e["type"] == 3) == (
            new_date.isoformat()
        )
        assert after["external_ids"] == before[movie_id]["external_ids"]  # undisturbed by the move


def test_the_horizon_only_hides_videos_not_yet_published(catalog: Catalog) -> None:
    hidden = 0
    for s in catalog.movies_in_year(2026):
        title, fame = catalog.details(s.id)["title"], appends_module._fame(s.popularity)
        everything = appends_module.videos(catalog.seed, s, title, fame, None)["results"]
        shown = appends_module.videos(catalog.seed, s, title, fame, START)["results"]
        assert shown == [v for v in everything if v["published_at"][:10] <= START.isoformat()]
        hidden += len(everything) - len(shown)
    assert hidden > 0


def test_an_overview_edit_shows_in_the_english_translation_only() -> None:
    catalog = small_catalog(seed=23, churn=ChurnRates(move=0.0, delete=0.0, add=0.0, edit=0.01))
    day = START + dt.timedelta(days=1)
    edited = catalog.overlay(day).events[day]
    before = {i: catalog.details(i) for i in edited}
    catalog.set_day(day)
    for movie_id in edited:
        after = catalog.details(movie_id)["translations"]["translations"]
        old = before[movie_id]["translations"]["translations"]
        assert after[0]["data"]["overview"] == catalog.details(movie_id)["overview"] != old[0]["data"]["overview"]
        assert after[1:] == old[1:]


# ---------------------------------------------------------------------- TMDb's empty and odd cases
def test_the_empty_and_odd_cases_occur(sample: list[dict[str, Any]]) -> None:
    seen: set[str] = set()

    def note(name: str, condition: Any) -> None:
        if condition:
            seen.add(name)

    for m in sample:
        videos, titles = m["videos"]["results"], m["alternative_titles"]["titles"]
        note("no videos", not videos)
        note("only non-trailers", videos and all(v["type"] != "Trailer" for v in videos))
        trailers = [v for v in videos if v["type"] == "Trailer"]
        note("official and unofficial trailers", {True, False} <= {v["official"] for v in trailers})
        note("vimeo", any(v["site"] == "Vimeo" for v in videos))
        note("no alternative titles", not titles)
        note("typed alternative title", any(t["type"] for t in titles))
        translations = m["translations"]["translations"]
        note("only english", len(translations) == 1)
        locales = {(t["iso_639_1"], t["iso_3166_1"]) for t in translations}
        note("es-ES and es-MX", {("es", "ES"), ("es", "MX")} <= locales)
        note("untranslated title", any(t["data"]["title"] == "" for t in translations[1:]))
        note("untranslated overview", any(t["data"]["overview"] == "" for t in translations[1:]))
        ids = m["external_ids"]
        note("wikidata", ids["wikidata_id"])
        note("social handle", ids["facebook_id"] or ids["instagram_id"] or ids["twitter_id"])
        note("empty-string id", "" in list(ids.values())[1:])
        note("all null", all(v is None for v in list(ids.values())[1:]))
        countries = m["release_dates"]["results"]
        note("several countries", len(countries) >= 5)
        events = [(c["iso_3166_1"], e) for c in countries for e in c["release_dates"]]
        note("uncertified", any(e["certification"] == "" for _, e in events))
        note("certified", any(e["certification"] for _, e in events))
        note("festival premiere", any(e["type"] == 1 and e["note"] for _, e in events))
        note("digital platform", any(e["type"] == 4 and e["note"] for _, e in events))
        note("descriptors", any(e["descriptors"] for _, e in events))
        note("release language", any(e["iso_639_1"] for _, e in events))
        for c in countries:
            kinds = [e["type"] for e in c["release_dates"]]
            note("two events of one type", len(kinds) != len(set(kinds)))
            note("several types", len(set(kinds)) >= 3)
        note("company without country", any(c["origin_country"] == "" for c in m["production_companies"]))
        note("several spoken languages", len(m["spoken_languages"]) > 1)
        note("no spoken language", not m["spoken_languages"])
        note("collection backdrop", m["belongs_to_collection"] and m["belongs_to_collection"]["backdrop_path"])
    expected = {
        "no videos", "only non-trailers", "official and unofficial trailers", "vimeo", "no alternative titles",
        "typed alternative title", "only english", "es-ES and es-MX", "untranslated title", "untranslated overview",
        "wikidata", "social handle", "empty-string id", "all null", "several countries", "uncertified", "certified",
        "festival premiere", "digital platform", "descriptors", "release language", "two events of one type",
        "several types", "company without country", "several spoken languages", "no spoken language",
        "collection backdrop",
    }
    assert expected - seen == set()


def test_popular_movies_get_more(catalog: Catalog, sample: list[dict[str, Any]]) -> None:
    def size(m: dict[str, Any]) -> int:
        return (len(m["release_dates"]["results"]) + len(m["videos"]["results"])
                + len(m["translations"]["translations"]) + len(m["alternative_titles"]["titles"]))

    ranked = sorted(sample, key=lambda m: catalog.summary(m["id"]).popularity)
    low, high = ranked[: len(ranked) // 2], ranked[-40:]
    assert sum(map(size, high)) / len(high) > 3 * sum(map(size, low)) / len(low)


# ---------------------------------------------------------------------- over HTTP
def test_every_append_over_http(emulator: RunningEmulator, catalog: Catalog) -> None:
    movie_id = int(catalog.select(None, None).ids[0])
    truth = catalog.details(movie_id, START)
    names = [*APPENDABLE, "images", "bogus", "credits"]  # unknown names are ignored, a repeat answered once
    status, body = get_json(f"{emulator.base_url}/movie/{movie_id}?append_to_response={','.join(names)}")
    assert status == 200 and set(body) == set(DETAIL_KEYS) | set(APPENDABLE)
    assert body == {k: truth[k] for k in body}
    status, plain = get_json(f"{emulator.base_url}/movie/{movie_id}?append_to_response=videos")
    assert set(plain) == set(DETAIL_KEYS) | {"videos"}
    for name in APPENDABLE:
        status, alone = get_json(f"{emulator.base_url}/movie/{movie_id}/{name}")
        assert status == 200 and list(alone)[0] == "id" and alone == {"id": movie_id, **truth[name]}, name
    status, missing = get_json(f"{emulator.base_url}/movie/999999999/translations")
    assert status == 404 and missing["status_code"] == 34


def test_more_than_twenty_appends_are_refused_over_http(emulator: RunningEmulator, catalog: Catalog) -> None:
    movie_id = int(catalog.select(None, None).ids[0])
    twenty = ",".join((list(APPENDABLE) * 3)[:MAX_APPENDS])
    status, body = get_json(f"{emulator.base_url}/movie/{movie_id}?append_to_response={twenty}")
    assert status == 200 and set(APPENDABLE) <= set(body)
    status, body = get_json(f"{emulator.base_url}/movie/{movie_id}?append_to_response={twenty},videos")
    assert status == 400 and body == {
        "status_code": 27,
        "status_message": "Too many append to response objects: The maximum number of remote calls is 20.",
        "success": False,
    }
