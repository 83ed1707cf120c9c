"""Dagster definitions, one folder per domain; `movie_assets.definitions` loads them all."""
