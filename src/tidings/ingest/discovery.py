"""Find the feeds an HTML page advertises.

Order of preference: `<link rel="alternate|feed" type=…>` declarations (what the publisher says), then
`<a href>` links that look like feeds (what the page shows). Comment feeds are dropped when the page
also offers a real one; a reader subscribing to "Comments on: Foo" instead of the site is a classic bug.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit

from lxml import etree, html

from tidings.ingest.entries import absolute_http_url

MAX_CANDIDATES = 20

# Lower is better. JSON Feed last only because fewer readers and tools agree on it.
FEED_TYPES = {
    "application/atom+xml": 0,
    "application/rss+xml": 0,
    "application/rdf+xml": 1,
    "application/feed+json": 2,
    "application/json": 3,
    "text/xml": 3,
    "application/xml": 3,
}
_FEEDISH_HREF = re.compile(r"(?:^|[/._?=&-])(?:rss|atom|feeds?|rdf)(?:$|[/._?=&-]|\d)", re.IGNORECASE)
_FEEDISH_TEXT = re.compile(r"\b(?:rss|atom|json feed|rss feed)\b", re.IGNORECASE)
MAX_LABEL_CHARS = 40  # a feed link's label is "RSS" or "Atom feed", not a paragraph that mentions RSS
_COMMENTS = re.compile(r"comment", re.IGNORECASE)
# "Subscribe in Feedly" buttons mention feeds but lead to a reader's web app, not a feed.
_READER_SERVICE_HOSTS = (
    "feedly.com",
    "inoreader.com",
    "newsblur.com",
    "add.my.yahoo.com",
    "netvibes.com",
    "feeds.google.com",
)


def discover_feeds(html_document: bytes | str, *, base_url: str) -> list[str]:
    """Feed URLs advertised by the page, absolute, deduplicated, best first."""
    root = _parse_html(html_document)
    if root is None:
        return []
    base = _document_base(root, base_url)
    # Declared feeds (source 0) always outrank anchor guesses (source 1); comment feeds go only if alone.
    candidates = [(c, 0, rank, url) for c, rank, url in _declared_feeds(root, base)]
    candidates += [(c, 1, rank, url) for c, rank, url in _anchor_feeds(root, base)]
    if any(is_comments == 0 for is_comments, _, _, _ in candidates):
        candidates = [candidate for candidate in candidates if candidate[0] == 0]
    ordered: list[str] = []
    for *_, url in sorted(candidates, key=lambda candidate: candidate[:3]):  # stable: document order kept
        if url not in ordered:
            ordered.append(url)
    return ordered[:MAX_CANDIDATES]


def _parse_html(document: bytes | str) -> etree._Element | None:
    if isinstance(document, bytes | bytearray):
        if not bytes(document).strip():
            return None
    elif not document.strip():
        return None
    try:
        # lxml.html never loads DTDs or the network and recovers from broken markup by design.
        return html.document_fromstring(document)
    except (etree.ParserError, etree.LxmlError, ValueError):
        return None


def _document_base(root: etree._Element, page_url: str) -> str:
    for base in root.iter("base"):
        href = base.get("href")
        resolved = absolute_http_url(href, page_url) if href else None
        if resolved:
            return resolved
    return page_url


Candidate = tuple[int, int, str]  # (is-comments-feed, rank within its source, url)


def _declared_feeds(root: etree._Element, base: str) -> list[Candidate]:
    found: list[Candidate] = []
    for link in root.iter("link"):
        rel_tokens = set((link.get("rel") or "").lower().split())
        if not rel_tokens & {"alternate", "feed"}:
            continue
        media_type = (link.get("type") or "").split(";")[0].strip().lower()
        if media_type not in FEED_TYPES and not ("feed" in rel_tokens and not media_type):
            continue
        url = _feed_url(link.get("href"), base)
        if url is None:
            continue
        is_comments = bool(_COMMENTS.search(link.get("title") or "") or _COMMENTS.search(urlsplit(url).path))
        found.append((int(is_comments), FEED_TYPES.get(media_type, 1), url))
    return found


def _anchor_feeds(root: etree._Element, base: str) -> list[Candidate]:
    found: list[Candidate] = []
    for anchor in root.iter("a"):
        href = anchor.get("href") or ""
        text = " ".join(anchor.itertext()).strip() + " " + (anchor.get("title") or "")
        label_says_feed = len(text.strip()) <= MAX_LABEL_CHARS and bool(_FEEDISH_TEXT.search(text))
        if not href or not (_FEEDISH_HREF.search(href) or label_says_feed):
            continue
        url = _feed_url(href, base)
        if url is None or _is_reader_service(url):
            continue
        is_comments = bool(_COMMENTS.search(text) or _COMMENTS.search(urlsplit(url).path))
        # Links whose URL itself says feed beat links whose label merely says "RSS".
        rank = 0 if _FEEDISH_HREF.search(urlsplit(url).path + "?" + urlsplit(url).query) else 1
        found.append((int(is_comments), rank, url))
    return found


def _feed_url(href: str | None, base: str) -> str | None:
    """Resolve an href, unwrapping the `feed:` pseudo-scheme some sites still use."""
    if not href:
        return None
    href = href.strip()
    lowered = href.lower()
    if lowered.startswith("feed:"):
        rest = href[5:]
        href = rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    url = absolute_http_url(href, base)
    if url is None:
        return None
    return urldefrag(url).url


def _is_reader_service(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == service or host.endswith("." + service) for service in _READER_SERVICE_HOSTS)
