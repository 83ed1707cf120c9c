"""Bad-input catalogue, part 7: interaction sources. Each bad input is a `SourceError` whose one-line message
names the file (or the setting) and what to fix; nothing is half-read.

MovieLens zips: a path that is no file, bytes that are no zip, a zip cut short, a member whose bytes are damaged, a
zip of something else, a release missing a member, two releases in one zip, ml-1m without ``--links``, a ratings
line that is no number, has too few fields, an empty value, a rating out of range or a timestamp in milliseconds, a
header that is not MovieLens', a links.csv with a bad IMDb id or a movie listed twice, a floor outside 0–1.
The lake: no movies to bridge to, a year file turned corrupt (`LakeInputError`, naming what to materialize).
Log files: empty, a header and no rows, neither CSV nor Parquet, no user_id, no timestamp, no item id column, two
item id columns, movielens_id without ``--links``, a timestamp that is no time (or epoch milliseconds: no year
1-9999), a negative weight, a rating that is no number, an empty user, an item id that is no id.
"""

from __future__ import annotations

import zipfile

import pytest

from movie_assets.lake import Lake
from movie_assets.lake.readers import LakeInputError
from movie_assets.recsys.events import SourceError
from movie_assets.recsys.log_file import read_log_file
from movie_assets.recsys.movielens import read_movielens

from .bridge_lake import (
    ITEMS,
    links_csv,
    ml1m_zip,
    movielens_zip,
    movies_csv,
    ratings_csv,
    ratings_rows,
    write_zip,
)


def refused(read, *names: str) -> str:
    with pytest.raises(SourceError) as info:
        read()
    message = str(info.value)
    assert "\n" not in message
    for name in names:
        assert str(name) in message, message
    return message


def with_line(index: int, line: str) -> str:
    """ratings.csv with data row ``index`` replaced by ``line`` (it is then line ``index + 2``)."""
    rows = ratings_csv().splitlines()
    rows[index + 1] = line
    return "\n".join(rows) + "\n"


# MovieLens zips -----------------------------------------------------------------------------------------------
def test_a_zip_path_that_is_no_file(lake, tmp_path):
    refused(lambda: read_movielens(lake, tmp_path / "ml-25m.zip"), "ml-25m.zip", "MovieLens zip")


def test_bytes_that_are_no_zip(lake, tmp_path):
    path = tmp_path / "ml-25m.zip"
    path.write_bytes(b"<html>a download page, not the zip</html>")
    assert "download" in refused(lambda: read_movielens(lake, path), path)


def test_a_zip_cut_short(lake, ml_zip):
    data = ml_zip.read_bytes()
    ml_zip.write_bytes(data[: len(data) // 2])
    refused(lambda: read_movielens(lake, ml_zip), ml_zip, "download the MovieLens release again")


def test_a_member_whose_bytes_are_damaged(lake, tmp_path):
    path = write_zip(tmp_path / "ml.zip", {"ml-latest-small/ratings.csv": ratings_csv(),
                                           "ml-latest-small/links.csv": links_csv(),
                                           "ml-latest-small/movies.csv": movies_csv()})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("ml-latest-small/ratings.csv")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + 10, start + info.compress_size - 10, 7):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    refused(lambda: read_movielens(lake, path), path, "corrupt")


def test_a_zip_of_something_else(lake, tmp_path):
    path = write_zip(tmp_path / "ml-100k.zip", {"ml-100k/u.data": "196\t242\t3\t881250949\n"})
    refused(lambda: read_movielens(lake, path), path, "ml-100k/u.data", "ratings.csv")


def test_a_release_missing_its_movies(lake, tmp_path):
    path = movielens_zip(tmp_path / "ml.zip", movies=None)
    refused(lambda: read_movielens(lake, path), path, "ml-latest-small/movies.csv")


def test_two_releases_in_one_zip(lake, tmp_path):
    path = write_zip(tmp_path / "ml.zip", {f"{d}/{f}.csv": "x\n" for d in ("ml-20m", "ml-25m")
                                           for f in ("ratings", "links", "movies")})
    refused(lambda: read_movielens(lake, path), path, "ml-20m", "ml-25m")


def test_ml_1m_without_links(lake, tmp_path):
    path = ml1m_zip(tmp_path / "ml-1m.zip")
    refused(lambda: read_movielens(lake, path), path, "--links", "links.csv")


@pytest.mark.parametrize(("line", "problem"), [
    ("5,1,great,1000", "rating 'great' is not a number"),
    ("5,1,4.0", "3 fields"),
    ("5,1,,1000", "rating '' is not a number"),
    ("5,1,7.5,1000", "rating 7.5 is outside"),
    ("5,0,4.0,1000", "movieId"),
    ("5,1,4.0,1714564800000", "timestamp 1714564800000 is not epoch seconds"),  # milliseconds: was a crash later
])
def test_a_bad_ratings_line_is_named_by_its_number(lake, tmp_path, line, problem):
    path = movielens_zip(tmp_path / "ml.zip", ratings=with_line(20, line))
    refused(lambda: read_movielens(lake, path), path, "ml-latest-small/ratings.csv", "line 22", problem)


def test_a_bad_line_of_ml_1m(lake, tmp_path):
    rows = "".join(f"{u}::{m}::4::{t}\n" for u, m, _, t in ratings_rows()[:5]) + "1::2::4\n"
    links = tmp_path / "links.csv"
    links.write_text(links_csv())
    path = ml1m_zip(tmp_path / "ml-1m.zip", ratings=rows)
    refused(lambda: read_movielens(lake, path, links_path=links), "ml-1m/ratings.dat", "line 6", "3 fields")


def test_a_ratings_file_without_movielens_header(lake, tmp_path):
    path = movielens_zip(tmp_path / "ml.zip", ratings="user,item,score,time\n1,1,4.0,1000\n")
    refused(lambda: read_movielens(lake, path), "ml-latest-small/ratings.csv", "userId,movieId,rating,timestamp")


def test_links_with_a_bad_imdb_id(lake, tmp_path):
    links = links_csv().replace("0113277", "nm0000001")
    path = movielens_zip(tmp_path / "ml.zip", links=links)
    refused(lambda: read_movielens(lake, path), "ml-latest-small/links.csv", "line 3", "imdbId", "nm0000001")


def test_links_listing_a_movie_twice(lake, tmp_path):
    links = tmp_path / "links.csv"
    links.write_text(links_csv() + "3,0133093,603\n")
    refused(lambda: read_movielens(lake, ml1m_zip(tmp_path / "ml-1m.zip"), links_path=links),
            "--links", links, "movieId 3")


def test_links_path_that_is_no_file(lake, ml_zip, tmp_path):
    refused(lambda: read_movielens(lake, ml_zip, links_path=tmp_path / "nope.csv"), "--links", "nope.csv")


@pytest.mark.parametrize("floor", [-0.1, 1.5, "half"])
def test_a_floor_outside_zero_to_one(lake, ml_zip, floor):
    refused(lambda: read_movielens(lake, ml_zip, floor=floor), "floor", repr(floor))


# the lake ---------------------------------------------------------------------------------------------------
def test_a_lake_without_movies(ml_zip, tmp_path):
    lake = Lake.at(tmp_path / "empty")
    with pytest.raises(LakeInputError, match="materialize `movies` first") as info:
        read_movielens(lake, ml_zip)
    assert str(lake.movies_dataset_dir) in str(info.value)


def test_a_corrupt_year_file(lake, ml_zip):
    _, path = lake.movies_year_files()[0]
    path.write_bytes(b"PAR1 damaged PAR1")
    with pytest.raises(LakeInputError, match="re-materialize") as info:
        read_movielens(lake, ml_zip)
    assert path.name in str(info.value)


# log files ----------------------------------------------------------------------------------------------------
def log(tmp_path, text: str, name: str = "log.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_empty_log(lake, tmp_path):
    path = log(tmp_path, "")
    refused(lambda: read_log_file(lake, path), path, "empty")


def test_a_log_with_a_header_and_no_rows(lake, tmp_path):
    path = log(tmp_path, "user_id,tmdb_id,timestamp\n")
    refused(lambda: read_log_file(lake, path), path, "no rows")


def test_a_log_neither_csv_nor_parquet(lake, tmp_path):
    path = log(tmp_path, "user_id,tmdb_id,timestamp\nu,862,0\n", "log.json")
    refused(lambda: read_log_file(lake, path), path, ".csv", ".parquet")


@pytest.mark.parametrize("column", ["user_id", "timestamp"])
def test_a_log_without_a_required_column(lake, tmp_path, column):
    header = ",".join(c for c in ("user_id", "tmdb_id", "timestamp") if c != column)
    path = log(tmp_path, f"{header}\na,862\n")
    refused(lambda: read_log_file(lake, path), path, f"no column {column}")


def test_a_log_without_an_item_id_column(lake, tmp_path):
    path = log(tmp_path, "user_id,movie,timestamp\nu,862,0\n")
    refused(lambda: read_log_file(lake, path), path, "tmdb_id, imdb_id, movielens_id")


def test_a_log_with_two_item_id_columns(lake, tmp_path):
    path = log(tmp_path, "user_id,tmdb_id,imdb_id,timestamp\nu,862,tt0114709,0\n")
    refused(lambda: read_log_file(lake, path), path, "tmdb_id and imdb_id", "exactly one")


def test_movielens_ids_without_links(lake, tmp_path):
    path = log(tmp_path, "user_id,movielens_id,timestamp\nu,1,0\n")
    refused(lambda: read_log_file(lake, path), path, "movielens_id", "--links")


def test_a_timestamp_that_is_no_time_is_named_by_its_first_bad_row(lake, tmp_path):
    path = log(tmp_path, "user_id,tmdb_id,timestamp\nu,862,2024-05-01T12:00:00Z\nu,603,last tuesday\n"
                         "u,949,31/12/2024\n")
    refused(lambda: read_log_file(lake, path), path, "line 3", "column timestamp", "'last tuesday'")


@pytest.mark.parametrize("value", ["1714564800000", "-99999999999999"])
def test_a_timestamp_outside_the_years_a_datetime_holds(lake, tmp_path, value):
    # Epoch milliseconds given as seconds: was read as the year 56000, then an OverflowError traceback from the
    # builder (or, with configured cut-offs, every event silently in test).
    path = log(tmp_path, f"user_id,tmdb_id,timestamp\nu,862,0\nu,603,{value}\n")
    refused(lambda: read_log_file(lake, path), path, "line 3", "column timestamp", value, "milliseconds")


def test_a_negative_weight(lake, tmp_path):
    path = log(tmp_path, "user_id,tmdb_id,timestamp,weight\nu,862,0,1\nu,603,0,-2\n")
    refused(lambda: read_log_file(lake, path), path, "line 3", "column weight", "-2")


def test_a_rating_that_is_no_number(lake, tmp_path):
    path = log(tmp_path, "user_id,tmdb_id,timestamp,rating\nu,862,0,4\nu,603,0,four\n")
    refused(lambda: read_log_file(lake, path), path, "line 3", "column rating", "'four'")


def test_an_event_without_a_user(lake, tmp_path):
    path = log(tmp_path, "user_id,tmdb_id,timestamp\nu,862,0\n,603,0\n")
    refused(lambda: read_log_file(lake, path), path, "line 3", "column user_id")


@pytest.mark.parametrize(("column", "value"), [("tmdb_id", "tt0114709"), ("tmdb_id", "-4"), ("imdb_id", "nm0000001")])
def test_an_item_id_that_is_no_id(lake, tmp_path, column, value):
    path = log(tmp_path, f"user_id,{column},timestamp\nu,{value},0\n")
    refused(lambda: read_log_file(lake, path), path, "line 2", f"column {column}", value)


def test_a_corrupt_parquet_log(lake, tmp_path):
    path = tmp_path / "log.parquet"
    path.write_bytes(b"PAR1 this is not really parquet PAR1")
    refused(lambda: read_log_file(lake, path), path, "Parquet")


def test_item_ids_named_twice_in_links_are_refused_for_a_log_too(lake, tmp_path):
    links = tmp_path / "links.csv"
    links.write_text(links_csv([*ITEMS, ITEMS[0]]))
    path = log(tmp_path, "user_id,movielens_id,timestamp\nu,1,0\n")
    refused(lambda: read_log_file(lake, path, links_path=links), "--links", "movieId 1")
