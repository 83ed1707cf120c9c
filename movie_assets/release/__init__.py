"""Release stage as plain Python: sample, profile, splits, CSV export, checksums, check logic.

Nothing here imports Dagster; `movie_assets.defs.release` (assets, checks) is thin wiring.
"""
