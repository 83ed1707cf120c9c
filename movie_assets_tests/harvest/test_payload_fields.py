"""The columns beyond the core, read from payloads shaped like TMDb's (`rich_payloads`): each field's rule, the
odd shapes, and the columnar reading equal to the row-by-row one."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from movie_assets.harvest import columnar
from movie_assets.harvest.payload_fields import rich_fields
from movie_assets.harvest.records import movie_row
from movie_assets_tests.harvest.rich_payloads import odd_payloads, rock_crystal
from movie_assets_tests.harvest.test_columnar import BASE, assert_same, batch


def row(payload):
    return movie_row({"movie_id": 1}, payload, status="ok", harvested_at=None, genre_names={}, image_base_url=None)


def test_the_real_answer_reads_into_every_new_column():
    r = row(rock_crystal())
    assert r["homepage"] is None  # "" → null
    assert r["collection"] == {"collection_id": 77816, "name": "Kung Fu Panda Collection"}
    assert r["production_companies"][0] == {"company_id": 66410, "name": "Clasart Film- und Fernsehproduktion",
                                            "origin_country": None}
    assert [c["origin_country"] for c in r["production_companies"]] == [None, "DE", "DE"]
    assert r["production_countries"] == ["AT", "DE"] and r["spoken_languages"] == ["de"]
    assert r["origin_country"] == ["DE"]
    # Director is in `directors`, not `crew`; Music is not a key job; one person in two key jobs: both kept.
    assert [(c["person_id"], c["job"], c["department"]) for c in r["crew"]] == [
        (14614, "Director of Photography", "Camera"), (14614, "Producer", "Production"),
        (32638, "Editor", "Editing"), (57828, "Writer", "Writing"), (1722146, "Story", "Writing")]
    assert r["release_events"] == [
        {"country": "AT", "type": "theatrical", "date": dt.date(2004, 11, 19), "certification": None, "note": None},
        {"country": "DE", "type": "theatrical", "date": dt.date(2004, 11, 18), "certification": "6", "note": None}]
    assert r["certifications"] == [{"country": "DE", "certification": "6"}]  # AT's is "": dropped
    assert r["first_theatrical_date"] == dt.date(2004, 11, 18) and r["first_digital_date"] is None
    assert (r["wikidata_id"], r["facebook_id"], r["instagram_id"], r["twitter_id"]) == (
        "wikidata", "facebook", "instagram", "twitter")
    assert r["trailers"] == [{"site": "YouTube", "key": "LgZ2MDuJvhc", "name": "Back for a Limited Time",
                              "type": "Teaser", "official": True, "language": "en",
                              "published_at": dt.datetime(2022, 9, 30, 16, 30, 2, tzinfo=dt.UTC)}]
    assert r["alternative_titles"] == [{"country": "RU", "title": "Мост"}]
    assert r["missing_appends"] == []
    assert "translations" not in r  # read by the build, per wanted language
    assert rich_fields(rock_crystal())["translations"][1] == {
        "language": "de", "country": "DE", "title": None, "overview": "Es ist Weihnachten im winterlichen Voralberg."}


def test_several_release_types_in_one_country_and_odd_dates():
    several = row(odd_payloads()[0])
    events = [(e["country"], e["type"], e["date"], e["certification"], e["note"]) for e in several["release_events"]]
    assert events == [
        ("DE", "digital", dt.date(2005, 2, 1), "12", None),
        ("DE", "theatrical", None, None, None),  # an unreadable date is null, never a dropped event
        ("US", "premiere", dt.date(2005, 1, 20), None, "Sundance"),
        ("US", "theatrical", dt.date(2005, 3, 4), "PG-13", None),
        ("US", "digital", dt.date(2005, 7, 1), None, "Netflix"),
        ("US", "7", dt.date(2006, 1, 1), None, None),  # a type TMDb may add later keeps its number
        ("US", "theatrical", dt.date(2010, 3, 4), "R", "re-release"),
    ]
    # Per country the earliest theatrical certification; DE has a certification only on its digital release.
    assert several["certifications"] == [{"country": "US", "certification": "PG-13"}]
    assert several["first_theatrical_date"] == dt.date(2005, 3, 4)
    assert several["first_digital_date"] == dt.date(2005, 2, 1)


def test_trailers_official_first_trailers_before_teasers_and_no_clips():
    trailers = row(odd_payloads()[0])["trailers"]
    assert [(t["key"], t["type"], t["official"]) for t in trailers] == [
        ("xyz", "Trailer", True), ("LgZ2MDuJvhc", "Teaser", True), ("abc", "Trailer", False)]
    assert trailers[0]["published_at"] is None  # "" → null


def test_one_person_listed_twice_for_one_job_is_kept_once_and_a_person_without_id_by_name():
    crew = row(odd_payloads()[0])["crew"]
    assert [(c["person_id"], c["job"]) for c in crew].count((14614, "Producer")) == 1
    assert crew[-1] == {"person_id": None, "name": "Nameless Writer", "department": None, "job": "Screenplay"}


def test_none_is_empty_and_an_absent_append_is_null_and_named():
    empty, older, bare, hollow = (row(p) for p in odd_payloads()[1:])
    for name in ("production_companies", "production_countries", "spoken_languages", "origin_country", "crew",
                 "certifications", "release_events", "trailers", "alternative_titles"):
        assert empty[name] == [], name  # TMDb answered: there are none (a blank title is no title)
    assert empty["collection"] is None and empty["homepage"] is None and empty["facebook_id"] is None
    assert empty["missing_appends"] == []
    for name in ("certifications", "release_events", "trailers", "alternative_titles", "wikidata_id",
                 "first_theatrical_date"):
        assert older[name] is None, name  # not asked for: unknown, and said so
    assert older["missing_appends"] == ["release_dates", "external_ids", "videos", "alternative_titles"]
    assert older["crew"] and older["production_countries"] == ["AT", "DE"]  # the base payload still reads
    assert bare["production_companies"] is None and bare["crew"] is None
    assert bare["missing_appends"] == ["credits", "keywords", "release_dates", "external_ids", "videos",
                                       "alternative_titles"]
    assert hollow["trailers"] == [] and hollow["release_events"] == [] and hollow["crew"] == []
    assert rich_fields(older)["missing_appends"][-1] == "translations"  # the typed reading names it too


def test_the_columnar_reading_equals_the_python_rules(monkeypatch):
    assert_same([rock_crystal(), *odd_payloads()[:3], odd_payloads()[4]], monkeypatch)


def test_the_typed_translations_agree_between_both_readings():
    payloads = [rock_crystal(), *odd_payloads()]
    typed = columnar.typed_fields(batch(payloads).column("payload"))
    by_rows = columnar._row_by_row(batch(payloads).column("payload").combine_chunks(), False)
    assert typed.field("translations").to_pylist() == by_rows.field("translations").to_pylist()
    assert typed.field("missing_appends").to_pylist() == by_rows.field("missing_appends").to_pylist()


@pytest.mark.parametrize("languages", [("de", "hu", "pt-BR"), ()])
def test_translated_columns_fall_back_to_english_per_field_and_say_so(languages):
    table = columnar.movies_from_payloads(batch([rock_crystal(), odd_payloads()[2]]), image_base_url=BASE,
                                          languages=languages)
    if not languages:
        assert not [n for n in table.column_names if n.startswith("title_")]
        assert table.column("missing_appends").to_pylist()[1] == ["release_dates", "external_ids", "videos",
                                                                 "alternative_titles"]
        return
    rows = table.to_pylist()
    rock, older = rows
    assert (rock["title_de"], rock["title_de_fallback"]) == ("Rock Crystal", True)  # de's title is ""
    assert (rock["overview_de"], rock["overview_de_fallback"]) == ("Es ist Weihnachten im winterlichen Voralberg.",
                                                                   False)
    assert (rock["title_hu"], rock["title_hu_fallback"]) == ("Hegyikristály", False)
    assert (rock["title_pt_br"], rock["title_pt_br_fallback"]) == ("Rock Crystal", True)
    assert older["title_de_fallback"] and older["overview_de"] == older["overview"]
    assert older["missing_appends"][-1] == "translations"  # wanted now, and the payload predates it
    assert table.schema.field("title_pt_br").type == pa.string()


def test_a_language_with_a_country_takes_only_that_country():
    payload = rock_crystal()
    payload["translations"]["translations"] += [
        {"iso_3166_1": "PT", "iso_639_1": "pt", "data": {"title": "Cristal (PT)", "overview": ""}},
        {"iso_3166_1": "BR", "iso_639_1": "pt", "data": {"title": "Cristal (BR)", "overview": "Visão."}},
    ]
    table = columnar.movies_from_payloads(batch([payload]), image_base_url=BASE, languages=("pt", "pt-PT"))
    r = table.to_pylist()[0]
    assert r["title_pt"] == "Cristal (BR)" and r["overview_pt"] == "Visão."  # countries in order: BR before PT
    assert r["title_pt_pt"] == "Cristal (PT)" and r["overview_pt_pt_fallback"]
