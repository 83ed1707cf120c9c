from __future__ import annotations

import argparse
import time

import pytest

from movie_assets.cli import similar as similar_cli
from movie_assets.embeddings import search
from movie_assets.embeddings.encode import embed_movies, vectors_of
from movie_assets.embeddings.index import IndexParams, build_index_files
from movie_assets.lake import Lake

from .conftest import catalog_table, write_catalog


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, real_model):
    root = tmp_path_factory.mktemp("search") / "data"
    lake = write_catalog(root)
    table = catalog_table()
    emb = embed_movies(table, None, real_model.model, real_model.model_id).table
    build_index_files(lake, emb.column("movie_id").to_numpy(), vectors_of(emb),
                      table.select(["movie_id", "title", "year"]), IndexParams())
    return root


@pytest.fixture(scope="module")
def searcher(data_dir):
    from movie_assets.lake import Lake

    return search.MovieSearch.load(Lake.at(data_dir))


@pytest.mark.slow
def test_known_title_answers_fast(searcher):
    started = time.perf_counter()
    movie, neighbours = searcher.similar("toy story", k=3)
    assert time.perf_counter() - started < 0.5
    assert movie.movie_id == 862
    assert [n.rank for n in neighbours] == [1, 2, 3]
    assert neighbours[0].movie.title == "Toy Story 2"
    assert all(n.movie.movie_id != 862 for n in neighbours)
    assert neighbours[0].score >= neighbours[1].score >= neighbours[2].score


@pytest.mark.slow
def test_unknown_title_suggests_close_matches(searcher):
    with pytest.raises(search.TitleNotFound) as exc:
        searcher.similar("The Matrx")
    assert "The Matrix (1999)" in exc.value.suggestions
    assert "did you mean" in str(exc.value)


@pytest.mark.slow
def test_ambiguous_title_asks_for_year(searcher):
    with pytest.raises(search.AmbiguousTitle) as exc:
        searcher.similar("Heat")
    assert "--year" in str(exc.value) and "Heat (1986)" in str(exc.value) and "Heat (1995)" in str(exc.value)
    movie, _ = searcher.similar("HEAT", year=1995)
    assert movie.movie_id == 949
    with pytest.raises(search.TitleNotFound, match="1986, 1995"):
        searcher.similar("Heat", year=2020)


@pytest.mark.slow
def test_module_level_similar(data_dir):
    neighbours = search.similar("The Matrix", k=2, data_dir=data_dir)
    assert neighbours[0].movie.movie_id == 604


def _cli(argv):
    parser = argparse.ArgumentParser(prog="movie-assets")
    sub = parser.add_subparsers(dest="command", required=True)
    similar_cli.register_cli(sub)
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.mark.slow
def test_cli_handler_exit_codes(data_dir, tmp_path, capsys):
    assert _cli(["similar", "Alien", "-k", "2", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "Movies similar to Alien (1979)" in out and "Aliens (1986)" in out
    assert _cli(["similar", "Heat", "--data-dir", str(data_dir)]) == 0  # answered for the most-voted "Heat"
    assert "--year" in capsys.readouterr().err  # the others are listed, with how to choose
    assert _cli(["similar", "Heat", "--year", "1986", "--data-dir", str(data_dir)]) == 0
    assert _cli(["similar", "Nope", "--data-dir", str(tmp_path)]) == 2
    assert "no movie index" in capsys.readouterr().err
    heat = next(m.movie_id for m in search.MovieSearch.load(Lake.at(data_dir)).movies if m.title == "Heat")
    assert _cli(["similar", "--id", str(heat), "-k", "2", "--data-dir", str(data_dir)]) == 0  # any movie, by id
    assert f"[id {heat}]" in capsys.readouterr().out
    assert _cli(["similar", "--id", "999999999", "--data-dir", str(data_dir)]) == 1
    assert "no movie with id 999999999" in capsys.readouterr().err
    assert _cli(["similar", "--data-dir", str(data_dir)]) == 2 and _cli(
        ["similar", "Heat", "--id", str(heat), "--data-dir", str(data_dir)]) == 2
