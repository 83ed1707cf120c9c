"""The one `Definitions` object of movie_assets. This product uses the TMDB API but is not endorsed or
certified by TMDB."""

from __future__ import annotations

import dagster as dg
from dotenv import load_dotenv

load_dotenv()  # `.env` in the working directory: TMDB_* settings (dagster dev also reads it)

from movie_assets.assets.embeddings import EMBEDDING_ASSETS, EMBEDDING_CHECKS  # noqa: E402
from movie_assets.assets.ingest import INGEST_ASSETS  # noqa: E402
from movie_assets.assets.posters import POSTER_ASSETS  # noqa: E402
from movie_assets.assets.release import RELEASE_ASSETS  # noqa: E402
from movie_assets.automation import SCHEDULES, SENSORS, with_automation_conditions  # noqa: E402
from movie_assets.checks import RELEASE_CHECKS  # noqa: E402
from movie_assets.resources import LakeResource, TMDbResource, data_dir_from_env, duckdb_resource  # noqa: E402

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets(*INGEST_ASSETS[:3]),
    description="Harvest one year: discover, details, typed Parquet.",
)

_data_dir = data_dir_from_env()

defs = dg.Definitions(
    # movies_db and the release/embedding assets follow their upstreams (movie_assets.automation).
    # Posters stay manual: downloading images is a decision, not a side effect.
    assets=[*with_automation_conditions([*INGEST_ASSETS, *RELEASE_ASSETS, *EMBEDDING_ASSETS]), *POSTER_ASSETS],
    asset_checks=[*RELEASE_CHECKS, *EMBEDDING_CHECKS],
    jobs=[ingest_job],
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources={
        "tmdb": TMDbResource.from_environment(),
        "lake": LakeResource(data_dir=_data_dir),
        "duckdb": duckdb_resource(_data_dir),
    },
)
