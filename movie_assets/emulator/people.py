"""The person pool (actors, directors, other crew) and the cast and crew of a movie.

Person ids are ``1000 + 3 * k + role`` (role 0 actor, 1 director, 2 other crew; ``k`` below the role's pool
size). A person is a pure function of the seed and the id, so the same people recur across movies; picks
favour the low ``k`` (a few prolific people, a long tail).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
from functools import lru_cache
from typing import Any

from . import vocab
from .hashing import mix64
from .images import PATH_PROFILE, image_path

_S_PERSON = 105  # salt of the person stream (the catalog's streams are salted 101-108, one per purpose)
_ORIGINS = list(vocab.PERSON_ORIGIN_WEIGHTS)
_ORIGIN_CUM = list(itertools.accumulate(vocab.PERSON_ORIGIN_WEIGHTS.values()))


def _credit_id(seed: int, movie_id: int, person_id: int, slot: int) -> str:
    return hashlib.blake2b(f"{seed}:{movie_id}:{person_id}:{slot}".encode(), digest_size=12).hexdigest()


class PersonPool:
    """The people of a catalog of ``total_movies`` movies (pools scale with the catalog)."""

    def __init__(self, seed: int, total_movies: int) -> None:
        self.seed = seed
        # Pool sizes by role: actors, directors, other crew.
        self._sizes = (max(300, total_movies // 4), max(100, total_movies // 12), max(200, total_movies // 3))
        self._cache = lru_cache(maxsize=65536)(self._make)

    def person(self, person_id: int) -> dict[str, Any] | None:
        """A person of the pool (actor, director or other crew), or None."""
        if person_id < 1000:
            return None
        k, role = divmod(person_id - 1000, 3)
        if k >= self._sizes[role]:
            return None
        return self._cache(person_id)

    def _make(self, person_id: int) -> dict[str, Any]:
        role = (person_id - 1000) % 3  # 0 actor, 1 director, 2 other crew
        h = mix64(self.seed, _S_PERSON, person_id)
        origin = _ORIGINS[bisect.bisect_right(_ORIGIN_CUM, (h & 0xFFFF) / 65536.0 * _ORIGIN_CUM[-1])]
        given_pool, family_pool, cjk = vocab.PERSON_NAMES[origin]
        given, family = given_pool[(h >> 16) % len(given_pool)], family_pool[(h >> 24) % len(family_pool)]
        original = f"{family[1]}{given[1]}" if cjk else f"{given[1]} {family[1]}"
        g = (h >> 32) % 100
        gender = 0 if g < 12 else 1 if g < 52 else 2 if g < 99 else 3
        if role == 0:
            dept = "Acting"
        elif role == 1:
            dept = "Directing"
        else:
            dept = vocab.CREW_JOBS[(h >> 40) % len(vocab.CREW_JOBS)][2]
        has_profile = ((h >> 48) & 0xFF) < (153 if role == 0 else 90)
        gauss = (((h >> 56) & 0xFF) + ((h >> 8) & 0xFF) + ((h >> 36) & 0xFF)) / 255.0 - 1.5  # ~N(0, 0.5)
        return {
            "adult": False,
            "gender": gender,
            "id": person_id,
            "known_for_department": dept,
            "name": f"{given[0]} {family[0]}",
            "original_name": original,
            "popularity": round(0.6 + math.exp(2.0 * gauss), 3),
            "profile_path": image_path(self.seed, PATH_PROFILE, person_id) if has_profile else None,
        }

    def _pick(self, rng: random.Random, role: int) -> int:
        k = int(self._sizes[role] * rng.random() ** 2.2)
        return 1000 + 3 * k + role

    def credits(self, movie_id: int, rng: random.Random, genre_ids: list[int]) -> dict[str, Any]:
        """``{"cast": [...], "crew": [...]}`` of a movie, drawn from its per-movie ``rng``."""
        cast: list[dict[str, Any]] = []
        no_cast = 0.6 if 99 in genre_ids else 0.22
        if rng.random() >= no_cast:
            n = min(30, 1 + int(rng.lognormvariate(1.8, 0.8)))
            seen: set[int] = set()
            for _ in range(n):
                pid = self._pick(rng, 0)
                if pid in seen:
                    continue
                seen.add(pid)
                order = len(cast)
                cast.append(
                    {
                        **self._cache(pid),
                        "cast_id": order + 1,
                        "character": rng.choice(vocab.CHARACTER_NAMES),
                        "credit_id": _credit_id(self.seed, movie_id, pid, 0),
                        "order": order,
                    }
                )
        crew: list[dict[str, Any]] = []
        n_directors = rng.choices([0, 1, 2], weights=[0.09, 0.85, 0.06])[0]
        people: list[tuple[int, str, str]] = [
            (self._pick(rng, 1), "Director", "Directing") for _ in range(n_directors)
        ]
        for _ in range(rng.randint(0, 6)):
            job, dept, _known = rng.choice(vocab.CREW_JOBS)
            people.append((self._pick(rng, 2), job, dept))
        seen_jobs: set[tuple[int, str]] = set()
        for j, (pid, job, dept) in enumerate(people):
            if (pid, job) in seen_jobs:
                continue
            seen_jobs.add((pid, job))
            crew.append(
                {
                    **self._cache(pid),
                    "credit_id": _credit_id(self.seed, movie_id, pid, j + 1),
                    "department": dept,
                    "job": job,
                }
            )
        return {"cast": cast, "crew": crew}
