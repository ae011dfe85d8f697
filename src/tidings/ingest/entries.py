"""The parsed-feed data model and the normalisation every format shares (text, dates, URLs, limits).

Kept apart from parser.py so the per-format modules (jsonfeed, sitemap) can build entries without
importing the dispatcher.
"""

from __future__ import annotations

import calendar
import html
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit, urlunsplit

from feedparser.datetimes import _parse_date as feedparser_parse_date

# Limits: a feed is untrusted input; these keep one bad feed from bloating the database.
MAX_ENTRIES = 1000
MAX_TITLE_CHARS = 1_000
MAX_AUTHOR_CHARS = 300
MAX_SUMMARY_CHARS = 5_000
MAX_CONTENT_CHARS = 1_000_000
MAX_URL_CHARS = 2_048
MAX_CATEGORIES = 30
MAX_CATEGORY_CHARS = 100
MAX_FEED_TITLE_CHARS = 500

# Dates outside this window are junk (epoch-zero defaults, typos like 2104) and would poison sorting.
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)


@dataclass(slots=True)
class FeedEntry:
    link: str
    guid: str | None
    title: str | None
    author: str | None
    published: datetime | None
    updated: datetime | None
    summary: str | None
    content_html: str | None
    categories: list[str] = field(default_factory=list)
    image: str | None = None
    language: str | None = None


@dataclass(slots=True)
class ParsedFeed:
    kind: str  # "rss" | "atom" | "rdf" | "json" | "sitemap"
    title: str | None
    link: str | None
    language: str | None
    entries: list[FeedEntry]
    ttl_minutes: int | None = None
    bozo_warning: str | None = None


# ---------------------------------------------------------------- text

_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK_TAG = re.compile(r"<(?:br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]*>")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_WHITESPACE = re.compile(r"\s+")
_ENTITY_LIKE = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def field_text_from_html(value: str | None, *, limit: int) -> str | None:
    """A feed field (title, summary) as one line of plain text, capped at `limit`.

    Regexes rather than a DOM because this runs on every field of every entry; article bodies,
    where paragraphs matter, go through tidings.extract.sanitize.html_to_text instead.
    """
    if not value:
        return None
    text = _COMMENT.sub(" ", value)
    text = _SCRIPT_OR_STYLE.sub(" ", text)
    text = _BLOCK_TAG.sub(" ", text)
    text = _ANY_TAG.sub("", text)
    text = html.unescape(text)
    return clean_text(text, limit=limit)


def plain_text(value: str | None, *, limit: int) -> str | None:
    """Text that should already be plain; still decode entities left by double-escaping publishers."""
    if not value:
        return None
    if _ENTITY_LIKE.search(value):
        value = html.unescape(value)
    return clean_text(value, limit=limit)


def clean_text(value: str | None, *, limit: int) -> str | None:
    if not value:
        return None
    text = _WHITESPACE.sub(" ", _CONTROL_CHARS.sub("", value)).strip()
    if not text:
        return None
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def cap_html(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    return value[:MAX_CONTENT_CHARS]


def normalise_language(value: object) -> str | None:
    """'en_US' / 'EN-us' → 'en-US'; garbage → None. Good enough BCP-47 for grouping and filtering."""
    if not isinstance(value, str):
        return None
    parts = [part for part in re.split(r"[-_]", value.strip()) if part]
    if not parts or not re.fullmatch(r"[A-Za-z]{2,3}", parts[0]):
        return None
    normalised = [parts[0].lower()]
    for part in parts[1:4]:
        if not re.fullmatch(r"[A-Za-z0-9]{1,8}", part):
            break
        normalised.append(_subtag_case(part))
    return "-".join(normalised)


def _subtag_case(subtag: str) -> str:
    """BCP-47 conventions: region upper ('US'), script title ('Hant'), everything else lower."""
    if len(subtag) == 2:
        return subtag.upper()
    if len(subtag) == 4:
        return subtag.title()
    return subtag.lower()


# ---------------------------------------------------------------- dates


def plausible_date(moment: datetime | None, *, now: datetime | None = None) -> datetime | None:
    """Aware UTC, or None when the date is absurd."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    now = now or datetime.now(UTC)
    if moment < EARLIEST_PLAUSIBLE or moment > now + FUTURE_TOLERANCE:
        return None
    return moment


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed fields are UTC struct_times."""
    if value is None:
        return None
    try:
        return plausible_date(datetime.fromtimestamp(calendar.timegm(value), tz=UTC))
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def parse_date_text(value: object) -> datetime | None:
    """ISO 8601 / RFC 3339 first (JSON Feed, sitemaps), then feedparser's many-format fallback."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return plausible_date(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        return from_struct_time(feedparser_parse_date(text))
    except Exception:  # feedparser's date handlers are third-party regex soup; never let one escape
        return None


# ---------------------------------------------------------------- URLs


def absolute_http_url(value: object, base: str | None) -> str | None:
    """Resolve against base and accept only http(s) URLs with a host."""
    if not isinstance(value, str):
        return None
    candidate = value.strip()
    if not candidate or len(candidate) > MAX_URL_CHARS:
        return None
    try:
        resolved = urljoin(base, candidate) if base else candidate
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    # Scheme and host are case-insensitive; lowercase them so "HTTP://Example.COM/a" dedupes with its twin.
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=netloc))


def clean_categories(values: list[object]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        text = plain_text(value if isinstance(value, str) else None, limit=MAX_CATEGORY_CHARS)
        if text and text.casefold() not in {known.casefold() for known in seen}:
            seen[text] = None
        if len(seen) >= MAX_CATEGORIES:
            break
    return list(seen)
