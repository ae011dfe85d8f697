"""Offline fake news publisher on 127.0.0.1, for integration tests and benchmarks.

One process serves many "sites": the corpus articles are grouped by their
``source`` field and each source is split round-robin into
``feeds_per_source`` feeds, numbered 0..N-1.

URL layout
----------
``/``                            homepage, with ``<link rel="alternate" type="application/rss+xml"
                                 href="/feeds/0.rss">`` (plus Atom and JSON alternates) for feed discovery
``/robots.txt``                  ``Disallow: <robots_disallow>`` (default ``/private/``) + Sitemap line
``/private/<anything>``          a page that well-behaved crawlers must not fetch
``/feeds/{n}.rss|.atom|.json``   RSS 2.0 / Atom 1.0 / JSON Feed 1.1, newest first; item links carry
                                 ``?utm_source=...`` tracking, guids/ids are the clean canonical URL
``/sitemap-news.xml``            Google News sitemap of every article
``/articles/{id}.html``          article page (canonical, og:*, JSON-LD NewsArticle, nav, cookie banner,
                                 share buttons, related aside, footer; body paragraphs in ``<article>``)
``/images/{id}.jpg``             small real JPEG (Pillow, generated on first request and cached)
``/poll/{n}.rss``                benchmark feeds, 0 <= n < poll_feeds: even n have a fixed ETag and answer
                                 304 to ``If-None-Match``; odd n carry no validators and always answer 200
                                 with the same ~5 items (a server that ignores conditional GET)
``/__switch?path=P&k=v...``      set per-path default switches at runtime (no k=v: clear them)
``/__stats``                     JSON ``{"requests_served": N, "hits": {path: N}}`` (``/__*`` not counted)

Feeds, sitemap and article pages carry a strong ``ETag`` and ``Last-Modified``
(the newest item's date) and answer 304 to ``If-None-Match`` /
``If-Modified-Since`` (If-None-Match wins when both are sent, per RFC 9110).

Switches
--------
Given as query parameters on any URL, or as per-path defaults (constructor
``switches={"/feeds/3.rss": {"status": "503"}}`` or ``Publisher.set_switches``),
so that an aggregator subscribed to a plain URL can be made to see failures.
Query parameters override per-path defaults.

``slow=SECONDS``     wait before sending anything
``dribble=BPS``      send headers at once, then the body at BPS bytes/second (1 = slow-loris)
``status=CODE``      answer CODE (e.g. 500, 503, 429) with a small body; 429/503 get ``Retry-After``
``retry_after=N``    value for Retry-After (default 120)
``redirect=N``       chain of N redirects (302; ``redirect_code=301|307|308``) ending at the real resource
``malformed=1``      truncated document with an unescaped ``&`` (broken XML / JSON / HTML)
``gzip=1``           ``Content-Encoding: gzip`` whatever the request's Accept-Encoding
``huge=MB``          pad the document with MB mebibytes (an XML/HTML comment, or JSON whitespace), streamed
``bomb=GIB``         a ~1 MiB gzip body (``Content-Encoding: gzip``) inflating to GIB GiB of zeros, streamed
``etag=0``           no ETag, If-None-Match ignored;  ``lastmod=0``: same for Last-Modified/If-Modified-Since

Order: redirect, then status, then the resource (and its 304), then malformed,
gzip/huge/bomb, then slow/dribble.

Running it
----------
``Publisher(articles)`` runs the server on an asyncio loop in a background
thread (fine for tests). ``Publisher(articles, subprocess=True)`` runs it in a
separate *process* (``python -m benchmarks.publisher --child``, corpus sent on
stdin, base URL read back from stdout; closing stdin stops it) so that client
and server do not share a GIL: use that for benchmarks. CLI for manual demos::

    .venv/bin/python -m benchmarks.publisher --data DIR --port 8765 [--poll-feeds 10000]

The HTTP/1.1 server is a small hand-written ``asyncio.Protocol`` (keep-alive,
pipelining, GET/HEAD only; other methods get 405 and a closed connection).
httptools/uvloop are not installed, so uvicorn would parse with pure-Python h11;
the hand-written protocol costs ~6 us of Python per poll request on top of the
event loop, and gives the byte-level control that dribble and bomb need.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from benchmarks import publisher_pages as pages

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CORPUS = REPO_ROOT / "tests" / "fixtures" / "corpus" / "articles.jsonl"
MAX_HEAD_BYTES = 64 * 1024
STREAM_CHUNK = 64 * 1024
MAX_SLOW_SECONDS = 600.0
MAX_HUGE_MB = 4096.0
MAX_BOMB_GIB = 4

_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_RSS = "application/rss+xml; charset=utf-8"
_FEED_TYPES = {
    "rss": _RSS,
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
_Popen = subprocess.Popen  # alias: Publisher's ``subprocess`` parameter shadows the module in __init__
_FEED_RENDERERS = {"rss": pages.render_rss, "atom": pages.render_atom, "json": pages.render_json_feed}


# ---------------------------------------------------------------------------
# Corpus loading
# ---------------------------------------------------------------------------


def load_corpus(path: Path | str, limit: int | None = None) -> list[dict]:
    """Read an ``articles.jsonl`` (the file itself, or the directory holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "articles.jsonl"
    articles: list[dict] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if limit is not None and len(articles) >= limit:
                break
            if line.strip():
                articles.append(json.loads(line))
    return articles


def fixture_corpus() -> list[dict]:
    """The small original corpus shipped in ``tests/fixtures/corpus``."""
    return load_corpus(FIXTURE_CORPUS)


# ---------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    keep_alive: bool

    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True)) if self.query else {}


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Streaming bodies (huge/bomb) are produced lazily; ``length`` is then the Content-Length.
    stream: Iterable[bytes] | None = None
    length: int | None = None
    delay: float = 0.0
    dribble_bps: float = 0.0

    @property
    def is_simple(self) -> bool:
        return self.stream is None and not self.delay and not self.dribble_bps

    def content_length(self) -> int:
        return self.length if self.stream is not None and self.length is not None else len(self.body)


def _parse_head(head: bytes) -> Request | None:
    try:
        text = head.decode("latin-1")
        request_line, *header_lines = text.split("\r\n")
        method, target, version = request_line.split(" ", 2)
    except ValueError:
        return None
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    path, _, query = target.partition("?")
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return Request(method, path, query, headers, keep_alive)


class _DateHeader:
    """Formatting the Date header costs more than the poll route itself; cache it per second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def __call__(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = pages.http_date(datetime.fromtimestamp(now, UTC))
        return self._value


def _serialise_head(response: Response, keep_alive: bool, date: str) -> bytes:
    lines = [
        f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}",
        f"Date: {date}",
        "Server: TidingsFakePublisher/1",
    ]
    lines += [f"{name}: {value}" for name, value in response.headers]
    if response.status != 304:
        lines.append(f"Content-Length: {response.content_length()}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Connection(asyncio.Protocol):
    """One client connection: parses pipelined requests, answers them in order."""

    def __init__(self, app: PublisherApp) -> None:
        self._app = app
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._slow_task: asyncio.Task | None = None  # while set, further requests wait in the buffer
        self._writable = asyncio.Event()
        self._writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._app.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._app.connections.discard(self)
        self._transport = None
        self._writable.set()
        if self._slow_task is not None:
            self._slow_task.cancel()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._slow_task is None:
            self._answer_buffered_requests()

    def _answer_buffered_requests(self) -> None:
        while self._slow_task is None and self._transport is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    self._reply_and_close(Response(431, b"request head too large\n"))
                return
            request = _parse_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
            if request is None:
                self._reply_and_close(Response(400, b"bad request\n"))
                return
            if request.method not in ("GET", "HEAD"):
                # Bodies are never read, so the connection cannot be reused safely.
                self._reply_and_close(Response(405, b"only GET and HEAD\n", [("Allow", "GET, HEAD")]))
                return
            self._answer(request)

    def _answer(self, request: Request) -> None:
        try:
            response = self._app.handle(request)
        except Exception as exc:  # a bug in a route must not kill the connection handler silently
            response = Response(500, f"publisher error: {exc!r}\n".encode())
        if response.is_simple:
            self._write_simple(request, response)
        else:
            self._slow_task = asyncio.get_running_loop().create_task(self._write_slowly(request, response))

    def _write_simple(self, request: Request, response: Response) -> None:
        assert self._transport is not None
        head = _serialise_head(response, request.keep_alive, self._app.date_header())
        self._transport.write(head if request.method == "HEAD" else head + response.body)
        if not request.keep_alive:
            self._transport.close()

    def _reply_and_close(self, response: Response) -> None:
        assert self._transport is not None
        self._transport.write(_serialise_head(response, False, self._app.date_header()) + response.body)
        self._transport.close()

    async def _write_slowly(self, request: Request, response: Response) -> None:
        try:
            if response.delay:
                await asyncio.sleep(response.delay)
            await self._send(_serialise_head(response, request.keep_alive, self._app.date_header()))
            if request.method != "HEAD":
                await self._send_body(response)
        except (asyncio.CancelledError, ConnectionError):
            return
        finally:
            self._slow_task = None
        if self._transport is None:
            return
        if not request.keep_alive:
            self._transport.close()
        else:
            self._answer_buffered_requests()

    async def _send(self, data: bytes) -> None:
        await self._writable.wait()  # honour flow control so streamed bodies never pile up in memory
        if self._transport is None or self._transport.is_closing():
            raise ConnectionResetError("client went away")
        self._transport.write(data)

    async def _send_body(self, response: Response) -> None:
        chunks: Iterable[bytes] = response.stream if response.stream is not None else (response.body,)
        if not response.dribble_bps:
            for chunk in chunks:
                await self._send(chunk)
            return
        interval = 1.0 / response.dribble_bps
        for chunk in chunks:
            for index in range(len(chunk)):
                await asyncio.sleep(interval)
                await self._send(chunk[index : index + 1])


# ---------------------------------------------------------------------------
# Routes and switches
# ---------------------------------------------------------------------------


def _is_not_modified(request: Request, etag: str | None, last_modified: datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if etag is None:
            return False
        offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in offered or etag.removeprefix("W/") in offered
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since and last_modified is not None:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False


def _padding_parts(kind: str) -> tuple[bytes, bytes, bytes]:
    """(filler, opener, closer): whitespace is valid anywhere in JSON, a comment anywhere in XML/HTML."""
    return (b" ", b"", b"") if kind == "json" else (b"x", b"<!-- padding ", b" -->")


def _padding_length(kind: str, size: int) -> int:
    _, opener, closer = _padding_parts(kind)
    return max(size, len(opener) + len(closer))


def _padding(kind: str, size: int) -> Iterator[bytes]:
    filler, opener, closer = _padding_parts(kind)
    size = _padding_length(kind, size)
    yield opener
    remaining = size - len(opener) - len(closer)
    piece = filler * STREAM_CHUNK
    while remaining > 0:
        yield piece[: min(remaining, STREAM_CHUNK)]
        remaining -= STREAM_CHUNK
    yield closer


def _pad_document(body: bytes, kind: str, megabytes: float) -> tuple[Iterator[bytes], int]:
    """Insert padding before the document's last closing tag (or brace) so it stays valid."""
    split_at = body.rfind(b"}") if kind == "json" else body.rfind(b"</")
    split_at = split_at if split_at > 0 else len(body)
    size = int(megabytes * (1 << 20))
    stream = iter([body[:split_at], *_padding(kind, size), body[split_at:]])
    return stream, len(body) + _padding_length(kind, size)


def _break_document(body: bytes, kind: str) -> bytes:
    """Cut the document short and add an unescaped ampersand: not well-formed anything."""
    cut = body[: max(len(body) * 2 // 3, 1)]
    if kind == "json":
        return cut + b', "broken": tru'
    return cut + b"<title>Fish & chips <b>unclosed"


def _float_switch(switches: dict[str, str], name: str, ceiling: float) -> float:
    try:
        return min(max(float(switches.get(name) or 0), 0.0), ceiling)
    except ValueError:
        return 0.0


def _switched_off_validators(switches: dict[str, str]) -> set[str]:
    off = set()
    if switches.get("etag") == "0":
        off.add("ETag")
    if switches.get("lastmod") == "0":
        off.add("Last-Modified")
    return off


def _without_conditions(request: Request, unsupported: set[str]) -> Request:
    """A server without ETag support ignores If-None-Match (likewise Last-Modified/If-Modified-Since)."""
    if not unsupported:
        return request
    ignored = {"if-none-match"} if "ETag" in unsupported else set()
    ignored |= {"if-modified-since"} if "Last-Modified" in unsupported else set()
    headers = {name: value for name, value in request.headers.items() if name not in ignored}
    return Request(request.method, request.path, request.query, headers, request.keep_alive)


class PublisherApp:
    """Routing, switches and rendering; shared by the thread, process and CLI modes."""

    def __init__(
        self,
        articles: list[dict],
        *,
        feeds_per_source: int = 1,
        poll_feeds: int = 0,
        robots_disallow: str | None = "/private/",
        switches: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.site = pages.Site(
            articles,
            feeds_per_source=feeds_per_source,
            poll_feeds=poll_feeds,
            robots_disallow=robots_disallow,
        )
        self.path_switches = {
            path: {k: str(v) for k, v in values.items()} for path, values in (switches or {}).items()
        }
        self.requests_served = 0
        self.hits: Counter[str] = Counter()  # per path (query ignored), so tests can assert what was fetched
        self.connections: set[_Connection] = set()
        self.date_header = _DateHeader()
        self._poll_cache: dict[int, tuple[str, bytes]] = {}

    def bind(self, base_url: str) -> None:
        self.site.base_url = base_url

    # -- entry point ---------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/__"):
            # Control endpoints: neither counted (tests compare counts) nor subject to switches.
            return self._control(request)
        self.requests_served += 1
        self.hits[request.path] += 1
        if request.path.startswith("/poll/") and not request.query and request.path not in self.path_switches:
            return self._poll(request)  # the benchmark hot path skips all switch handling
        switches = {**self.path_switches.get(request.path, {}), **request.params()}
        return self._apply_delivery_switches(self._respond(request, switches), switches)

    def _respond(self, request: Request, switches: dict[str, str]) -> Response:
        if (redirects := int(_float_switch(switches, "redirect", 50))) > 0:
            return self._redirect(request, switches, redirects)
        if (status := switches.get("status")) and status != "200":
            return self._error_status(int(status), switches)
        unsupported = _switched_off_validators(switches)
        response, kind = self._route(_without_conditions(request, unsupported))
        response.headers = [(name, value) for name, value in response.headers if name not in unsupported]
        if response.status != 200:
            return response
        if switches.get("malformed", "0") != "0":
            response.body = _break_document(response.body, kind)
        return self._apply_body_switches(response, switches, kind)

    # -- switches ------------------------------------------------------------

    def _redirect(self, request: Request, switches: dict[str, str], remaining: int) -> Response:
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        params.pop("redirect", None)
        if remaining > 1 or "redirect" in self.path_switches.get(request.path, {}):
            # An explicit redirect=0 overrides a per-path redirect switch, ending the chain.
            params["redirect"] = str(remaining - 1)
        query = urlencode(params)
        host = request.headers.get("host") or self.site.base_url.removeprefix("http://")
        location = f"http://{host}{request.path}" + (f"?{query}" if query else "")
        code = int(switches.get("redirect_code") or 302)
        return Response(code if code in (301, 302, 307, 308) else 302, b"", [("Location", location)])

    def _error_status(self, status: int, switches: dict[str, str]) -> Response:
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if status in (429, 503):
            headers.append(("Retry-After", switches.get("retry_after") or "120"))
        return Response(
            status, f"{status} {_REASONS.get(status, 'Unknown')} (requested by switch)\n".encode(), headers
        )

    def _apply_body_switches(self, response: Response, switches: dict[str, str], kind: str) -> Response:
        if (gib := int(_float_switch(switches, "bomb", MAX_BOMB_GIB))) > 0:
            response.stream = pages.gzip_bomb_chunks(gib * 1024)
            response.length = pages.gzip_bomb_length(gib * 1024)
            response.headers.append(("Content-Encoding", "gzip"))
        elif (megabytes := _float_switch(switches, "huge", MAX_HUGE_MB)) > 0:
            response.stream, response.length = _pad_document(response.body, kind, megabytes)
        elif switches.get("gzip", "0") != "0":
            response.body = gzip.compress(response.body, compresslevel=6)
            response.headers.append(("Content-Encoding", "gzip"))
        return response

    def _apply_delivery_switches(self, response: Response, switches: dict[str, str]) -> Response:
        response.delay = _float_switch(switches, "slow", MAX_SLOW_SECONDS)
        response.dribble_bps = _float_switch(switches, "dribble", 1e6)
        return response

    # -- resources -----------------------------------------------------------

    def _route(self, request: Request) -> tuple[Response, str]:
        path = request.path
        if path.startswith("/feeds/"):
            return self._feed(request, path.removeprefix("/feeds/")), self._kind_of(path)
        if path.startswith("/articles/") and path.endswith(".html"):
            return self._article(request, unquote(path[len("/articles/") : -len(".html")])), "html"
        if path.startswith("/images/") and path.endswith(".jpg"):
            return self._image(unquote(path[len("/images/") : -len(".jpg")])), "binary"
        if path == "/sitemap-news.xml":
            body = self.site.cached(("sitemap",), lambda: pages.render_news_sitemap(self.site))
            return self._cacheable(
                request,
                body,
                "application/xml; charset=utf-8",
                max((s.published for s in self.site.stories), default=None),
            ), "xml"
        if path.startswith("/poll/"):
            return self._poll(request), "rss"
        return self._static_page(request, path)

    @staticmethod
    def _kind_of(path: str) -> str:
        return path.rpartition(".")[2]

    def _static_page(self, request: Request, path: str) -> tuple[Response, str]:
        if path in ("/", "/index.html"):
            body = self.site.cached(("home",), lambda: pages.render_homepage(self.site))
            return Response(200, body, [("Content-Type", "text/html; charset=utf-8")]), "html"
        if path == "/robots.txt":
            return Response(200, pages.render_robots(self.site), [("Content-Type", "text/plain")]), "text"
        if path.startswith("/private/"):
            return Response(200, pages.render_private_page(), [("Content-Type", "text/html")]), "html"
        return Response(404, b"not found\n", [("Content-Type", "text/plain")]), "text"

    def _control(self, request: Request) -> Response:
        if request.path == "/__switch":
            return self._set_switches_from(request)
        if request.path == "/__stats":
            body = json.dumps({"requests_served": self.requests_served, "hits": self.hits}).encode()
            return Response(200, body, [("Content-Type", "application/json")])
        return Response(404, b"no such control endpoint\n")

    def _set_switches_from(self, request: Request) -> Response:
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        target = params.pop("path", "")
        if not target.startswith("/"):
            return Response(400, b"path=/... required\n")
        if params:
            self.path_switches[target] = params
        else:
            self.path_switches.pop(target, None)
        return Response(200, json.dumps({target: params}).encode(), [("Content-Type", "application/json")])

    def _cacheable(
        self, request: Request, body: bytes, content_type: str, last_modified: datetime | None
    ) -> Response:
        etag = pages.etag_for(body)
        headers = [("Content-Type", content_type), ("ETag", etag), ("Cache-Control", "max-age=60")]
        if last_modified is not None:
            headers.append(("Last-Modified", pages.http_date(last_modified)))
        if _is_not_modified(request, etag, last_modified):
            return Response(304, b"", [h for h in headers if h[0] != "Content-Type"])
        return Response(200, body, headers)

    def _feed(self, request: Request, name: str) -> Response:
        number_text, _, kind = name.partition(".")
        if (
            not number_text.isdigit()
            or kind not in _FEED_RENDERERS
            or int(number_text) >= len(self.site.feeds)
        ):
            return Response(404, b"no such feed\n")
        feed = self.site.feeds[int(number_text)]
        body = self.site.cached(("feed", feed.number, kind), lambda: _FEED_RENDERERS[kind](self.site, feed))
        return self._cacheable(request, body, _FEED_TYPES[kind], feed.last_modified)

    def _article(self, request: Request, article_id: str) -> Response:
        story = self.site.by_slug.get(pages.quote(article_id, safe="-_.~"))
        if story is None:
            return Response(404, b"no such article\n", [("Content-Type", "text/plain")])
        body = self.site.cached(("article", story.slug), lambda: pages.render_article(self.site, story))
        return self._cacheable(request, body, "text/html; charset=utf-8", story.published)

    def _image(self, article_id: str) -> Response:
        slug = pages.quote(article_id, safe="-_.~")
        if slug not in self.site.by_slug:
            return Response(404, b"no such image\n")
        return Response(
            200, pages.lead_image(slug), [("Content-Type", "image/jpeg"), ("Cache-Control", "max-age=86400")]
        )

    def _poll(self, request: Request) -> Response:
        number_text = request.path[len("/poll/") :].removesuffix(".rss")
        if not number_text.isdigit() or int(number_text) >= self.site.poll_feeds:
            return Response(404, b"no such poll feed\n")
        number = int(number_text)
        etag, body = self._poll_document(number)
        if number % 2:
            return Response(200, body, [("Content-Type", _RSS)])
        headers = [("Content-Type", _RSS), ("ETag", etag)]
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None and (if_none_match == etag or _is_not_modified(request, etag, None)):
            return Response(304, b"", headers[1:])
        return Response(200, body, headers)

    def _poll_document(self, number: int) -> tuple[str, bytes]:
        cached = self._poll_cache.get(number)
        if cached is None:
            body = pages.render_poll_feed(self.site, number)
            cached = self._poll_cache[number] = (f'"poll-{number}"', body)
        return cached


# ---------------------------------------------------------------------------
# Running the server: in a thread, in a subprocess, or in the foreground
# ---------------------------------------------------------------------------


async def _start_server(app: PublisherApp, host: str, port: int) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(app), host, port, backlog=4096, reuse_address=True)
    bound_port = server.sockets[0].getsockname()[1]
    app.bind(f"http://{host}:{bound_port}")
    return server


async def _wait_all(tasks: list[asyncio.Task]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


def _close_everything(loop: asyncio.AbstractEventLoop, server: asyncio.Server, app: PublisherApp) -> None:
    server.close()
    for connection in list(app.connections):  # Server.close() leaves keep-alive connections open
        connection.abort()
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(_wait_all(pending))
    loop.run_until_complete(server.wait_closed())
    loop.close()


def _serve_as_child() -> None:
    """``--child`` entry: config on stdin's first line, base URL on stdout; stop when stdin closes."""
    config = json.loads(sys.stdin.buffer.readline())
    app = PublisherApp(config["articles"], **config["options"])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(_start_server(app, config["host"], config["port"]))
    print(app.site.base_url, flush=True)
    # Readable stdin means "stop" or EOF (the parent died): either way exit, so no orphans linger.
    loop.add_reader(sys.stdin.fileno(), loop.stop)
    try:
        loop.run_forever()
    finally:
        loop.remove_reader(sys.stdin.fileno())
        _close_everything(loop, server, app)


class Publisher:
    """The fake publisher, as a context manager.

    ``subprocess=False`` (default): asyncio loop in a daemon thread of this process.
    ``subprocess=True``: a child ``python -m benchmarks.publisher --child`` process, so client and
    server do not share a GIL; recommended for benchmarks.
    """

    def __init__(
        self,
        articles: list[dict],
        *,
        feeds_per_source: int = 1,
        poll_feeds: int = 0,
        robots_disallow: str | None = "/private/",
        host: str = "127.0.0.1",
        port: int = 0,
        switches: dict[str, dict[str, Any]] | None = None,
        subprocess: bool = False,
    ) -> None:
        self._articles = articles
        self._options: dict[str, Any] = {
            "feeds_per_source": feeds_per_source,
            "poll_feeds": poll_feeds,
            "robots_disallow": robots_disallow,
            "switches": switches,
        }
        self.host, self.port = host, port
        self.subprocess = subprocess
        self.base_url = ""
        # Feed count is computed locally (cheap) so feed_urls() works in both modes.
        self._feed_count = len(
            pages.group_into_feeds(
                [pages.make_story(a, datetime.now(UTC)) for a in articles], feeds_per_source
            )
        )
        self._slugs = {str(a["id"]): pages.quote(str(a["id"]), safe="-_.~") for a in articles}
        self._app: PublisherApp | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._process: _Popen[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        if self.base_url:
            raise RuntimeError("publisher already started")
        if self.subprocess:
            self._start_process()
        else:
            self._start_thread()

    def stop(self) -> None:
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._thread = None
        if self._process is not None:
            assert self._process.stdin is not None and self._process.stdout is not None
            with contextlib.suppress(OSError):
                self._process.stdin.close()  # EOF on the child's stdin is the stop signal
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process.stdout.close()
            self._process = None
        self.base_url = ""

    def __enter__(self) -> Publisher:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _start_thread(self) -> None:
        self._app = PublisherApp(self._articles, **self._options)
        ready = threading.Event()
        failure: list[BaseException] = []

        app = self._app

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(_start_server(app, self.host, self.port))
            except BaseException as exc:  # surface bind errors in start(), not in a dead thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                _close_everything(loop, server, app)

        self._thread = threading.Thread(target=serve, name="fake-publisher", daemon=True)
        self._thread.start()
        ready.wait(timeout=30)
        if failure:
            self._thread = None
            raise failure[0]
        self.base_url = self._app.site.base_url

    def _start_process(self) -> None:
        # A fresh interpreter via "python -m" rather than multiprocessing: spawn would re-import the
        # caller's __main__ (breaking unguarded benchmark scripts) and fork is unsafe with threads.
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.publisher", "--child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=REPO_ROOT,
            env=environment,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        config = {"articles": self._articles, "options": self._options, "host": self.host, "port": self.port}
        self._process.stdin.write(json.dumps(config).encode() + b"\n")
        self._process.stdin.flush()
        base_url = self._process.stdout.readline().decode().strip()
        if not base_url.startswith("http://"):
            self.stop()
            raise RuntimeError("publisher subprocess failed to start (see its stderr above)")
        self.base_url = base_url

    # -- helpers for tests ---------------------------------------------------

    @property
    def requests_served(self) -> int:
        """Requests answered so far, control endpoints (``/__*``) excepted; subprocess mode asks over HTTP."""
        if self._process is not None:
            import httpx  # local: only the parent side of subprocess mode needs a client

            return int(httpx.get(f"{self.base_url}/__stats", timeout=10).json()["requests_served"])
        return self._app.requests_served if self._app is not None else 0

    def hits(self, path: str) -> int:
        """How often ``path`` (without query) was requested, e.g. ``hits("/private/page")`` for robots tests."""
        if self._process is not None:
            import httpx

            return int(httpx.get(f"{self.base_url}/__stats", timeout=10).json()["hits"].get(path, 0))
        return self._app.hits[path] if self._app is not None else 0

    def url(self, path: str, /, **switches: Any) -> str:
        query = urlencode({k: v for k, v in switches.items() if v is not None})
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def feed_urls(self, kind: str = "rss", **switches: Any) -> list[str]:
        if kind not in _FEED_RENDERERS:
            raise ValueError(f"kind must be one of {sorted(_FEED_RENDERERS)}")
        return [self.url(f"/feeds/{n}.{kind}", **switches) for n in range(self._feed_count)]

    def poll_urls(self) -> list[str]:
        return [f"{self.base_url}/poll/{n}.rss" for n in range(self._options["poll_feeds"])]

    def article_url(self, article_id: str, **switches: Any) -> str:
        slug = self._slugs.get(str(article_id)) or pages.quote(str(article_id), safe="-_.~")
        return self.url(f"/articles/{slug}.html", **switches)

    def set_switches(self, path: str, **switches: Any) -> None:
        """Make ``path`` misbehave for every client (no switches: behave again). Works in both modes."""
        import httpx  # local: the server itself does not need httpx

        response = httpx.get(self.url("/__switch", path=path, **switches), timeout=10)
        response.raise_for_status()


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a corpus as a fake news publisher on localhost.")
    parser.add_argument("--data", type=Path, default=FIXTURE_CORPUS, help="corpus dir or articles.jsonl")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--feeds-per-source", type=int, default=1)
    parser.add_argument("--poll-feeds", type=int, default=0)
    parser.add_argument("--robots-disallow", default="/private/")
    parser.add_argument(
        "--child", action="store_true", help=argparse.SUPPRESS
    )  # used by Publisher(subprocess=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    if args.child:
        _serve_as_child()
        return
    app = PublisherApp(
        load_corpus(args.data, args.limit),
        feeds_per_source=args.feeds_per_source,
        poll_feeds=args.poll_feeds,
        robots_disallow=args.robots_disallow or None,
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(_start_server(app, args.host, args.port))
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # both end the demo cleanly
        loop.add_signal_handler(stop_signal, loop.stop)
    print(
        f"publisher on {app.site.base_url} : {len(app.site.stories)} articles, {len(app.site.feeds)} feeds, "
        f"{args.poll_feeds} poll feeds (Ctrl-C to stop)",
        flush=True,
    )
    try:
        loop.run_forever()
    finally:
        _close_everything(loop, server, app)


if __name__ == "__main__":
    main()
