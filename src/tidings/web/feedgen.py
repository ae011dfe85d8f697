"""RSS 2.0, Atom 1.0 and sitemap documents, built as lxml trees from plain data.

Untrusted text (titles, snippets, names) only ever becomes element text or attribute values, which
lxml escapes; nothing is assembled by string concatenation. Output is deterministic for the same
input (no "now" inside), so an ETag over the bytes is stable between requests.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree

from tidings import PROJECT_URL, __version__

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# The proxy answers JPEG to clients that do not ask for WebP, which is what feed readers fetch with.
PROXY_IMAGE_TYPE = "image/jpeg"
GENERATOR = "Tidings"


@dataclass(frozen=True, slots=True)
class FeedItem:
    title: str
    link: str  # the article's page on this instance: also its permanent id
    published_at: datetime
    snippet: str  # plain text
    author: str  # the publisher's name
    publisher_url: str
    categories: Sequence[str] = ()
    image_url: str | None = None  # proxied, absolute
    image_width: int | None = None


@dataclass(frozen=True, slots=True)
class FeedChannel:
    title: str
    link: str  # the HTML page this feed mirrors
    self_url: str
    description: str
    language: str | None
    items: Sequence[FeedItem] = field(default_factory=tuple)

    @property
    def updated(self) -> datetime | None:
        return max((item.published_at for item in self.items), default=None)


# Characters XML 1.0 cannot carry at all (C0 controls but tab/newlines, surrogates, U+FFFE/FFFF). A stored
# title may hold one (publishers' CMSes do emit them); lxml would refuse the whole document.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    return _NOT_XML_CHAR.sub("", value)


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, **attributes: str | None
) -> etree._Element:
    element = etree.SubElement(
        parent, tag, {name: xml_text(value) for name, value in attributes.items() if value is not None}
    )
    if text is not None:
        element.text = xml_text(text)
    return element


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def rss_document(channel: FeedChannel) -> bytes:
    root = etree.Element("rss", {"version": "2.0"}, nsmap={"atom": ATOM_NS, "media": MEDIA_NS})
    chan = _sub(root, "channel")
    _sub(chan, "title", channel.title)
    _sub(chan, "link", channel.link)
    _sub(chan, "description", channel.description)
    if channel.language:
        _sub(chan, "language", channel.language)
    if channel.updated:
        _sub(chan, "lastBuildDate", format_datetime(channel.updated.astimezone(UTC), usegmt=True))
    _sub(chan, "generator", f"{GENERATOR} {__version__} ({PROJECT_URL})")
    _sub(chan, f"{{{ATOM_NS}}}link", href=channel.self_url, rel="self", type="application/rss+xml")
    for item in channel.items:
        entry = _sub(chan, "item")
        _sub(entry, "title", item.title)
        _sub(entry, "link", item.link)
        _sub(entry, "guid", item.link, isPermaLink="true")
        _sub(entry, "pubDate", format_datetime(item.published_at.astimezone(UTC), usegmt=True))
        # RSS readers treat <description> as HTML: the plain-text snippet is escaped once for HTML,
        # then lxml escapes it again for XML, so markup in a snippet shows as text, never runs.
        _sub(entry, "description", html.escape(item.snippet, quote=False))
        for category in item.categories:
            _sub(entry, "category", category)
        if item.image_url:
            _sub(entry, "enclosure", url=item.image_url, length="0", type=PROXY_IMAGE_TYPE)
            _sub(
                entry,
                f"{{{MEDIA_NS}}}content",
                url=item.image_url,
                medium="image",
                type=PROXY_IMAGE_TYPE,
                width=str(item.image_width) if item.image_width else None,
            )
    return _serialize(root)


def atom_document(channel: FeedChannel) -> bytes:
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS, "media": MEDIA_NS})
    if channel.language:
        root.set(XML_LANG, channel.language)
    atom = f"{{{ATOM_NS}}}"
    _sub(root, atom + "id", channel.self_url)
    _sub(root, atom + "title", channel.title, type="text")
    _sub(root, atom + "subtitle", channel.description, type="text")
    # Atom requires <updated>; an empty feed has nothing newer than the epoch.
    _sub(root, atom + "updated", _w3c(channel.updated or datetime.fromtimestamp(0, UTC)))
    _sub(root, atom + "link", rel="alternate", type="text/html", href=channel.link)
    _sub(root, atom + "link", rel="self", type="application/atom+xml", href=channel.self_url)
    _sub(root, atom + "generator", GENERATOR, uri=PROJECT_URL, version=__version__)
    for item in channel.items:
        entry = _sub(root, atom + "entry")
        _sub(entry, atom + "id", item.link)
        _sub(entry, atom + "title", item.title, type="text")
        _sub(entry, atom + "link", rel="alternate", type="text/html", href=item.link)
        _sub(entry, atom + "link", rel="via", href=item.publisher_url)
        _sub(entry, atom + "published", _w3c(item.published_at))
        _sub(entry, atom + "updated", _w3c(item.published_at))
        author = _sub(entry, atom + "author")
        _sub(author, atom + "name", item.author)
        _sub(entry, atom + "summary", item.snippet, type="text")
        for category in item.categories:
            _sub(entry, atom + "category", term=category)
        if item.image_url:
            _sub(entry, atom + "link", rel="enclosure", type=PROXY_IMAGE_TYPE, href=item.image_url)
            _sub(entry, f"{{{MEDIA_NS}}}thumbnail", url=item.image_url)
    return _serialize(root)


# --- sitemaps


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    """One page in one language, with the same page in every language as hreflang alternates."""

    loc: str
    lastmod: datetime | None = None
    alternates: Sequence[tuple[str, str]] = ()  # (hreflang, href), x-default included


@dataclass(frozen=True, slots=True)
class NewsUrl:
    loc: str
    publication_name: str
    language: str
    published_at: datetime
    title: str


def sitemap_index(sitemaps: Iterable[tuple[str, datetime | None]]) -> bytes:
    root = etree.Element(f"{{{SITEMAP_NS}}}sitemapindex", nsmap={None: SITEMAP_NS})
    for loc, lastmod in sitemaps:
        sitemap = _sub(root, f"{{{SITEMAP_NS}}}sitemap")
        _sub(sitemap, f"{{{SITEMAP_NS}}}loc", loc)
        if lastmod:
            _sub(sitemap, f"{{{SITEMAP_NS}}}lastmod", _w3c(lastmod))
    return _serialize(root)


def sitemap_urlset(urls: Iterable[SitemapUrl]) -> bytes:
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "xhtml": XHTML_NS})
    for url in urls:
        entry = _sub(root, f"{{{SITEMAP_NS}}}url")
        _sub(entry, f"{{{SITEMAP_NS}}}loc", url.loc)
        if url.lastmod:
            _sub(entry, f"{{{SITEMAP_NS}}}lastmod", _w3c(url.lastmod))
        for hreflang, href in url.alternates:
            _sub(entry, f"{{{XHTML_NS}}}link", rel="alternate", hreflang=hreflang, href=href)
    return _serialize(root)


def news_sitemap(urls: Iterable[NewsUrl]) -> bytes:
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "news": NEWS_NS})
    news = f"{{{NEWS_NS}}}"
    for url in urls:
        entry = _sub(root, f"{{{SITEMAP_NS}}}url")
        _sub(entry, f"{{{SITEMAP_NS}}}loc", url.loc)
        item = _sub(entry, news + "news")
        publication = _sub(item, news + "publication")
        _sub(publication, news + "name", url.publication_name)
        _sub(publication, news + "language", url.language)
        _sub(item, news + "publication_date", _w3c(url.published_at))
        _sub(item, news + "title", url.title)
    return _serialize(root)
