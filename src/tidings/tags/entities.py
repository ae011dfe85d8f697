"""What the hashtag rules gather about one article, shared by the Latin-script and CJK passes.

`Article` holds the text and the candidate `Entity` records that tidings.tags.names and
tidings.tags.cjk fill in and tidings.tags.extract merges and ranks; it lives apart so that those
modules need not import one another. YAKE's per-language extractor lives here too, since the
article's stopword list comes from it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

import yake

from tidings.tags import aliases as lex
from tidings.tags.aliases import Kind, alias_key

YAKE_TOP = 20
# Stopword lists shipped with yake 0.7.3 (it looks them up by the first two letters of `lan`).
_YAKE_LANGUAGES = lex.words(
    "ar bg br cz da de el en es et fa fi fr hi hr hu hy id it ja lt lv nl no pl pt ro ru"
)
_YAKE_LANGUAGES |= lex.words("sk sl sv tr uk zh")
_YAKE_RENAMED = {"cs": "cz", "nb": "no", "nn": "no"}

_LOWER_WORD = re.compile(r"(?<![\w'’\-])[a-zß-öø-ÿ][a-zß-öø-ÿ'’\-]*(?![\w'’\-])")


@dataclass
class Entity:
    """Everything gathered about one name (or topic) while reading the article."""

    key: str
    canonical: str | None = None  # from the alias table: fixes name and kind
    kind: Kind | None = None
    forms: Counter[str] = field(default_factory=Counter)
    mentions: float = 0.0
    first: float = 1.0  # relative position of the first mention
    votes: Counter[str] = field(default_factory=Counter)  # person / speaker / surname / place
    any_mid_sentence: bool = False
    needs_support: bool = False  # a German capitalised noun: kept only if YAKE ranks it too
    acronym: bool = False
    topic: bool = False
    yake: float = 0.0
    category: bool = False

    @property
    def tokens(self) -> list[str]:
        return self.key.split()


class Article:
    """One article being tagged: its cleaned text, language, and the entities found so far."""

    def __init__(self, title: str, body: str, language: str) -> None:
        self.title, self.body, self.language = title, body, language
        self.text = f"{title}\n{body}" if title else body
        self.length = max(len(self.text), 1)
        self.entities: dict[str, Entity] = {}
        self.acronym_expansions: dict[str, str] = {}
        self.lower_words = set(_LOWER_WORD.findall(self.text))
        self.stop = _stopwords(yake_language(language))

    def add(
        self,
        surface: str,
        position: int,
        *,
        weight: float = 1.0,
        canonical: str | None = None,
        kind: Kind | None = None,
        vote: str | None = None,
        mid_sentence: bool = True,
        key: str | None = None,
    ) -> Entity:
        key = key or alias_key(canonical or surface)
        entity = self.entities.get(key)
        if entity is None:
            entity = self.entities[key] = Entity(key=key, canonical=canonical, kind=kind)
        entity.forms[canonical or surface] += 1
        entity.mentions += weight
        entity.first = min(entity.first, position / self.length)
        entity.any_mid_sentence |= mid_sentence
        if vote:
            entity.votes[vote] += 1
        return entity

    def add_known(self, canonical: str, position: int, weight: float = 1.0) -> None:
        self.add(canonical, position, weight=weight, canonical=canonical, kind=lex.KIND_OF[canonical])


@cache
def keyword_extractor(language: str) -> yake.KeywordExtractor:
    """One YAKE extractor per language, built on first use (it reads its stopword list from disk)."""
    return yake.KeywordExtractor(lan=language, n=3, top=YAKE_TOP)


@cache
def _stopwords(language: str) -> frozenset[str]:
    words = set(keyword_extractor(language).stopword_set) | set(keyword_extractor("en").stopword_set)
    return frozenset(w for w in words if w)


def yake_language(language: str) -> str:
    code = _YAKE_RENAMED.get(language, language)
    return code if code in _YAKE_LANGUAGES and code not in ("ja", "zh") else "en"


def merge(into: Entity, other: Entity) -> None:
    into.forms.update(other.forms)
    into.mentions += other.mentions
    into.first = min(into.first, other.first)
    into.any_mid_sentence |= other.any_mid_sentence
    into.votes.update(other.votes)
    into.yake = max(into.yake, other.yake)
    into.category |= other.category
