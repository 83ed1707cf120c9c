"""The emulator's command line: its catalog and fault knobs as options (``python -m movie_assets.emulator``,
and ``movie-assets emulator`` through `movie_assets.cli.emulator`)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from movie_assets.emulator.catalog import Catalog
from movie_assets.emulator.churn import ChurnRates
from movie_assets.emulator.options import EmulatorOptions
from movie_assets.emulator.runner import serve


def add_emulator_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the emulator's command-line options (``--port``, ``--seed``, fault knobs, …) to ``parser``."""
    d = EmulatorOptions()
    g = parser.add_argument_group("TMDb emulator")
    g.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    g.add_argument("--port", type=int, default=8765, help="port (0 = any free port; default 8765)")
    g.add_argument(
        "--seed", type=int, default=42, help="catalog seed (also the fault seed unless --fault-seed)"
    )
    g.add_argument("--fault-seed", type=int, default=None, help="seed of the per-request fault stream")
    g.add_argument(
        "--movies-per-year", type=int, default=30000, help="movies in a peak year (default 30000)"
    )
    g.add_argument("--first-year", type=int, default=1900)
    g.add_argument("--last-year", type=int, default=2026)
    g.add_argument("--day-cluster", type=float, default=None, help="share of a year's movies dated Jan 1")
    g.add_argument(
        "--rate-limit", type=float, default=None, help="requests/second before 429 (default: none)"
    )
    g.add_argument("--rate-limit-burst", type=float, default=None,
                   help="requests the rate limit lets through at once (default: one second's worth)")
    g.add_argument("--image-rate-limit", type=float, default=None,
                   help="image requests (/t/p/) per second before 429, a bucket of its own (default: none)")
    g.add_argument("--no-retry-after", action="store_true", help="send 429 without a Retry-After header")
    g.add_argument("--latency", type=float, default=d.latency, help="seconds added to every API request")
    g.add_argument("--latency-jitter", type=float, default=d.latency_jitter)
    g.add_argument(
        "--error-rate", type=float, default=d.error_rate, help="fraction answered 500/502/503/504"
    )
    g.add_argument("--hang-rate", type=float, default=d.hang_rate, help="fraction delayed --hang-seconds")
    g.add_argument("--hang-seconds", type=float, default=d.hang_seconds)
    g.add_argument(
        "--drop-rate", type=float, default=d.drop_rate, help="fraction closed without a response"
    )
    g.add_argument(
        "--truncate-rate", type=float, default=d.truncate_rate, help="fraction with truncated JSON"
    )
    g.add_argument(
        "--drift", type=float, default=d.drift, help="popularity noise between discover requests"
    )
    g.add_argument("--page-error-style", choices=["live", "documented"], default=d.page_error_style)
    g.add_argument("--api-key", action="append", default=[], help="accepted v3 api_key (repeatable)")
    g.add_argument("--token", action="append", default=[], help="accepted Bearer token (repeatable)")
    g.add_argument("--as-of", default=None, help="the clock, ISO date/datetime (default 2026-11-01); "
                   "POST /__emulator/clock moves it")
    rates = ChurnRates()
    g.add_argument("--churn-start", default=None, help="base day of the living catalog (default 2026-11-01)")
    g.add_argument("--churn-move", type=float, default=rates.move, help="share of movies whose date moves a day")
    g.add_argument("--churn-delete", type=float, default=rates.delete, help="share of movies deleted a day")
    g.add_argument("--churn-add", type=float, default=rates.add, help="new movies a day, as a share of the catalog")
    g.add_argument("--churn-flip", type=float, default=rates.flip, help="share of movies whose adult/video flips a day")
    g.add_argument("--churn-edit", type=float, default=rates.edit, help="share of movies whose overview changes a day")
    g.add_argument("--churn-poster", type=float, default=rates.poster,
                   help="share of the changes feed's daily changes that bring a new poster (default 0.1)")
    g.add_argument("--export-omit", type=float, default=rates.export_omit,
                   help="share of movies each day's export leaves out by mistake")
    g.add_argument("--export-partial", type=float, default=rates.export_partial,
                   help="probability that a day's export is partial (omits --export-partial-share more)")
    g.add_argument("--export-partial-share", type=float, default=rates.export_partial_share)
    g.add_argument("--no-date-header", action="store_true", help="API responses without a Date header")
    return parser


def options_from_args(args: argparse.Namespace) -> EmulatorOptions:
    """`EmulatorOptions` from arguments added by `add_emulator_arguments`."""
    kwargs: dict[str, Any] = {}
    if args.as_of:
        as_of = dt.datetime.fromisoformat(args.as_of)
        kwargs["as_of"] = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
    return EmulatorOptions(
        seed=args.seed if args.fault_seed is None else args.fault_seed,
        rate_limit=args.rate_limit,
        rate_limit_burst=args.rate_limit_burst,
        image_rate_limit=args.image_rate_limit,
        retry_after=not args.no_retry_after,
        latency=args.latency,
        latency_jitter=args.latency_jitter,
        error_rate=args.error_rate,
        hang_rate=args.hang_rate,
        hang_seconds=args.hang_seconds,
        drop_rate=args.drop_rate,
        truncate_rate=args.truncate_rate,
        drift=args.drift,
        page_error_style=args.page_error_style,
        api_keys=frozenset(args.api_key),
        tokens=frozenset(args.token),
        date_header=not args.no_date_header,
        **kwargs,
    )


def catalog_from_args(args: argparse.Namespace) -> Catalog:
    """`Catalog` from arguments added by `add_emulator_arguments`."""
    kwargs: dict[str, Any] = {}
    if args.churn_start:
        kwargs["churn_start"] = dt.date.fromisoformat(args.churn_start)
    return Catalog(
        seed=args.seed,
        movies_per_year=args.movies_per_year,
        first_year=args.first_year,
        last_year=args.last_year,
        day_cluster=args.day_cluster,
        churn=ChurnRates(move=args.churn_move, delete=args.churn_delete, add=args.churn_add, flip=args.churn_flip,
                         edit=args.churn_edit, poster=args.churn_poster, export_omit=args.export_omit,
                         export_partial=args.export_partial, export_partial_share=args.export_partial_share),
        **kwargs,
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m movie_assets.emulator``."""
    parser = add_emulator_arguments(
        argparse.ArgumentParser(prog="movie_assets.emulator", description="Deterministic TMDb v3 emulator")
    )
    args = parser.parse_args(argv)
    serve(args.host, args.port, catalog_from_args(args), options_from_args(args))
