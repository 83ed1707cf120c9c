"""The dataset card (``DATASET_CARD.md``) and the licence block of a dataset's manifest: what it was built from,
under which terms, and whether the folder may be published."""

from __future__ import annotations

from typing import Any

TMDB_TERMS = {
    "name": "The Movie Database (TMDb)",
    "attribution": "This product uses the TMDB API but is not endorsed or certified by TMDB.",
    "terms": "https://www.themoviedb.org/api-terms-of-use",
}


def licence_block(source_kind: str, source_licence: dict[str, Any], publishable: bool) -> dict[str, Any]:
    """The manifest's ``licence``: the item content's terms (TMDb), the interactions' terms, and the verdict."""
    why = ("derived from MovieLens: research use only, no redistribution" if source_kind == "movielens" else
           "a team's own logs: nothing in them says they may be shared" if source_kind == "file" else
           "synthetic interactions over TMDb content: TMDb's attribution applies")
    return {"items": TMDB_TERMS, "interactions": source_licence, "publishable": publishable, "why": why}


def dataset_card(manifest: dict[str, Any]) -> str:
    """The card of a dataset, from its manifest."""
    source, counts, cut = manifest["source"], manifest["counts"], manifest["cutoffs"]
    licence = manifest["licence"]
    lines = [f"# Dataset card: {manifest['dataset']}", "",
             f"**May this folder be published? {'Yes' if manifest['publishable'] else 'No'}** — {licence['why']}.", "",
             "## Sources and their terms", "",
             f"- Items: {TMDB_TERMS['name']}. {TMDB_TERMS['attribution']} Terms: {TMDB_TERMS['terms']}",
             f"- Interactions: `{source['name']}` ({source['kind']})."]
    for key, value in sorted((licence.get("interactions") or {}).items()):
        lines.append(f"  - {key}: {value}")
    for item in source.get("inputs", []):
        lines.append(f"  - input `{item['path']}` ({item['kind']}), sha256 `{item['sha256']}`")
    snapshot = manifest["lake_snapshot"]
    lines += ["", "## Lake snapshot", "",
              f"`{snapshot['id']}`: {len(snapshot['files'])} files of the lake (each with its sha256 in the manifest), "
              f"details store observed until {snapshot['observed_until']}. Every file of this folder: "
              "`reports/checksums.txt` (`sha256sum -c`).", "",
              "## Encoders", ""]
    for feature in manifest.get("features", []):
        lines.append(f"- {feature['modality']}: `{feature['model_id']}` (backend {feature['backend']}, "
                     f"{feature['dimension']}-d), `{feature['file']}`; {feature['missing']:,} items filled "
                     f"({feature['fill']})")
    lines += ["", "## Split", "",
              f"One global timeline: train < `{cut['val_start']}` ≤ val < `{cut['test_start']}` ≤ test "
              f"({cut['source']}). Interactions per split: "
              + ", ".join(f"{k} {v:,}" for k, v in counts["per_split"].items()) + ".", "",
              "## Item features", "",
              "As of each cut-off (`features/feature_policy.json`): static from the movie now; editorial from the "
              "latest version observed by the cut-off (else the first after it, flagged); dynamic only from a "
              "version observed by the cut-off, never today's; interaction-derived from train only.", "",
              f"{counts['interactions']:,} interactions of {counts['users']:,} users on {counts['items']:,} items.", ""]
    return "\n".join(lines)
