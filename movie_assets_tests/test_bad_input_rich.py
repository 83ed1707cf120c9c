"""Bad-input catalogue, part 5: the richer details call and the lake's languages. Each bad input gives one clear
message naming the setting, flag or file to fix, makes no request and leaves earlier output as it was."""

from __future__ import annotations

import pytest

from movie_assets.cli import main
from movie_assets.harvest.refetch import parse_appends
from movie_assets.lake import Lake, LakeError
from movie_assets.lake.languages import LANGUAGES_ENV, lake_languages, languages_file, parse_languages
from movie_assets.settings import languages_from_env
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import TMDbSettings


@pytest.mark.parametrize("raw", ["german", "DE", "de,pt_BR", "de;fr", "en-us"])
def test_a_bad_language_list_names_the_variable(raw):
    with pytest.raises(ValueError, match=LANGUAGES_ENV) as caught:
        languages_from_env({LANGUAGES_ENV: raw})
    assert "ISO 639-1" in str(caught.value)


def test_languages_are_english_first_each_once():
    assert parse_languages("") == ("en",)
    assert parse_languages(" de , pt-BR,de,en ") == ("en", "de", "pt-BR")


@pytest.mark.parametrize("text", ["", "{", '{"languages": "de"}', '{"languages": ["DE"]}', "[]"])
def test_a_corrupt_languages_file_names_the_file_and_the_fix(tmp_path, text):
    lake = Lake.at(tmp_path / "data")
    languages_file(lake).parent.mkdir(parents=True)
    languages_file(lake).write_text(text)
    with pytest.raises(LakeError, match="languages.json") as caught:
        lake_languages(lake)
    assert LANGUAGES_ENV in str(caught.value)


@pytest.mark.parametrize("names", ["", "release_dates,trailers", "images"])
def test_an_unknown_append_names_the_flag_and_the_known_ones(names):
    with pytest.raises(ValueError, match="--missing") as caught:
        parse_appends(names)
    assert "release_dates" in str(caught.value) and "translations" in str(caught.value)


def test_refetch_with_an_unknown_append_exits_2_before_any_request(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(LANGUAGES_ENV, raising=False)
    code = main(["refetch", "--missing", "trailers", "--data-dir", str(tmp_path / "data")])
    assert code == 2
    assert "--missing: trailers is not an append" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # nothing written, nothing asked


def test_refetch_on_a_lake_without_a_store_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(LANGUAGES_ENV, raising=False)
    code = main(["refetch", "--missing", "videos", "--data-dir", str(tmp_path / "data")])
    assert code == 2 and "has no details store yet" in capsys.readouterr().err


def test_refetch_with_bad_languages_exits_2_naming_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(LANGUAGES_ENV, "deutsch")
    code = main(["refetch", "--missing", "videos", "--data-dir", str(tmp_path / "data")])
    assert code == 2 and LANGUAGES_ENV in capsys.readouterr().err


def test_refetching_translations_without_other_languages_is_refused_naming_the_variable(tmp_path, capsys,
                                                                                        monkeypatch):
    monkeypatch.delenv(LANGUAGES_ENV, raising=False)
    lake = Lake.at(tmp_path / "data")
    lake.details_store_dir.mkdir(parents=True)
    code = main(["refetch", "--missing", "translations", "--data-dir", str(lake.root)])
    err = capsys.readouterr().err
    assert code == 2 and "translations: this lake does not keep them" in err and LANGUAGES_ENV in err


def test_a_corrupt_languages_file_stops_the_cli_with_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(LANGUAGES_ENV, raising=False)
    lake = Lake.at(tmp_path / "data")
    lake.details_store_dir.mkdir(parents=True)
    languages_file(lake).parent.mkdir(parents=True)
    languages_file(lake).write_text("{")
    for command in (["refetch", "--missing", "videos"], ["sync"]):
        assert main([*command, "--data-dir", str(lake.root)]) == 2
        assert "languages.json is unreadable" in capsys.readouterr().err
    assert languages_file(lake).read_text() == "{"  # left for the user to look at


async def test_more_than_twenty_appends_are_refused_without_a_request():
    client = TMDbClient(TMDbSettings(base_url="http://127.0.0.1:9/3", api_key="k"))  # nothing listens there
    with pytest.raises(ValueError, match="at most 20"):
        await client.movie_details(550, tuple(f"append{i}" for i in range(21)))
    assert client.stats.requests == 0
