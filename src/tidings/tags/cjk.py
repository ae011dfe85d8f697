"""Korean and Japanese, which have no capitals for tidings.tags.names to go by.

Known names are found by substring against the alias table; beyond those, Korean words are
stripped of their particles and Japanese katakana runs and kanji compounds are cut out, and the
words that recur (or stand before a title) become candidates. Chinese gets known names only.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from tidings.tags import aliases as lex
from tidings.tags.aliases import Kind
from tidings.tags.entities import Article, merge

_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc\u30fb]{3,}")
_KANJI = re.compile(r"[\u4e00-\u9fff\u3005\u3006\u30f6]{2,}")
CJK_CHAR = re.compile(  # any kana, CJK ideograph or Hangul syllable: a form to match by substring
    r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]"
)


@lru_cache(maxsize=1)
def _cjk_alias_pattern() -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(lex.cjk_forms(), key=len, reverse=True))))


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _cjk_aliases(article: Article) -> str:
    """Count known names by substring (Japanese has no spaces); return the text with them blanked."""
    text, forms = article.text, lex.cjk_forms()
    pieces, last = [], 0
    for match in _cjk_alias_pattern().finditer(text):
        form, start, end = match.group(0), match.start(), match.end()
        if _is_hangul(form[0]) and form not in lex.COMPOUNDS:
            # Korean words are spaced: 인도적 is not 인도, 한국전쟁 is not 한국; a particle may follow.
            after = text[end : end + 3]
            if (start and _is_hangul(text[start - 1])) or (
                after[:1] and _is_hangul(after[0]) and not after.startswith(lex.KO_PARTICLES)
            ):
                continue
        for canonical in forms[form]:
            article.add_known(canonical, start)
        pieces.append(text[last:start] + "\x00" * (end - start))  # blanked, but not a space: no adjacency
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _korean_stems(words: list[str]) -> list[str]:
    """Strip particles: always 은/는/을/를 and the longer ones; 이/가/의/와/과/도... only when the word
    without it occurs too, since many nouns end in those syllables (가미카와, 민주주의)."""
    sure = set(words)
    for word in words:
        for particle in lex.KO_PARTICLES:
            if (
                particle not in lex.KO_AMBIGUOUS_PARTICLES
                and word.endswith(particle)
                and len(word) > len(particle) + 1
            ):
                sure.add(word[: -len(particle)])
                break
    stems = []
    for word in words:
        stem = word
        for particle in lex.KO_PARTICLES:
            base = word[: -len(particle)]
            if (
                word.endswith(particle)
                and len(base) >= 2
                and (particle not in lex.KO_AMBIGUOUS_PARTICLES or base in sure)
            ):
                stem = base
                break
        stems.append(stem)
    return stems


def _korean_words(masked: str) -> list[tuple[str, int, Kind | None, str | None]]:
    matches = list(_HANGUL.finditer(masked))
    stems = _korean_stems([m.group(0) for m in matches])
    words = [(stem, m.start(), m.end()) for stem, m in zip(stems, matches, strict=True)]
    found: list[tuple[str, int, Kind | None, str | None]] = []
    for i, (stem, start, end) in enumerate(words):
        if (
            not 2 <= len(stem) <= 8
            or stem in lex.KO_STOPWORDS
            or stem in lex.KO_TITLES
            or stem.endswith(lex.KO_PREDICATE_ENDINGS)
        ):
            continue
        following = [w for w, s, _ in words[i + 1 : i + 3] if not masked[end:s].strip()]
        vote = None  # "박진 외교부 장관": a name before a title, maybe with the ministry between
        if following and (
            following[0] in lex.KO_TITLES
            or (
                len(following) > 1
                and following[0].endswith(("부", "청", "당"))
                and following[1] in lex.KO_TITLES
            )
        ):
            vote = "person"
        kind: Kind | None = None
        if stem in lex.KO_ORGANISATIONS or (len(stem) >= 3 and stem.endswith(lex.KO_ORGANISATION_SUFFIXES)):
            kind = "organisation"
        found.append((stem, start, kind, vote))
    return found


def _japanese_words(masked: str) -> list[tuple[str, int, Kind | None, str | None]]:
    found: list[tuple[str, int, Kind | None, str | None]] = []
    for match in _KATAKANA.finditer(masked):
        word = match.group(0).strip("・")
        if len(word) >= 3 and set(word) != {"ー"} and word not in lex.JA_STOPWORDS:
            after = masked[match.end() : match.end() + 4]
            found.append(
                (word, match.start(), None, "person" if after.startswith(lex.JA_PERSON_SUFFIXES) else None)
            )
    for match in _KANJI.finditer(masked):
        word = match.group(0)
        kind: Kind | None = None
        vote: str | None = None
        suffix = next((x for x in lex.JA_PERSON_SUFFIXES if word.endswith(x)), None)
        if suffix and 2 <= len(word) - len(suffix) <= 4:  # 林芳正官房長官 → 林芳正
            word, vote = word[: -len(suffix)], "person"
        elif word.endswith(lex.JA_ORGANISATION_SUFFIXES):
            kind = "organisation"
        elif word.endswith(lex.JA_PLACE_SUFFIXES) and len(word) >= 3:
            kind = "place"
        if len(word) <= 6 and word not in lex.JA_STOPWORDS:
            found.append((word, match.start(), kind, vote))
    return found


def cjk_names(article: Article) -> None:
    masked = _cjk_aliases(article)
    if article.language not in ("ko", "ja"):
        return  # Chinese: known names only, words are not delimited
    found = _korean_words(masked) if article.language == "ko" else _japanese_words(masked)
    counts = Counter(word for word, _, _, _ in found)
    marked = {word for word, _, kind, vote in found if vote or kind}
    for word, start, kind, vote in found:
        # Recurring words only; a two-character compound is so often generic that it must recur thrice.
        if word in marked or counts[word] >= (3 if len(word) == 2 else 2):
            entity = article.add(word, start, vote=vote, kind=kind)
            entity.kind = entity.kind or kind
    # 上川外相 and 上川陽子外相 are one person: the shorter name starts the longer one.
    people = sorted(
        (e for e in article.entities.values() if e.votes["person"] and not e.canonical),
        key=lambda e: len(e.key),
    )
    for i, short in enumerate(people):
        longer = next(
            (p for p in people[i + 1 :] if p.key.startswith(short.key) and p.key in article.entities), None
        )
        if longer is not None:
            merge(longer, article.entities.pop(short.key))
