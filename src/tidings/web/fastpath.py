"""Serve fresh cached article pages before routing: the hot path costs a dict lookup and a write.

The article page is what most readers request and it is cached (pagecache.py). For a fresh hit,
FastAPI's routing, dependency and exception layers add several times the cost of the answer
itself, so this ASGI middleware answers hits directly, with exactly the headers the route sends.
Everything else (misses, stale pages being revalidated, query strings, other methods) goes on to
the normal route, which renders, caches and handles errors.
"""

from __future__ import annotations

import re
from typing import Any

from tidings.extract.urls import ARTICLE_ID_PATTERN
from tidings.web.httpcache import etag_matches
from tidings.web.i18n import LANGUAGES
from tidings.web.pagecache import CachedPage, PageCache
from tidings.web.rendering import PAGE_CACHE_CONTROL, SECURITY_HEADERS

ARTICLE_PATH = re.compile(f"/({'|'.join(LANGUAGES)})/article/({ARTICLE_ID_PATTERN})")
Scope = dict[str, Any]

_COMMON = [(b"cache-control", PAGE_CACHE_CONTROL.encode()), (b"vary", b"Accept-Encoding")] + [
    (name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
]


class ArticleFastPath:
    def __init__(self, app: Any, *, cache: PageCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            match = ARTICLE_PATH.fullmatch(scope["path"])
            if match is not None:
                entry = self.cache.fresh((match.group(1), match.group(2)))
                if entry is not None:
                    await _answer(entry, scope, send)
                    return
        await self.app(scope, receive, send)


async def _answer(entry: CachedPage, scope: Scope, send: Any) -> None:
    request_headers = dict(scope["headers"])
    headers = [*_COMMON, (b"etag", entry.etag.encode())]
    if etag_matches(_header(request_headers, b"if-none-match"), entry.etag):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = entry.body
    if "gzip" in (_header(request_headers, b"accept-encoding") or ""):
        body = entry.gzip_body
        headers.append((b"content-encoding", b"gzip"))
    headers += [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None
