from __future__ import annotations

from movie_assets.embeddings.text import content_hash, document_text, documents

from .conftest import catalog_rows, catalog_table


def test_short_fields_come_first_and_overview_last():
    row = catalog_rows()[0]
    text = document_text(row)
    assert text.startswith("The Matrix · 1999 · Genres: Action, Science Fiction · Directed by Lana Wachowski")
    positions = [text.index(p) for p in ("The Matrix", "1999", "Genres:", "Directed by", "Starring", "Keywords:",
                                         "A hacker learns")]
    assert positions == sorted(positions)
    assert text.endswith(row["overview"])


def test_top_cast_is_five_by_billing_order():
    row = catalog_rows()[0]
    row["cast"] = [{"person_id": i, "name": f"Actor {i}", "character": None, "order": 9 - i} for i in range(10)]
    text = document_text(row)
    assert "Starring Actor 9, Actor 8, Actor 7, Actor 6, Actor 5 ·" in text
    assert "Actor 4" not in text


def test_missing_fields_are_skipped():
    row = catalog_rows()[-1]
    assert document_text(row) == "Untitled Undated"
    row["title"] = None
    assert document_text(row) == ""


def test_content_hash_depends_on_model_and_text():
    h = content_hash("m1", "abc")
    assert len(h) == 64
    assert h == content_hash("m1", "abc")
    assert h != content_hash("m2", "abc")
    assert h != content_hash("m1", "abcd")


def test_documents_keeps_table_order():
    ids, texts = documents(catalog_table())
    assert ids == [r["movie_id"] for r in catalog_rows()]
    assert texts[2].startswith("Toy Story · 1995")
