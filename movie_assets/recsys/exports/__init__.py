"""Exports of a built recommender dataset in the layouts MMRec, RecBole, Cornac and LightFM load as they are, and
as plain Parquet: each under ``data/recsys/<dataset>/<framework>/``, with a README saying how to run it."""
