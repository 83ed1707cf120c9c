"""Record what a ``movie-assets sync`` run did in the Dagster instance at ``DAGSTER_HOME``, so the UI shows
the partitions it rebuilt as materializations (a sync runs outside Dagster's runs)."""

from __future__ import annotations

import dagster as dg

from movie_assets.harvest.sync import SyncReport


def record_sync(instance: dg.DagsterInstance, report: SyncReport, rows: int | None) -> list[int]:
    """Report the sync's materializations (``movies_db`` too when ``rows`` says it was rebuilt); returns the
    rebuilt years that have no partition (reported in metadata instead, never dropped silently)."""
    # Imported here: the catalog assets that call this are imported by the modules below.
    from movie_assets.defs.catalog import assets as catalog_assets
    from movie_assets.defs.ingest.assets import movies, undated_movies
    from movie_assets.defs.ingest.partitions import yearly_partitions
    from movie_assets.defs.warehouse.assets import movies_db

    keys = set(yearly_partitions.get_partition_keys())
    tags = {"movie_assets/trigger": "movie-assets-sync"}
    summary = {"sync": report.describe(), "export_day": report.export_day.isoformat()}
    instance.report_runless_asset_event(
        dg.AssetMaterialization(catalog_assets.movie_id_export.key, metadata=summary, tags=tags))
    outside = []
    for year in report.years_rebuilt:
        if year is None:
            instance.report_runless_asset_event(dg.AssetMaterialization(undated_movies.key, metadata=summary,
                                                                        tags=tags))
        elif str(year) in keys:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(movies.key, partition=str(year), metadata=summary, tags=tags))
        else:
            outside.append(year)
    if rows is not None:
        instance.report_runless_asset_event(dg.AssetMaterialization(
            movies_db.key, tags=tags,
            metadata={**summary, "dagster/row_count": rows, "years_outside_partitions": dg.MetadataValue.json(outside)},
        ))
    return outside
