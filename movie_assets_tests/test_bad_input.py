"""Bad-input catalogue: each kind of bad input gives a clear message and loses or corrupts no data.

Kinds (one test each, some parametrized): 1 missing credentials where the server needs them, 2 wrong key or
token, 3 wrong base URL, 4 host down, 5 invalid settings and dates (TMDb settings, CSV export dates,
partition keys), 6 unknown partition, 7 start year after the end, 8 corrupt checkpoint shard, 9 corrupt
Parquet in the lake, 10 corrupt discover snapshot (windows.json, reference.json, movies.parquet),
11 unwritable data dir, 12 disk full (ENOSPC while writing), 13 malformed JSON from the server, 14 a movie
with every optional field null, 15 odd unicode and non-UTF-8 bodies, 16 page-cap misuse.

State files (what one run leaves for the next; each read by `movie_assets.lake.state`): 17 a binary or
wrong-shaped windows.json (a hint: dropped with a warning), 18 a binary or wrong-shaped reference.json,
19 a corrupt sync cursor or sync journal, 20 a corrupt export snapshot, 21 a corrupt discover snapshot
under the changes sensor, 22 a corrupt details-store manifest or compaction journal, 23 an I/O error
(EMFILE) reading a good store shard.

"No lost data" is checked by fingerprinting every file of a previously harvested lake before the bad
input and comparing after it (and looking for temporary files left behind). A recognizable secret is
used wherever credentials are involved, and no asserted message may contain it.

Part 2, hostile servers and odd settings (Retry-After forms, slow-drip bodies, nan/inf/out-of-range settings,
user:pass@ in base URLs, non-image posters), is `movie_assets_tests/tmdb/test_hostile_servers.py`; part 3
(the lake's files) is `movie_assets_tests/test_bad_input_lake.py`; part 4 (the Dagster instance on
PostgreSQL: unreachable server, wrong password, unknown role or database, bad settings) is
`movie_assets_tests/instance/test_bad_input_instance.py`. Daily exports (corrupt, truncated, empty, partial,
duplicate ids, a stored snapshot turned corrupt) are `movie_assets_tests/harvest/test_exports.py`; snapshots
deleted or corrupted by hand and partial exports under the sync are
`movie_assets_tests/harvest/test_anti_entropy.py`; a lake pointed at a second source (or another adult/video
policy) is `movie_assets_tests/test_bad_input_source.py` (and `movie_assets_tests/lake/test_policy.py`); part 5
(the details call's appends and ``MOVIE_ASSETS_LANGUAGES``: bad codes, a corrupt ``languages.json``, unknown
``refetch --missing`` names, more than 20 appends) is `movie_assets_tests/test_bad_input_rich.py`, and an
unknown CSV layout is in `movie_assets_tests/release/test_release_logic.py`. Part 6, posters (a truncated JPEG, a
PNG with alpha, a CMYK JPEG, a 1 × 1 image, a 20,000 × 20,000 header, HTML served as ``image/jpeg``, a 404 and a 429
from the image host, retries exhausted, a poster size TMDb does not serve, an image backend that does not exist, a
weights file whose sha256 differs) is `movie_assets_tests/posters/test_year_posters.py` and
`movie_assets_tests/posters/test_image_encoder.py`. Part 7, interaction sources and recommender datasets (a
MovieLens zip of an unknown layout, missing or corrupt, ml-1m without ``--links``, bad ratings lines, epoch
milliseconds given as seconds, a log file without a column or with two id columns, unparseable times, negative
weights; events without a user, movie or time, NaN ratings, movies outside the lake; a bridge under its floor; bad
cut-offs, hold-outs and fills; synthetic parameters out of range) is
`movie_assets_tests/recsys/test_bad_input_sources.py`, `movie_assets_tests/recsys/test_review.py`,
`movie_assets_tests/recsys/test_synthetic.py`, `movie_assets_tests/recsys/test_timeline.py` and
`movie_assets_tests/recsys/test_export_*.py`.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import errno
import hashlib
import json
import logging
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aiohttp import web

from movie_assets.defs.ingest.partitions import partition_year
from movie_assets.emulator import Catalog, EmulatorOptions, running_emulator
from movie_assets.harvest import cursor, exports, stages, year_build
from movie_assets.harvest.records import movie_row, movies_table
from movie_assets.harvest.store import DetailsRecord, DetailsStore
from movie_assets.lake import Lake, LakeError, readers, write_json_atomic, write_parquet_atomic
from movie_assets.lake import files as lake_files
from movie_assets.lake.schema import MOVIES_SCHEMA
from movie_assets.lake.state import StateFileError
from movie_assets.release.common import ConfigValueError
from movie_assets.release.export import export_csv, resolve_window
from movie_assets.settings import start_year_from_env
from movie_assets.tmdb.client import TMDbClient
from movie_assets.tmdb.config import SettingsError, TMDbSettings
from movie_assets.tmdb.errors import (
    TMDbAuthError,
    TMDbConnectionError,
    TMDbPageLimitError,
    TMDbRequestError,
    TMDbUnavailable,
)
from movie_assets.warehouse import build as warehouse

from .helpers import free_port, serve_handler

YEAR = 2020
SECRET = "catalogueSECRETkey0123456789abcdef"
TOKEN = "catalogueSECRETtoken.eyJhbGciOi.zz"
CATALOG = Catalog(seed=21, movies_per_year=200)


def settings(base_url: str | None, **overrides) -> TMDbSettings:
    values = dict(base_url=base_url, requests_per_second=2000.0, backoff_base=0.01, backoff_max=0.02,
                  max_attempts=3, read_timeout=2.0, connect_timeout=1.0)
    values.update(overrides)
    return TMDbSettings(**values)


def assert_clear(message: str, *needles: str) -> None:
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert SECRET not in message and TOKEN not in message


def fingerprint(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(root: Path) -> list[str]:
    """Temporary files or half-built directories that a failed write must not leave behind."""
    return [p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.name.endswith(".tmp") or p.name.startswith((".year=", ".write-test-"))]


async def harvest(base_url: str, lake: Lake, **overrides) -> None:
    async with TMDbClient(settings(base_url, **overrides)) as client:
        await stages.harvest_year(client, lake, YEAR, batch_size=40)


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> Path:
    """A lake holding one finished year (discover, compacted checkpoint, movies) and movies.parquet."""
    root = tmp_path_factory.mktemp("harvested") / "data"
    lake = Lake.at(root)
    with running_emulator(catalog=CATALOG, options=EmulatorOptions(api_keys={SECRET})) as emu:
        asyncio.run(harvest(emu.base_url, lake, api_key=SECRET))
    warehouse.build_movies_db(lake)
    return root


@pytest.fixture
def lake(harvested, tmp_path) -> Lake:
    root = tmp_path / "data"
    shutil.copytree(harvested, root, symlinks=True)  # movies_parquet stays a link to its generation
    return Lake.at(root)


@pytest.fixture
def secured():
    """An emulator that accepts only SECRET (api_key) and TOKEN (Bearer)."""
    with running_emulator(catalog=CATALOG, options=EmulatorOptions(api_keys={SECRET}, tokens={TOKEN})) as emu:
        yield emu


# 1, 2 ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("credentials", "needles"),
    [
        ({}, ["HTTP 401", "needs credentials", "TMDB_READ_ACCESS_TOKEN or TMDB_API_KEY", "TMDB_BASE_URL="]),
        ({"api_key": SECRET[::-1]}, ["HTTP 401", "TMDB_API_KEY", "valid value"]),
        ({"read_access_token": TOKEN[::-1]}, ["HTTP 401", "TMDB_READ_ACCESS_TOKEN", "valid value"]),
        ({"read_access_token": TOKEN[::-1], "api_key": SECRET}, ["HTTP 401", "TMDB_READ_ACCESS_TOKEN"]),
    ],
    ids=["missing", "wrong_key", "wrong_token", "wrong_token_right_key"],
)
async def test_missing_or_wrong_credentials_fail_fast_naming_the_setting(secured, lake, caplog, credentials, needles):
    before = fingerprint(lake.root)
    caplog.set_level(logging.DEBUG)
    async with TMDbClient(settings(secured.base_url, **credentials)) as client:
        with pytest.raises(TMDbAuthError) as info:
            await stages.run_discover(client, lake, YEAR)
        assert secured.stats()["requests_total"] == 1  # a 401 is never retried
        with pytest.raises(TMDbAuthError):
            await stages.run_details(client, lake, YEAR, refetch_all=True, concurrency=1)
        # The first 401 cancels the batch: at most the call that had already taken the free slot follows it.
        assert secured.stats()["requests_total"] <= 3
    assert_clear(str(info.value), *needles)
    assert SECRET not in caplog.text and TOKEN not in caplog.text and SECRET[::-1] not in caplog.text
    assert fingerprint(lake.root) == before and not leftovers(lake.root)


# 3 ------------------------------------------------------------------------------------------------------
async def test_wrong_base_url_names_the_setting_and_writes_nothing(secured, lake):
    before = fingerprint(lake.root)
    async with TMDbClient(settings(secured.root_url, api_key=SECRET)) as client:  # missing the /3
        with pytest.raises(TMDbRequestError) as info:
            await stages.run_discover(client, lake, YEAR)
    assert_clear(str(info.value), "HTTP 404", f"TMDB_BASE_URL={secured.root_url}", "end in /3")
    assert fingerprint(lake.root) == before and not leftovers(lake.root)
    for bad in ("api.themoviedb.org/3", "ftp://example.org/3"):
        with pytest.raises(SettingsError, match=r"TMDB_BASE_URL=.* must start with http"):
            TMDbSettings.from_mapping({"TMDB_BASE_URL": bad, "TMDB_API_KEY": SECRET})


# 4 ------------------------------------------------------------------------------------------------------
async def test_host_down_is_a_bounded_connection_error(lake):
    before = fingerprint(lake.root)
    down = f"http://127.0.0.1:{free_port()}/3"
    async with TMDbClient(settings(down, api_key=SECRET, max_attempts=3)) as client:
        with pytest.raises(TMDbConnectionError) as info:
            await stages.run_discover(client, lake, YEAR)
        assert client.stats.requests == 3
    assert_clear(str(info.value), "after 3 attempts", "cannot connect", "check TMDB_BASE_URL")
    assert fingerprint(lake.root) == before and not leftovers(lake.root)


# 5 ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "pattern"),
    [
        ({"TMDB_REQUESTS_PER_SECOND": "fast"}, "TMDB_REQUESTS_PER_SECOND='fast' is not a valid float"),
        ({"TMDB_REQUESTS_PER_SECOND": "-5"}, "TMDB_REQUESTS_PER_SECOND must be positive"),
        ({"TMDB_MAX_ATTEMPTS": "0"}, "TMDB_MAX_ATTEMPTS must be positive"),
        ({"TMDB_MAX_CONNECTIONS": "2.5"}, "TMDB_MAX_CONNECTIONS='2.5' is not a valid int"),
        ({"TMDB_READ_TIMEOUT": "30s"}, "TMDB_READ_TIMEOUT='30s' is not a valid float"),
    ],
)
def test_invalid_tmdb_settings_name_the_variable(env, pattern):
    with pytest.raises(SettingsError) as info:
        TMDbSettings.from_mapping({**env, "TMDB_API_KEY": SECRET})
    assert_clear(str(info.value), pattern)


@pytest.mark.parametrize(
    ("start", "end", "pattern"),
    [
        ("2020-13-01", None, "start_date='2020-13-01' is not a valid ISO date (YYYY-MM-DD)"),
        ("2020-01-01", "2020-02-30", "end_date='2020-02-30' is not a valid ISO date"),
        ("01/02/2020", "2020-12-31", "start_date='01/02/2020' is not a valid ISO date"),
        ("2020-12-31", "2020-01-01", "start_date=2020-12-31 is after end_date=2020-01-01"),
    ],
)
def test_invalid_csv_export_dates_name_the_field_and_write_nothing(lake, start, end, pattern):
    table = warehouse.read_movies(lake)
    with pytest.raises(ConfigValueError) as info:
        resolve_window(table, start, end)
    assert_clear(str(info.value), pattern)
    assert not list(lake.root.glob("movies_*.csv"))


@pytest.mark.parametrize("key", ["20x4", "2020-01-01", " 2020", "", "1e3"])
def test_malformed_partition_keys_are_rejected(key):
    with pytest.raises(ValueError) as info:
        partition_year(key)
    assert_clear(str(info.value), f"unknown partition {key!r}", "MOVIE_ASSETS_START_YEAR")


# 6 ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["1899", str(dt.date.today().year + 2), "0"])
def test_unknown_partition_names_the_range(key):
    with pytest.raises(ValueError) as info:
        partition_year(key)
    assert_clear(str(info.value), f"unknown partition {key!r}", "partitions run from 1900 to")


# 7 ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [str(dt.datetime.now(dt.UTC).year + 1), "1873", "-1900"])
def test_start_year_after_the_end_or_before_cinema(monkeypatch, raw):
    monkeypatch.setenv("MOVIE_ASSETS_START_YEAR", raw)
    with pytest.raises(ValueError) as info:
        start_year_from_env()
    assert_clear(str(info.value), f"MOVIE_ASSETS_START_YEAR={int(raw)}", "must be between 1874")


# 8 ------------------------------------------------------------------------------------------------------
def test_corrupt_store_shard_is_set_aside_and_never_becomes_output(lake, caplog):
    shard = DetailsStore(lake.details_store_dir).shard_paths()[0]
    good_year = lake.movies_year_file(YEAR).read_bytes()
    shard.write_bytes(shard.read_bytes()[:-100])  # truncated: the footer is gone
    with caplog.at_level(logging.WARNING), pytest.raises(stages.IngestError) as info:
        year_build.build_movies_year(lake, YEAR)
    assert_clear(str(info.value), "have no details yet", f"materialize movie_details for {YEAR} first")
    assert shard.name in caplog.text and "left out" in caplog.text
    assert shard.exists()  # a reader leaves it alone; the next writer sets it aside (kept, not deleted)
    with DetailsStore(lake.details_store_dir).writer() as store:
        store.statuses()
    assert shard.with_suffix(".corrupt").exists() and not shard.exists()
    assert lake.movies_year_file(YEAR).read_bytes() == good_year  # the previous output survives
    assert not leftovers(lake.root)


# 9 ------------------------------------------------------------------------------------------------------
def test_corrupt_year_parquet_fails_movies_db_naming_the_file(lake):
    part = lake.movies_year_file(YEAR)
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    consolidated = lake.movies_file.read_bytes()
    with pytest.raises(readers.LakeInputError) as info:
        warehouse.build_movies_db(lake)
    assert_clear(str(info.value), str(part))
    assert "re-materialize" in str(info.value)
    assert lake.movies_file.read_bytes() == consolidated  # the last good consolidated file survives
    assert not leftovers(lake.root)


# 10 -----------------------------------------------------------------------------------------------------
async def test_corrupt_windows_json_means_a_fresh_discover_with_identical_output(lake, caplog):
    discover = lake.discover_file(YEAR).read_bytes()
    (lake.discover_windows_file(YEAR)).write_text('{"windows": [tru')
    assert stages.load_discover_snapshot(lake, YEAR) is None
    assert "unreadable" in caplog.text and "harvesting from scratch" in caplog.text
    with running_emulator(catalog=CATALOG) as emu:
        async with TMDbClient(settings(emu.base_url)) as client:
            summary = await stages.run_discover(client, lake, YEAR)
    assert summary.reused_windows == 0
    assert lake.discover_file(YEAR).read_bytes() == discover


def test_corrupt_reference_json_names_the_file_and_the_fix(lake):
    good_year = lake.movies_year_file(YEAR).read_bytes()
    reference = lake.discover_reference_file(YEAR)
    reference.write_text('{"genres": {"28": "Act')
    with pytest.raises(StateFileError) as info:
        year_build.build_movies_year(lake, YEAR)
    assert_clear(str(info.value), str(reference), "is corrupt", "re-materialize the partition")
    assert lake.movies_year_file(YEAR).read_bytes() == good_year


def test_truncated_discover_parquet_fails_naming_the_file(lake):
    good_year = lake.movies_year_file(YEAR).read_bytes()
    path = lake.discover_file(YEAR)
    path.write_bytes(path.read_bytes()[:200])
    assert stages.load_discover_snapshot(lake, YEAR) is None  # a re-discover starts from scratch
    with pytest.raises(Exception) as info:
        readers.discover_ids(lake, YEAR)
    assert_clear(str(info.value), str(path))
    assert lake.movies_year_file(YEAR).read_bytes() == good_year


# 11 -----------------------------------------------------------------------------------------------------
async def test_unwritable_data_dir_fails_before_any_request(tmp_path, secured):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data directory should be")
    async with TMDbClient(settings(secured.base_url, api_key=SECRET)) as client:
        with pytest.raises(LakeError) as info:
            await stages.run_discover(client, Lake.at(blocker / "data"), YEAR)
    assert_clear(str(info.value), "is not writable", "MOVIE_ASSETS_DATA_DIR")
    assert secured.stats()["requests_total"] == 0
    assert blocker.read_text() == "a file where the data directory should be"


@pytest.mark.skipif(hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0,
                    reason="root ignores directory permissions")
def test_read_only_data_dir_is_a_clear_error(lake):
    lake.root.chmod(0o555)
    try:
        with pytest.raises(LakeError, match="MOVIE_ASSETS_DATA_DIR"):
            lake.ensure_writable()
    finally:
        lake.root.chmod(0o755)


# 12 -----------------------------------------------------------------------------------------------------
def enospc_writer(real):
    """A `pq.ParquetWriter.write_table` that writes half the rows, then fails like a full disk."""

    def write_table(self, table, *args, **kwargs):
        real(self, table.slice(0, max(1, table.num_rows // 2)), *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    return write_table


def test_disk_full_while_writing_keeps_the_previous_files(lake, monkeypatch):
    before = fingerprint(lake.root)
    monkeypatch.setattr(lake_files.pq.ParquetWriter, "write_table", enospc_writer(pq.ParquetWriter.write_table))
    with pytest.raises(OSError) as year_error:
        year_build.build_movies_year(lake, YEAR)
    with pytest.raises(OSError) as db_error:
        warehouse.build_movies_db(lake)
    with pytest.raises(OSError):
        DetailsStore(lake.details_store_dir).append([DetailsRecord(1, "ok", dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                                                                      '{"release_date": ""}')])
    for info in (year_error, db_error):
        assert info.value.errno == errno.ENOSPC and "No space left on device" in str(info.value)
    assert not leftovers(lake.root)
    after = fingerprint(lake.root)
    assert {k: v for k, v in after.items() if k != "movies.duckdb"} == {
        k: v for k, v in before.items() if k != "movies.duckdb"}


def test_disk_full_while_writing_json_keeps_the_previous_file(lake, monkeypatch):
    target = lake.discover_reference_file(YEAR)
    good = target.read_bytes()

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError, match="No space left"):
        write_json_atomic({"genres": {}}, target)
    assert target.read_bytes() == good and not leftovers(lake.root)


# 13 -----------------------------------------------------------------------------------------------------
async def test_malformed_json_is_retried_then_a_typed_error(lake):
    before = fingerprint(lake.root)
    with running_emulator(catalog=CATALOG, options=EmulatorOptions(truncate_rate=1.0)) as emu:
        async with TMDbClient(settings(emu.base_url, api_key=SECRET, max_attempts=4)) as client:
            with pytest.raises(TMDbUnavailable) as info:
                await client.movie_details(readers.discover_ids(lake, YEAR)[0])
            assert client.stats.retries["bad_json"] == 3
        assert emu.stats()["faults"]["truncate"] == 4
    assert_clear(str(info.value), "after 4 attempts", "not a JSON object")
    assert not isinstance(info.value, TMDbConnectionError)
    assert fingerprint(lake.root) == before


# 14 -----------------------------------------------------------------------------------------------------
def test_movie_with_every_optional_field_null_is_a_valid_row(tmp_path):
    nullable = ["title", "original_title", "original_language", "overview", "tagline", "status", "imdb_id",
                "poster_path", "backdrop_path", "release_date", "popularity", "vote_average", "vote_count",
                "runtime", "budget", "revenue", "genres", "credits", "keywords", "adult", "video"]
    details = {"id": 77, **dict.fromkeys(nullable)}
    details.update(title="", overview="   ", release_date="", runtime=0, budget=0, revenue=0)
    row = movie_row({"id": 77}, details, status="ok", harvested_at=None, genre_names={}, image_base_url=None)
    table = movies_table([row])
    assert table.schema == MOVIES_SCHEMA
    target = write_parquet_atomic(table, tmp_path / "one.parquet")
    back = pq.read_table(target).to_pylist()[0]
    for column in ("title", "overview", "release_date", "year", "runtime", "budget", "revenue", "poster_url",
                   "backdrop_url", "imdb_id", "popularity", "harvested_at"):
        assert back[column] is None, column
    assert back["genres"] == [] and back["cast"] == [] and back["directors"] == [] and back["keywords"] == []
    assert back["adult"] is False and back["movie_id"] == 77
    # Not found: details None, the discover summary with nulls only.
    gone = movie_row({"movie_id": 78}, None, status="not_found", harvested_at=None, genre_names={},
                     image_base_url="https://img/")
    assert movies_table([gone]).to_pylist()[0]["details_status"] == "not_found"


# 15 -----------------------------------------------------------------------------------------------------
ODD_TITLES = [
    "Amélie 🎬🍿 — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",  # emoji and astral-plane letters
    "فيلم عربي ‏(RTL)‏ שלום",  # right-to-left with marks
    "e\u0301 cafe\u0301 n\u0303 Z\u0335\u0321a\u0336\u0322l\u0337g\u0338o",  # combining characters
    "👩‍👩‍👧 zero\u200bwidth\u200d join",  # ZWJ sequences
    'comma, "quotes", new\nline and\ttab',  # CSV-hostile
    "日本語のタイトル・한국어 제목",
]


def test_odd_unicode_round_trips_through_parquet_and_csv(lake):
    rows = []
    for i, title in enumerate(ODD_TITLES):
        details = {"id": 900 + i, "title": title, "original_title": title[::-1], "overview": title * 3,
                   "release_date": f"{YEAR}-05-0{i + 1}",
                   "credits": {"cast": [{"id": 1, "name": title, "character": title, "order": 0}],
                               "crew": [{"id": 2, "name": title, "job": "Director"}]}}
        rows.append(movie_row({"id": 900 + i}, details, status="ok", harvested_at=None, genre_names={},
                              image_base_url=None))
    table = movies_table(rows)
    target = write_parquet_atomic(table, lake.root / "odd.parquet")
    back = pq.read_table(target)
    assert back.column("title").to_pylist() == table.column("title").to_pylist()
    assert back.column("original_title").to_pylist() == [t[::-1] for t in ODD_TITLES]
    path, selected = export_csv(lake, back, resolve_window(back, f"{YEAR}-01-01", f"{YEAR}-12-31"))
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert [r["title"] for r in records] == ODD_TITLES
    assert [json.loads(r["directors"]) for r in records] == [[t] for t in ODD_TITLES]
    assert [json.loads(r["actors"]) for r in records] == [[t] for t in ODD_TITLES]


async def test_non_utf8_body_is_retried_then_a_typed_error():
    calls = []

    async def latin1(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.Response(body='{"id": 1, "title": "Caf\xe9"}'.encode("latin-1"),
                            content_type="application/json")

    async with serve_handler(latin1) as base_url:
        async with TMDbClient(settings(base_url, api_key=SECRET, max_attempts=3)) as client:
            with pytest.raises(TMDbUnavailable) as info:
                await client.movie_details(1)
    assert len(calls) == 3
    assert_clear(str(info.value), "after 3 attempts", "not a JSON object")


# 16 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", [0, 501, 10_000])
async def test_client_refuses_pages_outside_the_cap_without_a_request(secured, page):
    async with TMDbClient(settings(secured.base_url, api_key=SECRET)) as client:
        with pytest.raises(TMDbPageLimitError) as info:
            await client.discover_movies(gte=dt.date(YEAR, 1, 1), lte=dt.date(YEAR, 12, 31), page=page)
    assert_clear(str(info.value), f"discover page {page} is outside 1..500", "split the window")
    assert secured.stats()["requests_total"] == 0


@pytest.mark.parametrize(("style", "status"), [("live", 422), ("documented", 400)])
async def test_server_page_cap_errors_are_understood_in_both_forms(style, status):
    options = EmulatorOptions(page_error_style=style, api_keys={SECRET})
    with running_emulator(catalog=CATALOG, options=options) as emu:
        async with TMDbClient(settings(emu.base_url, api_key=SECRET)) as client:
            with pytest.raises(TMDbPageLimitError) as info:
                await client.get("/discover/movie", {"page": 501})  # bypasses the client's own guard
        assert emu.stats()["requests_total"] == 1  # not retried
    assert info.value.http_status == status
    assert_clear(str(info.value), f"HTTP {status}")



# 17 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
        (b"[]", "the top level should be an object, not a list"),
        (b'{"totals": {"2020-01-01..2020-12-31": "many"}, "children": {}}',
         "'totals.2020-01-01..2020-12-31' should be an integer, not a string"),
    ],
    ids=["binary", "list", "wrong_type"],
)
def test_a_corrupt_windows_json_is_a_hint_dropped_with_a_warning(lake, caplog, text, problem):
    windows = lake.discover_windows_file(YEAR)
    windows.write_bytes(text)
    before = fingerprint(lake.root)
    with caplog.at_level(logging.WARNING):
        assert stages.load_discover_snapshot(lake, YEAR) is None  # the next discover pages the year again
    assert_clear(caplog.text, str(windows), problem, "harvesting from scratch")
    assert readers.discover_ids(lake, YEAR)  # the discover snapshot itself is still good
    assert fingerprint(lake.root) == before and not leftovers(lake.root)


# 18 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"\xff\xfe\x00{", "not UTF-8 text"),
        (b'{"genres": {"28": "Action"}}', "'image_base_url' is missing"),
        (b'{"image_base_url": null, "genres": ["Action"]}', "'genres' should be an object, not a list"),
        (b'{"image_base_url": null, "genres": {"Action": "28"}}', "wrong content"),
    ],
    ids=["binary", "missing_key", "list", "bad_genre_id"],
)
@pytest.mark.parametrize("which", ["year", "lake"])
def test_a_corrupt_reference_json_names_the_file_and_what_rewrites_it(lake, text, problem, which):
    reference = lake.discover_reference_file(YEAR) if which == "year" else lake.reference_file
    if which == "lake":
        lake.discover_reference_file(YEAR).unlink()  # the year falls back to the lake-wide file
    reference.write_bytes(text)
    before = fingerprint(lake.root)
    with pytest.raises(StateFileError) as info:
        year_build.build_movies_year(lake, YEAR)
    fix = f"re-materialize the partition {YEAR} of discover_movies" if which == "year" else "movie-assets sync"
    assert_clear(str(info.value), str(reference), "is corrupt", problem, fix)
    assert fingerprint(lake.root) == before and not leftovers(lake.root)  # the good year is untouched


# 19 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("cursor", b"\x00\x01\x02\xff", "not UTF-8 text"),
        ("cursor", b'{"changes_through": "2026-11-01"}', "'export_day' is missing"),
        ("cursor", b'{"changes_through": "yesterday", "export_day": "2026-11-01"}', "wrong content"),
    ],
)
def test_a_corrupt_sync_cursor_fails_loudly_and_stays(lake, name, text, problem):
    path = lake.sync_cursor_file
    path.write_bytes(text)
    before = fingerprint(lake.root)
    with pytest.raises(StateFileError) as info:
        cursor.SyncCursor.read(lake, dt.date(2026, 11, 2))
    assert_clear(str(info.value), str(path), "is corrupt", problem, "reconciles every partition")
    assert fingerprint(lake.root) == before


# 20 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "no_video_column"])
def test_a_corrupt_export_snapshot_fails_loudly_naming_the_day(lake, damage):
    from movie_assets.lake.schema import EXPORT_SCHEMA

    day = dt.date(2026, 11, 1)
    path = lake.export_snapshot_file(day)
    rows = [{"id": i, "original_title": "T", "popularity": 1.0, "adult": False, "video": False, "day": day}
            for i in readers.discover_ids(lake, YEAR)]
    table = pa.Table.from_pylist(rows, schema=EXPORT_SCHEMA)
    write_parquet_atomic(table.drop_columns(["video"]) if damage == "no_video_column" else table, path)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-30])
    before = fingerprint(lake.root)
    with pytest.raises(StateFileError) as info:
        exports.listed_ids(lake, day, include_adult=False, include_video=False)
    problem = "not readable Parquet" if damage == "truncated" else "the column 'video' is missing"
    assert_clear(str(info.value), str(path), problem, "downloads the newest export again", "no deletion is lost")
    if damage == "truncated":
        with pytest.raises(StateFileError, match="not readable Parquet"):
            exports.read_snapshot_ids(lake, day)
    assert fingerprint(lake.root) == before and not leftovers(lake.root)


# 21 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "movie_id_as_text"])
def test_a_corrupt_discover_snapshot_skips_the_changes_tick_naming_the_file(lake, damage):
    import dagster as dg

    from movie_assets.defs.ingest import sensors
    from movie_assets.harvest import changes
    from movie_assets.wiring.resources import LakeResource, TMDbResource

    path = lake.discover_file(YEAR)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:
        table = pq.read_table(path)
        write_parquet_atomic(table.set_column(0, "movie_id", table.column("movie_id").cast(pa.string())), path)
    before = fingerprint(lake.root)
    problem = "not readable Parquet" if damage == "truncated" else "the column 'movie_id' is string, not int64"
    with pytest.raises(StateFileError) as info:
        changes.affected_years(lake, [1, 2, 3])
    assert_clear(str(info.value), str(path), problem, f"re-materialize the partition {YEAR} of discover_movies")
    cursor = changes.RefreshCursor(CATALOG.day - dt.timedelta(days=3)).to_json()
    sensor = sensors.build_changes_sensor(today=lambda: CATALOG.day, name="changes_bad_input")
    with running_emulator(catalog=CATALOG) as emu, dg.DagsterInstance.ephemeral() as instance:
        resources = {"tmdb": TMDbResource(base_url=emu.base_url, requests_per_second=2000),
                     "lake": LakeResource(data_dir=str(lake.root))}
        result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources))
    assert not result.run_requests and result.cursor is None  # the cursor stays: no change is lost
    assert_clear(result.skip_reason.skip_message, str(path), problem, "re-materialize the partition")
    assert fingerprint(lake.root) == before


# 22 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("store.json", b"\x00\xff", "not UTF-8 text"),
        ("store.json", b'{"schema": 1}', "'schema_version' is missing"),
        ("compact.json", b'{"merged": "versions-00000009.merged"}', "'into' is missing"),
        ("compact.json", b'{"merged": "x.merged", "into": "versions-1.parquet", "sources": ["versions-1.parquet"]}',
         "not shards of the store"),
    ],
)
def test_a_corrupt_store_manifest_or_journal_stops_the_store_and_deletes_nothing(lake, name, text, problem):
    path = lake.details_store_dir / name
    path.write_bytes(text)
    before = fingerprint(lake.root)
    with pytest.raises(StateFileError) as info:
        with DetailsStore(lake.details_store_dir).writer():
            pass
    fix = '{"schema_version": 2}' if name == "store.json" else "delete only the journal"
    assert_clear(str(info.value), str(path), "is corrupt", problem, fix)
    after = fingerprint(lake.root)
    assert {k: v for k, v in after.items() if not k.endswith(".lock")} == {
        k: v for k, v in before.items() if not k.endswith(".lock")}


# 23 -----------------------------------------------------------------------------------------------------
def test_an_io_error_reading_a_good_store_shard_fails_loudly_and_moves_nothing(lake, monkeypatch):
    from movie_assets.harvest import store_shards
    from movie_assets.harvest.store import StoreError

    before = fingerprint(lake.root)
    real = store_shards.pq.read_table
    failures = iter([OSError(errno.EMFILE, "Too many open files")])

    def flaky(*args, **kwargs):
        if (error := next(failures, None)) is not None:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(store_shards.pq, "read_table", flaky)
    shard = DetailsStore(lake.details_store_dir).shard_paths()[0]
    with pytest.raises(StoreError) as info:
        year_build.build_movies_year(lake, YEAR)
    assert_clear(str(info.value), str(shard), "Too many open files", "left in place", "run again")
    assert not list(lake.details_store_dir.glob("*.corrupt"))
    assert fingerprint(lake.root) == before
    year_build.build_movies_year(lake, YEAR)  # the retry reads the same shards and builds the same year
    assert fingerprint(lake.root) == before and not leftovers(lake.root)
