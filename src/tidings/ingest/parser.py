"""Fetched bytes → ParsedFeed. The one entry point the fetcher and workers call.

Format is decided from the content (JSON vs XML root element), with content-type only as a charset hint
for feedparser: servers mislabel feeds as text/html and HTML pages as application/rss+xml all the time.
Every failure surfaces as FeedParseError with a specific message; nothing else may escape, because a
worker stores the message on the feed and moves on.
"""

from __future__ import annotations

import io
import re
from typing import Any

import feedparser

from tidings.errors import FeedParseError
from tidings.ingest.entries import (
    MAX_AUTHOR_CHARS,
    MAX_ENTRIES,
    MAX_FEED_TITLE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    FeedEntry,
    ParsedFeed,
    absolute_http_url,
    cap_html,
    clean_categories,
    field_text_from_html,
    from_struct_time,
    normalise_language,
    plain_text,
)
from tidings.ingest.jsonfeed import is_json_feed, load_json_document, parse_json_feed
from tidings.ingest.sitemap import NEWS_NS, parse_sitemap
from tidings.ingest.xmlsafety import (
    Prolog,
    describe_xml_error,
    ensure_safe_xml,
    parse_xml_safely,
    read_prolog,
)

__all__ = ["FeedEntry", "ParsedFeed", "looks_like_feed", "parse_feed"]

# Larger than any real feed (the biggest real captures are well under 5 MB); beyond this is abuse.
MAX_DOCUMENT_BYTES = 25 * 1024 * 1024

FEED_ROOTS = {"rss": "rss", "feed": "atom", "rdf": "rdf", "channel": "rss"}  # "channel": RSS 0.9x / CDF
SITEMAP_ROOTS = {"urlset", "sitemapindex"}
HTML_ROOTS = {"html", "head", "body"}
_SY_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def parse_feed(content: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed 1.x or a (news) sitemap.

    Raises FeedParseError — and only FeedParseError — when the document is not a usable feed.
    """
    try:
        return _parse(content, url=url, content_type=content_type)
    except FeedParseError:
        raise
    except Exception as error:  # a bug or a third-party parser surprise must still be a clean feed error
        message = f"feed could not be parsed: {error.__class__.__name__}: {error}"
        raise FeedParseError(message[:300]) from error


def looks_like_feed(content: bytes, content_type: str | None) -> bool:
    """Cheap sniff: is this worth handing to parse_feed (vs. an HTML page to run discovery on)?

    Content decides; content_type only settles JSON that is not clearly a JSON Feed.
    """
    if _first_significant_byte(content) in (b"{", b"["):
        try:
            document = load_json_document(content)
        except FeedParseError:
            return False
        if is_json_feed(document):
            return True
        return bool(content_type and "feed+json" in content_type.lower()) and isinstance(document, dict)
    prolog = read_prolog(content)
    root = prolog.root_local_name
    if root in FEED_ROOTS:
        return True
    if root == "urlset":
        return NEWS_NS in prolog.head_text
    return False


def _parse(content: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
    if not isinstance(content, bytes | bytearray):
        raise FeedParseError(f"expected bytes, got {type(content).__name__}")
    content = bytes(content)
    if not content.strip():
        raise FeedParseError("empty document", code="empty_document")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise FeedParseError(f"document too large ({len(content) // (1024 * 1024)} MB); not parsing it")
    if _first_significant_byte(content) in (b"{", b"["):
        return parse_json_feed(content, url=url)
    # Must run before feedparser/lxml ever see the bytes.
    prolog = ensure_safe_xml(content, charset=_charset(content_type))
    root = prolog.root_local_name
    _refuse_known_non_feeds(prolog, content_type)
    if root in SITEMAP_ROOTS:
        return parse_sitemap(parse_xml_safely(content, recover=True), url=url)
    return _parse_with_feedparser(content, url=url, content_type=content_type, prolog=prolog)


def _charset(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _first_significant_byte(content: bytes) -> bytes:
    stripped = content.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 BOM: look at the first code unit
        stripped = stripped[2:].replace(b"\x00", b"").lstrip()
    return stripped[:1]


def _refuse_known_non_feeds(prolog: Prolog, content_type: str | None) -> None:
    root = prolog.root_local_name
    doctype = (prolog.doctype or "").lower()
    if root in HTML_ROOTS or doctype.startswith("<!doctype html"):
        raise FeedParseError("not a feed: got an HTML page", code="html_page")
    if root == "opml":
        raise FeedParseError("not a feed: got an OPML subscription list (import it instead)", code="opml")
    if root is None and content_type and content_type.lower().startswith(_HTML_TYPES):
        raise FeedParseError("not a feed: got an HTML page", code="html_page")


def _parse_with_feedparser(
    content: bytes, *, url: str, content_type: str | None, prolog: Prolog
) -> ParsedFeed:
    # Without a content-type feedparser flags every document as bozo ("NonXMLContentType"); application/xml
    # makes it take the charset from the BOM / XML declaration, which is what a missing header should mean.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    # sanitize_html=False: content_html must stay raw (the extractor sanitises). Resolving relative URIs
    # inside embedded HTML re-parses every content block and costs ~4x the whole parse, so it is only
    # switched on when the document plausibly contains a relative href/src at all.
    result = feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=_may_contain_relative_uris(content),
    )
    version: str = result.get("version") or ""
    bozo_exception = result.get("bozo_exception") if result.get("bozo") else None
    raw_entries = result.get("entries") or []
    feed_meta = result.get("feed") or {}
    # No entries plus a real syntax error is a broken document even if it started like a feed; no entries
    # and no error is simply an empty feed. HTML entities (&nbsp;) without a DTD are "undefined entity" to
    # expat but routine in real feeds, and feedparser's loose mode decodes them, so they do not count.
    if not raw_entries and (not version or _is_fatal_syntax_error(bozo_exception)):
        raise FeedParseError(_not_a_feed_reason(bozo_exception, prolog))
    feed_language = normalise_language(feed_meta.get("language"))
    kind = _kind(version, prolog)
    entries: list[FeedEntry] = []
    for raw in raw_entries:
        entry = _entry_from_feedparser(raw, base=url, feed_language=feed_language, is_atom=kind == "atom")
        if entry is not None:
            entries.append(entry)
            if len(entries) >= MAX_ENTRIES:
                break
    return ParsedFeed(
        kind=kind,
        title=_detail_text(feed_meta, "title", limit=MAX_FEED_TITLE_CHARS),
        link=absolute_http_url(feed_meta.get("link"), url),
        language=feed_language,
        entries=entries,
        ttl_minutes=_ttl_minutes(feed_meta),
        bozo_warning=_bozo_warning(bozo_exception),
    )


# href=/src= (raw, or entity-escaped inside RSS descriptions) whose value is not already absolute.
_RELATIVE_URI_ATTRIBUTE = re.compile(
    # Possessive quantifiers: the quote, when present, must be consumed before the lookahead runs.
    rb"""\b(?:href|src|poster|background|longdesc|cite)\s*+=\s*+(?:["']|&quot;|&#0*+34;|&#0*+39;|&apos;)?+"""
    rb"""\s*+(?!https?:|//|mailto:|data:|#|tel:)""",
    re.IGNORECASE,
)


def _may_contain_relative_uris(content: bytes) -> bool:
    return _RELATIVE_URI_ATTRIBUTE.search(content) is not None


def _not_a_feed_reason(bozo_exception: object, prolog: Prolog) -> str:
    if prolog.root_tag is None:
        start = re.sub(r"\s+", " ", prolog.head_text[:40]).strip()
        return f"not a feed: no XML root element found (document starts with {start!r})"
    if bozo_exception is not None and hasattr(bozo_exception, "getLineNumber"):
        return describe_xml_error(bozo_exception)  # type: ignore[arg-type]
    return f"not a feed: root element <{prolog.root_tag}> is not RSS, Atom, RDF, JSON Feed or a sitemap"


def _is_fatal_syntax_error(bozo_exception: object) -> bool:
    if bozo_exception is None or not hasattr(bozo_exception, "getLineNumber"):
        return False
    return "undefined entity" not in str(bozo_exception)


def _bozo_warning(bozo_exception: object) -> str | None:
    # A mislabelled content-type is the server's problem and says nothing about the feed itself.
    if bozo_exception is None or isinstance(bozo_exception, feedparser.NonXMLContentType):
        return None
    if hasattr(bozo_exception, "getLineNumber"):
        return describe_xml_error(bozo_exception)  # type: ignore[arg-type]
    return f"{bozo_exception.__class__.__name__}: {bozo_exception}"[:300]


def _kind(version: str, prolog: Prolog) -> str:
    if version.startswith("atom"):
        return "atom"
    if version in ("rss090", "rss10"):
        return "rdf"
    if version:
        return "rss"
    return FEED_ROOTS.get(prolog.root_local_name or "", "rss")


def _ttl_minutes(feed_meta: dict[str, Any]) -> int | None:
    ttl = _positive_int(feed_meta.get("ttl"))
    if ttl is not None:
        return min(ttl, 525600)
    period = str(feed_meta.get("sy_updateperiod") or "").strip().lower()
    if period not in _SY_PERIOD_MINUTES:
        return None
    frequency = _positive_int(feed_meta.get("sy_updatefrequency")) or 1
    return max(1, _SY_PERIOD_MINUTES[period] // frequency)


def _positive_int(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _detail_text(mapping: dict[str, Any], key: str, *, limit: int) -> str | None:
    """feedparser marks each text construct text/plain or text/html; strip tags only from the latter.

    dict.get, not FeedParserDict.get: the latter invents fallbacks (summary from content, updated from
    published) that would blur what the feed actually said.
    """
    value = dict.get(mapping, key)
    if not isinstance(value, str):
        return None
    detail = dict.get(mapping, f"{key}_detail") or {}
    # No detail at all means feedparser copied the value from elsewhere (Atom content → summary): HTML.
    if not detail or str(detail.get("type", "")).lower() in ("text/html", "application/xhtml+xml"):
        return field_text_from_html(value, limit=limit)
    return plain_text(value, limit=limit)


def _entry_from_feedparser(
    raw: dict[str, Any], *, base: str, feed_language: str | None, is_atom: bool
) -> FeedEntry | None:
    guid = raw.get("id") if isinstance(raw.get("id"), str) else None
    link = _entry_link(raw, base=base, guid=guid)
    if link is None:
        return None
    content_html = _content_html(raw)
    published = from_struct_time(dict.get(raw, "published_parsed"))
    updated = from_struct_time(dict.get(raw, "updated_parsed"))
    if published is None and not is_atom:
        # feedparser files RSS/RDF <dc:date> under "updated", but in those formats it is the publication date.
        published = updated
    summary = _detail_text(raw, "summary", limit=MAX_SUMMARY_CHARS)
    if summary is None and content_html:
        summary = field_text_from_html(content_html, limit=MAX_SUMMARY_CHARS)
    return FeedEntry(
        link=link,
        guid=(guid.strip()[:MAX_TITLE_CHARS] or None) if guid else None,
        title=_detail_text(raw, "title", limit=MAX_TITLE_CHARS),
        author=_author(raw),
        published=published,
        updated=updated,
        summary=summary,
        content_html=content_html,
        categories=clean_categories([tag.get("term") or tag.get("label") for tag in raw.get("tags") or []]),
        image=_image(raw, base=base),
        language=_entry_language(raw) or feed_language,
    )


def _entry_link(raw: dict[str, Any], *, base: str, guid: str | None) -> str | None:
    link = absolute_http_url(raw.get("link"), base)
    if link:
        return link
    for candidate in raw.get("links") or []:
        if candidate.get("rel", "alternate") == "alternate":
            link = absolute_http_url(candidate.get("href"), base)
            if link:
                return link
    # RSS items that carry only a permalink-style <guid> are still articles.
    return absolute_http_url(guid, None) if guid and guid.startswith(("http://", "https://")) else None


def _content_html(raw: dict[str, Any]) -> str | None:
    contents = [item for item in raw.get("content") or [] if isinstance(item.get("value"), str)]
    if not contents:
        return None
    rich = [item for item in contents if "html" in str(item.get("type", "")).lower()]
    best = max(rich or contents, key=lambda item: len(item["value"]))
    return cap_html(best["value"])


def _author(raw: dict[str, Any]) -> str | None:
    detail = raw.get("author_detail") or {}
    name = detail.get("name") if isinstance(detail.get("name"), str) else None
    return plain_text(name or raw.get("author"), limit=MAX_AUTHOR_CHARS)


def _image(raw: dict[str, Any], *, base: str) -> str | None:
    for media in raw.get("media_content") or []:
        medium = str(media.get("medium", "")).lower()
        media_type = str(media.get("type", "")).lower()
        if medium == "image" or media_type.startswith("image/"):
            image = absolute_http_url(media.get("url"), base)
            if image:
                return image
    for thumbnail in raw.get("media_thumbnail") or []:
        image = absolute_http_url(thumbnail.get("url"), base)
        if image:
            return image
    for enclosure in raw.get("enclosures") or []:
        if str(enclosure.get("type", "")).lower().startswith("image/"):
            image = absolute_http_url(enclosure.get("href") or enclosure.get("url"), base)
            if image:
                return image
    itunes_image = raw.get("image")
    if isinstance(itunes_image, dict):
        return absolute_http_url(itunes_image.get("href"), base)
    return None


def _entry_language(raw: dict[str, Any]) -> str | None:
    for detail in [*(raw.get("content") or []), raw.get("summary_detail"), raw.get("title_detail")]:
        if isinstance(detail, dict):
            language = normalise_language(detail.get("language"))
            if language:
                return language
    return None
