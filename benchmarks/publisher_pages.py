"""Rendering for the fake publisher: the site model and every document it serves.

Nothing in here knows about HTTP; :mod:`benchmarks.publisher` routes requests to
these functions and applies the misbehaviour switches. All output is ``bytes``
(UTF-8) so the server can write it straight to the socket.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import lru_cache
from urllib.parse import quote

# Tracking parameters appended to links in feeds, so that clients have to
# canonicalise (the article page's <link rel=canonical> is the clean URL).
FEED_LINK_TRACKING = "?utm_source=rss&utm_medium=feed&utm_campaign=tidings"
POLL_ITEMS_PER_FEED = 5
DESCRIPTION_CHARS = 280

# XML 1.0 forbids most C0 control characters; corpora occasionally carry them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(text: str) -> str:
    """Escape for both HTML and XML text/attribute context."""
    return html.escape(_XML_ILLEGAL.sub("", text), quote=True)


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def iso_date(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------
# Site model
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Story:
    """One corpus article, normalised for rendering."""

    id: str
    slug: str  # URL path segment (percent-encoded id)
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    source: str
    lang: str
    author: str
    category: str
    raw: dict = field(compare=False, repr=False)

    @property
    def description(self) -> str:
        lead = self.paragraphs[0] if self.paragraphs else ""
        if len(lead) <= DESCRIPTION_CHARS:
            return lead
        # Cut on a word boundary so the teaser does not end mid-word.
        cut = lead.rfind(" ", 0, DESCRIPTION_CHARS)
        return lead[: cut if cut > 0 else DESCRIPTION_CHARS] + "…"


@dataclass(slots=True)
class Feed:
    number: int
    title: str
    source: str
    lang: str
    stories: list[Story]  # newest first

    @property
    def last_modified(self) -> datetime:
        return self.stories[0].published if self.stories else datetime(2000, 1, 1, tzinfo=UTC)


def _parse_published(raw: dict, fallback: datetime) -> datetime:
    value = str(raw.get("date") or "").strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return fallback
    if len(value) <= 10:
        # Date-only corpora: spread stories over the day deterministically so
        # "newest first" is a total order and stable across runs.
        minutes = zlib.crc32(str(raw["id"]).encode()) % (12 * 60)
        moment = moment + timedelta(hours=6, minutes=minutes)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _split_paragraphs(raw: dict) -> tuple[str, ...]:
    given = raw.get("paragraphs")
    if isinstance(given, list) and given:
        return tuple(str(p).strip() for p in given if str(p).strip())
    return tuple(p.strip() for p in str(raw.get("text") or "").split("\n") if p.strip())


def make_story(raw: dict, fallback_date: datetime) -> Story:
    article_id = str(raw["id"])
    source = str(raw.get("source") or "Tidings Test Wire")
    return Story(
        id=article_id,
        slug=quote(article_id, safe="-_.~"),
        title=str(raw.get("title") or article_id),
        paragraphs=_split_paragraphs(raw),
        published=_parse_published(raw, fallback_date),
        source=source,
        lang=str(raw.get("lang") or "en"),
        author=str(raw.get("author") or raw.get("attribution") or f"{source} staff"),
        category=str(raw.get("category") or raw.get("topic_cluster") or "News"),
        raw=raw,
    )


def group_into_feeds(stories: list[Story], feeds_per_source: int) -> list[Feed]:
    """Feeds are numbered by source (first appearance), then round-robin within it."""
    by_source: dict[str, list[Story]] = {}
    for story in stories:
        by_source.setdefault(story.source, []).append(story)
    feeds: list[Feed] = []
    for source, members in by_source.items():
        members.sort(key=lambda s: (s.published, s.id), reverse=True)
        for section in range(feeds_per_source):
            chosen = members[section::feeds_per_source]
            title = source if feeds_per_source == 1 else f"{source} — section {section + 1}"
            lang = chosen[0].lang if chosen else "en"
            feeds.append(Feed(len(feeds), title, source, lang, chosen))
    return feeds


class Site:
    """All stories and feeds, plus caches of rendered documents."""

    def __init__(
        self,
        articles: list[dict],
        *,
        feeds_per_source: int = 1,
        poll_feeds: int = 0,
        robots_disallow: str | None = "/private/",
    ) -> None:
        if feeds_per_source < 1:
            raise ValueError("feeds_per_source must be >= 1")
        now = datetime.now(UTC).replace(microsecond=0)
        self.stories = [make_story(raw, now - timedelta(hours=i)) for i, raw in enumerate(articles)]
        self.by_slug = {story.slug: story for story in self.stories}
        self.feeds = group_into_feeds(self.stories, feeds_per_source)
        self.feed_of = {story.id: feed for feed in self.feeds for story in feed.stories}
        self.poll_feeds = poll_feeds
        self.robots_disallow = robots_disallow
        self.base_url = ""  # set once the server is bound
        self._cache: dict[tuple, bytes] = {}
        self.rss_items: dict[str, str] = {}  # slug -> rendered <item>, shared by the poll feeds

    def cached(self, key: tuple, render) -> bytes:
        body = self._cache.get(key)
        if body is None:
            body = self._cache[key] = render()
        return body

    def article_url(self, story: Story) -> str:
        return f"{self.base_url}/articles/{story.slug}.html"

    def image_url(self, story: Story) -> str:
        return f"{self.base_url}/images/{story.slug}.jpg"

    def feed_url(self, number: int, kind: str) -> str:
        return f"{self.base_url}/feeds/{number}.{kind}"


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"'


# ---------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------


def _rss_item(site: Site, story: Story) -> str:
    return (
        "<item>"
        f"<title>{esc(story.title)}</title>"
        f"<link>{esc(site.article_url(story) + FEED_LINK_TRACKING)}</link>"
        f'<guid isPermaLink="true">{esc(site.article_url(story))}</guid>'
        f"<pubDate>{http_date(story.published)}</pubDate>"
        f"<dc:creator>{esc(story.author)}</dc:creator>"
        f"<category>{esc(story.category)}</category>"
        f"<description>{esc(story.description)}</description>"
        f'<enclosure url="{esc(site.image_url(story))}" type="image/jpeg" length="0"/>'
        "</item>\n"
    )


def _rss_document(
    title: str, home: str, self_url: str, lang: str, updated: datetime, items: Iterator[str]
) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>{esc(title)}</title><link>{esc(home)}</link>"
        f'<atom:link href="{esc(self_url)}" rel="self" type="application/rss+xml"/>'
        f"<description>{esc(title)} — latest stories</description>"
        f"<language>{esc(lang)}</language><lastBuildDate>{http_date(updated)}</lastBuildDate>"
        "<ttl>15</ttl>\n" + "".join(items) + "</channel>\n</rss>\n"
    ).encode()


def render_rss(site: Site, feed: Feed) -> bytes:
    items = (_rss_item(site, story) for story in feed.stories)
    return _rss_document(
        feed.title,
        site.base_url + "/",
        site.feed_url(feed.number, "rss"),
        feed.lang,
        feed.last_modified,
        items,
    )


def render_atom(site: Site, feed: Feed) -> bytes:
    entries = "".join(
        "<entry>"
        f'<title type="text">{esc(story.title)}</title>'
        f'<link rel="alternate" type="text/html" href="{esc(site.article_url(story))}?utm_source=atom"/>'
        f"<id>{esc(site.article_url(story))}</id>"
        f"<published>{iso_date(story.published)}</published>"
        f"<updated>{iso_date(story.published)}</updated>"
        f"<author><name>{esc(story.author)}</name></author>"
        f'<category term="{esc(story.category)}"/>'
        f'<summary type="text">{esc(story.description)}</summary>'
        "</entry>\n"
        for story in feed.stories
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{esc(feed.lang)}">\n'
        f"<title>{esc(feed.title)}</title>"
        f'<link rel="alternate" type="text/html" href="{esc(site.base_url)}/"/>'
        f'<link rel="self" type="application/atom+xml" href="{esc(site.feed_url(feed.number, "atom"))}"/>'
        f"<id>{esc(site.feed_url(feed.number, 'atom'))}</id>"
        f"<updated>{iso_date(feed.last_modified)}</updated>\n" + entries + "</feed>\n"
    ).encode()


def render_json_feed(site: Site, feed: Feed) -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": site.base_url + "/",
        "feed_url": site.feed_url(feed.number, "json"),
        "language": feed.lang,
        "items": [
            {
                "id": site.article_url(story),
                "url": site.article_url(story) + "?utm_source=jsonfeed",
                "title": story.title,
                "summary": story.description,
                "content_text": "\n\n".join(story.paragraphs),
                "image": site.image_url(story),
                "date_published": iso_date(story.published),
                "authors": [{"name": story.author}],
                "tags": [story.category],
                "language": story.lang,
            }
            for story in feed.stories
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def render_news_sitemap(site: Site) -> bytes:
    urls = "".join(
        f"<url><loc>{esc(site.article_url(story))}</loc><news:news><news:publication>"
        f"<news:name>{esc(story.source)}</news:name><news:language>{esc(story.lang)}</news:language>"
        f"</news:publication><news:publication_date>{iso_date(story.published)}</news:publication_date>"
        f"<news:title>{esc(story.title)}</news:title></news:news></url>\n"
        for story in sorted(site.stories, key=lambda s: (s.published, s.id), reverse=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + urls + "</urlset>\n"
    ).encode()


def render_poll_feed(site: Site, number: int) -> bytes:
    """A small ~5-item RSS feed for the polling benchmark (content is stable per n)."""
    stories = site.stories
    count = POLL_ITEMS_PER_FEED if stories else 0  # an empty corpus still gives valid (empty) feeds
    picks = [stories[(number * POLL_ITEMS_PER_FEED + i) % len(stories)] for i in range(count)]
    # Each story appears in many poll feeds, so its <item> is rendered once and reused.
    items = (
        site.rss_items.get(s.slug) or site.rss_items.setdefault(s.slug, _rss_item(site, s)) for s in picks
    )
    updated = max((s.published for s in picks), default=datetime(2000, 1, 1, tzinfo=UTC))
    return _rss_document(
        f"Poll feed {number}", site.base_url + "/", f"{site.base_url}/poll/{number}.rss", "en", updated, items
    )


# ---------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------

_NAV = (
    '<header class="masthead"><a class="logo" href="/">The Tidings Gazette</a>'
    '<nav aria-label="Sections"><ul><li><a href="/">Home</a></li><li><a href="/section/world">World</a></li>'
    '<li><a href="/section/business">Business</a></li><li><a href="/section/science">Science</a></li>'
    '<li><a href="/section/sport">Sport</a></li>'
    '<li><a href="/private/subscribe">Subscribe</a></li></ul></nav>'
    '<form class="search" action="/search"><input name="q" placeholder="Search"></form></header>'
)
_COOKIE_BANNER = (
    '<div id="cookie-consent" class="cookie-banner" role="dialog"><p>We use cookies to improve your '
    "experience, measure audiences and show personalised advertising. By continuing to browse you "
    'accept our <a href="/cookies">cookie policy</a>.</p><button>Accept all</button>'
    "<button>Manage preferences</button></div>"
)
_FOOTER = (
    '<footer class="site-footer"><p>© 2026 The Tidings Gazette. All rights reserved.</p>'
    '<ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li>'
    '<li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms of use</a></li></ul>'
    "<p>Newsletter: get the top stories in your inbox every morning.</p></footer>"
)


def _share_buttons(url: str) -> str:
    target = quote(url, safe="")
    return (
        '<div class="share" aria-label="Share this story">Share: '
        f'<a href="https://twitter.example/intent/tweet?url={target}">X</a> '
        f'<a href="https://facebook.example/sharer?u={target}">Facebook</a> '
        f'<a href="mailto:?body={target}">Email</a> <button>Copy link</button></div>'
    )


def _related_aside(site: Site, story: Story) -> str:
    feed = site.feed_of.get(story.id)
    others = [s for s in (feed.stories if feed else site.stories) if s.id != story.id][:3]
    links = "".join(f'<li><a href="/articles/{s.slug}.html">{esc(s.title)}</a></li>' for s in others)
    return f'<aside class="related"><h2>Related stories</h2><ul>{links}</ul></aside>'


def _json_ld(site: Site, story: Story) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.title,
        "description": story.description,
        "datePublished": iso_date(story.published),
        "dateModified": iso_date(story.published),
        "inLanguage": story.lang,
        "author": [{"@type": "Person", "name": story.author}],
        "publisher": {"@type": "Organization", "name": story.source},
        "image": [site.image_url(story)],
        "mainEntityOfPage": {"@type": "WebPage", "@id": site.article_url(story)},
        "articleSection": story.category,
    }
    # "</" inside a <script> would end it early; JSON allows "<\/".
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def render_article(site: Site, story: Story) -> bytes:
    url = site.article_url(story)
    body = "\n".join(f"<p>{esc(p)}</p>" for p in story.paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(story.lang)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(story.title)} | {esc(story.source)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="description" content="{esc(story.description)}">\n'
        f'<meta name="author" content="{esc(story.author)}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{esc(story.title)}">\n'
        f'<meta property="og:url" content="{esc(url)}">\n'
        f'<meta property="og:image" content="{esc(site.image_url(story))}">\n'
        f'<meta property="og:site_name" content="{esc(story.source)}">\n'
        f'<meta property="article:published_time" content="{iso_date(story.published)}">\n'
        f'<link rel="canonical" href="{esc(url)}">\n'
        '<link rel="alternate" type="application/rss+xml" title="Latest" href="/feeds/0.rss">\n'
        f'<script type="application/ld+json">{_json_ld(site, story)}</script>\n'
        "<style>body{font-family:serif;max-width:60em;margin:auto}.cookie-banner{position:fixed;bottom:0}</style>\n"
        "</head>\n<body>\n"
        f"{_NAV}\n{_COOKIE_BANNER}\n<main>\n<article>\n"
        f'<h1 class="headline">{esc(story.title)}</h1>\n'
        f'<p class="byline">By <span class="author">{esc(story.author)}</span> · '
        f'<time datetime="{iso_date(story.published)}">{story.published:%d %B %Y, %H:%M} UTC</time></p>\n'
        f'<figure><img src="/images/{story.slug}.jpg" alt="{esc(story.title)}" width="320" height="180">'
        "<figcaption>Photo: Gazette archive</figcaption></figure>\n"
        f'<div class="article-body">\n{body}\n</div>\n</article>\n'
        f"{_share_buttons(url)}\n{_related_aside(site, story)}\n</main>\n"
        '<div class="ad-slot">Advertisement</div>\n'
        f"{_FOOTER}\n</body>\n</html>\n"
    ).encode()


def render_homepage(site: Site) -> bytes:
    latest = sorted(site.stories, key=lambda s: (s.published, s.id), reverse=True)[:30]
    teasers = "".join(
        f'<li><a href="/articles/{s.slug}.html">{esc(s.title)}</a> <span>{esc(s.source)}</span></li>'
        for s in latest
    )
    feeds = "".join(
        f'<li>{esc(f.title)}: <a href="/feeds/{f.number}.rss">RSS</a> '
        f'<a href="/feeds/{f.number}.atom">Atom</a> '
        f'<a href="/feeds/{f.number}.json">JSON</a></li>'
        for f in site.feeds
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>The Tidings Gazette</title>\n"
        '<link rel="alternate" type="application/rss+xml" title="Latest stories" href="/feeds/0.rss">\n'
        '<link rel="alternate" type="application/atom+xml" title="Latest (Atom)" href="/feeds/0.atom">\n'
        '<link rel="alternate" type="application/feed+json" title="Latest (JSON)" href="/feeds/0.json">\n'
        f"</head>\n<body>\n{_NAV}\n{_COOKIE_BANNER}\n<main><h1>Latest news</h1><ul>{teasers}</ul>"
        f'<h2>Feeds</h2><ul class="feeds">{feeds}</ul></main>\n{_FOOTER}\n</body>\n</html>\n'
    ).encode()


def render_private_page() -> bytes:
    return (
        b"<!DOCTYPE html><html><head><title>Members only</title></head>"
        b"<body><p>Robots keep out.</p></body></html>\n"
    )


def render_robots(site: Site) -> bytes:
    disallow = site.robots_disallow or ""
    return (f"User-agent: *\nDisallow: {disallow}\n\nSitemap: {site.base_url}/sitemap-news.xml\n").encode()


# ---------------------------------------------------------------------------
# Binary payloads
# ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def lead_image(slug: str) -> bytes:
    """A small real JPEG, coloured per article so images differ between stories."""
    from PIL import Image, ImageDraw  # imported lazily: start-up stays fast for the poll benchmark

    seed = zlib.crc32(slug.encode())
    base = ((seed >> 16) & 0xFF, (seed >> 8) & 0xFF, seed & 0xFF)
    image = Image.new("RGB", (320, 180), base)
    draw = ImageDraw.Draw(image)
    for row in range(0, 180, 6):  # a gradient so the JPEG is not trivially uniform
        shade = tuple((channel + row) % 256 for channel in base)
        draw.rectangle((0, row, 320, row + 5), fill=shade)
    draw.ellipse((120, 50, 200, 130), outline=(255, 255, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


_MIB = 1 << 20
_ZERO_MIB = bytes(_MIB)
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # no name, no mtime, max compression, unknown OS
_FINAL_EMPTY_BLOCK = b"\x03\x00"


@lru_cache(maxsize=1)
def _deflated_zero_mib() -> bytes:
    """1 MiB of zeros as a self-contained deflate run (~1 KiB).

    After Z_FULL_FLUSH the compressor state is reset, so this block can be
    repeated back to back; that is how the bomb is streamed without ever
    holding the inflated gigabyte (or even the compressed megabyte) in memory.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(_ZERO_MIB) + compressor.flush(zlib.Z_FULL_FLUSH)


def gzip_bomb_length(inflated_mib: int) -> int:
    return len(_GZIP_HEADER) + inflated_mib * len(_deflated_zero_mib()) + len(_FINAL_EMPTY_BLOCK) + 8


def gzip_bomb_chunks(inflated_mib: int, blocks_per_chunk: int = 64) -> Iterator[bytes]:
    """Yield a valid gzip stream that inflates to ``inflated_mib`` MiB of zeros."""
    block = _deflated_zero_mib()
    crc = 0
    yield _GZIP_HEADER
    remaining = inflated_mib
    while remaining:
        count = min(blocks_per_chunk, remaining)
        for _ in range(count):  # CRC is computed as we go, spreading its cost over the stream
            crc = zlib.crc32(_ZERO_MIB, crc)
        remaining -= count
        yield block * count
    size = (inflated_mib * _MIB) & 0xFFFFFFFF
    yield _FINAL_EMPTY_BLOCK + crc.to_bytes(4, "little") + size.to_bytes(4, "little")
