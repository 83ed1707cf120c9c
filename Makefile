# movie_assets — the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# The demo catalog: a peak year of 6,000 movies (~7,400 over the three years), so that harvest, text and poster
# embeddings of every movie fit in 6 minutes on 2 cores. TMDB_EMULATOR_MOVIES_PER_YEAR=12000 make demo puts the
# newest year above TMDb's 10,000 cap (discover then splits it into windows), at about twice the time.
DEMO_YEARS ?= 1925 1975 2024
# The demo embeds every movie it harvested, text and poster, one partition per year, with the default backends:
# int8 ONNX (text) and float32 ONNX (posters) on a CPU, torch on a CUDA device.
DEMO_ENV := TMDB_EMULATOR_MOVIES_PER_YEAR=$${TMDB_EMULATOR_MOVIES_PER_YEAR:-6000}
# The demo's synthetic interaction source: this many users over the demo lake's movies.
DEMO_RECSYS_USERS ?= 5000
PYTEST_ARGS ?=
# dg finds the project from pyproject.toml ([tool.dg]); VIRTUAL_ENV tells it which environment to use.
DG := VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg

.PHONY: install instance demo test test-browser ui lint bench drills clean-data cluster cluster-stop

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## $(DAGSTER_HOME)/dagster.yaml from dagster.yaml: SQLite storage, or PostgreSQL when DAGSTER_PG_HOST is set
## (checked here: a bad setting stops with one line naming it).
instance: install
	$(BIN)/movie-assets instance init

# Dagster's own output of the demo's runs (debug, events, migrations) goes here; the terminal shows progress.
DEMO_LOG ?= $(DAGSTER_HOME)/logs/demo.log
DEMO_STEP := $(BIN)/python -m movie_assets.cli.demo_step --log $(DEMO_LOG)

## Materialize the demo years end to end (emulator when no key is in .env), then print where things are.
demo: instance
	@mkdir -p $(dir $(DEMO_LOG)) && : > $(DEMO_LOG) && echo "Dagster's logs of this demo: $(DEMO_LOG)"
	@for year in $(DEMO_YEARS); do \
	  $(DEMO_ENV) $(DEMO_STEP) --title "$$year: harvest (ingest_job: discover, details, typed Parquet)" -- \
	    env $(DG) launch --job ingest_job --partition $$year || exit 1; \
	  $(DEMO_ENV) $(DEMO_STEP) --title "$$year: text and poster embeddings (embeddings_job)" -- \
	    env $(DG) launch --job embeddings_job --partition $$year || exit 1; \
	done
	@$(DEMO_ENV) $(DEMO_STEP) --title "movies_db, the undated movies and their embeddings, the indexes, the release" -- \
	  env $(DG) launch --assets 'undated_movies,movies_db,undated_movie_embeddings,movie_index,similar_movies_preview,undated_movie_posters,undated_poster_embeddings,poster_index,item_modalities,group:release'
	@$(DEMO_ENV) $(DEMO_STEP) --title "a synthetic recommender dataset over the demo lake (recsys_job), then fresh checksums" -- \
	  bash -c '$(BIN)/movie-assets interactions synth --users $(DEMO_RECSYS_USERS) --seed 7 --register-only && \
	    $(DG) launch --job recsys_job --partition synth && $(DG) launch --assets release_checksums'
	@$(BIN)/python -m movie_assets.cli.demo_summary

## Check that the definitions load (dg), then run the whole test suite (slow tests included; add
## PYTEST_ARGS="-m 'not slow'" to skip them).
test: instance
	$(DG) check defs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

ui: instance
	$(DG) dev

## A team's topology on this machine (deploy/README.md): PostgreSQL and Redis in .cluster/, the daemon, the webserver
## on http://127.0.0.1:3000 and two Celery workers, all sharing the lake (needs Debian's postgresql and redis-server).
cluster: install
	$(BIN)/movie-assets cluster up

## Stop what `make cluster` started (the lake and the logs in .cluster/logs stay).
cluster-stop: install
	$(BIN)/movie-assets cluster down

lint: install
	$(BIN)/ruff check .

## Benchmarks → BENCHMARKS.md + benchmarks/results.json (BENCH_ARGS=--quick: CI sizes, ~5 min; full ~30 min).
bench: install
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

## Fault drills (5xx/hangs/drops/429s, SIGKILL resume, no secret in any log) against the emulator.
drills: install
	$(BIN)/python drills/run.py $(DRILLS_ARGS)

## Only the browser test (needs Debian chromium: apt-get install chromium).
test-browser: install
	$(BIN)/python -m pytest -m browser -s $(PYTEST_ARGS)

clean-data:
	rm -rf data/raw data/staging data/processed data/index data/movies.duckdb reports
