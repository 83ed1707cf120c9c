"""Recommender-ready data (group ``recsys``), one partition per registered interaction source.

Thin wiring over `movie_assets.recsys`: one step builds the whole dataset folder and swaps it in at once, so the
three assets it materializes are always consistent with each other: ``interactions`` (the split interactions, the
user index and, for MovieLens and log files, the bridge), ``item_index`` (the dense item index and the feature
arrays aligned to it) and ``item_features_asof`` (the item features as of each cut-off). Their blocking checks read
the files as written.
"""

import dagster as dg
from pydantic import Field

from movie_assets.defs.posters import assets as poster_assets
from movie_assets.defs.recsys.partitions import recsys_sources
from movie_assets.defs.warehouse import assets as warehouse_assets
from movie_assets.recsys import build, checks, sources
from movie_assets.recsys.exports.inputs import ExportOptions
from movie_assets.recsys.exports.run import FRAMEWORKS, run_export
from movie_assets.recsys.timeline import SplitPolicy
from movie_assets.wiring.checks import check_result
from movie_assets.wiring.metadata import column_schema
from movie_assets.wiring.policies import fail_fast_on_bad_input
from movie_assets.wiring.resources import LakeResource

GROUP = "recsys"
INTERACTIONS, ITEM_INDEX, ASOF = dg.AssetKey("interactions"), dg.AssetKey("item_index"), dg.AssetKey(
    "item_features_asof")
CHECKS = {
    "bridge_counts_reconcile": (INTERACTIONS, "the bridge's events per reason add up exactly to the events read, "
                                "and its kept events to the interactions written"),
    "split_respects_cutoffs": (INTERACTIONS, "no interaction on the wrong side of a cut-off, none twice, every "
                               "cold item with a text vector"),
    "item_index_dense_unique": (ITEM_INDEX, "item and user indexes are 0..N-1, ids unique, interactions in range"),
    "feature_arrays_match_lake": (ITEM_INDEX, "every feature array has N rows; 256 sampled rows are byte-equal to "
                                  "the lake's vector of that movie and content hash; masked rows hold the fill"),
    "no_future_item_features": (ASOF, "no dynamic value observed after its cut-off, editorial values from after "
                                "it flagged, train counts from train only"),
}


class RecsysConfig(dg.Config):
    """How a dataset is built from its source (the split, the item set, the fill of missing vectors)."""

    val_start: str | None = Field(default=None, description="ISO date or time; default: a quantile of the times")
    test_start: str | None = Field(default=None, description="ISO date or time; default: a quantile of the times")
    val_quantile: float = Field(default=0.8, description="quantile of the interactions' times for val_start")
    test_quantile: float = Field(default=0.9, description="quantile of the interactions' times for test_start")
    holdout: str = Field(default="none", description="none, items (a seeded share) or released_after_val")
    holdout_share: float = Field(default=0.1, description="share of items held out when holdout=items")
    include_catalog_items: bool = Field(default=False, description="index the lake's other movies after them")
    fill: str = Field(default="zeros", description="rows of items without a vector: zeros, mean or none (NaN)")
    strict_features: bool = Field(default=False, description="never take editorial values from after a cut-off")

    def dataset_config(self) -> build.DatasetConfig:
        split = SplitPolicy(val_start=self.val_start, test_start=self.test_start, val_quantile=self.val_quantile,
                            test_quantile=self.test_quantile, holdout=self.holdout, holdout_share=self.holdout_share)
        return build.DatasetConfig(split=split, include_catalog_items=self.include_catalog_items, fill=self.fill,
                                   strict_features=self.strict_features)


ATTRIBUTION_NOTE = " Item content from TMDb; MovieLens-derived datasets are marked not publishable. "


@dg.multi_asset(
    name="recsys_dataset", group_name=GROUP, partitions_def=recsys_sources, can_subset=False,
    specs=[
        dg.AssetSpec(INTERACTIONS, deps=[warehouse_assets.movies_db, poster_assets.item_modalities],
                     kinds={"python", "parquet"},
                     description="data/recsys/<source>__<lake snapshot>/interactions.parquet (user_index, "
                     "item_index, rating, weight, timestamp, event, split; by time), user_index.parquet, the bridge "
                     "and its coverage report, manifest.json with the sources' sha256 and the cut-offs." +
                     ATTRIBUTION_NOTE),
        dg.AssetSpec(ITEM_INDEX, deps=[INTERACTIONS], kinds={"python", "parquet", "numpy"},
                     description="item_index.parquet (0..N-1, items with interactions first; counts per split, cold "
                     "flags, modality flags, the content hash and poster sha256 behind each vector) and "
                     "features/<modality>_<model>.npy aligned to it, with JSON sidecars." + ATTRIBUTION_NOTE),
        dg.AssetSpec(ASOF, deps=[ITEM_INDEX], kinds={"python", "parquet"},
                     description="features/item_features_asof_{train,val,test}.parquet: static, editorial, dynamic "
                     "and interaction-derived features as of each cut-off, from the details store's versions "
                     "(feature_policy.json), and each interaction's item version." + ATTRIBUTION_NOTE),
    ],
    check_specs=[dg.AssetCheckSpec(name, asset=key, blocking=True, description=text)
                 for name, (key, text) in CHECKS.items()],
)
def recsys_dataset(context: dg.AssetExecutionContext, config: RecsysConfig, lake: LakeResource):
    the_lake = lake.lake()
    with fail_fast_on_bad_input():
        spec = sources.load_spec(the_lake, context.partition_key)
        result = build.build_dataset(the_lake, spec, config.dataset_config())
    manifest, folder = result.manifest, result.directory
    counts = manifest["counts"]
    context.log.info(f"recsys_dataset: {result.name}: {counts['interactions']:,} interactions of "
                     f"{counts['users']:,} users on {counts['items']:,} items; per split {counts['per_split']}")
    outcomes = {
        "bridge_counts_reconcile": checks.check_bridge(folder),
        "split_respects_cutoffs": checks.check_split(folder),
        "item_index_dense_unique": checks.check_indexes(folder),
        "feature_arrays_match_lake": checks.check_feature_arrays(the_lake, folder),
        "no_future_item_features": checks.check_no_future_features(folder, the_lake),
    }
    for name, outcome in outcomes.items():
        yield check_result(outcome, asset_key=CHECKS[name][0], check_name=name)
    common = {"dataset": result.name, "path": dg.MetadataValue.path(str(folder)),
              "lake_snapshot": manifest["lake_snapshot"]["id"], "publishable": manifest["publishable"]}
    tables = checks.dataset_schemas(folder)
    yield dg.MaterializeResult(asset_key=INTERACTIONS, metadata={
        **common, "dagster/row_count": counts["interactions"], "users": counts["users"],
        "per_split": dg.MetadataValue.json(counts["per_split"]), "cutoffs": dg.MetadataValue.json(manifest["cutoffs"]),
        "dagster/column_schema": column_schema(tables["interactions"])})
    yield dg.MaterializeResult(asset_key=ITEM_INDEX, metadata={
        **common, "dagster/row_count": counts["items"], "features": dg.MetadataValue.json(manifest["features"]),
        "dagster/column_schema": column_schema(tables["item_index"])})
    yield dg.MaterializeResult(asset_key=ASOF, metadata={
        **common, "dagster/row_count": counts["items"],
        "dagster/column_schema": column_schema(tables["item_features_asof_train"])})


class ExportsConfig(dg.Config):
    """Which frameworks `recsys_exports` writes, with which vectors."""

    frameworks: list[str] = Field(default=list(FRAMEWORKS), description=f"any of {', '.join(FRAMEWORKS)}")
    text_model: str | None = Field(default=None, description="text model id (default: the dataset's only one)")
    image_model: str | None = Field(default=None, description="image model id (default: the dataset's only one)")
    fill: str = Field(default="zeros", description="rows of items without a vector: zeros, mean or none (NaN)")


@dg.asset(
    group_name=GROUP, partitions_def=recsys_sources, deps=[ASOF], kinds={"python", "parquet", "numpy"},
    description="The source's latest dataset in the layouts MMRec, RecBole, Cornac and LightFM load as they are, and "
    "as plain Parquet: data/recsys/<dataset>/<framework>/ with a README saying how to run it, the masks of missing "
    "modalities and reports/modality_coverage.json." + ATTRIBUTION_NOTE,
)
def recsys_exports(context: dg.AssetExecutionContext, config: ExportsConfig,
                   lake: LakeResource) -> dg.MaterializeResult:
    the_lake = lake.lake()
    written = {}
    with fail_fast_on_bad_input():
        options = ExportOptions(text_model=config.text_model, image_model=config.image_model, fill=config.fill)
        for framework in config.frameworks:
            result = run_export(the_lake, context.partition_key, framework, options)
            written[framework] = str(result.directory)
            context.log.info(f"recsys_exports: {framework}: {len(result.exported.files)} files in {result.directory}")
    return dg.MaterializeResult(metadata={"exports": dg.MetadataValue.json(written),
                                          "dataset": result.dataset if written else None})
