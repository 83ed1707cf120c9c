"""A deterministic TMDb v3 emulator (aiohttp) over a lazily generated movie catalog.

Use `running_emulator` in-process (tests, the pipeline without credentials) or ``movie-assets emulator``
(``python -m movie_assets.emulator``) standalone.
"""

from .catalog import Catalog
from .churn import ChurnRates
from .options import EmulatorOptions
from .runner import RemoteEmulator, RunningEmulator, emulator_process, running_emulator, serve
from .server import build_app
from .years import MovieSummary

__all__ = [
    "Catalog",
    "ChurnRates",
    "EmulatorOptions",
    "MovieSummary",
    "RemoteEmulator",
    "RunningEmulator",
    "emulator_process",
    "build_app",
    "running_emulator",
    "serve",
]
