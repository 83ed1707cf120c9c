"""The blocking recall check of the FAISS index against exact search."""

import dagster as dg

from movie_assets.defs.embeddings import assets as embedding_assets
from movie_assets.embeddings import index
from movie_assets.wiring.resources import LakeResource


class RecallCheckConfig(dg.Config):
    """Minimum recall@10 of the saved index against exact search."""

    threshold: float = 0.9


@dg.asset_check(
    asset=embedding_assets.movie_index,
    blocking=True,
    description="recall@10 of the saved index against exact search (held-out sample of stored vectors) is at "
    "least the threshold (default 0.9); the flat index is exact (1.0).",
)
def movie_index_recall(config: RecallCheckConfig, lake: LakeResource) -> dg.AssetCheckResult:
    report = index.read_manifest(lake.lake())["report"]
    recall = float(report["recall_at_k"])
    return dg.AssetCheckResult(
        passed=recall >= config.threshold,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"recall@{report['recall_k']} {recall:.4f} "
            f"{'≥' if recall >= config.threshold else '<'} threshold {config.threshold}"
        ),
        metadata={
            "recall_at_k": recall,
            "threshold": config.threshold,
            "index_type": report["index_type"],
            "recall_queries": report["recall_queries"],
        },
    )
