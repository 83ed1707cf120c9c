"""A movie's appendable sub-resources beyond credits and keywords, and a few odd cases of its base payload.

`build` answers ``release_dates``, ``external_ids``, ``videos``, ``alternative_titles`` and ``translations`` in
TMDb's shapes (appended: without ``id``). Each is drawn from its own per-movie RNG stream (salts 120-124), so
none of them moves a draw of another or of the base payload (drawn in `records` from salts 102-103). All are
pure functions of the seed and the movie's current state, its summary (release date, popularity, adult flag)
and its text record (title, overview as edited, tagline): a moved release date moves the release events and
videos, an overview edit shows in the English translation, and nothing else changes them.

Popular movies get more of everything, as on TMDb (`_fame`); obscure ones often get empty lists. TMDb's odd
cases are kept: certifications often ``""``, null or ``""`` social ids, untranslated fields ``""``, two
countries of one language among the translations, two release events of one type in one country.

`spoken_languages`, `company_country` and `collection_backdrop` add odd cases to fields of the base payload
from streams of their own (salts 125-127), leaving the base draws as they were.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import random
import re
from typing import Any

from . import vocab
from .hashing import mix64, unit
from .images import PATH_COLLECTION, image_path
from .years import MovieSummary

_S_RELEASES, _S_EXTERNAL, _S_VIDEOS, _S_ALT_TITLES, _S_TRANSLATIONS = 120, 121, 122, 123, 124
_S_SPOKEN, _S_COMPANY_BLANK, _S_COLLECTION_ART = 125, 126, 127
_LATEST = 2025  # latest year of an old film's digital or physical release, re-release or uploaded video
_YOUTUBE = dt.date(2006, 1, 1)  # videos of older films were uploaded from here on
_EPOCH = dt.date(1970, 1, 1).toordinal()
_NOT_HANDLE = re.compile(r"[^a-z0-9]")
# Rating level (0 mildest .. 4 strictest, an index into `vocab.CERTIFICATIONS`) by genre; a movie takes its
# strictest genre's.
_GENRE_LEVEL = {16: 0, 10751: 0, 10402: 1, 35: 1, 99: 1, 12: 1, 14: 1, 10770: 1, 80: 3, 53: 3, 10752: 3, 27: 3}
# Days relative to the release date within which each kind of video is published.
_VIDEO_WINDOWS = {
    "Trailer": (-200, 10), "Teaser": (-365, -60), "Clip": (-30, 30), "Featurette": (-30, 90),
    "Behind the Scenes": (-20, 120), "Bloopers": (30, 300),
}
_VIDEO_TYPES = list(vocab.VIDEO_TYPE_WEIGHTS)
_VIDEO_CUM = [sum(list(vocab.VIDEO_TYPE_WEIGHTS.values())[: i + 1]) for i in range(len(_VIDEO_TYPES))]
_COUNTRY_LANGUAGE = {c: lang for lang, cs in reversed(vocab.LANGUAGE_COUNTRIES.items()) for c in cs}
_ALT_COUNTRIES = ["US", "GB", "CA", "AU"] + sorted(c for c, lang in _COUNTRY_LANGUAGE.items() if lang != "en")
_SPOKEN_EXTRA = ["en", "en", "en", "fr", "es", "de", "it", "ru", "ja", "zh", "ar", "pt", "hi", "ko"]


def _sentences(lang: str, count: int, shortest: int, longest: int) -> list[str]:
    """``count`` synthetic sentences in the language's words (never English), drawn once from a fixed stream:
    translations pick whole sentences, which keeps a details answer cheap to build."""
    adjs, nouns, _pattern = vocab.NATIVE_TITLE_WORDS[lang]
    pool = adjs + nouns + 2 * vocab.TRANSLATION_WORDS[lang]
    rng = random.Random(mix64(_S_TRANSLATIONS, *map(ord, lang), shortest))
    space, stop = ("", "。") if lang in ("ja", "zh") else (" ", "।" if lang == "hi" else ".")
    out = []
    for _ in range(count):
        text = space.join(rng.choices(pool, k=rng.randint(shortest, longest)))
        out.append(text[0].upper() + text[1:] + stop)
    return out


_OVERVIEW_SENTENCES = {lang: _sentences(lang, 128, 5, 12) for lang in vocab.NATIVE_TITLE_WORDS}
_TAGLINES = {lang: _sentences(lang, 32, 3, 6) for lang in vocab.NATIVE_TITLE_WORDS}


def _fame(popularity: float) -> float:
    """0 for the obscure .. 1 from a popularity of ~100 on (the median movie is ~0.2, the top 1 % ~0.8)."""
    return min(1.0, math.log10(1.0 + popularity) / 2.0)


def _stamp(day: dt.date, seconds: int = 0) -> str:
    if not seconds:
        return f"{day.isoformat()}T00:00:00.000Z"
    return f"{day.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.000Z"


# Uniform draws as `randint` and `choice` make, from one `random()` call each (several times cheaper).
def _int(rng: random.Random, lo: int, hi: int) -> int:
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, seq: Any) -> Any:
    return seq[int(rng.random() * len(seq))]


def _days(day: dt.date, n: int) -> dt.date:
    return day + dt.timedelta(days=n)


def _no_earlier_than(rng: random.Random, day: dt.date, year: int) -> dt.date:
    """``day``, or the same day of a year in ``[year, _LATEST]`` for an old film's late release."""
    if day.year >= year:
        return day
    return dt.date(_int(rng, year, _LATEST), day.month, min(day.day, 28))


def build(
    seed: int, s: MovieSummary, r: dict[str, Any], payload: dict[str, Any], horizon: dt.date | None = None
) -> dict[str, Any]:
    """The five appends of one movie, keyed by their ``append_to_response`` names. ``payload`` is the movie's
    base details (production countries, imdb id, homepage, runtime); ``horizon`` is the last day a video can
    have been published on (None: no limit)."""
    fame = _fame(s.popularity)
    return {
        "release_dates": release_dates(seed, s, r, payload["origin_country"], fame),
        "external_ids": external_ids(seed, s, r["title"], payload["imdb_id"], fame),
        "videos": videos(seed, s, r["title"], fame, horizon),
        "alternative_titles": alternative_titles(seed, s, r, fame),
        "translations": translations(seed, s, r, payload, fame),
    }


# ---------------------------------------------------------------------- release_dates
def release_dates(
    seed: int, s: MovieSummary, r: dict[str, Any], countries: list[str], fame: float
) -> dict[str, Any]:
    """``{"results": [{"iso_3166_1", "release_dates": [...]}]}`` by country; ``{"results": []}`` when undated.

    The first production country has a theatrical (type 3) release on the movie's release date; a premiere
    (type 1) can come earlier, every other event comes on or after it.
    """
    base = s.release_date
    if base is None:
        return {"results": []}
    rng = random.Random(mix64(seed, _S_RELEASES, s.id))
    level = 4 if s.adult else max((_GENRE_LEVEL.get(g, 2) for g in r["genre_ids"]), default=2)
    if rng.random() < 0.3:
        level = min(4, max(0, level + _pick(rng, (-1, 1))))
    markets = list(countries)
    if rng.random() < 0.1 + 0.8 * fame:
        k = 1 + int(fame * fame * rng.uniform(4, 24))
        markets += [c for c in rng.sample(vocab.RELEASE_MARKETS, k) if c not in markets]
    results = []
    for i, country in enumerate(markets):
        events = _country_events(rng, country, i == 0, base, fame)
        certified = country in vocab.CERTIFICATIONS and rng.random() < 0.25 + 0.6 * fame
        rows = [
            _release_row(rng, country, kind, day, note, level if certified else None, r["original_language"])
            for kind, day, note in sorted(events, key=lambda e: (e[1], e[0]))
        ]
        results.append({"iso_3166_1": country, "release_dates": rows})
    results.sort(key=lambda x: x["iso_3166_1"])
    return {"results": results}


def _country_events(
    rng: random.Random, country: str, home: bool, base: dt.date, fame: float
) -> list[tuple[int, dt.date, str]]:
    """``(type, day, note)`` of one country's releases: a premiere, then a theatrical one (at home: on the
    release date), then digital, physical and TV ones after the country's theatrical date."""
    events: list[tuple[int, dt.date, str]] = []
    festivals = vocab.FESTIVALS.get(country)
    if rng.random() < (0.08 + 0.5 * fame if home else 0.05):
        note = _pick(rng, festivals) if festivals and rng.random() < 0.7 else ""
        events.append((1, _days(base, -_int(rng, 1, 270)), note))
    anchor = base  # the country's theatrical date
    roll = rng.random()
    if home or roll < 0.75:
        delay = 0 if home or roll < 0.25 else _int(rng, 1, 45) if roll < 0.6 else _int(rng, 46, 400)
        anchor = _days(base, delay)
        events.append((3, anchor, ""))
    elif roll < 0.87:
        anchor = _days(base, _int(rng, 0, 60))
        events.append((2, anchor, ""))
    share = 1.0 if home else 0.5
    if rng.random() < (0.15 + 0.5 * fame) * share * (1.0 if base.year >= 2008 else 0.4) or not events:
        day = _no_earlier_than(rng, _days(anchor, _int(rng, 20, 240)), 2008)
        events.append((4, day, _pick(rng, vocab.DIGITAL_NOTES) if rng.random() < 0.35 else ""))
    if rng.random() < (0.1 + 0.4 * fame) * share:
        day = _no_earlier_than(rng, _days(anchor, _int(rng, 60, 365)), 1982)
        formats = ("VHS",) if day.year < 1997 else ("DVD",) if day.year < 2008 else ("DVD", "Blu-ray", "4K UHD")
        events.append((5, day, _pick(rng, formats) if rng.random() < 0.3 else ""))
    if rng.random() < (0.05 + 0.1 * fame) * share:
        events.append((6, _days(anchor, _int(rng, 180, 1500)), ""))
    if home and base.year <= _LATEST - 5 and rng.random() < 0.04 + 0.1 * fame:
        years = _int(rng, 5, min(40, _LATEST - base.year))  # a re-release: a second type-3 event
        events.append((3, _days(base, 365 * years + _int(rng, 0, 60)), _pick(rng, vocab.RERELEASE_NOTES)))
    return events


def _release_row(
    rng: random.Random, country: str, kind: int, day: dt.date, note: str, level: int | None, language: str
) -> dict[str, Any]:
    certification = ""
    descriptors: list[str] = []
    if level is not None and kind != 1 and (kind <= 3 or rng.random() < 0.5):
        certification = vocab.CERTIFICATIONS[country][level]
        if country == "GB" and certification == "12A" and kind > 3:
            certification = "12"  # 12A is for cinemas only
        elif country == "US" and rng.random() < 0.04:
            certification = "NR"
        if country == "BR" and rng.random() < 0.5:
            descriptors = rng.sample(vocab.BR_DESCRIPTORS, _int(rng, 1, 3))
    return {
        "certification": certification,
        "descriptors": descriptors,
        "iso_639_1": language if rng.random() < 0.04 else "",
        "note": note,
        "release_date": _stamp(day),
        "type": kind,
    }


# ---------------------------------------------------------------------- external_ids
def external_ids(seed: int, s: MovieSummary, title: str, imdb_id: str | None, fame: float) -> dict[str, Any]:
    """``{imdb_id, wikidata_id, facebook_id, instagram_id, twitter_id}``: null when unknown (now and then
    ``""``, as TMDb); wikidata ids for a share of movies, social handles for fewer, both more when popular.
    They do not depend on the release date, so a moved date leaves them as they were."""
    rng = random.Random(mix64(seed, _S_EXTERNAL, s.id))
    handle = _NOT_HANDLE.sub("", title.lower())[:18] or "movie"
    social = 0.02 + 0.6 * fame * fame  # (popularity already favours recent films, the ones with handles)
    ids: dict[str, Any] = {
        "imdb_id": imdb_id,
        "wikidata_id": f"Q{_int(rng, 10_000, 125_000_000)}" if rng.random() < 0.2 + 0.75 * fame else None,
        "facebook_id": f"{handle}{_pick(rng, ('', 'movie', 'film', 'TheMovie'))}" if rng.random() < social else None,
        "instagram_id": f"{handle}{_pick(rng, ('', 'movie', 'film'))}" if rng.random() < 0.8 * social else None,
        "twitter_id": f"{handle[:10]}{_pick(rng, ('', 'Movie', 'Film'))}" if rng.random() < 0.7 * social else None,
    }
    for key in ("wikidata_id", "facebook_id", "instagram_id", "twitter_id"):
        if ids[key] is None and rng.random() < 0.03:
            ids[key] = ""
    return ids


# ---------------------------------------------------------------------- videos
def videos(seed: int, s: MovieSummary, title: str, fame: float, horizon: dt.date | None) -> dict[str, Any]:
    """``{"results": [...]}``, newest first: trailers, teasers, clips, featurettes … published around the
    release date (an old film's later, from 2006 on); none for many movies and for undated ones."""
    base = s.release_date
    if base is None:
        return {"results": []}
    h = mix64(seed, _S_VIDEOS, s.id)
    if (h >> 11) / 2.0**53 >= (0.08 + 0.85 * fame) * (1.0 if base.year >= 1990 else 0.5):
        return {"results": []}  # decided from the hash: most movies need no generator at all
    rng = random.Random(h)
    results = []
    for _ in range(min(25, 1 + int(rng.expovariate(1.0 / (0.5 + 6 * fame))))):
        kind = rng.choices(_VIDEO_TYPES, cum_weights=_VIDEO_CUM)[0]
        day = _days(base, _int(rng, *_VIDEO_WINDOWS[kind]))
        if day < _YOUTUBE:
            day = dt.date(_int(rng, 2006, _LATEST), _int(rng, 1, 12), _int(rng, 1, 28))
        seconds = int(rng.random() * 86400)
        vimeo = rng.random() < 0.04
        bits = rng.getrandbits(64).to_bytes(8, "big")  # 11 base64 characters, as a YouTube id
        key = str(_int(rng, 10**7, 10**9)) if vimeo else base64.urlsafe_b64encode(bits).decode()[:11]
        sizes = (1080, 1080, 1080, 2160, 720) if day.year >= 2016 else (1080, 720) if day.year >= 2010 else (720, 480)
        size = _pick(rng, sizes)
        official = rng.random() < (0.85 if kind in ("Trailer", "Teaser") else 0.65)
        # TMDb's video ids are MongoDB ObjectIds: the first 4 bytes are the time the video was added.
        added = (day.toordinal() - _EPOCH) * 86400 + seconds + _int(rng, 600, 30 * 86400)
        video = {
            "iso_639_1": "en",
            "iso_3166_1": "US" if rng.random() < 0.9 else _pick(rng, ("GB", "CA", "AU")),
            "name": _pick(rng, vocab.VIDEO_NAMES[kind]).format(title=title),
            "key": key,
            "site": "Vimeo" if vimeo else "YouTube",
            "size": size,
            "type": kind,
            "official": official,
            "published_at": _stamp(day, seconds),
            "id": f"{added & 0xFFFFFFFF:08x}{rng.getrandbits(64):016x}",
        }
        if horizon is None or day <= horizon:  # else not published yet; drawn anyway, so no other video moves
            results.append(video)
    results.sort(key=lambda v: v["published_at"], reverse=True)
    return {"results": results}


# ---------------------------------------------------------------------- alternative_titles
def alternative_titles(seed: int, s: MovieSummary, r: dict[str, Any], fame: float) -> dict[str, Any]:
    """``{"titles": [{"iso_3166_1", "title", "type"}]}``: native titles abroad and English variants; ``type``
    mostly ``""``; none for many movies."""
    h = mix64(seed, _S_ALT_TITLES, s.id)
    if (h >> 11) / 2.0**53 >= 0.2 + 0.6 * fame:
        return {"titles": []}
    rng = random.Random(h)
    title = r["title"]
    year = f" ({s.release_date.year})" if s.release_date else ""
    titles: list[dict[str, str]] = []
    for _ in range(min(20, 1 + int(rng.expovariate(1.0 / (0.5 + 5 * fame))))):
        country = _pick(rng, _ALT_COUNTRIES)
        kind = "" if rng.random() < 0.75 else _pick(rng, vocab.ALT_TITLE_TYPES)
        words = vocab.NATIVE_TITLE_WORDS.get(_COUNTRY_LANGUAGE[country])
        if words is not None:
            adjs, nouns, pattern = words
            alt = pattern.format(a=_pick(rng, adjs), n=_pick(rng, nouns))
        elif kind == "working title":
            alt = f"Untitled {vocab.GENRE_NAMES[_pick(rng, r['genre_ids'] or [18])]} Project"
        else:
            alt = _pick(rng, (f"{title}: The Movie", f"{title}{year}", title.upper(), title.replace(" ", "")))
        entry = {"iso_3166_1": country, "title": alt, "type": kind}
        if alt != title and entry not in titles:
            titles.append(entry)
    return {"titles": titles}


# ---------------------------------------------------------------------- translations
def translations(
    seed: int, s: MovieSummary, r: dict[str, Any], payload: dict[str, Any], fame: float
) -> dict[str, Any]:
    """``{"translations": [...]}``: en-US (the base payload's current title, overview, tagline, homepage and
    runtime) first, then the original language's (in the first production country), then other locales."""
    rng = random.Random(mix64(seed, _S_TRANSLATIONS, s.id))
    english = {
        "iso_3166_1": "US",
        "iso_639_1": "en",
        "name": "English",
        "english_name": "English",
        "data": {
            "homepage": payload["homepage"],
            "overview": r["overview"],
            "runtime": payload["runtime"],
            "tagline": r["tagline"],
            "title": r["title"],
        },
    }
    lang = r["original_language"]
    locales: list[tuple[str, str]] = []
    if lang != "en":
        home = payload["origin_country"][0] if payload["origin_country"] else vocab.LANGUAGE_COUNTRIES[lang][0]
        locales.append((lang, "RU" if home == "SU" else home))
    scale = 0.3 + 1.5 * fame
    for locale, share in vocab.TRANSLATION_LOCALES.items():
        if rng.random() < share * scale and locale not in locales:
            locales.append(locale)
    out = [english]
    for i, (language, country) in enumerate(locales):
        out.append(_translation(rng, language, country, lang == language and i == 0, r, payload))
    return {"translations": out}


def _translation(
    rng: random.Random, lang: str, country: str, original: bool, r: dict[str, Any], payload: dict[str, Any]
) -> dict[str, Any]:
    english_name, native_name = vocab.LANGUAGE_NAMES[lang]
    adjs, nouns, pattern = vocab.NATIVE_TITLE_WORDS[lang]
    if original:  # "" when the original title is the English one: TMDb leaves an untranslated field empty
        title = r["original_title"] if r["original_title"] != r["title"] and rng.random() < 0.85 else ""
    else:
        title = pattern.format(a=_pick(rng, adjs), n=_pick(rng, nouns)) if rng.random() < 0.75 else ""
    translated = rng.random() < (0.9 if original else 0.7)
    overview = _prose(rng, _OVERVIEW_SENTENCES, lang, _int(rng, 2, 4)) if translated else ""
    tagline = _prose(rng, _TAGLINES, lang, 1) if r["tagline"] and rng.random() < 0.4 else ""
    homepage = f"{payload['homepage']}{lang}/" if payload["homepage"] and rng.random() < 0.3 else ""
    return {
        "iso_3166_1": country,
        "iso_639_1": lang,
        "name": native_name,
        "english_name": english_name,
        "data": {
            "homepage": homepage,
            "overview": overview,
            "runtime": payload["runtime"] if rng.random() < 0.5 else 0,
            "tagline": tagline,
            "title": title,
        },
    }


def _prose(rng: random.Random, table: dict[str, list[str]], lang: str, sentences: int) -> str:
    """``sentences`` sentences of ``table[lang]``, joined as the language writes them."""
    return ("" if lang in ("ja", "zh") else " ").join(_pick(rng, table[lang]) for _ in range(sentences))


# ---------------------------------------------------------------------- odd cases of the base payload
def spoken_languages(seed: int, movie_id: int, lang: str) -> list[dict[str, str]]:
    """The movie's spoken languages: its original language, for ~15 % of movies with one or two others, and
    for ~2 % none at all (as TMDb)."""
    h = mix64(seed, _S_SPOKEN, movie_id)
    roll = (h & 0xFFFF) / 65536.0
    if roll < 0.02:
        return []
    codes = [lang]
    if roll < 0.17:
        for k in range(1 + (h >> 16) % 2):
            other = _SPOKEN_EXTRA[(h >> (20 + 8 * k)) % len(_SPOKEN_EXTRA)]
            if other not in codes:
                codes.append(other)
    out = []
    for code in codes:
        english, native = vocab.LANGUAGE_NAMES.get(code, ("English", "English"))
        out.append({"english_name": english, "iso_639_1": code, "name": native})
    return out


def company_country(seed: int, company: int, country: str) -> str:
    """A production company's origin country: ``""`` for ~10 % of companies (TMDb does not know it)."""
    return "" if unit(seed, _S_COMPANY_BLANK, company) < 0.1 else country


def collection_backdrop(seed: int, collection_id: int) -> str | None:
    """A collection's backdrop: an image for ~60 % of collections, else null."""
    if unit(seed, _S_COLLECTION_ART, collection_id) < 0.6:
        return image_path(seed, PATH_COLLECTION, collection_id + 1)
    return None
