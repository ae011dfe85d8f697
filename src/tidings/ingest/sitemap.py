"""Google News sitemaps and plain sitemaps as feeds; sitemap indexes as a distinct, catchable error.

Design choice for `<sitemapindex>`: an index is not a feed, so parsing one raises `SitemapIndexError`
(a FeedParseError with code "sitemap_index") that carries the child sitemap URLs in `.sitemaps`; the
caller may subscribe to / fetch those instead. Plain `<urlset>` sitemaps (no `<news:news>`) yield entries
with only `link` and `updated` (from `<lastmod>`), since they carry no titles or publication dates.
"""

from __future__ import annotations

from lxml import etree

from tidings.errors import FeedParseError
from tidings.ingest.entries import (
    MAX_ENTRIES,
    MAX_TITLE_CHARS,
    FeedEntry,
    ParsedFeed,
    absolute_http_url,
    clean_categories,
    normalise_language,
    parse_date_text,
    plain_text,
)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
MAX_CHILD_SITEMAPS = 1000


class SitemapIndexError(FeedParseError):
    """The document is a sitemap index: it lists sitemaps, not articles."""

    code = "sitemap_index"

    def __init__(self, sitemaps: list[str]) -> None:
        super().__init__(
            f"not a feed: got a sitemap index listing {len(sitemaps)} child sitemap(s); "
            "fetch one of those instead"
        )
        self.sitemaps = sitemaps


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    """Namespace-agnostic child lookup: real sitemaps get their namespaces wrong surprisingly often."""
    return [child for child in element if _local(child.tag) == name]


def _child_text(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    for child in _children(element, name):
        text = "".join(child.itertext()).strip()
        if text:
            return text
    return None


def parse_sitemap(root: etree._Element, *, url: str) -> ParsedFeed:
    """Turn an already safely parsed `<urlset>` / `<sitemapindex>` root into a ParsedFeed."""
    root_name = _local(root.tag)
    if root_name == "sitemapindex":
        raise SitemapIndexError(sitemap_index_urls(root, url=url))
    if root_name != "urlset":
        raise FeedParseError(f"not a sitemap: root element is <{root_name}>")
    entries: list[FeedEntry] = []
    for url_element in _children(root, "url"):
        entry = _entry(url_element, base=url)
        if entry is not None:
            entries.append(entry)
            if len(entries) >= MAX_ENTRIES:
                break
    languages = {entry.language for entry in entries if entry.language}
    return ParsedFeed(
        kind="sitemap",
        title=None,
        link=None,
        language=languages.pop() if len(languages) == 1 else None,
        entries=entries,
        ttl_minutes=None,
        bozo_warning=None,
    )


def sitemap_index_urls(root: etree._Element, *, url: str) -> list[str]:
    urls: list[str] = []
    for sitemap in _children(root, "sitemap"):
        child_url = absolute_http_url(_child_text(sitemap, "loc"), url)
        if child_url and child_url not in urls:
            urls.append(child_url)
            if len(urls) >= MAX_CHILD_SITEMAPS:
                break
    return urls


def _entry(url_element: etree._Element, *, base: str) -> FeedEntry | None:
    link = absolute_http_url(_child_text(url_element, "loc"), base)
    if link is None:
        return None
    news = next(iter(_children(url_element, "news")), None)
    publication = next(iter(_children(news, "publication")), None) if news is not None else None
    keywords = _child_text(news, "keywords")
    return FeedEntry(
        link=link,
        guid=link,
        title=plain_text(_child_text(news, "title"), limit=MAX_TITLE_CHARS),
        author=None,
        published=parse_date_text(_child_text(news, "publication_date")),
        updated=parse_date_text(_child_text(url_element, "lastmod")),
        summary=None,
        content_html=None,
        categories=clean_categories(list(keywords.split(",")) if keywords else []),
        image=_image(url_element, base),
        language=normalise_language(_child_text(publication, "language")),
    )


def _image(url_element: etree._Element, base: str) -> str | None:
    for image in _children(url_element, "image"):
        location = absolute_http_url(_child_text(image, "loc"), base)
        if location:
            return location
    return None
