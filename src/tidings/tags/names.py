"""Names in Latin-script text: capitalised runs and acronyms, and the kind each name is given.

The heaviest set of rules behind tidings.tags.extract, kept apart: finding runs of capitalised
words, splitting them after titles and at connectors, dropping words capitalised only because they
start a sentence, and deciding whether what is left is a person, a place or an organisation.
"""

from __future__ import annotations

import re
from functools import cache

from tidings.tags import aliases as lex
from tidings.tags.aliases import Kind, alias_key
from tidings.tags.cjk import CJK_CHAR
from tidings.tags.entities import Article, Entity


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


def _is_title_word(word: str) -> bool:
    low = word.lower().rstrip(".")
    return low in lex.TITLE_WORDS or (len(low) > 8 and low.endswith(lex.TITLE_ENDINGS))


def _is_acronym(word: str) -> bool:
    return bool(_ACRONYM.fullmatch(word)) and sum(c.isalpha() for c in word) >= 2


# --- Latin script: capitalised runs ------------------------------------------------------------------


def scan_names(article: Article, text: str, offset: int, *, cjk: bool = False) -> None:
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


def _droppable_start(word: str, initial: bool, article: Article) -> bool:
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
    article: Article, run: list[tuple[str, int, bool]], before: list[str], next_word: str | None
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


def _adjective(article: Article, surface: str, position: int) -> bool:
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


def _known_parts(article: Article, words: list[str], position: int, *, whole: bool) -> None:
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
        if not CJK_CHAR.search(form)
        and any(w[0].islower() and w not in lex.CONNECTORS for w in form.split()[1:])
    ]
    return re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(forms, key=len, reverse=True))) + r")(?!\w)"
    )


def find_lowercase_aliases(article: Article) -> None:
    for match in _lowercase_aliases().finditer(article.text):
        if (canonical := lex.lookup(match.group(0))) is not None:
            article.add_known(canonical, match.start())


def find_acronym_expansions(article: Article) -> None:
    """ "Federal Security Service (FSB)": later mentions of FSB count for the long name."""
    for match in _PARENTHESISED_ACRONYM.finditer(article.body):
        long_form = match.group(1).split()
        while long_form and (_is_title_word(long_form[0]) or long_form[0].lower() in ("the", "a", "an")):
            long_form = long_form[1:]
        if 2 <= len(long_form) <= 6:
            article.acronym_expansions[alias_key(match.group(2))] = alias_key(" ".join(long_form))


# --- Kinds --------------------------------------------------------------------------------------------


def name_shaped(entity: Entity, article: Article) -> bool:
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


def decide_kind(entity: Entity, article: Article) -> Kind:
    if entity.kind is not None:
        return entity.kind
    words, votes = entity.tokens, entity.votes
    if any(w in lex.ORGANISATION_WORDS for w in words):
        return "organisation"
    if any(w in lex.PLACE_WORDS for w in words) or (
        words[0] in lex.COMPASS_WORDS and lex.lookup(" ".join(words[1:])) is not None
    ):
        return "place"
    if votes["person"] or (not entity.acronym and votes["surname"] and name_shaped(entity, article)):
        return "person"
    if words[0] in lex.FIRST_NAMES and name_shaped(entity, article):
        return "person"  # "Ron Perlman", "Richard K. Guy"
    if not entity.acronym and (
        votes["speaker"] >= 2 if len(words) == 1 else votes["speaker"] and name_shaped(entity, article)
    ):
        return "person"  # "Smith said", "said Jane Doe"
    if votes["place"] and len(words) == 1 and not entity.acronym:
        return "place"
    return "organisation" if entity.acronym else "topic"
