"""Details payloads with every append, written from TMDb's real answer for movie 12313 (Rock Crystal, with
``append_to_response`` of every append) and the OpenAPI schema, plus the odd shapes TMDb sends: empty strings,
nulls, missing keys, a country with several release types, one person in two key jobs and twice in one."""

from __future__ import annotations

import copy
from typing import Any


def rock_crystal() -> dict[str, Any]:
    """The parts of the real answer the lake reads (its placeholders — external ids, descriptors — kept)."""
    person = {"adult": False, "gender": 2, "known_for_department": "Directing", "popularity": 3.545}
    return {
        "adult": False, "backdrop_path": "/2U5xWbwdz1KjWTs2zG2IAKSh1Z9.jpg",
        "belongs_to_collection": {"id": 77816, "name": "Kung Fu Panda Collection",
                                  "poster_path": "/xoYc0RYKSc3xC4S9OpPZxKocKtj.jpg", "backdrop_path": None},
        "budget": 0, "genres": [{"id": 18, "name": "Drama"}, {"id": 10751, "name": "Family"}], "homepage": "",
        "id": 12313, "imdb_id": "tt0409732", "origin_country": ["DE"], "original_language": "de",
        "original_title": "Bergkristall", "overview": "The towns of Gschaid and Millsdorf are feuding.",
        "popularity": 1.2, "poster_path": "/z5L1.jpg",
        "production_companies": [
            {"id": 66410, "logo_path": "/7cx.png", "name": "Clasart Film- und Fernsehproduktion", "origin_country": ""},
            {"id": 23417, "logo_path": None, "name": "Perathon Film-und Fernsehproduktions", "origin_country": "DE"},
            {"id": 1251, "logo_path": "/fc0.png", "name": "ARD", "origin_country": "DE"},
        ],
        "production_countries": [{"iso_3166_1": "AT", "name": "Austria"}, {"iso_3166_1": "DE", "name": "Germany"}],
        "release_date": "2004-11-18", "revenue": 0, "runtime": 92,
        "spoken_languages": [{"english_name": "German", "iso_639_1": "de", "name": "Deutsch"}],
        "status": "Released", "tagline": "", "title": "Rock Crystal", "video": False, "vote_average": 6.1,
        "vote_count": 29,
        "credits": {"cast": [], "crew": [
            {**person, "id": 14614, "name": "Joseph Vilsmaier", "department": "Directing", "job": "Director"},
            {**person, "id": 14614, "name": "Joseph Vilsmaier", "department": "Camera",
             "job": "Director of Photography"},
            {**person, "id": 14614, "name": "Joseph Vilsmaier", "department": "Production", "job": "Producer"},
            {**person, "id": 32638, "name": "Uli Christ", "department": "Editing", "job": "Editor"},
            {**person, "id": 45718, "name": "Christian Heyne", "department": "Sound", "job": "Music"},
            {**person, "id": 57828, "name": "Klaus Richter", "department": "Writing", "job": "Writer"},
            {**person, "id": 1722146, "name": "Adalbert Stifter", "department": "Writing", "job": "Story"},
        ]},
        "keywords": {"keywords": [{"id": 207317, "name": "christmas"}]},
        "external_ids": {"imdb_id": "tt0409732", "wikidata_id": "wikidata", "facebook_id": "facebook",
                         "instagram_id": "instagram", "twitter_id": "twitter"},
        "release_dates": {"results": [
            {"iso_3166_1": "AT", "release_dates": [
                {"certification": "", "descriptors": ["descriptor"], "iso_639_1": "", "note": "",
                 "release_date": "2004-11-19T00:00:00.000Z", "type": 3}]},
            {"iso_3166_1": "DE", "release_dates": [
                {"certification": "6", "descriptors": ["descriptor"], "iso_639_1": "", "note": "",
                 "release_date": "2004-11-18T00:00:00.000Z", "type": 3}]},
        ]},
        "videos": {"results": [
            {"iso_639_1": "en", "iso_3166_1": "US", "name": "Back for a Limited Time", "key": "LgZ2MDuJvhc",
             "site": "YouTube", "size": 1080, "type": "Teaser", "official": True,
             "published_at": "2022-09-30T16:30:02.000Z", "id": "63372b210a517c009cd540ff"}]},
        "alternative_titles": {"titles": [{"iso_3166_1": "RU", "title": "Мост", "type": "type"}]},
        "translations": {"translations": [
            {"iso_3166_1": "US", "iso_639_1": "en", "name": "English", "english_name": "English",
             "data": {"homepage": "", "overview": "The towns of Gschaid and Millsdorf are feuding.", "runtime": 92,
                      "tagline": "", "title": "Rock Crystal"}},
            {"iso_3166_1": "DE", "iso_639_1": "de", "name": "Deutsch", "english_name": "German",
             "data": {"homepage": "", "overview": "Es ist Weihnachten im winterlichen Voralberg.", "runtime": 92,
                      "tagline": "", "title": ""}},
            {"iso_3166_1": "HU", "iso_639_1": "hu", "name": "Magyar", "english_name": "Hungarian",
             "data": {"homepage": "", "overview": "Karácsony.", "runtime": 0, "tagline": "", "title": "Hegyikristály"}},
        ]},
    }


def odd_payloads() -> list[dict[str, Any]]:
    """Variants with the odd shapes (each still one JSON object TMDb could send)."""
    base = rock_crystal()
    several = copy.deepcopy(base)  # a country with several types and two theatrical dates; unknown type 7
    several["release_dates"]["results"] = [
        {"iso_3166_1": "US", "release_dates": [
            {"certification": "PG-13", "note": "", "release_date": "2005-03-04T00:00:00.000Z", "type": 3,
             "iso_639_1": "", "descriptors": []},
            {"certification": "", "note": "Sundance", "release_date": "2005-01-20T00:00:00.000Z", "type": 1,
             "iso_639_1": "", "descriptors": []},
            {"certification": "R", "note": "re-release", "release_date": "2010-03-04T00:00:00.000Z", "type": 3,
             "iso_639_1": "", "descriptors": []},
            {"certification": "", "note": "Netflix", "release_date": "2005-07-01T00:00:00.000Z", "type": 4,
             "iso_639_1": "", "descriptors": []},
            {"certification": "", "note": "", "release_date": "2006-01-01T00:00:00.000Z", "type": 7,
             "iso_639_1": "", "descriptors": []},
        ]},
        {"iso_3166_1": "DE", "release_dates": [
            {"certification": "", "note": "", "release_date": "not a date", "type": 3, "iso_639_1": "",
             "descriptors": []},
            {"certification": "12", "note": "", "release_date": "2005-02-01T00:00:00.000Z", "type": 4,
             "iso_639_1": "", "descriptors": []},
        ]},
        {"iso_3166_1": "", "release_dates": []},
    ]
    several["videos"]["results"] += [
        {"iso_639_1": "de", "iso_3166_1": "DE", "name": "Trailer", "key": "abc", "site": "YouTube", "size": 720,
         "type": "Trailer", "official": False, "published_at": "2004-10-01T10:00:00.000Z", "id": "1"},
        {"iso_639_1": "en", "iso_3166_1": "US", "name": "Official Trailer", "key": "xyz", "site": "Vimeo",
         "size": 1080, "type": "Trailer", "official": True, "published_at": "", "id": "2"},
        {"iso_639_1": "en", "iso_3166_1": "US", "name": "Clip", "key": "clip", "site": "YouTube", "size": 1080,
         "type": "Clip", "official": True, "published_at": "2004-10-01T10:00:00.000Z", "id": "3"},
    ]
    several["credits"]["crew"].append(dict(several["credits"]["crew"][2]))  # the same producer listed twice
    several["credits"]["crew"].append({"id": None, "name": "Nameless Writer", "department": "", "job": "Screenplay"})
    empty = copy.deepcopy(base)  # TMDb has none of anything
    empty.update({"belongs_to_collection": None, "production_companies": [], "production_countries": [],
                  "spoken_languages": [], "origin_country": [], "homepage": None,
                  "credits": {"cast": [], "crew": []}, "release_dates": {"results": []},
                  "external_ids": {"imdb_id": None, "wikidata_id": None, "facebook_id": "", "instagram_id": None,
                                   "twitter_id": None},
                  "videos": {"results": []}, "alternative_titles": {"titles": [{"iso_3166_1": "FR", "title": " "}]},
                  "translations": {"translations": []}})
    older = copy.deepcopy(base)  # harvested before the call asked for the new appends
    for key in ("release_dates", "external_ids", "videos", "alternative_titles", "translations"):
        del older[key]
    bare = {"id": 5, "title": "Bare", "release_date": "2001-01-01"}  # no lists, no appends at all
    hollow = copy.deepcopy(base)  # appends present but without their list
    hollow.update({"videos": {}, "alternative_titles": {}, "release_dates": {}, "translations": {}, "credits": {}})
    return [several, empty, older, bare, hollow]
