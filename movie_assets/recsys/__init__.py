"""Recommender-ready data, no Dagster: interaction sources (a MovieLens zip in `movielens`, a team's own log in
`log_file`) resolved to the lake's movies by one bridge (`bridge`, its report in `coverage`) and handed on as
`events.SourceEvents`."""
