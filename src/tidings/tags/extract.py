"""Hashtags for an article (people, places, organisations, topics), derived offline from its text.

Why rules and not a model: no NER weights can be had offline, and tagging runs on every ingested
article, so it must be cheap (well under 20 ms for a 1,000-word article). The signals combined:

* names: runs of capitalised words and acronyms (Latin script), split after titles ("Prime
  Minister Fumio Kishida" → person "Fumio Kishida"), classified by the gazetteer and by cheap
  rules (organisation words, place words, "in X", titles, "X said", a surname that recurs alone);
* the alias table (tidings.tags.aliases), so that spellings, romanisations and languages meet on
  one canonical name: U.S./US/United States/미국/米国 are all "United States";
* YAKE keyphrases (title + the first ~2,000 characters only: YAKE is the slow part) for
  lower-case topics such as "escape room", and as a small boost for names it also ranks high;
* Korean and Japanese have no capitals: alias lookups on the text, katakana runs and kanji
  compounds (Japanese) or particle-stripped words (Korean) that recur;
* the feed's own categories, boosted.

Names that recur and names in the title rank first. Fewer than three tags come back only when
the text cannot support three; when in doubt a candidate is left out.

The rules are spread over a few modules: this one holds the public API, text cleaning, merging of
duplicate names, YAKE topics and ranking; tidings.tags.names the Latin-script name rules and kinds;
tidings.tags.cjk Korean and Japanese; tidings.tags.entities the per-article state they share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from tidings.tags import aliases as lex
from tidings.tags.aliases import Kind, alias_key
from tidings.tags.cjk import CJK_CHAR, cjk_names
from tidings.tags.entities import YAKE_TOP, Article, Entity, keyword_extractor, merge, yake_language
from tidings.tags.names import (
    decide_kind,
    find_acronym_expansions,
    find_lowercase_aliases,
    name_shaped,
    scan_names,
)
from tidings.tags.repo import clean_tag_name, tag_slug

__all__ = ["HashtagCandidate", "extract_hashtags"]

YAKE_CHARS = 1500  # title + lead for keyphrases: YAKE is most of the cost (~10 ms at 1,500 characters)
TEXT_CHARS = 12_000  # names past ~2,000 words add little to tags already settled by then
_KIND_BONUS: dict[str, float] = {"person": 0.4, "organisation": 0.3, "place": 0.3, "topic": 0.0}

_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W_](?:[\w&'’\-]*[^\W_])?")
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+")
_CREDIT_LINE = re.compile(
    r"^[ \t]*(?:read more|copyright|©|\(c\)|all rights reserved|reporting by|editing by|writing by|"
    r"additional reporting|follow us|sign up|subscribe|related:|see also|photo:|image:|저작권자|ⓒ|"
    r"무단\s*전재|無断転載).*$",
    re.IGNORECASE | re.MULTILINE,
)
_AGENCY = r"Reuters|AP|AFP|Kyodo|Yonhap|Xinhua|dpa|ANSA|EFE|Bloomberg|UPI|Jiji"
_DATELINE = re.compile(  # "TOKYO, Jan. 5 (Kyodo) -- ", "SEOUL (Reuters) - "
    rf"^\s*[A-Z][A-Z .,'\-]{{2,40}}(?:,\s*[A-Z][a-z]{{2,8}}\.?\s+\d{{1,2}})?\s*(?:\((?:{_AGENCY})\))?\s*"
    r"(?:--|—|–|-)\s+"
)
_CJK_DATELINE = re.compile(
    r"【[^】]{1,20}】|（[^）]{1,10}共同）|\([^()=]{1,15}=[^()]{1,15}\)(?:\s*[가-힣]{2,4}\s*기자\s*=)?"
)
_INLINE_CREDIT = re.compile(rf"\((?:{_AGENCY})\)")


@dataclass(frozen=True)
class HashtagCandidate:
    name: str
    kind: Kind
    score: float


def _base_language(language: str | None, text: str) -> str:
    if language:
        return language.replace("_", "-").split("-")[0].lower()
    sample = text[:600]
    if len(re.findall(r"[\uac00-\ud7a3]", sample)) > 20:
        return "ko"
    if len(re.findall(r"[\u3040-\u30ff]", sample)) > 20:
        return "ja"
    return "zh" if len(re.findall(r"[\u4e00-\u9fff]", sample)) > 40 else "en"


def _clean(text: str) -> str:
    text = _CREDIT_LINE.sub("", _URL.sub(" ", text))
    text = _CJK_DATELINE.sub(" ", _DATELINE.sub("", text, count=1))
    return _INLINE_CREDIT.sub(" ", text)


# --- Merging ------------------------------------------------------------------------------------------


def _core(entity: Entity, article: Article) -> str:
    """The name without common words in front: "Hurricane Humberto" and "Storm Humberto" → "humberto"."""
    words = entity.tokens
    i = 0
    while i < len(words) - 1 and words[i] in article.lower_words:
        i += 1
    core = words[i:]
    if any(
        w not in article.lower_words and w not in lex.ORGANISATION_WORDS and w not in lex.PLACE_WORDS
        for w in core
    ):
        return " ".join(core)
    return entity.key


def _contains(longer: list[str], shorter: list[str]) -> bool:
    n = len(shorter)
    return len(longer) > n and any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _merge_duplicates(article: Article) -> None:
    entities = article.entities
    for acronym, long_key in article.acronym_expansions.items():  # FSB joins Federal Security Service
        if acronym in entities and long_key in entities and acronym != long_key:
            merge(entities[long_key], entities.pop(acronym))
    by_core: dict[str, Entity] = {}
    for entity in sorted(entities.values(), key=lambda e: -e.mentions):
        if not entity.canonical and not entity.acronym:
            core = _core(entity, article)
            if core in by_core:
                merge(by_core[core], entities.pop(entity.key))
            else:
                by_core[core] = entity
    # A word alone is mostly the short form of a longer name in the same article: a surname ("Kishida"
    # for "Fumio Kishida"; first in "Lee Jae-myung") or a first word ("Mahan" for "Mahan Air").
    longer_names = sorted((e for e in entities.values() if len(e.tokens) >= 2), key=lambda e: -e.mentions)
    for entity in list(entities.values()):
        if entity.canonical or entity.acronym or len(entity.tokens) != 1:
            continue
        word = entity.key
        for name in longer_names:
            if (
                name.key not in entities
                or name.kind == "place"
                or word not in (name.tokens[-1], name.tokens[0])
            ):
                continue
            shaped = name_shaped(name, article)
            if entity.votes["place"] and not shaped:
                continue  # "in Cahors" and "Cahors Cathedral" are two things
            merge(name, entities.pop(word))
            if shaped and (word == name.tokens[-1] or len(word) <= 3 or "-" in "".join(name.forms)):
                name.votes["surname"] += 1
            break
    for entity in entities.values():
        entity.kind = decide_kind(entity, article)
    people = [e for e in entities.values() if e.kind == "person" and not e.canonical]
    names = [
        e for e in entities.values() if e.kind == "person" or (not e.canonical and name_shaped(e, article))
    ]
    for short in sorted(people, key=lambda e: len(e.tokens)):
        n = len(short.tokens)
        for longer in names:
            if longer.key in entities and len(longer.tokens) > n and longer.tokens[:n] == short.tokens:
                merge(longer, entities.pop(short.key))  # "John Luk" is "John Luk Jok"
                longer.kind = "person"
                break
    # "Air Force" in "United States Air Force", "House" in "House of Representatives".
    by_length = sorted(entities.values(), key=lambda e: -len(e.tokens))
    for entity in sorted(entities.values(), key=lambda e: len(e.tokens)):
        if entity.canonical or entity.kind in ("person", "place") or entity.key not in entities:
            continue
        words, n = entity.tokens, len(entity.tokens)
        for longer in by_length:
            tokens = longer.tokens
            if len(tokens) <= n or longer.key not in entities or longer.kind == "person":
                continue
            if (tokens[-n:] == words and (n >= 2 or entity.kind == "organisation")) or (
                tokens[:n] == words
                and (tokens[n] in lex.CONNECTORS or all(t in lex.ORGANISATION_WORDS for t in tokens[n:]))
            ):
                merge(longer, entities.pop(entity.key))
                break
    # Spelling variants the key does not absorb: Zelensky/Zelenskyy, Air Force/Air Forces.
    similar = [e for e in entities.values() if not e.canonical and len(e.key) >= 6]
    if len(similar) > 1:
        keys = [e.key for e in similar]
        scores = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=90)
        for i, a in enumerate(similar):
            for j in range(i + 1, len(similar)):
                b = similar[j]
                if scores[i][j] and a.key in entities and b.key in entities and a.kind == b.kind:
                    keep, drop = (a, b) if a.mentions >= b.mentions else (b, a)
                    merge(keep, entities.pop(drop.key))


# --- Topics from YAKE ---------------------------------------------------------------------------------


def _singular(key: str) -> str:
    return " ".join(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in key.split()
    )


def _add_keyphrases(article: Article) -> None:
    language = yake_language(article.language)
    sample = article.body[:YAKE_CHARS]
    sample = sample[: sample.rfind(" ")] if len(article.body) > YAKE_CHARS else sample
    extractor = keyword_extractor(language)
    phrases = extractor.extract_keywords(f"{article.title}.\n{sample}" if article.title else sample)
    lowered = article.text.lower()
    by_form = {_singular(alias_key(f)): e for e in article.entities.values() for f in e.forms}
    for rank, (phrase, _score) in enumerate(phrases):
        weight = 1 - rank / YAKE_TOP
        key = alias_key(phrase)
        canonical = lex.lookup(phrase)
        known = (article.entities.get(alias_key(canonical)) if canonical else None) or by_form.get(
            _singular(key)
        )
        if known is not None:
            known.yake = max(known.yake, weight)
            continue
        words = key.split()
        if any(not w.islower() for w in phrase.split()) and not (
            article.language == "de" and len(words) == 1
        ):
            continue  # names were found by the capitalisation rules already
        if (
            len(words) > 3
            or key in lex.GENERIC_PHRASES
            or key in lex.CREDITS
            or words[0] in lex.GENERIC_WORDS
            or words[-1] in lex.GENERIC_WORDS
            or any(w in lex.TITLE_WORDS for w in words)
            or any(
                w in article.stop or w in lex.WEEKDAYS_AND_MONTHS or not w.replace("-", "").isalpha()
                for w in words
            )
            or (
                len(words) == 1
                and (len(key) < 4 or weight < 0.6 or f" {key} " not in lex.padded_words(article.title))
            )
            or (language == "en" and words[-1].endswith(("ed", "ly")))
        ):
            continue
        pattern = re.compile(r"(?<!\w)" + re.escape(_singular(phrase.lower())) + r"(?:s|es)?(?!\w)")
        mentions = len(pattern.findall(lowered))
        # Without English stopwords and generic words to lean on, other languages need more evidence.
        in_title = f" {key} " in lex.padded_words(article.title)
        if mentions < (3 if len(words) == 1 or (language != "en" and not in_title) else 2):
            continue
        first = pattern.search(lowered)
        entity = article.add(phrase.lower(), first.start() if first else 0, weight=mentions)
        entity.topic, entity.kind, entity.yake = True, "topic", weight
        by_form[_singular(key)] = entity
    # A topic inside a longer one ("white shark" in "great white shark") gives way to it.
    topics = sorted((e for e in article.entities.values() if e.topic), key=lambda e: -len(e.tokens))
    for short in reversed(topics):
        for longer in topics:
            if short.key in article.entities and _contains(
                _singular(longer.key).split(), _singular(short.key).split()
            ):
                longer.mentions = max(longer.mentions, short.mentions)
                longer.yake = max(longer.yake, short.yake)
                del article.entities[short.key]
                break


# --- Ranking -------------------------------------------------------------------------------------------


def _display_name(entity: Entity) -> str:
    if entity.canonical:
        return entity.canonical
    # The fullest form: "Fumio Kishida", not "Kishida"; "Mahan Air", not "Mahan".
    name = max(entity.forms, key=lambda f: (len(f.split()), len(f), entity.forms[f]))
    if name.isupper() and " " in name:
        name = name.title()
    return name[0].upper() + name[1:] if entity.topic else name


def _in_title(entity: Entity, title: str, title_key: str) -> bool:
    forms = set(entity.forms)
    if entity.canonical:
        forms.update(lex.FORMS_OF.get(entity.canonical, ()))
        forms.update(lex.compounds_naming(entity.canonical))
    if entity.kind == "person" and len(entity.tokens) >= 2:
        forms.add(entity.tokens[-1])
    return any(
        (form in title) if CJK_CHAR.search(form) else (lex.padded_words(form) in title_key) for form in forms
    )


def _score(entity: Entity, in_title: bool) -> float:
    return (
        math.log2(1 + entity.mentions)
        + 1.5 * in_title
        + 0.6 * (1 - entity.first)
        + 0.8 * entity.yake
        + _KIND_BONUS[entity.kind or "topic"]
        + 2.0 * entity.category
        - 0.8 * (entity.topic and len(entity.tokens) == 1)  # "fire", "wall": rarely worth a hashtag
    )


def extract_hashtags(
    title: str | None,
    text: str,
    *,
    language: str | None,
    categories: Sequence[str] = (),
    max_tags: int = 8,
    min_tags: int = 3,
) -> list[HashtagCandidate]:
    """Up to `max_tags` hashtags for an article, best first (fewer than `min_tags` only for short texts).

    `language` is the article's language code ("en", "ko", "pt-BR"...), guessed from the script when
    None. A title alone (a feed item without text) still gets tags from its names; nothing at all
    gets none.
    """
    title, text = _clean(title or "").strip(), _clean((text or "")[:TEXT_CHARS]).strip()
    if not title and not text:
        return []
    language = _base_language(language, f"{title} {text}")
    article = Article(title, text, language)
    cjk = language in ("ko", "ja", "zh")
    if cjk:
        cjk_names(article)
        spaced = re.sub(r"[^\x00-\x7f]+", " \n", article.text)  # Latin names inside CJK text
        scan_names(article, spaced, 0, cjk=True)
    else:
        find_acronym_expansions(article)
        find_lowercase_aliases(article)
        title_words = [w for w in _TOKEN.findall(title) if len(w) > 3 and w.lower() not in article.stop]
        capitalised = sum(w[0].isupper() for w in title_words)
        title_case = len(title_words) >= 4 and capitalised >= 0.9 * len(title_words)
        if title and not title_case:  # Title Case Headlines say nothing about which words are names
            scan_names(article, title, 0)
        scan_names(article, text, len(title) + 1 if title else 0)
    _merge_duplicates(article)
    if not cjk and text:
        _add_keyphrases(article)
    for raw in categories:
        name = clean_tag_name(raw)
        if name is None or len(name.split()) > 4:
            continue
        canonical = lex.lookup(name)
        entity = article.entities.get(alias_key(canonical or name)) or article.add(
            name,
            article.length // 2,
            weight=0,
            canonical=canonical,
            kind=lex.KIND_OF[canonical] if canonical else "topic",
        )
        entity.category = True

    title_key = lex.padded_words(title)
    strong, weak = [], []
    for entity in article.entities.values():
        if entity.needs_support and entity.yake == 0:
            continue
        if len(entity.tokens) > 4 and not entity.canonical:
            continue
        if not (entity.any_mid_sentence or entity.canonical or entity.category or entity.votes):
            continue  # only ever capitalised because it starts a sentence
        in_title = bool(title) and _in_title(entity, title, title_key)
        pair = (_score(entity, in_title), entity)
        if entity.mentions >= 2 or in_title or entity.category:
            strong.append(pair)
        elif entity.mentions >= 1 and (entity.kind != "topic" or entity.yake > 0):
            weak.append(pair)
    strong.sort(key=lambda pair: -pair[0])
    weak.sort(key=lambda pair: -pair[0])
    best = strong[0][0] if strong else 0.0
    chosen = [pair for pair in strong if pair[0] >= 0.35 * best or pair[1].category]  # the feed's own words
    if len(chosen) < min_tags and len(text.split()) >= 40:  # long enough to support a few more
        chosen += [pair for pair in strong + weak if pair not in chosen][: min_tags - len(chosen)]
    result: list[HashtagCandidate] = []
    seen: set[str] = set()
    for score, entity in sorted(chosen, key=lambda pair: -pair[0]):
        name = _display_name(entity)
        slug = tag_slug(name)
        if slug in seen or alias_key(name) in lex.GENERIC_PHRASES or alias_key(name) in lex.CREDITS:
            continue
        seen.add(slug)
        result.append(HashtagCandidate(name=name, kind=entity.kind or "topic", score=round(score, 3)))
        if len(result) >= max_tags:
            break
    return result
