"""JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1).

Strict about types (a field of the wrong type is ignored, never coerced into nonsense), tolerant of
missing fields. 1.0's `author` and 1.1's `authors` are both read; `language` is 1.1.
"""

from __future__ import annotations

import json
from typing import Any

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
    normalise_language,
    parse_date_text,
    plain_text,
)

JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"


def load_json_document(content: bytes) -> Any:
    """json.loads with every failure mode mapped to FeedParseError."""
    try:
        # strict=False: raw control characters inside strings are common in hand-rolled JSON feeds.
        return json.loads(content, strict=False)
    except RecursionError as error:
        raise FeedParseError("JSON nested too deeply to be a feed") from error
    except UnicodeDecodeError as error:
        raise FeedParseError(f"JSON is not valid UTF-8/16/32: {error.reason}") from error
    except json.JSONDecodeError as error:
        raise FeedParseError(f"JSON syntax error at line {error.lineno}: {error.msg}") from error
    except ValueError as error:
        raise FeedParseError(f"JSON could not be decoded: {error}") from error


def is_json_feed(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    version = document.get("version")
    if isinstance(version, str) and version.startswith(JSON_FEED_VERSION_PREFIX):
        return True
    # Some publishers omit or mangle `version`; an object with an `items` list and a title is close enough.
    return isinstance(document.get("items"), list) and isinstance(document.get("title"), str)


def parse_json_feed(content: bytes, *, url: str) -> ParsedFeed:
    document = load_json_document(content)
    if not is_json_feed(document):
        raise FeedParseError("not a feed: JSON document is not a JSON Feed (no jsonfeed.org version)")
    # Relative URLs resolve against where the document was fetched from (RFC 3986 §5.1.3), not `feed_url`.
    base = url
    language = normalise_language(document.get("language"))
    feed_author = _author_name(document)
    items = document.get("items")
    entries: list[FeedEntry] = []
    for item in items if isinstance(items, list) else []:
        entry = _entry(item, base=base, feed_language=language, feed_author=feed_author)
        if entry is not None:
            entries.append(entry)
            if len(entries) >= MAX_ENTRIES:
                break
    return ParsedFeed(
        kind="json",
        title=plain_text(_string(document, "title"), limit=MAX_FEED_TITLE_CHARS),
        link=absolute_http_url(_string(document, "home_page_url"), base),
        language=language,
        entries=entries,
        ttl_minutes=None,
        bozo_warning=None if isinstance(items, list) else "JSON Feed has no `items` array",
    )


def _entry(item: Any, *, base: str, feed_language: str | None, feed_author: str | None) -> FeedEntry | None:
    if not isinstance(item, dict):
        return None
    item_id = item.get("id")
    # Spec: `id` is a string, but 1.0 feeds in the wild emit numbers; a number is unambiguous, keep it.
    guid = str(item_id) if isinstance(item_id, str | int) and not isinstance(item_id, bool) else None
    link = absolute_http_url(_string(item, "url"), base)
    link = link or absolute_http_url(_string(item, "external_url"), base)
    if link is None and guid is not None:
        link = absolute_http_url(guid, None)  # ids are often the permalink
    if link is None:
        return None
    content_html = cap_html(_string(item, "content_html"))
    content_text = _string(item, "content_text")
    summary = plain_text(_string(item, "summary"), limit=MAX_SUMMARY_CHARS)
    if summary is None:
        summary = plain_text(content_text, limit=MAX_SUMMARY_CHARS) or field_text_from_html(
            content_html, limit=MAX_SUMMARY_CHARS
        )
    tags = item.get("tags")
    return FeedEntry(
        link=link,
        guid=guid[:MAX_TITLE_CHARS] if guid else None,
        title=plain_text(_string(item, "title"), limit=MAX_TITLE_CHARS),
        author=_author_name(item) or feed_author,
        published=parse_date_text(item.get("date_published")),
        updated=parse_date_text(item.get("date_modified")),
        summary=summary,
        content_html=content_html,
        categories=clean_categories(tags if isinstance(tags, list) else []),
        image=absolute_http_url(_string(item, "image"), base)
        or absolute_http_url(_string(item, "banner_image"), base)
        or _image_attachment(item, base),
        language=normalise_language(item.get("language")) or feed_language,
    )


def _string(mapping: dict[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) else None


def _author_name(mapping: dict[str, Any]) -> str | None:
    candidates: list[Any] = []
    authors = mapping.get("authors")
    if isinstance(authors, list):
        candidates.extend(authors)
    candidates.append(mapping.get("author"))
    names = [
        name
        for candidate in candidates
        if isinstance(candidate, dict)
        and (name := plain_text(_string(candidate, "name"), limit=MAX_AUTHOR_CHARS))
    ]
    return plain_text(", ".join(names), limit=MAX_AUTHOR_CHARS) if names else None


def _image_attachment(item: dict[str, Any], base: str) -> str | None:
    attachments = item.get("attachments")
    if not isinstance(attachments, list):
        return None
    for attachment in attachments:
        if not isinstance(attachment, dict):
            continue
        mime_type = _string(attachment, "mime_type") or ""
        if mime_type.lower().startswith("image/"):
            image = absolute_http_url(_string(attachment, "url"), base)
            if image:
                return image
    return None
