"""``movie-assets interactions import|synth``: register an interaction source and build its dataset.

``import --movielens ml-32m.zip`` (read in place; ml-1m needs ``--links`` from another MovieLens release) or
``import --file logs.parquet`` (a team's own logs), and ``synth --users N --seed S`` (the deterministic
generator over the lake's content). Each registers the source (``data/recsys/sources/<name>.json``; a partition
of the recsys assets in the Dagster instance when ``DAGSTER_HOME`` is set), then builds
``data/recsys/<name>__<lake snapshot>/`` as the ``recsys_dataset`` asset does, runs its checks and prints a summary.
Exit status: 0 built and checked, 1 a check failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from movie_assets.lake import Lake
from movie_assets.recsys import build, checks, sources, summary
from movie_assets.recsys.events import FILE, MOVIELENS, SYNTHETIC
from movie_assets.recsys.features import FILLS
from movie_assets.recsys.timeline import HOLDOUTS, SplitPolicy
from movie_assets.settings import DATA_DIR_ENV, data_dir_from_env, is_set

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _default_name(path: str) -> str:
    stem = Path(path).name.split(".")[0].lower()
    return re.sub(r"[^a-z0-9._-]+", "-", stem).strip("-._") or "source"


def _spec(args: argparse.Namespace) -> sources.SourceSpec:
    if args.action == "synth":
        settings = {"users": args.users, "seed": args.seed, "explicit": not args.implicit}
        if args.preview_share is not None:
            settings["preview_share"] = args.preview_share
        return sources.SourceSpec(name=args.name or "synth", kind=SYNTHETIC, synthetic=settings)
    if (args.movielens is None) == (args.file is None):
        raise sources.SourceError("give --movielens ZIP or --file PATH (one of them)")
    path = args.movielens or args.file
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise sources.SourceError(f"{path}: no such file")
    links = str(Path(args.links).expanduser().resolve()) if args.links else None
    return sources.SourceSpec(name=args.name or _default_name(path), kind=MOVIELENS if args.movielens else FILE,
                              path=str(resolved), links=links, floor=args.floor)


def _add_partition(name: str) -> bool:
    """Add ``name`` to the recsys partitions of the Dagster instance at DAGSTER_HOME, when one is set."""
    if not is_set("DAGSTER_HOME"):
        return False
    import dagster as dg

    from movie_assets.defs.recsys.partitions import recsys_sources

    with dg.DagsterInstance.get() as instance:
        if not instance.has_dynamic_partition(recsys_sources.name, name):
            instance.add_dynamic_partitions(recsys_sources.name, [name])
    return True


def run_interactions(args: argparse.Namespace) -> int:
    lake = Lake.at(args.data_dir or data_dir_from_env())
    try:
        spec = _spec(args)
        config = build.DatasetConfig(
            split=SplitPolicy(val_start=args.val_start, test_start=args.test_start, holdout=args.holdout,
                              holdout_share=args.holdout_share),
            include_catalog_items=args.include_catalog_items, fill=args.fill, strict_features=args.strict)
        sources.register(lake, spec)
        if _add_partition(spec.name):
            print(f"registered source {spec.name!r} (a partition of recsys_job in the Dagster instance)")
        else:
            print(f"registered source {spec.name!r}")
        if args.register_only:
            return EXIT_OK
        result = build.build_dataset(lake, spec, config)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(summary.describe(result.directory))
    outcomes = [checks.check_bridge(result.directory), checks.check_split(result.directory),
                checks.check_indexes(result.directory), checks.check_feature_arrays(lake, result.directory),
                checks.check_no_future_features(result.directory, lake)]
    failed = [o for o in outcomes if not o.passed]
    for outcome in failed:
        print(f"CHECK FAILED: {outcome.description}", file=sys.stderr)
    for warning in result.manifest.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text}: give a share between 0 and 1")
    return value


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None, help=f"data root (default ${DATA_DIR_ENV} or 'data')")
    parser.add_argument("--name", default=None, help="source name (names the dataset folder)")
    parser.add_argument("--val-start", default=None, help="ISO date or time (default: 0.8 quantile of the times)")
    parser.add_argument("--test-start", default=None, help="ISO date or time (default: 0.9 quantile of the times)")
    parser.add_argument("--holdout", choices=HOLDOUTS, default="none", help="strict item hold-out")
    parser.add_argument("--holdout-share", type=float, default=0.1, help="share of items for --holdout items")
    parser.add_argument("--include-catalog-items", action="store_true",
                        help="index the lake's movies without interactions too, after the others")
    parser.add_argument("--fill", choices=FILLS, default="zeros", help="rows of items without a vector")
    parser.add_argument("--strict", action="store_true", help="never take editorial features from after a cut-off")
    parser.add_argument("--register-only", action="store_true", help="register the source, build nothing")
    parser.set_defaults(handler=run_interactions)


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``interactions`` to the ``movie-assets`` parser."""
    parser = subparsers.add_parser("interactions", help="register an interaction source and build its dataset",
                                   description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True)
    imported = actions.add_parser("import", help="a MovieLens zip or a log file (CSV or Parquet)")
    imported.add_argument("--movielens", default=None, help="a MovieLens zip (ml-latest-small, ml-1m, ml-20m, "
                          "ml-25m, ml-32m), read in place")
    imported.add_argument("--file", default=None, help="CSV or Parquet: user_id, tmdb_id|imdb_id|movielens_id, "
                          "timestamp[, rating, event, weight]")
    imported.add_argument("--links", default=None, help="a MovieLens links.csv (ml-1m, movielens_id logs)")
    imported.add_argument("--floor", type=_share, default=sources.DEFAULT_FLOOR,
                          help="fail when the bridge keeps less than this share of the events")
    _build_options(imported)
    synth = actions.add_parser("synth", help="the deterministic synthetic generator over the lake's content")
    synth.add_argument("--users", type=int, required=True, help="number of users")
    synth.add_argument("--seed", type=int, default=0, help="seed (same lake and seed: same events)")
    synth.add_argument("--implicit", action="store_true", help="views instead of ratings")
    synth.add_argument("--preview-share", type=float, default=None, help="share of events before release")
    _build_options(synth)
    return parser
