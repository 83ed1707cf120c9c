"""``movie-assets emulator``: serve the built-in TMDb emulator in the foreground, with its catalog and fault
knobs as options (`movie_assets.emulator.command`)."""

from __future__ import annotations

import argparse

from movie_assets.emulator.command import add_emulator_arguments, catalog_from_args, options_from_args
from movie_assets.emulator.runner import serve


def run_emulator(args: argparse.Namespace) -> int:
    """Serve the emulator in the foreground until Ctrl-C."""
    serve(args.host, args.port, catalog_from_args(args), options_from_args(args))
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``emulator [options]`` to the ``movie-assets`` parser."""
    parser = subparsers.add_parser("emulator", help="serve the built-in TMDb emulator over HTTP")
    add_emulator_arguments(parser)
    parser.set_defaults(handler=run_emulator)
    return parser
