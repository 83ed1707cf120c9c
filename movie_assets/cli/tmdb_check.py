"""``movie-assets tmdb check``: the top five popular movies and the configured rate, or a one-line reason."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys

from movie_assets.emulator.connect import open_client
from movie_assets.settings import tmdb_settings_from_env
from movie_assets.tmdb.config import SettingsError, TMDbSettings
from movie_assets.tmdb.errors import TMDbError, display_url, redact


async def _tmdb_check(settings: TMDbSettings) -> int:
    async with open_client(settings) as client:
        data = await client.popular_movies()
        where = "built-in emulator" if settings.uses_emulator else display_url(client.base_url)
        print(f"TMDb reachable at {where}; client rate {client.limiter.target_rate:g} requests/s, "
              f"{settings.max_connections} connections")
        for rank, movie in enumerate(data.get("results", [])[:5], start=1):
            print(f"{rank}. {movie.get('title')} ({(movie.get('release_date') or '????')[:4]}) "
                  f"popularity {movie.get('popularity')}")
    return 0


def tmdb_check(args: argparse.Namespace) -> int:
    """Print the top 5 popular movies and the configured rate; one-line reason and exit 1 on failure."""
    try:
        settings = tmdb_settings_from_env()
        if args.attempts:
            settings = dataclasses.replace(settings, max_attempts=args.attempts)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_tmdb_check(settings))
    except SettingsError as exc:  # e.g. TMDB_RATE_SHARE_FILE cannot be opened
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TMDbError as exc:
        print(f"error: {redact(str(exc), settings.secrets)}", file=sys.stderr)
        return 1


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``tmdb check [--attempts N]`` to the ``movie-assets`` parser."""
    tmdb = subparsers.add_parser("tmdb", help="TMDb access")
    commands = tmdb.add_subparsers(dest="tmdb_command", required=True)
    check = commands.add_parser("check", help="smoke test: top 5 popular movies and the configured rate")
    check.add_argument("--attempts", type=int, default=2, help="attempts per request before giving up (default 2)")
    check.set_defaults(handler=tmdb_check)
    return tmdb
