"""Release stage as plain Python (design §7): sample, profile, splits, CSV export, checksums, check logic.

Nothing here imports Dagster; `movie_assets.assets.release` and `movie_assets.checks` are thin wrappers.
"""
