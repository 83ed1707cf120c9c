"""The languages a lake keeps its movies' text in (``MOVIE_ASSETS_LANGUAGES``), recorded in
``state/languages.json``.

The primary language is TMDb's default answer language, English: ``title`` and ``overview`` are in it. Every
other language listed adds ``title_<tag>``/``overview_<tag>`` columns to `movies` (read from the details
call's ``translations`` append, which is then asked for) and their ``…_fallback`` flags. The year build reads
the recorded list, so every process builds the same columns; a changed list changes the year files' build
fingerprint, and the next reconciliation rebuilds every year with the new columns (no request: translations
stored before are used; movies whose payload predates the append fall back to English, flagged, until their
next refetch).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from movie_assets.lake.files import write_json_atomic
from movie_assets.lake.paths import Lake, LakeError

PRIMARY_LANGUAGE = "en"
LANGUAGES_ENV = "MOVIE_ASSETS_LANGUAGES"
_TAG = re.compile(r"[a-z]{2}(-[A-Z]{2})?")


def parse_languages(raw: str, setting: str = LANGUAGES_ENV) -> tuple[str, ...]:
    """A comma-separated list of ISO 639-1 codes, optionally with an ISO 3166-1 country (``de,pt-BR``) → the
    languages, primary first, each once; a bad entry raises ValueError naming ``setting``."""
    tags = [t.strip() for t in raw.split(",") if t.strip()]
    for tag in tags:
        if not _TAG.fullmatch(tag):
            raise ValueError(f"{setting}: {tag!r} is not a language code like 'de' or 'pt-BR' (ISO 639-1, "
                             "optionally -ISO 3166-1)")
    return tuple(dict.fromkeys([PRIMARY_LANGUAGE, *tags]))


def translated(languages: Iterable[str]) -> tuple[str, ...]:
    """The languages other than the primary one."""
    return tuple(tag for tag in languages if tag != PRIMARY_LANGUAGE)


def lake_languages(lake: Lake) -> tuple[str, ...]:
    """The languages recorded for ``lake`` (only the primary one when none are)."""
    path = languages_file(lake)
    if not path.exists():
        return (PRIMARY_LANGUAGE,)
    try:
        return parse_languages(",".join(json.loads(path.read_text())["languages"]), str(path))
    except (ValueError, KeyError, TypeError) as exc:
        raise LakeError(f"{path} is unreadable ({exc}); delete it and set {LANGUAGES_ENV} again") from None


def record_languages(lake: Lake, languages: tuple[str, ...]) -> bool:
    """Record ``languages`` for ``lake`` (atomically, only when they change); whether they changed."""
    if lake_languages(lake) == languages:
        return False
    languages_file(lake).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic({"languages": list(languages)}, languages_file(lake))
    return True


def languages_file(lake: Lake) -> Path:
    return lake.state_dir / "languages.json"

