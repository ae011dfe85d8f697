"""User query → a small, safe term list. Nothing the user typed ever reaches MATCH or to_tsquery as syntax.

Grammar, deliberately tiny:
  - whitespace separates terms; every term must match (AND);
  - "double quotes" make a phrase; an unbalanced quote is just dropped;
  - everything else (AND, OR, NOT, -, *, parentheses, column filters, SQL) is plain text.

Each term gets a kind:
  - WORD for space-separated scripts: matched as whole words (FTS5 unicode61 / PostgreSQL 'simple').
    Its text is re-tokenised here the way those engines tokenise (letters, digits, marks), so
    `"); DROP TABLE` becomes the two words `drop table` and punctuation-only terms disappear.
  - SUBSTRING for scripts written without spaces between words (Chinese, Japanese, Thai...) and Korean,
    whose particles glue onto nouns (서울시에서 must match 서울시): matched as substrings, through trigram
    indexes when the term is at least 3 characters long, by a LIKE scan over recent articles otherwise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from tidings.errors import InvalidInput

MAX_QUERY_CHARS = 256
MAX_TERMS = 12
# Trigram indexes (FTS5 trigram, pg_trgm) cannot look up anything shorter than one trigram.
TRIGRAM_MIN_CHARS = 3
MAX_CURSOR_OFFSET = 1000

_PHRASE_OR_TOKEN = re.compile(r'"([^"]*)"|([^\s"]+)')
_WHITESPACE = re.compile(r"\s+")

# Scripts written without spaces between words, plus Hangul (see module docstring). Migration 0002 holds
# a frozen copy: its trigram indexes cover exactly the articles containing one of these characters.
SUBSTRING_SCRIPT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x30FF),  # CJK symbols, Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0xFFA0, 0xFFDC),  # halfwidth Hangul
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


class TermKind(StrEnum):
    WORD = "word"
    SUBSTRING = "substring"


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    kind: TermKind

    @property
    def needs_scan(self) -> bool:
        """A substring too short for a trigram index: only a LIKE scan can find it."""
        return self.kind is TermKind.SUBSTRING and len(self.text) < TRIGRAM_MIN_CHARS


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    terms: tuple[Term, ...]

    @property
    def is_empty(self) -> bool:
        return not self.terms

    @property
    def word_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.kind is TermKind.WORD)

    @property
    def indexed_substring_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.kind is TermKind.SUBSTRING and not t.needs_scan)

    @property
    def scan_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.needs_scan)

    @property
    def scan_only(self) -> bool:
        """Every term is a short substring: no index can narrow the candidates."""
        return bool(self.terms) and all(t.needs_scan for t in self.terms)

    def fingerprint(self, language: str | None) -> str:
        """Short digest binding a pagination cursor to the query it was issued for."""
        canonical = "\x1f".join(f"{t.kind}:{t.text}" for t in self.terms) + f"\x1e{language or ''}"
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def parse_query(raw: str | None) -> ParsedQuery:
    """Parse user input. Never raises: anything unusable yields an empty query."""
    text = normalize_query_text(raw or "")
    terms: list[Term] = []
    for match in _PHRASE_OR_TOKEN.finditer(text):
        phrase, token = match.group(1), match.group(2)
        term = _make_term(phrase if phrase is not None else token)
        if term is not None and term not in terms:
            terms.append(term)
        if len(terms) == MAX_TERMS:
            break
    return ParsedQuery(tuple(terms))


def normalize_query_text(raw: str) -> str:
    # NFKC folds full-width Latin (ＡＢＣ) and half-width Katakana into what articles usually contain.
    text = unicodedata.normalize("NFKC", raw[: MAX_QUERY_CHARS * 2])
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return _WHITESPACE.sub(" ", text).strip()[:MAX_QUERY_CHARS]


def is_token_char(ch: str) -> bool:
    """Letters, digits and combining marks: what FTS5 unicode61 and PostgreSQL's parser keep in words."""
    return unicodedata.category(ch)[0] in "LNM" or unicodedata.category(ch) == "Co"


def split_words(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if is_token_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def is_substring_script(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in SUBSTRING_SCRIPT_RANGES)


def substring_script_regex() -> str:
    """Bracket expression matching any SUBSTRING-script character: the predicate of the PostgreSQL
    partial trigram index, to be repeated verbatim (as a literal) by queries that want that index."""
    return "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in SUBSTRING_SCRIPT_RANGES) + "]"


def _make_term(chunk: str) -> Term | None:
    if any(is_substring_script(ch) for ch in chunk):
        text = _strip_edge_punctuation(_WHITESPACE.sub(" ", chunk).strip())
        return Term(text, TermKind.SUBSTRING) if text else None
    words = split_words(chunk.lower())
    return Term(" ".join(words), TermKind.WORD) if words else None


def _strip_edge_punctuation(text: str) -> str:
    start, end = 0, len(text)
    while start < end and not is_token_char(text[start]):
        start += 1
    while end > start and not is_token_char(text[end - 1]):
        end -= 1
    return text[start:end]


def fts5_match_expression(terms: tuple[Term, ...]) -> str:
    """FTS5 MATCH string: each term a double-quoted string (quotes doubled), implicitly ANDed.

    Inside a quoted string FTS5 treats everything as text to tokenise, so no operator, column filter
    or prefix syntax can be smuggled in.
    """
    return " ".join('"' + term.text.replace('"', '""') + '"' for term in terms)


def like_contains_pattern(text: str) -> str:
    """`%text%` for LIKE/ILIKE ... ESCAPE '\\', with the wildcards in `text` made literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class CursorState:
    offset: int
    # Epoch seconds of the first page's "now": the recency boost is frozen so pages do not shuffle.
    now_epoch: int


def encode_cursor(state: CursorState, fingerprint: str) -> str:
    raw = f"{fingerprint}.{state.offset}.{state.now_epoch}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_CURSOR_EPOCH = 4_102_444_800  # 2100-01-01


def decode_cursor(cursor: str, fingerprint: str) -> CursorState:
    """Inverse of encode_cursor. Raises InvalidInput for a forged, stale or foreign cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        given_fingerprint, offset_text, now_text = raw.split(".")
        offset, now_epoch = int(offset_text), int(now_text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid search cursor", code="invalid_cursor") from exc
    if given_fingerprint != fingerprint:
        raise InvalidInput("search cursor belongs to another query", code="invalid_cursor")
    # "now" is frozen in the cursor; a forged one far outside real time would overflow date maths.
    if not 0 <= offset <= MAX_CURSOR_OFFSET or not 0 <= now_epoch <= MAX_CURSOR_EPOCH:
        raise InvalidInput("search cursor out of range", code="invalid_cursor")
    return CursorState(offset, now_epoch)
