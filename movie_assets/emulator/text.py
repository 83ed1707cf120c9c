"""A movie's generated words: title, overview, tagline and keywords, drawn from its genres' vocabularies.

Every function draws from the caller's per-movie ``random.Random``, so the call order is part of the output.
"""

from __future__ import annotations

import random
import re
from typing import Any

from . import vocab

_ARTICLE = re.compile(r"\b([Aa]) ([aeiouAEIOU])")


def _vocab_of(
    rng: random.Random, genre_ids: list[int]
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    return vocab.GENRE_VOCAB[rng.choice(genre_ids)]


def make_title(rng: random.Random, genre_ids: list[int]) -> str:
    """A title in one of six patterns ("The <Adj> <Noun>", "<Name>'s <Noun>", …), now and then a sequel's."""
    nouns, adjs, _events, _settings, keywords = _vocab_of(rng, genre_ids)
    noun = rng.choice(nouns).title()
    adj = rng.choice(adjs).title()
    pattern = rng.randrange(6)
    if pattern == 0:
        title = f"The {adj} {noun}"
    elif pattern == 1:
        title = f"{adj} {rng.choice(keywords).title()}"
    elif pattern == 2:
        title = f"{noun} of the {rng.choice(_vocab_of(rng, genre_ids)[0]).title()}"
    elif pattern == 3:
        title = f"{rng.choice(vocab.CHARACTER_NAMES[:16])}'s {noun}"
    elif pattern == 4:
        title = f"{adj} {noun}s"
    else:
        title = rng.choice(keywords).title()
    if rng.random() < 0.05:
        title += f" {rng.choice([2, 3, 'II', 'Returns', ': The Beginning'])}".replace(" :", ":")
    return title


def make_overview(rng: random.Random, genre_ids: list[int]) -> str:
    """Two to four templated sentences."""
    sentences = []
    for _ in range(rng.randint(2, 4)):
        nouns, adjs, events, settings, _kw = _vocab_of(rng, genre_ids)
        template = rng.choice(vocab.OVERVIEW_TEMPLATES)
        setting = rng.choice(settings)
        sentence = template.format(
            adj=rng.choice(adjs),
            noun=rng.choice(nouns),
            noun2=rng.choice(nouns),
            event=rng.choice(events),
            setting=setting,
            Setting=setting[0].upper() + setting[1:],
        )
        sentence = _ARTICLE.sub(r"\1n \2", sentence)
        sentences.append(sentence[0].upper() + sentence[1:])
    return " ".join(sentences)


def make_tagline(rng: random.Random, genre_ids: list[int]) -> str:
    """One templated tagline."""
    nouns, adjs, *_ = _vocab_of(rng, genre_ids)
    adj = rng.choice(adjs)
    return rng.choice(vocab.TAGLINE_TEMPLATES).format(noun=rng.choice(nouns), adj=adj, Adj=adj.title())


def _keyword_table() -> dict[str, int]:
    names: list[str] = []
    for _gid, (*_, keywords) in vocab.GENRE_VOCAB.items():
        names.extend(k for k in keywords if k not in names)
    names.extend(k for k in vocab.GENERIC_KEYWORDS if k not in names)
    return {name: 1000 + 37 * i for i, name in enumerate(names)}


_KEYWORD_IDS = _keyword_table()


def make_keywords(rng: random.Random, genre_ids: list[int]) -> list[dict[str, Any]]:
    """Up to ten ``{"id", "name"}`` keywords (none for ~20 % of movies), mostly from the genres' lists."""
    if rng.random() < 0.2:
        return []
    chosen: list[str] = []
    for _ in range(rng.randint(1, 10)):
        pool = (
            vocab.GENERIC_KEYWORDS
            if not genre_ids or rng.random() < 0.15
            else vocab.GENRE_VOCAB[rng.choice(genre_ids)][4]
        )
        name = rng.choice(pool)
        if name not in chosen:
            chosen.append(name)
    return [{"id": _KEYWORD_IDS[name], "name": name} for name in chosen]
