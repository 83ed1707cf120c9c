"""Per-movie payloads: the static text record of a movie, its discover item and its full details.

All are pure functions of the seed and a movie's summary: the record draws from a per-movie text RNG, the
details (budget, runtime, companies, credits, keywords, …) from a per-movie details RNG, in a fixed order. The
other appends (release dates, external ids, videos, alternative titles, translations) come from `appends`,
each from a stream of its own.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

from . import appends, vocab
from .hashing import mix64
from .images import PATH_BACKDROP, PATH_LOGO, PATH_POSTER, image_path
from .people import PersonPool
from .text import make_keywords, make_overview, make_tagline, make_title
from .years import MovieSummary

# Salts of the per-movie streams (the catalog's streams are salted 101-108, one per purpose).
_S_TEXT, _S_CREDITS = 102, 103
_S_COMPANY = 77  # salt of the per-company stream (name, logo, country), keyed by company index
_CUMULATIVE: dict[int, tuple[list[Any], list[float]]] = {}


def _weighted_choice(rng: random.Random, weights: dict[str, float] | dict[int, float]) -> Any:
    table = _CUMULATIVE.get(id(weights))
    if table is None:
        keys = list(weights)
        table = _CUMULATIVE[id(weights)] = (keys, list(itertools.accumulate(weights[k] for k in keys)))
    return rng.choices(table[0], cum_weights=table[1])[0]


def make_record(seed: int, movie_id: int) -> dict[str, Any]:
    """The static text fields of a movie (a function of its id alone): genres, language, titles, overview,
    tagline, image paths."""
    rng = random.Random(mix64(seed, _S_TEXT, movie_id))
    genre_ids: list[int] = []
    if rng.random() > 0.05:
        for _ in range(rng.choices([1, 2, 3], weights=[0.45, 0.38, 0.17])[0]):
            g = _weighted_choice(rng, vocab.GENRE_WEIGHTS)
            if g not in genre_ids:
                genre_ids.append(g)
    lang = _weighted_choice(rng, vocab.LANGUAGE_WEIGHTS)
    vocab_genres = genre_ids or [18]
    title = make_title(rng, vocab_genres)
    original_title = title
    if lang != "en" and lang in vocab.NATIVE_TITLE_WORDS and rng.random() < 0.7:
        adjs, nouns, pattern = vocab.NATIVE_TITLE_WORDS[lang]
        original_title = pattern.format(a=rng.choice(adjs), n=rng.choice(nouns))
    overview = "" if rng.random() < 0.15 else make_overview(rng, vocab_genres)
    tagline = make_tagline(rng, vocab_genres) if rng.random() < 0.35 else ""
    return {
        "genre_ids": genre_ids,
        "original_language": lang,
        "original_title": original_title,
        "title": title,
        "overview": overview,
        "tagline": tagline,
        "poster_path": None if rng.random() < 0.13 else image_path(seed, PATH_POSTER, movie_id),
        "backdrop_path": None if rng.random() < 0.5 else image_path(seed, PATH_BACKDROP, movie_id),
    }


def discover_item(s: MovieSummary, r: dict[str, Any], popularity: float | None = None) -> dict[str, Any]:
    """A discover/popular result item (exactly TMDb's 14 keys); ``popularity`` overrides the summary's."""
    return {
        "adult": s.adult,
        "backdrop_path": r["backdrop_path"],
        "genre_ids": list(r["genre_ids"]),
        "id": s.id,
        "original_language": r["original_language"],
        "original_title": r["original_title"],
        "overview": r["overview"],
        "popularity": s.popularity if popularity is None else round(popularity, 3),
        "poster_path": r["poster_path"],
        "release_date": s.release_date.isoformat() if s.release_date else "",
        "title": r["title"],
        "video": s.video,
        "vote_average": s.vote_average,
        "vote_count": s.vote_count,
    }


def details(
    seed: int,
    s: MovieSummary,
    r: dict[str, Any],
    revision: int,
    people: PersonPool,
    company_pool: int,
    horizon: dt.date | None = None,
    collection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Full ``/movie/{id}`` payload plus every appendable sub-object: ``credits``, ``keywords``,
    ``release_dates``, ``external_ids``, ``videos``, ``alternative_titles``, ``translations``.

    A nonzero ``revision`` shifts vote_count / vote_average / popularity; ``company_pool`` is the number of
    distinct production companies; ``horizon`` is the last day a video can have been published on;
    ``collection`` is the movie's ``belongs_to_collection`` (`franchises`: shared by the movies of a franchise).
    """
    movie_id = s.id
    rng = random.Random(mix64(seed, _S_CREDITS, movie_id))
    lang = r["original_language"]
    countries = sorted(
        {rng.choice(vocab.LANGUAGE_COUNTRIES.get(lang, ["US"])) for _ in range(rng.choice([1, 1, 1, 2]))}
    )
    popularity, vote_count, vote_average = s.popularity, s.vote_count, s.vote_average
    if revision:
        h = mix64(seed, movie_id, revision)
        vote_count += revision * (1 + movie_id % 4)
        popularity = round(popularity * (0.85 + 0.3 * ((h & 0xFFFF) / 0xFFFF)), 3)
        base = vote_average if vote_average > 0 else 6.0
        vote_average = round(min(10.0, max(0.5, base + ((h >> 16) % 11 - 5) / 50)), 3)
    has_budget = rng.random() < 0.2
    budget = int(round(rng.lognormvariate(15.5, 1.3), -3)) if has_budget else 0
    revenue = int(round(budget * rng.lognormvariate(0.6, 1.0), -3)) if has_budget and rng.random() < 0.7 else 0
    runtime = 0 if rng.random() < 0.08 else max(3, min(240, int(rng.gauss(95, 22))))
    status = "Released"
    roll = rng.random()
    if s.release_date is None or s.release_date > dt.date(2026, 11, 1):
        status = rng.choice(["Post Production", "In Production", "Planned"])
    elif roll < 0.01:
        status = "Rumored"
    elif roll < 0.015:
        status = "Canceled"
    rng.random()  # once decided a one-movie collection; still drawn so that every later draw stays as it was
    companies = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        k = int(company_pool * rng.random() ** 2)
        crng = random.Random(mix64(seed, _S_COMPANY, k))
        companies.append(
            {
                "id": 100 + 13 * k,
                "logo_path": image_path(seed, PATH_LOGO, k, "png") if crng.random() < 0.5 else None,
                "name": f"{crng.choice(vocab.COMPANY_WORDS)} {crng.choice(vocab.COMPANY_SUFFIXES)}",
                "origin_country": appends.company_country(
                    seed, k, crng.choice(vocab.LANGUAGE_COUNTRIES.get(lang, ["US"]))
                ),
            }
        )
    imdb_id = f"tt{(movie_id * 7919) % 9_000_000 + 100_000:07d}" if rng.random() < 0.75 else None
    slug = "".join(c for c in r["title"].lower() if c.isalnum())[:24] or "movie"
    payload: dict[str, Any] = {
        "adult": s.adult,
        "backdrop_path": r["backdrop_path"],
        "belongs_to_collection": collection,
        "budget": budget,
        "genres": [{"id": g, "name": vocab.GENRE_NAMES[g]} for g in r["genre_ids"]],
        "homepage": f"https://www.{slug}.example/" if rng.random() < 0.15 else "",
        "id": movie_id,
        "imdb_id": imdb_id,
        "origin_country": countries,
        "original_language": lang,
        "original_title": r["original_title"],
        "overview": r["overview"],
        "popularity": popularity,
        "poster_path": r["poster_path"],
        "production_companies": companies,
        "production_countries": [{"iso_3166_1": c, "name": vocab.COUNTRY_NAMES.get(c, c)} for c in countries],
        "release_date": s.release_date.isoformat() if s.release_date else "",
        "revenue": revenue,
        "runtime": runtime,
        "spoken_languages": appends.spoken_languages(seed, movie_id, lang),
        "status": status,
        "tagline": r["tagline"],
        "title": r["title"],
        "video": s.video,
        "vote_average": vote_average,
        "vote_count": vote_count,
    }
    payload["credits"] = people.credits(movie_id, rng, r["genre_ids"])
    payload["keywords"] = {"keywords": make_keywords(rng, r["genre_ids"])}
    payload.update(appends.build(seed, s, r, payload, horizon))
    return payload
