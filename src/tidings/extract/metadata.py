"""Publisher-declared metadata: JSON-LD, OpenGraph/Twitter cards, <link rel=canonical>, <html lang>.

These are read from the raw page tree, before any cleaning, because they live in <head> and in <script>
blocks that content extraction throws away. They are *declarations*: usually more exact than what a
heuristic finds (a full timestamp instead of a day, the lead image the editor picked), sometimes stale or
wrong (a theme's default og:image), so `article.py` decides how to merge them with trafilatura's findings.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_authors

LOGGER = logging.getLogger(__name__)

ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
        "reviewnewsarticle", "backgroundnewsarticle", "blogposting", "liveblogposting", "socialmediaposting",
        "scholarlyarticle", "techarticle", "report", "webpage", "posting", "liveblog", "discussionforumposting",
    }
)
# Earliest plausible publication date; before it a "date" is a template default or an epoch artefact.
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)  # time zones and scheduled posts; beyond it the date is bogus

_META_DATE_KEYS = (
    "article:published_time", "og:article:published_time", "article.published", "datepublished",
    "publishdate", "publish-date", "pubdate", "parsely-pub-date", "sailthru.date", "dc.date.issued",
    "dcterms.date", "dc.date", "date", "og:published_time", "cxenseparse:recs:publishtime",
)
_ISO_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Regions whose "author" is a commenter or a picture credit (trafilatura's AUTHOR_DISCARD_XPATHS, as a test
# on the ancestors instead of a prune of a deep copy: same answer for a tenth of the time).
_NOT_BYLINE_REGION = re.compile(
    r"^comments|comment-?list|commentlist|sidebar|is-hidden|embedly-instagram|article-(?:share|support)|"
    r"meta-reviewer|^quote",
    re.IGNORECASE,
)
_NOT_BYLINE_TAGS = frozenset({"time", "figure", "figcaption", "blockquote", "footer"})
MAX_BYLINE_CHARS = 120
MIN_LEAD_IMAGE_PIXELS = 120  # smaller declared sizes are icons, avatars, share buttons and pixels
_CONTENT_IMAGE_XPATH = XPath("(//article//img | //main//img)[position() <= 10]")
# Byline markup by plain substring tests. Trafilatura's extract_author (EXSLT regexes over every class
# attribute, on a pruned deep copy) costs ~30 ms a page, a third of a whole extraction, for about the same
# answers on the pages that declare no author in their metadata.
_BYLINE_XPATH = XPath(
    "//*[self::a or self::address or self::div or self::p or self::span or self::strong or self::h3"
    " or self::h4 or self::li][@rel='author' or contains(@itemprop, 'author') or contains(@class, 'author')"
    " or contains(@class, 'byline') or contains(@id, 'author') or @class='byl']"
)


@dataclass(slots=True)
class PageMetadata:
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    image: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    description: str | None = None
    language: str | None = None


def read_page_metadata(tree: HtmlElement) -> PageMetadata:
    """Collect declared metadata; JSON-LD first (most structured), then OpenGraph/Twitter/classic meta."""
    meta = _meta_properties(tree)
    article = _first_article_object(tree)
    return PageMetadata(
        # og:title before JSON-LD: CMS templates ship placeholder headlines ("escenic") more often than
        # wrong OpenGraph titles, and clean_title() removes the site-name suffix og:title may carry
        title=meta.get("og:title") or _ld_text(article, "headline") or meta.get("twitter:title")
        or _ld_text(article, "name"),
        author=_ld_author(article) or _meta_author(meta),
        published=_first_date(_ld_text(article, "datePublished", "dateCreated"), *map(meta.get, _META_DATE_KEYS)),
        image=_ld_image(article) or meta.get("og:image") or meta.get("og:image:url")
        or meta.get("twitter:image") or meta.get("twitter:image:src"),
        canonical_url=_canonical_link(tree) or meta.get("og:url") or _ld_page_url(article),
        site_name=meta.get("og:site_name") or _ld_publisher(article) or meta.get("application-name"),
        description=meta.get("og:description") or meta.get("description") or meta.get("twitter:description")
        or _ld_text(article, "description"),
        language=tree.get("lang") or tree.get("xml:lang") or meta.get("content-language")
        or meta.get("og:locale") or _ld_text(article, "inLanguage"),
    )


def parse_datetime(value: str | None) -> datetime | None:
    """ISO 8601 (and the common "2024-05-01 10:00:00" variant) to aware UTC; naive times are taken as UTC.

    Returns None for unparsable or implausible dates (before 1995, or more than two days in the future).
    """
    if not value:
        return None
    text = value.strip()
    if not _ISO_DATE_PREFIX.match(text):
        return None
    text = text.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text[:10])
        except ValueError:
            return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if not EARLIEST_PLAUSIBLE <= parsed <= datetime.now(UTC) + FUTURE_TOLERANCE:
        return None
    return parsed


def _first_date(*values: str | None) -> datetime | None:
    for value in values:
        parsed = parse_datetime(value)
        if parsed:
            return parsed
    return None




def find_byline(tree: HtmlElement) -> str | None:
    """The author named in the page's byline markup (rel=author, itemprop=author, class*=author/byline)."""
    for element in _BYLINE_XPATH(tree):
        if _in_non_byline_region(element):
            continue
        names = element.xpath(".//*[@itemprop='name']")  # schema.org microdata: the name inside the Person
        text = " ".join(" ".join((names[0] if names else element).itertext()).split())
        if 2 < len(text) < MAX_BYLINE_CHARS and (author := normalize_authors(None, text)):
            return author
    return None


def first_content_image(tree: HtmlElement) -> str | None:
    """src of the first picture inside <article>/<main> that is not a placeholder, icon or tracking pixel."""
    for image in _CONTENT_IMAGE_XPATH(tree):
        source = (image.get("data-src") or image.get("src") or "").strip()
        if not source or source.startswith("data:") or source.lower().endswith((".svg", ".gif")):
            continue
        if any(_small_dimension(image.get(attribute)) for attribute in ("width", "height")):
            continue
        return source
    return None


def _small_dimension(value: str | None) -> bool:
    digits = (value or "").strip().removesuffix("px")
    return digits.isdigit() and int(digits) < MIN_LEAD_IMAGE_PIXELS


def _in_non_byline_region(element: HtmlElement) -> bool:
    for node in element.iterancestors():
        if node.tag in _NOT_BYLINE_TAGS:
            return True
        marker = f"{node.get('id', '')} {node.get('class', '')}".strip()
        if marker and _NOT_BYLINE_REGION.search(marker):
            return True
    return False


# --- <meta> and <link> ----------------------------------------------------------------------------------


def _meta_properties(tree: HtmlElement) -> dict[str, str]:
    """First non-empty content per lowercased name/property/itemprop/http-equiv key."""
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        content = _clean(element.get("content"))
        if not content:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = (element.get(attribute) or "").strip().lower()
            if key and key not in found:
                found[key] = content
    for element in tree.iter("time"):  # <time itemprop="datePublished" datetime="...">
        if (element.get("itemprop") or "").lower() == "datepublished" and element.get("datetime"):
            found.setdefault("datepublished", element.get("datetime", ""))
    return found


def _meta_author(meta: dict[str, str]) -> str | None:
    for key in ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl"):
        value = meta.get(key)
        # article:author is often a profile URL, not a name
        if value and not value.startswith(("http://", "https://", "www.")):
            return value.removeprefix("By ").removeprefix("by ").strip() or None
    return None


def _canonical_link(tree: HtmlElement) -> str | None:
    for element in tree.iter("link"):
        rel = (element.get("rel") or "").lower().split()
        if "canonical" in rel and _clean(element.get("href")):
            return _clean(element.get("href"))
    return None


# --- JSON-LD ---------------------------------------------------------------------------------------------


def _first_article_object(tree: HtmlElement) -> dict[str, Any]:
    """The first JSON-LD object typed as an article (a WebPage only if no article type is present)."""
    fallback: dict[str, Any] = {}
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        for item in _json_ld_objects(script.text):
            types = {value.lower() for value in _as_list(item.get("@type")) if isinstance(value, str)}
            if types & ARTICLE_TYPES - {"webpage"}:
                return item
            if "webpage" in types and not fallback:
                fallback = item
    return fallback


def _json_ld_objects(text: str) -> Iterator[dict[str, Any]]:
    try:
        data = json.loads(text.strip().removeprefix("<!--").removesuffix("-->"), strict=False)
    except (json.JSONDecodeError, RecursionError):
        return  # publishers ship broken JSON-LD all the time; it is a hint, not a requirement
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            yield item
            stack.extend(value for key in ("@graph", "mainEntity") if isinstance(value := item.get(key), list | dict))


def _ld_text(item: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        for value in _as_list(item.get(key)):
            if isinstance(value, str) and _clean(value):
                return _clean(value)
            if isinstance(value, dict) and isinstance(value.get("@value"), str):
                return _clean(value["@value"])
    return None


def _ld_author(item: dict[str, Any]) -> str | None:
    names = []
    for author in _as_list(item.get("author")) + _as_list(item.get("creator")):
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and (name := _clean(name)) and not name.startswith("http") and name not in names:
            names.append(name)
    return ", ".join(names) or None


def _ld_image(item: dict[str, Any]) -> str | None:
    for image in _as_list(item.get("image")) + _as_list(item.get("thumbnailUrl")):
        url = image.get("url") or image.get("contentUrl") if isinstance(image, dict) else image
        if isinstance(url, str) and _clean(url):
            return _clean(url)
    return None


def _ld_page_url(item: dict[str, Any]) -> str | None:
    for page in _as_list(item.get("mainEntityOfPage")) + _as_list(item.get("url")):
        url = page.get("@id") or page.get("url") if isinstance(page, dict) else page
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return url.strip()
    return None


def _ld_publisher(item: dict[str, Any]) -> str | None:
    for publisher in _as_list(item.get("publisher")):
        name = publisher.get("name") if isinstance(publisher, dict) else None
        if isinstance(name, str) and _clean(name):
            return _clean(name)
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None
