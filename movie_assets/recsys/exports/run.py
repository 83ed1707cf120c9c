"""One export end to end: read the dataset, let the framework's exporter write its files into a build folder,
add the README, the masks and the modality coverage report, and swap the folder in at once
(``data/recsys/<dataset>/<framework>/``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from movie_assets.lake import Lake, atomic_dir, json_text, write_json_atomic, write_text_atomic
from movie_assets.recsys.exports import cornac, lightfm, mmrec, parquet, recbole
from movie_assets.recsys.exports.common import Exported, masks
from movie_assets.recsys.exports.coverage import modality_coverage
from movie_assets.recsys.exports.inputs import ExportError, ExportInputs, ExportOptions, load_dataset

EXPORTERS: dict[str, Callable[[ExportInputs, Path], Exported]] = {
    "mmrec": mmrec.export, "recbole": recbole.export, "cornac": cornac.export, "lightfm": lightfm.export,
    "parquet": parquet.export,
}
FRAMEWORKS = tuple(EXPORTERS)


@dataclass
class ExportResult:
    framework: str
    dataset: str
    directory: Path
    exported: Exported


def _header(framework: str, inputs: ExportInputs) -> str:
    manifest = inputs.manifest
    lines = [f"# {inputs.name} for {framework}", "",
             f"Built from the recommender dataset `{inputs.name}` (lake snapshot {manifest['lake_snapshot']['id']}); "
             f"cut-offs: val_start {manifest['cutoffs']['val_start']}, test_start {manifest['cutoffs']['test_start']}.",
             ""]
    for array in (inputs.text, inputs.image):
        if array is not None:
            lines.append(f"- {array.modality} vectors: `{array.model_id}` ({array.vectors.shape[1]}-d); "
                         f"{int((~array.present).sum()):,} of {len(array.present):,} items have none and hold the "
                         f"`{array.fill}` fill (`masks.json`)")
    lines += ["", "Items are never dropped for a missing modality; `masks.json` lists the filled ones.", "",
              "Item content from TMDb: this product uses the TMDB API but is not endorsed or certified by TMDB.",
              "**Not publishable**: derived from MovieLens (research use only, no redistribution)." if not
              inputs.publishable else "Publishable as far as its sources go (see DATASET_CARD.md).", ""]
    return "\n".join(lines)


def run_export(lake: Lake, dataset: str, framework: str, options: ExportOptions = ExportOptions()) -> ExportResult:
    """Export ``dataset`` (a dataset or a source name) for ``framework``."""
    if framework not in EXPORTERS:
        raise ExportError(f"framework {framework!r} is not one of {', '.join(FRAMEWORKS)}")
    inputs = load_dataset(lake, dataset, options)
    target = inputs.directory / framework
    with atomic_dir(target) as build:
        exported = EXPORTERS[framework](inputs, build)
        write_json_atomic(masks([inputs.text, inputs.image]), build / "masks.json")
        write_json_atomic(modality_coverage(inputs), build / "reports" / "modality_coverage.json")
        write_text_atomic(_header(framework, inputs) + exported.readme.rstrip() + "\n", build / "README.md")
        write_text_atomic(json_text({"framework": framework, "dataset": inputs.name, "options": vars(options),
                                     "files": sorted(exported.files), **exported.notes}), build / "export.json")
    return ExportResult(framework, inputs.name, target, exported)
