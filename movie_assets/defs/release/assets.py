"""Release assets (group ``release``): sample, profile, splits, CSV export, checksums.

Thin wiring over `movie_assets.release`: each asset reads the consolidated ``movies.parquet`` written by
``movies_db``, calls the plain-Python step, and attaches row count, column schema, a preview and plots.
Each follows its upstream as soon as it updates (``FOLLOW_UPSTREAM``, evaluated by
``downstream_automation_sensor``).
"""

import dagster as dg
import pyarrow as pa
from pydantic import Field

from movie_assets.defs.catalog import assets as catalog_assets
from movie_assets.defs.embeddings import assets as embeddings_assets
from movie_assets.defs.ingest import assets as ingest_assets
from movie_assets.defs.posters import assets as posters_assets
from movie_assets.defs.recsys import assets as recsys_assets
from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.lake.schema import COLUMN_DESCRIPTIONS
from movie_assets.release import checksums as checksums_lib
from movie_assets.release import export as export_lib
from movie_assets.release import plots
from movie_assets.release import profile as profile_lib
from movie_assets.release import sample as sample_lib
from movie_assets.release import splits as splits_lib
from movie_assets.release.common import ConfigValueError, read_consolidated, rows_per_year
from movie_assets.wiring.metadata import column_schema, markdown_preview, png_markdown, table_metadata
from movie_assets.wiring.policies import AFTER_ANY_YEAR_UPDATED, FOLLOW_UPSTREAM
from movie_assets.wiring.resources import LakeResource

GROUP = "release"
UPSTREAM = [warehouse_assets.movies_db.key]


def _plot(figure, title: str) -> dg.MetadataValue:
    try:
        return png_markdown(figure, title)
    finally:
        plots.close(figure)


def _markdown_table(header: list[str], rows: list[list]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))


class SampleConfig(dg.Config):
    size: int = Field(default=sample_lib.DEFAULT_SAMPLE_SIZE, ge=0, description="rows in the sample")
    seed: int = Field(default=sample_lib.DEFAULT_SEED, description="fixed seed of the per-movie sampling key")


@dg.asset(
    group_name=GROUP,
    automation_condition=FOLLOW_UPSTREAM,
    deps=UPSTREAM,
    kinds={"parquet"},
    description=(
        "processed/movies_sample.parquet: a fixed-seed sample of the movies table (10,000 rows by default), "
        "stratified by release year with proportional allocation and at least one movie per non-empty year; "
        "same input, same bytes. "
    ),
)
def movies_sample(context: dg.AssetExecutionContext, config: SampleConfig, lake: LakeResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    sample = sample_lib.write_sample(the_lake, config.size, config.seed)
    per_year = rows_per_year(sample)
    context.log.info(f"movies_sample: {sample.num_rows} rows over {len(per_year)} years")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(sample, descriptions=COLUMN_DESCRIPTIONS),
            "dagster/uri": str(the_lake.sample_file),
            "seed": config.seed,
            "requested_size": config.size,
            "rows_per_year": dg.MetadataValue.json(per_year),
            "movies_per_year_plot": _plot(plots.movies_per_year(per_year, "Sample: movies per year"),
                                          "Sample: movies per year"),
        }
    )


@dg.asset(
    group_name=GROUP,
    automation_condition=FOLLOW_UPSTREAM,
    deps=UPSTREAM,
    kinds={"json"},
    description=(
        "reports/data_profile.json: rows, columns, dtypes, nulls, empty lists and uniques per column, date "
        "range, rows per year, top original languages, credits coverage, the coverage of the rich columns "
        "(companies, crew, releases, trailers, titles, …) and the movies whose payload predates each append; "
        "deterministic JSON. "
    ),
)
def data_profile(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    path, profile, table = profile_lib.write_profile(lake.lake())
    stats = [
        [name, profile["dtypes"][name], profile["nulls"][name], f"{profile['missing_rates'][name]:.1%}",
         profile["uniques"][name]]
        for name in profile["dtypes"]
    ]
    runtimes = table.column("runtime").drop_null().to_pylist()
    coverage = profile["credits_coverage"]
    context.log.info(
        f"data_profile: {profile['rows']} rows, {coverage['with_cast_share']:.1%} with cast, "
        f"{coverage['with_director_share']:.1%} with a director"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": profile["rows"],
            "dagster/column_schema": column_schema(table.schema, COLUMN_DESCRIPTIONS),
            "dagster/uri": str(path),
            "preview": _markdown_table(["column", "dtype", "nulls", "missing rate", "uniques"], stats),
            "release_date_range": dg.MetadataValue.json(profile["release_date"]),
            "credits_coverage": dg.MetadataValue.json(coverage),
            "rich_coverage": dg.MetadataValue.json(profile["rich_coverage"]),
            "missing_appends": dg.MetadataValue.json(profile["missing_appends"]),
            "top_original_languages": dg.MetadataValue.json(profile["top_original_languages"]),
            "missing_rates": dg.MetadataValue.json(profile["missing_rates"]),
            "movies_per_year_plot": _plot(plots.movies_per_year(profile["rows_per_year"]), "Movies per year"),
            "missing_rates_plot": _plot(plots.missing_rates(profile["missing_rates"]), "Missing rate per column"),
            "runtime_histogram": _plot(plots.runtime_histogram(runtimes), "Runtime histogram"),
        }
    )


class SplitsConfig(dg.Config):
    val_start: str | None = Field(
        default=None,
        description="first release date of the validation split (ISO); default the 0.8 quantile of release_date",
    )
    test_start: str | None = Field(
        default=None,
        description="first release date of the test split (ISO); default the 0.9 quantile of release_date",
    )


@dg.asset(
    group_name=GROUP,
    automation_condition=FOLLOW_UPSTREAM,
    deps=UPSTREAM,
    kinds={"parquet"},
    description=(
        "processed/splits/{train,val,test,undated}.parquet cut on one global release-date timeline "
        "(train < val_start <= val < test_start <= test; undated rows apart), plus manifest.json with the "
        "cut-offs. popularity, vote_average and vote_count are as of harvest time and leak the future. "
    ),
)
def movie_splits(context: dg.AssetExecutionContext, config: SplitsConfig, lake: LakeResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    table = read_consolidated(the_lake)
    try:
        result = splits_lib.build_splits(table, config.val_start, config.test_start)
    except ConfigValueError as exc:
        raise dg.Failure(description=f"movie_splits config: {exc}") from None
    splits_lib.write_splits(the_lake, result)
    sizes = result.counts
    context.log.info(f"movie_splits: cut-offs {result.val_start} / {result.test_start}, sizes {sizes}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(sizes.values()),
            "dagster/column_schema": column_schema(table.schema, COLUMN_DESCRIPTIONS),
            "dagster/uri": str(the_lake.splits_dir),
            "preview": _markdown_table(["split", "movies", "release dates"], [
                ["train", sizes["train"], f"< {result.val_start}"],
                ["val", sizes["val"], f"{result.val_start} … < {result.test_start}"],
                ["test", sizes["test"], f">= {result.test_start}"],
                ["undated", sizes["undated"], "null"],
            ]),
            "val_start": result.val_start.isoformat(),
            "test_start": result.test_start.isoformat(),
            "cutoff_source": result.source,
            "split_sizes": dg.MetadataValue.json(sizes),
            "leaky_columns": dg.MetadataValue.json(list(splits_lib.LEAKY_COLUMNS)),
            "leakage_note": splits_lib.LEAKAGE_NOTE,
            "split_sizes_plot": _plot(plots.split_sizes(sizes), "Movies per split"),
        }
    )


class CsvExportConfig(dg.Config):
    start_date: str | None = Field(default=None, description="first release date (ISO); default the earliest")
    end_date: str | None = Field(default=None, description="last release date (ISO, inclusive); default the latest")
    include_adult: bool = Field(default=False, description="include adult titles")
    layout: str = Field(
        default=export_lib.SEED,
        description="seed: the earlier tool's layout (movies_START_END.csv, lists as JSON arrays); kaggle: the "
        "columns and encodings of the Kaggle dump 'Full TMDB Movies Dataset 2024 (1M Movies)' "
        "(movies_START_END_kaggle.csv)",
    )


@dg.asset(
    group_name=GROUP,
    automation_condition=FOLLOW_UPSTREAM,
    deps=UPSTREAM,
    kinds={"csv"},
    description=(
        "data/movies_START_END.csv in the earlier tool's flat layout (adult … runtime, actors, directors) "
        "with list fields as JSON arrays, or with layout kaggle data/movies_START_END_kaggle.csv in the layout "
        "of the Kaggle dump 'Full TMDB Movies Dataset 2024 (1M Movies)'; written atomically, deterministic. "
    ),
)
def movies_csv_export(
    context: dg.AssetExecutionContext, config: CsvExportConfig, lake: LakeResource
) -> dg.MaterializeResult:
    the_lake = lake.lake()
    table = read_consolidated(the_lake)
    try:
        layout = export_lib.csv_layout(config.layout)
        window = export_lib.resolve_window(table, config.start_date, config.end_date, config.include_adult)
    except ConfigValueError as exc:
        raise dg.Failure(description=f"movies_csv_export config: {exc}") from None
    path, selected = export_lib.export_csv(the_lake, table, window, layout)
    context.log.info(f"movies_csv_export: {selected.num_rows} movies to {path} ({layout.name} layout)")
    head = [dict(zip(layout.header, layout.row(r), strict=True)) for r in selected.slice(0, 5).to_pylist()]
    preview = pa.Table.from_pylist(head, schema=pa.schema([(c, pa.string()) for c in layout.header]))
    shown = ["id", "title", "release_date", "genre_ids", "genres", "actors", "directors", "production_countries"]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": selected.num_rows,
            "dagster/column_schema": column_schema(preview.schema),
            "dagster/uri": str(path),
            "preview": dg.MetadataValue.md(markdown_preview(preview, shown)),
            "start_date": window.start.isoformat(),
            "end_date": window.end.isoformat(),
            "include_adult": window.include_adult,
            "layout": layout.name,
        }
    )


def _release_writer_deps() -> list[dg.AssetDep]:
    """A dependency on every asset `checksums_lib.RELEASE_GROUPS` names as writing a release file (every
    partition of a partitioned one); a name that is no asset fails the definitions' load."""
    definitions = (ingest_assets.movies, ingest_assets.undated_movies, catalog_assets.catalog_sync,
                   warehouse_assets.movies_db, movies_sample, data_profile, movie_splits, movies_csv_export,
                   embeddings_assets.movie_embeddings, embeddings_assets.undated_movie_embeddings,
                   embeddings_assets.movie_index, posters_assets.movie_posters, posters_assets.undated_movie_posters,
                   posters_assets.poster_embeddings, posters_assets.undated_poster_embeddings,
                   posters_assets.poster_index_asset, posters_assets.item_modalities, recsys_assets.recsys_dataset)
    assets = {key.to_user_string(): a for a in definitions for key in a.keys}
    return [dg.AssetDep(dg.AssetKey.from_user_string(name),
                        partition_mapping=dg.AllPartitionMapping() if assets[name].partitions_def else None)
            for name in checksums_lib.release_writers()]


@dg.asset(
    group_name=GROUP,
    # Not eager: it reads every year and the optional poster files, and eager waits while any dependency is
    # missing (an unharvested year, posters never embedded).
    automation_condition=AFTER_ANY_YEAR_UPDATED,
    deps=_release_writer_deps(),
    kinds={"text"},
    description=(
        "reports/checksums.txt in `sha256sum -c` format (paths relative to the repository root) over every "
        "published file: yearly Parquet, movies.parquet, tombstones, the sample, the splits, data_profile.json, "
        "the CSV exports, the embeddings, the poster embeddings and the FAISS index files. Depends on every "
        "asset that writes one (the list is declared once, in movie_assets.release.checksums). Run "
        "`sha256sum -c reports/checksums.txt` from the repository root. "
    ),
)
def release_checksums(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    path, lines = checksums_lib.write_checksums(lake.lake())
    context.log.info(f"release_checksums: {len(lines)} files in {path}")
    rows = [line.split("  ", 1) for line in lines]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(lines),
            "dagster/column_schema": dg.TableSchema(columns=[
                dg.TableColumn("sha256", "string"),
                dg.TableColumn("path", "string", description="relative to the repository root"),
            ]),
            "dagster/uri": str(path),
            "preview": _markdown_table(["path", "sha256"], [[p, d[:16] + "…"] for d, p in rows[:20]]),
        }
    )

