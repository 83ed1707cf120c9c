"""The release functions as plain Python: sample, profile, splits, CSV export, check logic on bad data."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from movie_assets.harvest.records import movies_table
from movie_assets.lake import Lake
from movie_assets.lake.schema import DETAILS_APPENDS, MOVIES_SCHEMA, movies_schema
from movie_assets.release import export, sample, splits, validation
from movie_assets.release.common import ConfigValueError, ReleaseError, read_consolidated, rows_per_year
from movie_assets.release.profile import build_profile, write_profile
from movie_assets.warehouse import validation as movies_db_validation

from .synthetic import rich_row, synthetic_rows, write_lake


@pytest.fixture
def lake(tmp_path):
    return write_lake(tmp_path / "data", undated=4)


# -- sample -------------------------------------------------------------------------------------------
def test_allocation_is_proportional_with_one_per_year():
    assert sample.allocate({"a": 5, "b": 40, "c": 120, "d": 35}, 20) == {"a": 1, "b": 4, "c": 12, "d": 3}
    tiny = sample.allocate({"a": 1, "b": 1000}, 10)
    assert tiny == {"a": 1, "b": 9}
    assert sum(sample.allocate({"a": 3, "b": 3, "c": 3}, 2).values()) == 2  # fewer than strata: no minimum
    assert sample.allocate({"a": 2, "b": 3}, 100) == {"a": 2, "b": 3}


def test_sample_is_stratified_and_deterministic(lake, tmp_path):
    table = read_consolidated(lake)
    first = sample.write_sample(lake, size=30, seed=7)
    bytes_first = lake.sample_file.read_bytes()
    again = sample.write_sample(lake, size=30, seed=7)
    assert lake.sample_file.read_bytes() == bytes_first
    assert first.equals(again)
    per_year = rows_per_year(first)
    assert first.num_rows == 30
    assert set(per_year) == set(rows_per_year(table))  # every non-empty year (and undated) represented
    assert per_year["2021"] > per_year["2020"] > per_year["2019"] >= 1
    assert pc.count_distinct(first.column("movie_id")).as_py() == 30
    # row order of the input does not matter, and the output is sorted
    shuffled = table.take(pa.array(list(reversed(range(table.num_rows)))))
    assert sample.stratified_sample(shuffled, 30, 7).equals(first)
    assert first.column("movie_id").to_pylist() == first.sort_by(
        [("release_date", "ascending"), ("movie_id", "ascending")]).column("movie_id").to_pylist()
    # another seed picks other movies; more than the table gives the whole table
    assert sample.stratified_sample(table, 30, 8).column("movie_id").to_pylist() != first.column(
        "movie_id").to_pylist()
    assert sample.stratified_sample(table, 10_000).num_rows == table.num_rows


# -- profile ------------------------------------------------------------------------------------------
def test_profile_contents_and_determinism(lake):
    path, profile, table = write_profile(lake)
    text = path.read_text()
    assert json.loads(text) == profile
    write_profile(lake)
    assert path.read_text() == text
    assert profile["rows"] == table.num_rows == 204
    assert profile["columns"] == table.num_columns
    assert profile["dtypes"]["release_date"] == "date32[day]"
    assert profile["nulls"]["release_date"] == 4 and profile["release_date"]["undated"] == 4
    assert profile["release_date"]["min"].startswith("2019") and profile["release_date"]["max"].startswith("2022")
    assert profile["rows_per_year"] == {"2019": 5, "2020": 40, "2021": 120, "2022": 35, "undated": 4}
    no_cast = sum(1 for r in table.column("cast").to_pylist() if not r)
    assert profile["empty_lists"]["cast"] == no_cast
    assert profile["missing_rates"]["cast"] == round(no_cast / table.num_rows, 6)
    assert profile["uniques"]["movie_id"] == table.num_rows
    assert profile["uniques"]["genre_ids"] <= 2
    assert profile["top_original_languages"][0]["language"] == "en"
    coverage = profile["credits_coverage"]
    assert coverage["with_cast"] == table.num_rows - no_cast
    assert 0.5 < coverage["with_cast_share"] < 1
    assert list(json.loads(text)) == sorted(json.loads(text))  # sorted keys
    assert "harvested" not in text.split('"dtypes"')[0]  # no timestamps at the top level


def test_profile_reports_rich_coverage_and_the_appends_payloads_predate():
    languages = ("de",)
    company = {"company_id": 5, "name": "Acme, Inc.", "origin_country": "US"}
    rows = [
        rich_row(1, 2020, languages, homepage="https://one.example", collection={"collection_id": 7, "name": "Saga"},
                 production_companies=[company, company], production_countries=["US", "GB"],
                 wikidata_id="Q1", missing_appends=[], title_de="Der Film", title_de_fallback=False),
        rich_row(2, 2020, languages, collection={"collection_id": 7, "name": "Saga"}, production_companies=[],
                 production_countries=[], missing_appends=["translations"]),
        rich_row(3, 2021, languages, missing_appends=["release_dates", "videos", "translations"]),
        rich_row(4, None, languages),  # missing_appends null: unknown, counted nowhere
    ]
    profile = build_profile(pa.Table.from_pylist(rows, schema=movies_schema(languages)))
    coverage = profile["rich_coverage"]
    assert coverage["homepage"] == {"with_value": 1, "share": 0.25}
    assert coverage["collection"]["with_value"] == 2 and coverage["production_companies"]["with_value"] == 1
    assert coverage["production_countries"]["with_value"] == 1  # an empty list is no value
    assert coverage["trailers"] == {"with_value": 0, "share": 0.0}
    assert coverage["title_de"]["with_value"] == 1  # the English fallback is no translation
    assert "title_de_fallback" not in coverage and "movie_id" not in coverage
    assert profile["missing_appends"] == {"credits": 0, "keywords": 0, "release_dates": 1, "external_ids": 0,
                                          "videos": 1, "alternative_titles": 0, "translations": 2}
    assert profile["uniques"]["collection"] == 1 and profile["uniques"]["production_companies"] == 1
    untranslated = [{k: v for k, v in r.items() if not k.startswith("title_")} for r in rows]
    plain = build_profile(pa.Table.from_pylist(untranslated, schema=MOVIES_SCHEMA))
    assert "translations" not in plain["missing_appends"] and plain["missing_appends"]["videos"] == 1
    assert json.loads(json.dumps(profile, sort_keys=True)) == profile  # plain JSON data


def test_profile_of_an_empty_table():
    profile = build_profile(movies_table([]))
    assert profile["rows"] == 0 and profile["release_date"]["min"] is None
    assert profile["credits_coverage"]["with_cast_share"] == 0.0


# -- splits -------------------------------------------------------------------------------------------
def test_default_splits_are_disjoint_complete_and_ordered(lake):
    table = read_consolidated(lake)
    result = splits.build_splits(table)
    assert "0.8 quantile" in result.source
    counts = result.counts
    assert sum(counts.values()) == table.num_rows and counts["undated"] == 4
    assert counts["train"] > counts["val"] > 0 and counts["test"] > 0
    train_max = pc.max(result.tables["train"].column("release_date")).as_py()
    val = result.tables["val"].column("release_date")
    test_min = pc.min(result.tables["test"].column("release_date")).as_py()
    assert train_max < result.val_start <= pc.min(val).as_py()
    assert pc.max(val).as_py() < result.test_start <= test_min
    outcome = validation.check_splits(result.tables, table.column("movie_id"), result.val_start, result.test_start)
    assert outcome.passed, outcome.description


def test_configured_cutoffs_and_bad_config(lake):
    table = read_consolidated(lake)
    result = splits.build_splits(table, "2021-01-01", "2022-01-01")
    assert result.source == "config"
    assert result.counts["train"] == 45 and result.counts["val"] == 120 and result.counts["test"] == 35
    splits.write_splits(lake, result)
    manifest = splits.read_manifest(lake)
    assert manifest["val_start"] == "2021-01-01" and manifest["leaky_columns"] == list(splits.LEAKY_COLUMNS)
    assert sorted(p.name for p in lake.splits_dir.iterdir()) == [
        "manifest.json", "test.parquet", "train.parquet", "undated.parquet", "val.parquet"]
    with pytest.raises(ConfigValueError, match="val_start"):
        splits.build_splits(table, "2021-13-01", None)
    with pytest.raises(ConfigValueError, match="val_start=2022-01-01 is after test_start=2021-01-01"):
        splits.build_splits(table, "2022-01-01", "2021-01-01")


# -- CSV export ---------------------------------------------------------------------------------------
def test_csv_export_layout_and_json_lists(lake):
    table = read_consolidated(lake)
    window = export.resolve_window(table, "2020-01-01", "2021-12-31")
    path, selected = export.export_csv(lake, table, window)
    assert path == lake.root / "movies_2020-01-01_2021-12-31.csv"
    first_bytes = path.read_bytes()
    export.export_csv(lake, table, window)
    assert path.read_bytes() == first_bytes
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == export.EXPORT_COLUMNS
        rows = list(reader)
    assert len(rows) == selected.num_rows > 0
    assert all("2020-01-01" <= r["release_date"] <= "2021-12-31" for r in rows)
    assert all(r["adult"] == "False" for r in rows)  # adult titles excluded by default
    source = {r["movie_id"]: r for r in selected.to_pylist()}
    for row in rows:
        original = source[int(row["id"])]
        assert json.loads(row["genre_ids"]) == original["genre_ids"]
        assert row["genre_ids"] in ("[]", "[18]", "[18, 53]")
        assert json.loads(row["actors"]) == [c["name"] for c in original["cast"]]
        assert json.loads(row["directors"]) == [d["name"] for d in original["directors"]]
        assert row["runtime"] == ("" if original["runtime"] is None else str(original["runtime"]))
        assert row["poster_path"] == (original["poster_path"] or "")
        assert row["overview"] == (original["overview"] or "")
    assert any(", Jr." in r["actors"] for r in rows)  # a comma inside a name survives
    with_adult = export.select_rows(table, export.resolve_window(table, "2020-01-01", "2021-12-31", True))
    assert with_adult.num_rows > selected.num_rows


def test_csv_export_validates_dates(lake):
    table = read_consolidated(lake)
    with pytest.raises(ConfigValueError, match="start_date='2021-02-30'"):
        export.resolve_window(table, "2021-02-30", None)
    with pytest.raises(ConfigValueError, match="end_date='tomorrow'"):
        export.resolve_window(table, None, "tomorrow")
    with pytest.raises(ConfigValueError, match="start_date=2022-01-01 is after end_date=2021-01-01"):
        export.resolve_window(table, "2022-01-01", "2021-01-01")
    default = export.resolve_window(table, None, None)
    assert (default.start, default.end) == (pc.min(table.column("release_date")).as_py(),
                                            pc.max(table.column("release_date")).as_py())


def test_kaggle_layout_from_an_older_movies_file_is_refused_naming_the_fix(tmp_path):
    table = pa.Table.from_pylist([rich_row(7, 2021)], schema=MOVIES_SCHEMA).drop_columns(
        ["production_companies", "spoken_languages"])
    lake = Lake.at(tmp_path / "data")
    lake.root.mkdir(parents=True)
    with pytest.raises(ReleaseError, match="lacks production_companies, spoken_languages .*movies_db"):
        export.export_csv(lake, table, export.resolve_window(table, None, None), export.csv_layout("kaggle"))
    assert not list(lake.root.iterdir())  # no file of blanks


def test_kaggle_layout_header_and_encodings(tmp_path):
    odd = rich_row(
        7, 2021, original_title="Le Film", original_language="fr", status="Released", vote_average=7.25,
        vote_count=12, popularity=0.5, adult=False, revenue=1000, budget=None, runtime=None,
        homepage="https://film.example/?a=1,2", imdb_id="tt0000007", tagline=None, poster_path="/p.jpg",
        overview='One, "two"\nthree', genres=["Action", "Science Fiction"], keywords=["heist, bank", "dream"],
        production_companies=[{"company_id": 1, "name": "Acme, Inc.", "origin_country": "US"},
                              {"company_id": 2, "name": None, "origin_country": None}],
        production_countries=["US", "GB", "QQ"], spoken_languages=["en", "zh", "qq"])
    bare = rich_row(8, 2021, adult=False, genres=None, keywords=[], production_companies=None,
                    production_countries=None, spoken_languages=None)
    table = pa.Table.from_pylist([bare, odd], schema=MOVIES_SCHEMA)
    lake = Lake.at(tmp_path / "data")
    lake.root.mkdir(parents=True)
    layout = export.csv_layout("kaggle")
    path, selected = export.export_csv(lake, table, export.resolve_window(table, None, None), layout)
    assert path == lake.root / "movies_2021-05-01_2021-05-01_kaggle.csv" and selected.num_rows == 2
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert tuple(header) == (
        "id", "title", "vote_average", "vote_count", "status", "release_date", "revenue", "runtime", "adult",
        "backdrop_path", "budget", "homepage", "imdb_id", "original_language", "original_title", "overview",
        "popularity", "poster_path", "tagline", "genres", "production_companies", "production_countries",
        "spoken_languages", "keywords")
    assert dict(zip(header, rows[0], strict=True)) == {
        "id": "7", "title": "Film 7", "vote_average": "7.25", "vote_count": "12", "status": "Released",
        "release_date": "2021-05-01", "revenue": "1000", "runtime": "0", "adult": "False", "backdrop_path": "",
        "budget": "0", "homepage": "https://film.example/?a=1,2", "imdb_id": "tt0000007",
        "original_language": "fr", "original_title": "Le Film", "overview": 'One, "two"\nthree',
        "popularity": "0.5", "tagline": "", "genres": "Action, Science Fiction",
        "production_companies": "Acme, Inc.",  # a comma inside a name is kept, as in the dump
        "production_countries": "United States of America, United Kingdom, QQ",  # an unknown code as itself
        "spoken_languages": "English, Mandarin, qq", "keywords": "heist, bank, dream", "poster_path": "/p.jpg",
    }
    bare_cells = dict(zip(header, rows[1], strict=True))
    assert [bare_cells[c] for c in ("genres", "production_companies", "production_countries", "spoken_languages",
                                    "keywords", "revenue", "budget", "runtime", "vote_average")] == [
        "", "", "", "", "", "0", "0", "0", ""]
    assert path.read_text(encoding="utf-8").count("\n") == 4  # header, two rows, the overview's newline
    seed_path, _ = export.export_csv(lake, table, export.resolve_window(table, None, None))
    assert seed_path.name == "movies_2021-05-01_2021-05-01.csv" and path.exists()  # the layouts never collide


def test_an_unknown_layout_is_refused_naming_the_setting():
    assert export.csv_layout(None) is export.csv_layout(" ") is export.csv_layout("seed") is export.LAYOUTS["seed"]
    with pytest.raises(ConfigValueError, match="layout='excel' is not a CSV layout; use one of 'seed', 'kaggle'"):
        export.csv_layout("excel")


def test_list_format_detection():
    assert export.detect_list_format(["", '["A, Jr.", "B"]', "[]"]) == export.JSON
    assert export.detect_list_format(["", "A, B", '["x"]']) == export.COMMA
    assert export.detect_list_format(["", " "]) is None
    assert export.format_names(["A", "B"], export.COMMA) == "A, B"
    assert export.format_names(["Zoë"], export.JSON) == '["Zoë"]'
    assert export.is_blank_list_cell("[ ]") and export.is_blank_list_cell("  ") and not export.is_blank_list_cell("A")


# -- check logic on bad data ----------------------------------------------------------------------------
def test_unique_ids_check_fails_on_duplicates():
    assert movies_db_validation.check_unique_ids(pa.array([1, 2, 3])).passed
    outcome = movies_db_validation.check_unique_ids(pa.array([1, 2, 2, 3, 3, 3]))
    assert not outcome.passed and outcome.metadata["duplicated_ids"] == 2 and outcome.metadata["examples"] == [2, 3]
    assert not movies_db_validation.check_unique_ids(pa.array([1, None])).passed


def test_row_drop_check():
    assert movies_db_validation.check_row_drop(100, None).passed
    assert movies_db_validation.check_row_drop(96, 100).passed
    assert movies_db_validation.check_row_drop(150, 100).passed
    outcome = movies_db_validation.check_row_drop(90, 100)
    assert not outcome.passed and outcome.metadata["drop"] == 0.1
    assert movies_db_validation.check_row_drop(90, 100, max_drop=0.2).passed


def test_image_url_check_fails_on_url_without_path():
    rows = synthetic_rows({2020: 10})
    assert movies_db_validation.check_image_urls(movies_table(rows)).passed
    rows[0] = {**rows[0], "poster_path": None, "poster_url": "https://image.example/t/p/w500None"}
    rows[1] = {**rows[1], "backdrop_path": "/x.jpg", "backdrop_url": None}
    outcome = movies_db_validation.check_image_urls(movies_table(rows))
    assert not outcome.passed
    assert outcome.metadata["poster_mismatches"] == 1 and outcome.metadata["backdrop_mismatches"] == 1
    assert outcome.metadata["poster_examples"] == [rows[0]["movie_id"]]


def test_credits_coverage_check_fails_when_low():
    rows = synthetic_rows({2020: 20})
    assert movies_db_validation.check_credits_coverage(movies_table(rows)).passed
    stripped = [{**r, "cast": [], "directors": []} if i % 4 else r for i, r in enumerate(rows)]
    outcome = movies_db_validation.check_credits_coverage(movies_table(stripped))
    assert not outcome.passed and outcome.metadata["with_cast_share"] < 0.5


def test_missing_appends_check_warns_and_names_the_refetch_command():
    missing = pa.array([[], ["release_dates", "videos"], ["videos"], None, ["translations"]], pa.list_(pa.string()))
    outcome = movies_db_validation.check_missing_appends(missing, DETAILS_APPENDS)
    assert not outcome.passed  # shown as a warning (severity WARN, not blocking)
    assert outcome.metadata["missing_appends"] == {"credits": 0, "keywords": 0, "release_dates": 1,
                                                   "external_ids": 0, "videos": 2, "alternative_titles": 0}
    assert outcome.metadata["movies_missing_any"] == 2  # translations are not wanted here
    assert outcome.metadata["refetch_command"] == "movie-assets refetch --missing release_dates,videos"
    assert "2 of 5 movies" in outcome.description and "`movie-assets refetch --missing release_dates,videos`" \
        in outcome.description
    wanted = movies_db_validation.check_missing_appends(missing, (*DETAILS_APPENDS, "translations"))
    assert wanted.metadata["movies_missing_any"] == 3 and wanted.metadata["refetch_command"].endswith(
        "release_dates,videos,translations")
    clean = movies_db_validation.check_missing_appends(pa.array([[], None], pa.list_(pa.string())), DETAILS_APPENDS)
    assert clean.passed and "refetch_command" not in clean.metadata and "every append" in clean.description


def test_split_check_fails_on_overlap_gap_and_misplacement(lake):
    table = read_consolidated(lake)
    result = splits.build_splits(table)
    ids = table.column("movie_id")
    tables = dict(result.tables)
    overlapping = {**tables, "val": pa.concat_tables([tables["val"], tables["train"].slice(0, 2)])}
    outcome = validation.check_splits(overlapping, ids, result.val_start, result.test_start)
    assert not outcome.passed and outcome.metadata["overlaps"] == 2 and outcome.metadata["misplaced"] == 2
    gap = {**tables, "test": tables["test"].slice(1)}
    outcome = validation.check_splits(gap, ids, result.val_start, result.test_start)
    assert not outcome.passed and outcome.metadata["missing"] == 1


def test_null_spike_check_warns_on_a_rise():
    assert validation.check_null_spikes({"a": 0.5}, None).passed
    assert validation.check_null_spikes({"a": 0.12, "b": 0.0}, {"a": 0.1, "b": 0.0}).passed
    outcome = validation.check_null_spikes({"a": 0.3, "b": 0.0, "new": 1.0}, {"a": 0.1, "b": 0.0})
    assert not outcome.passed and list(outcome.metadata["spikes"]) == ["a"]


def test_dates_are_real_dates(lake):
    assert isinstance(read_consolidated(lake).column("release_date").drop_null()[0].as_py(), dt.date)
