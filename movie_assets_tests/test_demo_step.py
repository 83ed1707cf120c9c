"""`make demo`'s step runner: the terminal gets the assets' progress, the log file everything."""

from __future__ import annotations

import sys

from movie_assets.cli import demo_step

RUN = "0b8e6c34-0f3f-4a55-9f5e-3c1a6a2c2f10"
DAGSTER_OUTPUT = [
    f"2026-12-06 23:36:39 +0000 - dagster - DEBUG - ingest_job - {RUN} - discover_movies - STEP_START",
    f"2026-12-06 23:36:39 +0000 - dagster - INFO - ingest_job - {RUN} - discover_movies - No TMDb credentials and "
    "no TMDB_BASE_URL set: using the built-in TMDb emulator at http://127.0.0.1:1",
    f"2026-12-06 23:36:40 +0000 - dagster - INFO - ingest_job - {RUN} - discover_movies - 1975: 3128 movies",
    f"2026-12-06 23:36:41 +0000 - dagster - INFO - ingest_job - {RUN} - movie_details - No TMDb credentials and "
    "no TMDB_BASE_URL set: using the built-in TMDb emulator at http://127.0.0.1:1",
    f"2026-12-06 23:36:46 +0000 - dagster - WARNING - ingest_job - {RUN} - movie_details - 3 movies retried",
    f"2026-12-06 23:54:21 +0000 - dagster - INFO - __ASSET_JOB - {RUN} - movies_db - movies_db: 14865 movies",
    f"2026-12-06 23:36:47 +0000 - dagster - ERROR - ingest_job - {RUN} - 30894 - movies - STEP_FAILURE - "
    'Execution of step "movies" failed.',
    "INFO Running stamp_revision  -> 29b539ebc72a",
]


def test_progress_lines_keep_the_assets_messages_once():
    assert list(demo_step.progress_lines(DAGSTER_OUTPUT)) == [
        "    discover_movies: No TMDb credentials and no TMDB_BASE_URL set: using the built-in TMDb emulator at "
        "http://127.0.0.1:1",
        "    discover_movies: 1975: 3128 movies",
        "    movie_details: WARNING: 3 movies retried",
        "    movies_db: 14865 movies",
        '    movies: ERROR: STEP_FAILURE - Execution of step "movies" failed.',
    ]


def test_a_step_logs_everything_and_prints_progress(tmp_path, capsys):
    log = tmp_path / "logs" / "demo.log"
    script = "import sys; print(sys.argv[1]); print(sys.argv[2])"
    status = demo_step.main(["--log", str(log), "--title", "a step", "--", sys.executable, "-c", script,
                             DAGSTER_OUTPUT[0], DAGSTER_OUTPUT[2]])
    out = capsys.readouterr().out
    assert status == 0
    assert "==> a step" in out and "discover_movies: 1975: 3128 movies" in out and "done in" in out
    assert "STEP_START" not in out
    assert DAGSTER_OUTPUT[0] in log.read_text()  # the debug line is in the log


def test_a_failed_step_shows_the_end_of_the_log_and_its_path(tmp_path, capsys):
    log = tmp_path / "demo.log"
    status = demo_step.main(["--log", str(log), "--title", "fails", "--", sys.executable, "-c",
                             "import sys; print('boom: the reason'); sys.exit(3)"])
    err = capsys.readouterr().err
    assert status == 3
    assert "boom: the reason" in err and str(log) in err and "FAILED" in err


def test_a_command_that_cannot_start_is_one_line(tmp_path, capsys):
    status = demo_step.main(["--log", str(tmp_path / "demo.log"), "--title", "t", "--", str(tmp_path / "missing")])
    assert status == 127
    assert capsys.readouterr().err.strip().startswith(f"FAILED: cannot run '{tmp_path / 'missing'}'")
