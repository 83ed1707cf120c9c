"""``movie-assets export --framework mmrec|recbole|cornac|lightfm|parquet --dataset D``: a built recommender
dataset in the layout a framework loads as it is, under ``data/recsys/<dataset>/<framework>/``, outside Dagster (the
``recsys_exports`` asset does the same). Exit status: 0 written, 2 bad input (one line naming the setting)."""

from __future__ import annotations

import argparse
import sys

from movie_assets.lake import Lake
from movie_assets.recsys.exports.inputs import ExportOptions
from movie_assets.recsys.exports.run import FRAMEWORKS, run_export
from movie_assets.recsys.features import FILLS
from movie_assets.settings import DATA_DIR_ENV, data_dir_from_env


def run(args: argparse.Namespace) -> int:
    lake = Lake.at(args.data_dir or data_dir_from_env())
    frameworks = FRAMEWORKS if args.framework == "all" else (args.framework,)
    try:
        options = ExportOptions(text_model=args.text_model, image_model=args.image_model, fill=args.fill)
        for framework in frameworks:
            result = run_export(lake, args.dataset, framework, options)
            print(f"{framework}: {len(result.exported.files)} files in {result.directory} (README.md says how to "
                  "run it)")
    except (ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``export`` to the ``movie-assets`` parser."""
    parser = subparsers.add_parser("export", help="a recommender dataset in a framework's own layout",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--framework", required=True, choices=[*FRAMEWORKS, "all"])
    parser.add_argument("--dataset", required=True, help="a dataset name, or a source name (its latest dataset)")
    parser.add_argument("--text-model", default=None, help="the text model id (default: the dataset's only one)")
    parser.add_argument("--image-model", default=None, help="the image model id (default: the dataset's only one)")
    parser.add_argument("--fill", choices=FILLS, default="zeros", help="rows of items without a vector")
    parser.add_argument("--data-dir", default=None, help=f"data root (default ${DATA_DIR_ENV} or 'data')")
    parser.set_defaults(handler=run)
    return parser
