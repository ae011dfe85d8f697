"""HTML-safe highlighting, done in Python on a window of the text.

Neither FTS5's snippet() nor ts_headline() escapes the text around its markers, and the LIKE fallback
has no snippet function at all, so highlighting is done here, identically for every engine: the text is
HTML-escaped piece by piece and only our own `<mark>` tags are added.

Matching is done on a folded copy (lower case, Latin/Greek/Cyrillic diacritics removed, as the
unicode61 tokenizer does) with a map back to the original offsets, so `cafe` highlights `Café`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from tidings.search.query import Term, TermKind, split_words

SNIPPET_CHARS = 240
# How much context to keep before the first match.
SNIPPET_LEAD_CHARS = 80
ELLIPSIS = "…"
_WHITESPACE = re.compile(r"\s+")
# Diacritics are only stripped after alphabetic scripts; in Indic scripts marks are vowels, not accents.
_DIACRITIC_BASE_LIMIT = 0x0530
_COMBINING_DIACRITICS = (0x0300, 0x036F)

Span = tuple[int, int]


def highlight_snippet(text: str, terms: Iterable[Term], *, max_chars: int = SNIPPET_CHARS) -> str:
    """Escaped window of `text` around its first match, matches in <mark>, ellipses where cut."""
    spans = find_matches(text, terms)
    start = _window_start(text, spans[0][0]) if spans else 0
    end = min(len(text), start + max_chars)
    html_text = _render(text, spans, start, end)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    return f"{prefix}{html_text}{suffix}"


def highlight_all(text: str, terms: Iterable[Term]) -> str:
    """The whole text, escaped, every match in <mark> (for titles)."""
    return _render(text, find_matches(text, terms), 0, len(text))


def find_matches(text: str, terms: Iterable[Term]) -> list[Span]:
    """Non-overlapping spans of `text` (original offsets) matching any term, in order."""
    pattern = _terms_pattern(terms)
    if pattern is None or not text:
        return []
    folded, origin = _fold_with_offsets(text)
    spans: list[Span] = []
    for match in pattern.finditer(folded):
        if match.end() == match.start():
            continue
        span = (origin[match.start()], origin[match.end() - 1] + 1)
        if spans and span[0] < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], span[1]))
        else:
            spans.append(span)
    return spans


def _terms_pattern(terms: Iterable[Term]) -> re.Pattern[str] | None:
    alternatives = [alt for alt in (_term_regex(term) for term in terms) if alt]
    if not alternatives:
        return None
    # Longest first so that "new york" wins over "new" where both could start.
    alternatives.sort(key=len, reverse=True)
    return re.compile("|".join(alternatives))


def _term_regex(term: Term) -> str:
    folded = fold(term.text)
    if term.kind is TermKind.SUBSTRING:
        return r"\s+".join(re.escape(part) for part in folded.split())
    words = split_words(folded)
    if not words:
        return ""
    return r"(?<!\w)" + r"[\W_]+".join(re.escape(word) for word in words) + r"(?!\w)"


def fold(text: str) -> str:
    return _fold_with_offsets(text)[0]


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each folded character, the index of the original character it came from."""
    folded: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        for out in _fold_char(ch):
            folded.append(out)
            origin.append(index)
    return "".join(folded), origin


def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    if _COMBINING_DIACRITICS[0] <= ord(ch) <= _COMBINING_DIACRITICS[1]:
        return ""  # a decomposed accent (e + U+0301): dropped like a precomposed one
    decomposed = unicodedata.normalize("NFD", ch)
    if ord(decomposed[0]) < _DIACRITIC_BASE_LIMIT:
        decomposed = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", decomposed).lower()


def _window_start(text: str, first_match: int) -> int:
    start = max(0, first_match - SNIPPET_LEAD_CHARS)
    if start == 0:
        return 0
    # Do not open the snippet in the middle of a word when a word boundary is near.
    space = text.find(" ", start, first_match)
    return space + 1 if space != -1 and space - start < 20 else start


def _render(text: str, spans: list[Span], start: int, end: int) -> str:
    parts: list[str] = []
    cursor = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        parts.append(_escape(text[cursor:span_start]))
        parts.append(f"<mark>{_escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    parts.append(_escape(text[cursor:end]))
    return "".join(parts)


def _escape(segment: str) -> str:
    return html.escape(_WHITESPACE.sub(" ", segment), quote=True)
