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
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import yake
from rapidfuzz import fuzz, process

from tidings.tags import aliases as lex
from tidings.tags.aliases import Kind, alias_key
from tidings.tags.repo import clean_tag_name, tag_slug

__all__ = ["HashtagCandidate", "extract_hashtags"]

YAKE_CHARS = 1500  # title + lead for keyphrases: YAKE is most of the cost (~10 ms at 1,500 characters)
TEXT_CHARS = 12_000  # names past ~2,000 words add little to tags already settled by then
YAKE_TOP = 20
# Stopword lists shipped with yake 0.7.3 (it looks them up by the first two letters of `lan`).
_YAKE_LANGUAGES = lex.words(
    "ar bg br cz da de el en es et fa fi fr hi hr hu hy id it ja lt lv nl no pl pt ro ru"
)
_YAKE_LANGUAGES |= lex.words("sk sl sv tr uk zh")
_YAKE_RENAMED = {"cs": "cz", "nb": "no", "nn": "no"}
_KIND_BONUS: dict[str, float] = {"person": 0.4, "organisation": 0.3, "place": 0.3, "topic": 0.0}

_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W_](?:[\w&'’\-]*[^\W_])?")
_LOWER_WORD = re.compile(r"(?<![\w'’\-])[a-zß-öø-ÿ][a-zß-öø-ÿ'’\-]*(?![\w'’\-])")


def _upper_letters() -> str:
    """A character class of the capital letters (Latin, Greek, Cyrillic): `re` has no \\p{Lu}."""
    codes = [c for c in range(0x530) if chr(c).isupper()]
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in ranges)


_UP = _upper_letters()
_CAPITALISED = (
    rf"(?:[A-Z]\.){{2,}}|(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|St|Prof|Jr|Sr|Mt|Mme|[{_UP}])\.(?=[ \t]+[{_UP}])"
    rf"|[{_UP}][\w&\-]*(?:['’](?![sS]\b)\w+)*"
)
# A name: capitalised words, possibly joined by "of", "von der"... ("Bank of Japan"); a possessive ends it.
# It may follow an apostrophe: "l'Union", "dell'Ucraina".
_RUN = re.compile(
    rf"(?<![\w.])(?:{_CAPITALISED})(?:[ \t\u00a0]+(?:(?:{'|'.join(sorted(lex.CONNECTORS, key=len, reverse=True))})"
    rf"[ \t\u00a0]+){{0,2}}(?:{_CAPITALISED}))*"
)
_ELISION = re.compile(r"(?:[LlDd]|[Dd]ell|[Aa]ll|[Nn]ell|[Ss]ull|[Dd]all|[Uu]n|[Qq]u)['’](?=\w)")
_PREVIOUS = re.compile(r"([\w'’\-.]+)?([^\w]*)$")
_FOLLOWING = re.compile(r"[ \t]+([\w'’\-]+)")
_ACRONYM = re.compile(r"(?:[A-Z]\.){2,}|[A-Z][A-Z0-9&\-]{1,6}")
_PARENTHESISED_ACRONYM = re.compile(
    r"((?:[A-Z][\w'’\-]+\s+(?:(?:of|for|the|and|on|de|del|des|du|la|di|der|für)\s+)*){1,5}[A-Z][\w'’\-]+)"
    r"\s+\(([A-Z][A-Za-z0-9&.]{1,7})\)"
)
_ABBREVIATIONS = lex.words("mr mrs ms dr sen rep gov gen lt col sgt st prof jr sr mt m mme no vs")
_SENTENCE_END = re.compile(r"[.!?:;\"“”«»]\s*$|\n")
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
_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc\u30fb]{3,}")
_KANJI = re.compile(r"[\u4e00-\u9fff\u3005\u3006\u30f6]{2,}")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")


@dataclass(frozen=True)
class HashtagCandidate:
    name: str
    kind: Kind
    score: float


@dataclass
class _Entity:
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


class _Article:
    def __init__(self, title: str, body: str, language: str) -> None:
        self.title, self.body, self.language = title, body, language
        self.text = f"{title}\n{body}" if title else body
        self.length = max(len(self.text), 1)
        self.entities: dict[str, _Entity] = {}
        self.acronym_expansions: dict[str, str] = {}
        self.lower_words = set(_LOWER_WORD.findall(self.text))
        self.stop = _stopwords(_yake_language(language))

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
    ) -> _Entity:
        key = key or alias_key(canonical or surface)
        entity = self.entities.get(key)
        if entity is None:
            entity = self.entities[key] = _Entity(key=key, canonical=canonical, kind=kind)
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
def _keyword_extractor(language: str) -> yake.KeywordExtractor:
    """One YAKE extractor per language, built on first use (it reads its stopword list from disk)."""
    return yake.KeywordExtractor(lan=language, n=3, top=YAKE_TOP)


@cache
def _stopwords(language: str) -> frozenset[str]:
    words = set(_keyword_extractor(language).stopword_set) | set(_keyword_extractor("en").stopword_set)
    return frozenset(w for w in words if w)


def _yake_language(language: str) -> str:
    code = _YAKE_RENAMED.get(language, language)
    return code if code in _YAKE_LANGUAGES and code not in ("ja", "zh") else "en"


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


def _is_title_word(word: str) -> bool:
    low = word.lower().rstrip(".")
    return low in lex.TITLE_WORDS or (len(low) > 8 and low.endswith(lex.TITLE_ENDINGS))


def _is_acronym(word: str) -> bool:
    return bool(_ACRONYM.fullmatch(word)) and sum(c.isalpha() for c in word) >= 2


# --- Latin script: capitalised runs ------------------------------------------------------------------


def _scan_names(article: _Article, text: str, offset: int, *, cjk: bool = False) -> None:
    """Find capitalised runs and acronyms in `text` (which starts at `offset` in the article)."""
    for match in _RUN.finditer(text):
        start, end = match.span()
        previous = _PREVIOUS.search(text, max(0, start - 60), start)
        previous_word, gap = (previous.group(1), previous.group(2)) if previous else (None, "")
        ends_sentence = "\n" in gap or bool(_SENTENCE_END.search(gap))
        if previous_word and previous_word.lower() in _ABBREVIATIONS and gap.strip() == ".":
            ends_sentence = False
        initial = not cjk and (previous_word is None or ends_sentence)
        following = _FOLLOWING.match(text, end, end + 40)
        run: list[tuple[str, int, bool]] = []
        cursor = start
        for word in match.group(0).split():
            cursor = text.index(word, cursor)
            run.append((word, offset + cursor, initial and not run))
        before = [previous_word] if previous_word and not gap.strip() else []
        parts = _split_run(run)
        for i, part in enumerate(parts):
            next_word = following.group(1) if following and i == len(parts) - 1 else "of"
            _take_run(article, part, before if i == 0 else ["of"], next_word)


def _split_run(run: list[tuple[str, int, bool]]) -> list[list[tuple[str, int, bool]]]:
    """Split "Saturno de General Motors" and "L'Aeronautica" but keep "Bank of Japan", "Vincent van Gogh"."""
    words = [w for w, _, _ in run]
    # Italian/French elision: "L'Aeronautica" → "Aeronautica"; "L'ordine di Air India" → "Air India".
    elided = _ELISION.match(words[0])
    if elided:
        rest = words[0][elided.end() :]
        run = ([(rest, run[0][1] + elided.end(), run[0][2])] if rest[:1].isupper() else []) + run[1:]
        words = [w for w, _, _ in run]
    if not run or lex.lookup(" ".join(words)) is not None:
        return [run] if run else []
    for i in range(1, len(words) - 1):
        if words[i] not in lex.CONNECTORS or words[i - 1] in lex.CONNECTORS:
            continue
        j = i
        while j < len(words) and words[j] in lex.CONNECTORS:
            j += 1
        head = words[i - 1].lower()
        if (
            head in lex.ORGANISATION_WORDS
            or head in lex.PLACE_WORDS
            or head in lex.OF_HEADS
            or _is_title_word(head)
            or (words[i] in lex.NAME_PARTICLES and j == len(words) - 1)
        ):
            continue
        return [run[:i], *_split_run(run[j:])]
    return [run]


def _droppable_start(word: str, initial: bool, article: _Article) -> bool:
    """Capitalised only because it starts the sentence ("The", "On Monday", "Die"), or a date."""
    low = word.lower()
    if low in lex.WEEKDAYS_AND_MONTHS or low in lex.CONNECTORS:
        return True
    if word.isupper():
        return False
    return low in lex.NOT_NAMES or (
        initial and (low in article.stop or low in article.lower_words or low in lex.ARTICLES)
    )


def _take_run(
    article: _Article, run: list[tuple[str, int, bool]], before: list[str], next_word: str | None
) -> None:
    # A whole run can be a known name even when its first word is a stopword ("Stati Uniti", "New York").
    if (canonical := lex.lookup(" ".join(w for w, _, _ in run))) is not None:
        article.add_known(canonical, run[0][1])
        return
    while run and (
        _droppable_start(run[0][0], run[0][2], article)
        or (run[0][0].lower() in lex.ARTICLES and len(run) > 2)
    ):
        run = run[1:]
    while run and (
        run[-1][0] in lex.CONNECTORS
        or (
            len(run) > 1
            and (run[-1][0].lower() in lex.WEEKDAYS_AND_MONTHS or run[-1][0].lower() in lex.NOT_NAMES)
        )
    ):
        run = run[:-1]  # "approaching Bermuda Wednesday", "Steve Jobs Credit: Apple"
    if not run:
        return
    words = [w for w, _, _ in run]
    position, initial = run[0][1], run[0][2]
    vote = None
    if before and _is_title_word(before[-1]):
        vote = "person"
    elif (before and before[-1] in lex.SAID_WORDS) or next_word in lex.SAID_WORDS:
        vote = "speaker"
    elif before and before[-1].lower() in lex.PLACE_PREPOSITIONS:
        vote = "place"
    titled = [i for i, w in enumerate(words) if _is_title_word(w)]
    # "Prime Minister Fumio Kishida" → Fumio Kishida; but "Democratic Party", "Foreign Ministry" stay whole.
    if titled and not any(w.lower() in lex.ORGANISATION_WORDS for w in words[titled[-1] + 1 :]):
        cut = titled[-1] + 1
        connectors = [i for i, w in enumerate(words) if i >= cut and w in lex.CONNECTORS]
        if connectors:  # "Prime Minister of Slovakia Igor Matovič": the name is the end
            cut = max(connectors[-1] + 1, len(words) - 2)
        head, run = words[:cut], run[cut:]
        _known_parts(article, head, position, whole=True)
        if not run or len(run) > 3:
            return
        # "Governor of Puerto Rico": what follows "of" is the office's domain, not its holder.
        vote = None if connectors and cut == connectors[-1] + 1 else "person"
        words, position, initial = [w for w, _, _ in run], run[0][1], False
    surface = " ".join(words)
    key = alias_key(surface)
    if (canonical := lex.lookup(surface)) is not None:
        article.add_known(canonical, position)
        return
    if (country := lex.DEMONYM_KEYS.get(key)) is not None:
        article.add_known(country, position, weight=0.5)
        return
    if (
        vote != "person"
        and next_word
        and next_word.islower()
        and next_word not in lex.SAID_WORDS
        and surface.lower().endswith(lex.ADJECTIVE_ENDINGS)
        and _adjective(article, surface, position)
    ):
        return  # "Cuban authorities", "Martian brines": an adjective, at most evidence for its place
    if len(words) > 4 or (len(words) > 1 and surface.isupper()):  # too long, or an all-capitals header
        _known_parts(article, words, position, whole=False)
        return
    if key in lex.CREDITS or key in lex.GENERIC_PHRASES or key in lex.WEEKDAYS_AND_MONTHS:
        return
    if len(words) == 1:
        low = surface.lower()
        if _is_acronym(surface):
            if low not in lex.NOT_NAMES and low not in lex.CREDITS:
                article.add(surface, position, vote=vote).acronym = True
            return
        if (
            low in article.stop
            or low in lex.NOT_NAMES
            or low in lex.BARE_INSTITUTIONS
            or low in lex.GENERIC_WORDS
            or _is_title_word(surface)
            or low in article.lower_words
            or len(surface) < 3
            or surface.isupper()
        ):
            return
    else:
        _known_parts(article, words, position, whole=False)
        for n in (2, 1):
            if (
                len(words) > n
                and (place := lex.lookup(" ".join(words[:n])))
                and lex.KIND_OF[place] == "place"
            ):
                remainder = words[n:]
                if len(remainder) >= 2 and not any(w.lower() in lex.ORGANISATION_WORDS for w in remainder):
                    # "EEUU Barack Obama", "U.S. Federal Reserve": a place, then another name.
                    article.add_known(place, position)
                    _take_run(article, run[n:], [], next_word)
                    return
                key = alias_key(" ".join([place, *remainder]))  # "U.S. Congress" is "United States Congress"
                break
    if len(words) == 3 and len(words[1]) == 2 and words[1].endswith("."):
        key = alias_key(f"{words[0]} {words[2]}")  # "Richard K. Guy" is "Richard Guy"
    entity = article.add(surface, position, vote=vote, mid_sentence=not initial, key=key)
    if len(words) == 1 and article.language == "de" and vote is None:
        entity.needs_support = True  # German capitalises every noun


def _adjective(article: _Article, surface: str, position: int) -> bool:
    """Count "Cuban" for Cuba; True when `surface` is taken for an adjective (and so is no name)."""
    for word in dict.fromkeys((surface, surface.split()[-1])):  # "Muslim-majority African"
        for stem in (word[:-1], word[:-2], word[:-3], word[:-3] + "a"):
            if (canonical := lex.lookup(stem) or lex.DEMONYM_KEYS.get(alias_key(word))) is not None:
                article.add_known(canonical, position, weight=0.5)
                return True
            if (entity := article.entities.get(alias_key(stem))) is not None:
                article.add(stem, position, weight=0.5, key=entity.key)
                return True
    return not surface.lower().endswith("an")  # "Milan police", "Jordan said" may well be names


def _known_parts(article: _Article, words: list[str], position: int, *, whole: bool) -> None:
    """Known places and nationalities inside a longer run ("Japanese Foreign Minister") as half mentions."""
    n, i = len(words), 0
    while i < n:
        for j in range(min(n, i + 4), i, -1):
            if not whole and i == 0 and j == n:
                continue
            span = " ".join(words[i:j])
            place = lex.lookup(span) or lex.DEMONYM_KEYS.get(alias_key(span))
            if place is not None and lex.KIND_OF[place] == "place":
                article.add_known(place, position, weight=0.5)
                i = j
                break
        else:
            i += 1


@cache
def _lowercase_aliases() -> re.Pattern[str]:
    """Known names with a lower-case word, which capitalised runs cannot find: "Union européenne"."""
    forms = [
        form
        for forms in lex.FORMS_OF.values()
        for form in forms
        if not _CJK_CHAR.search(form)
        and any(w[0].islower() and w not in lex.CONNECTORS for w in form.split()[1:])
    ]
    return re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(forms, key=len, reverse=True))) + r")(?!\w)"
    )


def _find_lowercase_aliases(article: _Article) -> None:
    for match in _lowercase_aliases().finditer(article.text):
        if (canonical := lex.lookup(match.group(0))) is not None:
            article.add_known(canonical, match.start())


def _find_acronym_expansions(article: _Article) -> None:
    """ "Federal Security Service (FSB)": later mentions of FSB count for the long name."""
    for match in _PARENTHESISED_ACRONYM.finditer(article.body):
        long_form = match.group(1).split()
        while long_form and (_is_title_word(long_form[0]) or long_form[0].lower() in ("the", "a", "an")):
            long_form = long_form[1:]
        if 2 <= len(long_form) <= 6:
            article.acronym_expansions[alias_key(match.group(2))] = alias_key(" ".join(long_form))


# --- Kinds and merging --------------------------------------------------------------------------------


def _name_shaped(entity: _Entity, article: _Article) -> bool:
    """Two or three capitalised words that are not common words, places or institutions."""
    words = max(entity.forms, key=lambda f: (len(f.split()), entity.forms[f])).split()
    return 2 <= len(words) <= 3 and all(
        w[0].isupper()
        and (not w.isupper() or (len(w) == 2 and w.endswith(".")))  # "Richard K. Guy"
        and w.lower() not in article.lower_words
        and w.lower() not in article.stop
        and w.lower() not in lex.ORGANISATION_WORDS
        and w.lower() not in lex.PLACE_WORDS
        and w.lower() not in lex.COMPASS_WORDS
        and lex.lookup(w) is None
        for w in words
    )


def _decide_kind(entity: _Entity, article: _Article) -> Kind:
    if entity.kind is not None:
        return entity.kind
    words, votes = entity.tokens, entity.votes
    if any(w in lex.ORGANISATION_WORDS for w in words):
        return "organisation"
    if any(w in lex.PLACE_WORDS for w in words) or (
        words[0] in lex.COMPASS_WORDS and lex.lookup(" ".join(words[1:])) is not None
    ):
        return "place"
    if votes["person"] or (not entity.acronym and votes["surname"] and _name_shaped(entity, article)):
        return "person"
    if words[0] in lex.FIRST_NAMES and _name_shaped(entity, article):
        return "person"  # "Ron Perlman", "Richard K. Guy"
    if not entity.acronym and (
        votes["speaker"] >= 2 if len(words) == 1 else votes["speaker"] and _name_shaped(entity, article)
    ):
        return "person"  # "Smith said", "said Jane Doe"
    if votes["place"] and len(words) == 1 and not entity.acronym:
        return "place"
    return "organisation" if entity.acronym else "topic"


def _merge(into: _Entity, other: _Entity) -> None:
    into.forms.update(other.forms)
    into.mentions += other.mentions
    into.first = min(into.first, other.first)
    into.any_mid_sentence |= other.any_mid_sentence
    into.votes.update(other.votes)
    into.yake = max(into.yake, other.yake)
    into.category |= other.category


def _core(entity: _Entity, article: _Article) -> str:
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


def _merge_duplicates(article: _Article) -> None:
    entities = article.entities
    for acronym, long_key in article.acronym_expansions.items():  # FSB joins Federal Security Service
        if acronym in entities and long_key in entities and acronym != long_key:
            _merge(entities[long_key], entities.pop(acronym))
    by_core: dict[str, _Entity] = {}
    for entity in sorted(entities.values(), key=lambda e: -e.mentions):
        if not entity.canonical and not entity.acronym:
            core = _core(entity, article)
            if core in by_core:
                _merge(by_core[core], entities.pop(entity.key))
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
            shaped = _name_shaped(name, article)
            if entity.votes["place"] and not shaped:
                continue  # "in Cahors" and "Cahors Cathedral" are two things
            _merge(name, entities.pop(word))
            if shaped and (word == name.tokens[-1] or len(word) <= 3 or "-" in "".join(name.forms)):
                name.votes["surname"] += 1
            break
    for entity in entities.values():
        entity.kind = _decide_kind(entity, article)
    people = [e for e in entities.values() if e.kind == "person" and not e.canonical]
    names = [
        e for e in entities.values() if e.kind == "person" or (not e.canonical and _name_shaped(e, article))
    ]
    for short in sorted(people, key=lambda e: len(e.tokens)):
        n = len(short.tokens)
        for longer in names:
            if longer.key in entities and len(longer.tokens) > n and longer.tokens[:n] == short.tokens:
                _merge(longer, entities.pop(short.key))  # "John Luk" is "John Luk Jok"
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
                _merge(longer, entities.pop(entity.key))
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
                    _merge(keep, entities.pop(drop.key))


# --- Topics from YAKE ---------------------------------------------------------------------------------


def _singular(key: str) -> str:
    return " ".join(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in key.split()
    )


def _add_keyphrases(article: _Article) -> None:
    language = _yake_language(article.language)
    sample = article.body[:YAKE_CHARS]
    sample = sample[: sample.rfind(" ")] if len(article.body) > YAKE_CHARS else sample
    extractor = _keyword_extractor(language)
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


# --- Korean and Japanese -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _cjk_alias_pattern() -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(lex.cjk_forms(), key=len, reverse=True))))


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _cjk_aliases(article: _Article) -> str:
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


def _cjk_names(article: _Article) -> None:
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
            _merge(longer, article.entities.pop(short.key))


# --- Ranking -------------------------------------------------------------------------------------------


def _display_name(entity: _Entity) -> str:
    if entity.canonical:
        return entity.canonical
    # The fullest form: "Fumio Kishida", not "Kishida"; "Mahan Air", not "Mahan".
    name = max(entity.forms, key=lambda f: (len(f.split()), len(f), entity.forms[f]))
    if name.isupper() and " " in name:
        name = name.title()
    return name[0].upper() + name[1:] if entity.topic else name


def _in_title(entity: _Entity, title: str, title_key: str) -> bool:
    forms = set(entity.forms)
    if entity.canonical:
        forms.update(lex.FORMS_OF.get(entity.canonical, ()))
        forms.update(lex.compounds_naming(entity.canonical))
    if entity.kind == "person" and len(entity.tokens) >= 2:
        forms.add(entity.tokens[-1])
    return any(
        (form in title) if _CJK_CHAR.search(form) else (lex.padded_words(form) in title_key) for form in forms
    )


def _score(entity: _Entity, in_title: bool) -> float:
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
    article = _Article(title, text, language)
    cjk = language in ("ko", "ja", "zh")
    if cjk:
        _cjk_names(article)
        spaced = re.sub(r"[^\x00-\x7f]+", " \n", article.text)  # Latin names inside CJK text
        _scan_names(article, spaced, 0, cjk=True)
    else:
        _find_acronym_expansions(article)
        _find_lowercase_aliases(article)
        title_words = [w for w in _TOKEN.findall(title) if len(w) > 3 and w.lower() not in article.stop]
        capitalised = sum(w[0].isupper() for w in title_words)
        title_case = len(title_words) >= 4 and capitalised >= 0.9 * len(title_words)
        if title and not title_case:  # Title Case Headlines say nothing about which words are names
            _scan_names(article, title, 0)
        _scan_names(article, text, len(title) + 1 if title else 0)
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
