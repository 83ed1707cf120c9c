"""The one reading of TMDb's credits block, shared by the lake rows and the CSV credit backfill."""

from __future__ import annotations

from movie_assets.harvest.records import movie_row, parse_credits


def test_cast_sorted_by_billing_order_then_person_id_and_missing_order_goes_last():
    cast, _ = parse_credits({"cast": [
        {"id": 9, "name": "No order"},
        {"id": 7, "name": "Second", "order": 1, "character": ""},
        {"id": 5, "name": "Lead B", "order": 0},
        {"id": 3, "name": "Lead A", "order": 0, "character": "Hero"},
    ]})
    assert [(c["person_id"], c["order"]) for c in cast] == [(3, 0), (5, 0), (7, 1), (9, None)]
    assert cast[0]["character"] == "Hero" and cast[2]["character"] is None  # "" is stored as null


def test_directors_once_each_by_person_id_or_by_name_without_an_id():
    _, directors = parse_credits({"crew": [
        {"id": 1, "name": "Ann", "job": "Director", "department": "Directing"},
        {"id": 1, "name": "Ann", "job": "Director", "department": "Writing"},
        {"id": 2, "name": "Ann", "job": "Director"},  # another person with the same name
        {"id": 3, "name": "Bob", "job": "Producer"},
        {"name": "Cy", "job": "Director"},
        {"name": "Cy", "job": "Director"},
    ]})
    assert directors == [
        {"person_id": 1, "name": "Ann"}, {"person_id": 2, "name": "Ann"}, {"person_id": None, "name": "Cy"}
    ]


def test_no_credits_block_and_entries_without_ids_do_not_fail():
    assert parse_credits(None) == ([], [])
    cast, _ = parse_credits({"cast": [{"name": "Extra", "order": 3}, "not a person"]})
    assert cast == [{"person_id": None, "name": "Extra", "character": None, "order": 3}]


def test_movie_row_uses_the_same_parser():
    details = {"id": 1, "title": "T", "release_date": "2020-05-01",
               "credits": {"cast": [{"id": 4, "name": "B", "order": 1}, {"id": 8, "name": "A", "order": 0}],
                           "crew": [{"id": 6, "name": "D", "job": "Director"}]}}
    row = movie_row({"movie_id": 1}, details, status="ok", harvested_at=None, genre_names={},
                    image_base_url=None)
    assert (row["cast"], row["directors"]) == parse_credits(details["credits"])
    assert [c["name"] for c in row["cast"]] == ["A", "B"]
