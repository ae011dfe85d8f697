"""Rendered article pages kept in memory, so a popular article costs a dictionary lookup, not a render.

How freshness works (the why behind the numbers):

- An entry is keyed by (page language, article id) and holds the rendered bytes and their strong ETag.
- An entry is served as is for its TTL: the page shows relative times ("2 hours ago") rendered on
  the server, which must work without JavaScript, so a page may not be cached forever. The
  renderer may pass the TTL with the page (`render()` returning `(body, ttl)`): relative times
  are coarse for older articles ("3 hours ago" only changes hourly), so the article route keeps
  old articles longer (`ttl_for_age`). The default is 60 s, matching `Cache-Control: max-age=60`.
- After that, the article and its related list are read again and the page re-rendered, so a changed
  article (re-fetched body, new related articles) shows within a minute. No separate version key is
  needed: the re-render happens anyway for the relative times, and the ETag is a hash of the bytes,
  so when nothing visible changed ("3 days ago" stays "3 days ago" for hours) the ETag is unchanged
  and clients keep getting 304s across refreshes.
- Stale-while-revalidate: a page past its TTL but younger than `max_stale` is served at once while
  one background task re-renders it, so no reader waits on a render for a page that is merely a
  minute old (renders under load were what made p99 latency spike). Older pages are re-rendered
  before answering. At most two background re-renders run at once, so a burst of expiries cannot
  take the CPU from readers.
- Concurrent requests for the same missing page wait for one render instead of each doing it.
- At most `max_entries` pages are kept; the least recently used one is dropped first.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tidings.web.httpcache import strong_etag

PageKey = tuple[str, str]  # (page language, article id)
Rendered = bytes | tuple[bytes, float]  # the page, optionally with its own TTL
BACKGROUND_RENDERS = 2


def ttl_for_age(age_seconds: float) -> float:
    """How long a page showing "N minutes/hours/days ago" for an article this old stays right."""
    if age_seconds < 3600:
        return 60.0
    if age_seconds < 86400:
        return 600.0
    return 3600.0


@dataclass(frozen=True, slots=True)
class CachedPage:
    body: bytes
    # Compressed once when cached, so serving the (usual) gzip-accepting reader costs no CPU and
    # sends a quarter of the bytes.
    gzip_body: bytes
    etag: str
    expires_at: float
    stale_until: float


class PageCache:
    def __init__(
        self,
        *,
        max_entries: int = 1024,
        ttl: float = 60.0,
        max_stale: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[PageKey, CachedPage] = OrderedDict()
        self._inflight: dict[PageKey, asyncio.Future[CachedPage]] = {}
        self._max_entries = max_entries
        self._ttl = ttl
        self._max_stale = max_stale
        self._clock = clock
        self._refreshing: set[asyncio.Task[None]] = set()
        self._background = asyncio.Semaphore(BACKGROUND_RENDERS)
        self._refresh_queued: set[PageKey] = set()  # one background re-render per page, even queued

    def __len__(self) -> int:
        return len(self._entries)

    def fresh(self, key: PageKey) -> CachedPage | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self._clock():
            return None
        self._entries.move_to_end(key)
        return entry

    def usable_stale(self, key: PageKey) -> CachedPage | None:
        entry = self._entries.get(key)
        if entry is None or entry.stale_until <= self._clock():
            return None
        return entry

    def put(self, key: PageKey, body: bytes, ttl: float | None = None) -> CachedPage:
        now = self._clock()
        ttl = self._ttl if ttl is None else ttl
        entry = CachedPage(
            body=body,
            gzip_body=gzip.compress(body, compresslevel=6, mtime=0),
            etag=strong_etag(body),
            expires_at=now + ttl,
            stale_until=now + max(self._max_stale, 2 * ttl),
        )
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return entry

    async def get_or_render(self, key: PageKey, render: Callable[[], Awaitable[Rendered]]) -> CachedPage:
        """The fresh entry, else the result of one `render()` shared by concurrent callers.

        `render` errors (an unknown article: NotFound) reach every waiter and are not cached.
        """
        entry = self.fresh(key)
        if entry is not None:
            return entry
        stale = self.usable_stale(key)
        if stale is not None:
            if key not in self._inflight and key not in self._refresh_queued:
                self._refresh_queued.add(key)
                task = asyncio.create_task(self._refresh(key, render))
                self._refreshing.add(task)
                task.add_done_callback(self._refreshing.discard)
            return stale
        pending = self._inflight.get(key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request itself was cancelled
                return await self.get_or_render(key, render)
        return await self._render_shared(key, render)

    async def _refresh(self, key: PageKey, render: Callable[[], Awaitable[Rendered]]) -> None:
        try:
            async with self._background:
                await self._render_shared(key, render)
        except Exception:  # the article vanished, say: drop the stale page rather than serve it on
            self._entries.pop(key, None)
        finally:
            self._refresh_queued.discard(key)

    async def _render_shared(self, key: PageKey, render: Callable[[], Awaitable[Rendered]]) -> CachedPage:
        future: asyncio.Future[CachedPage] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            rendered = await render()
            body, ttl = rendered if isinstance(rendered, tuple) else (rendered, None)
            entry = self.put(key, body, ttl)
            future.set_result(entry)
            return entry
        except asyncio.CancelledError:
            future.cancel()  # the waiters retry rather than inherit this client's hang-up
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marks it retrieved: nobody else may be waiting
            raise
        finally:
            del self._inflight[key]
