"""The one way Tidings talks to the outside world: `SafeFetcher.fetch(url)`.

Every request goes through, in order: the SSRF guard on the URL (each redirect hop too), robots.txt
when asked, the politeness limiter, and a transport that connects only to validated IPs. Bodies are
streamed and capped after decompression; the time spent talking to servers is capped as a whole.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
import zlib
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import brotli
import httpx

from tidings.config import Settings
from tidings.ingest.decoding import BudgetExceeded, decoder_for
from tidings.ingest.errors import (
    BlockedURLError,
    FetchConnectError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    TooManyRedirectsError,
)
from tidings.ingest.hostlimit import HostLimiter
from tidings.ingest.robots import MAX_ROBOTS_BYTES, RobotsCache
from tidings.ingest.ssrf import SSRFGuard
from tidings.ingest.transport import SafeTransport

__all__ = [
    "BlockedURLError",
    "FetchConnectError",
    "FetchError",
    "FetchResult",
    "FetchTimeoutError",
    "Fetcher",
    "HTTPStatusError",
    "ResponseTooLargeError",
    "RobotsDisallowedError",
    "SafeFetcher",
    "TooManyRedirectsError",
]

logger = logging.getLogger(__name__)

ACCEPT_ENCODING = "gzip, deflate, br"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Small redirect/error bodies are read to the end so the keep-alive connection can be reused.
DRAIN_LIMIT = 16 * 1024


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int  # 200..299 or 304
    headers: httpx.Headers  # as sent by the server (Content-Encoding included: `content` is decoded)
    content: bytes  # decoded body; b"" on 304
    etag: str | None
    last_modified: str | None
    max_age: int | None  # Cache-Control max-age in seconds; None if absent, no-cache or no-store

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str | None:
        """Media type without parameters, lower-cased: `application/rss+xml`."""
        value = self.headers.get("content-type")
        if not value:
            return None
        media_type = value.split(";", 1)[0].strip().lower()
        return media_type or None

    @property
    def encoding(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        value = self.headers.get("content-type")
        if not value:
            return None
        for param in value.split(";")[1:]:
            name, _, charset = param.partition("=")
            if name.strip().lower() == "charset":
                return charset.strip().strip("\"'") or None
        return None


@runtime_checkable
class Fetcher(Protocol):
    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        max_bytes: int | None = None,
        check_robots: bool = False,
    ) -> FetchResult: ...

    async def aclose(self) -> None: ...


class SafeFetcher:
    """SSRF-guarded, polite, size- and time-capped HTTP GET.

    Make one per process and share it (it holds the connection pool, the politeness state and the
    robots.txt cache); like every asyncio object it belongs to the event loop that first uses it.

    `transport` replaces the network layer (tests: `httpx.MockTransport`, or a `SafeTransport`
    with a fake resolver). Only a `SafeTransport` enforces the resolved-address check; with
    another transport the URL-level guard still applies.
    """

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if isinstance(transport, SafeTransport):
            self._guard = transport.guard
        else:
            self._guard = SSRFGuard(settings.allow_hosts)
        self._max_redirects = settings.max_redirects
        self._max_bytes = settings.max_response_bytes
        self._total_timeout = settings.total_timeout
        self._respect_robots = settings.respect_robots
        self._limiter = HostLimiter(
            global_concurrency=settings.global_concurrency,
            per_host_concurrency=settings.per_host_concurrency,
            per_host_delay=settings.per_host_delay,
        )
        self._robots = RobotsCache(self._fetch_robots_txt)
        self._client = _CookielessClient(
            transport=transport if transport is not None else SafeTransport(settings, guard=self._guard),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"},
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.total_timeout,
            ),
            follow_redirects=False,  # each hop must pass the guard first: see fetch()
            trust_env=False,  # an environment proxy would resolve names itself, past the guard
        )

    async def __aenter__(self) -> SafeFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        max_bytes: int | None = None,
        check_robots: bool = False,
    ) -> FetchResult:
        """GET `url`, following redirects. Raises a `FetchError` subclass on any failure.

        The total timeout counts time spent on the network only, across all hops; time queued
        behind the politeness limits does not count (a busy host must not fail our fetches).
        """
        headers = _request_headers(etag, last_modified, accept)
        limit = max_bytes or self._max_bytes
        budget = _TimeBudget(self._total_timeout)
        current: str | httpx.URL = url
        for _hop in range(self._max_redirects + 1):
            target = self._guard.check_url(current)
            if check_robots and self._respect_robots:
                await self._ensure_robots_allow(target)
            outcome = await self._fetch_hop(target, headers, limit, budget)
            if isinstance(outcome, FetchResult):
                return outcome
            logger.debug("redirect %s -> %s", target, outcome)
            current = outcome
        raise TooManyRedirectsError(f"More than {self._max_redirects} redirects", url=url)

    async def _ensure_robots_allow(self, url: httpx.URL) -> None:
        if not await self._robots.allows(url):
            raise RobotsDisallowedError(f"robots.txt disallows {url}", url=str(url))

    async def _fetch_robots_txt(self, url: str) -> FetchResult:
        return await self.fetch(url, accept="text/plain", max_bytes=MAX_ROBOTS_BYTES)

    async def _fetch_hop(
        self, url: httpx.URL, headers: dict[str, str], limit: int, budget: _TimeBudget
    ) -> FetchResult | httpx.URL:
        """One request: the final result, or the URL a redirect points to."""
        url_text = str(url)
        async with await self._limiter.acquire(url.raw_host.decode("ascii")):
            try:
                with budget.spend():
                    async with asyncio.timeout(budget.remaining):
                        return await self._exchange(url, headers, limit)
            except FetchError as exc:
                if not exc.url:
                    exc.url = url_text
                raise
            except TimeoutError as exc:
                raise FetchTimeoutError("Fetch took longer than the total timeout", url=url_text) from exc
            except httpx.TimeoutException as exc:
                raise FetchTimeoutError(f"Timed out: {type(exc).__name__}", url=url_text) from exc
            except httpx.ConnectError as exc:
                raise FetchConnectError(f"Cannot connect: {exc}", url=url_text) from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}", url=url_text) from exc

    async def _exchange(self, url: httpx.URL, headers: dict[str, str], limit: int) -> FetchResult | httpx.URL:
        request = self._client.build_request("GET", url, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
        except BlockedURLError as exc:  # raised by the network backend: an address, not a URL
            raise BlockedURLError(exc.message, url=str(url)) from exc
        try:
            status = response.status_code
            if status in REDIRECT_STATUSES and "location" in response.headers:
                await _drain(response)
                return _redirect_target(url, response.headers["location"])
            if status == 304:
                await _drain(response)  # an unread (even empty) body would make httpcore drop the connection
                return _result(url, response, b"")
            if not 200 <= status < 300:
                await _drain(response)
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                raise HTTPStatusError(url=str(url), status=status, retry_after=retry_after)
            return _result(url, response, await _read_capped(response, limit, str(url)))
        finally:
            await response.aclose()


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessClient(httpx.AsyncClient):
    """One client serves every site: a shared cookie jar would leak cookies between sites and grow
    without bound. Cookies are neither stored nor sent, which also skips httpx's per-response
    Set-Cookie parsing (measurable at hundreds of polls per second)."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, value: object) -> None:
        pass


_NO_COOKIES = _NoCookies()


class _TimeBudget:
    """Seconds left for a whole fetch, spent only while a hop is on the network."""

    __slots__ = ("remaining",)

    def __init__(self, seconds: float) -> None:
        self.remaining = seconds

    def spend(self) -> _Spending:
        return _Spending(self)


class _Spending:
    __slots__ = ("_budget", "_started")

    def __init__(self, budget: _TimeBudget) -> None:
        self._budget = budget
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.monotonic()

    def __exit__(self, *exc_info: object) -> None:
        self._budget.remaining = max(0.0, self._budget.remaining - (time.monotonic() - self._started))


def _request_headers(etag: str | None, last_modified: str | None, accept: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    if accept:
        headers["Accept"] = accept
    return headers


def _redirect_target(url: httpx.URL, location: str) -> httpx.URL:
    try:
        return url.join(location.strip())
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"Invalid redirect Location {location!r}", url=str(url)) from exc


def _result(url: httpx.URL, response: httpx.Response, content: bytes) -> FetchResult:
    headers = response.headers
    return FetchResult(
        url=str(url),
        status=response.status_code,
        headers=headers,
        content=content,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        max_age=parse_max_age(headers.get("cache-control")),
    )


async def _drain(response: httpx.Response) -> None:
    """Read a small body to its end so the connection goes back to the pool; else just close.

    304 and 204 have no body whatever the headers say; it must still be "read" for h11 to see the end.
    """
    declared = response.headers.get("content-length")
    too_big = declared is not None and (not declared.isdigit() or int(declared) > DRAIN_LIMIT)
    if too_big and response.status_code not in (204, 304):
        return
    read = 0
    try:
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read > DRAIN_LIMIT:
                return
    except httpx.TransportError as exc:
        # Best effort only: the status we already have is the answer; the connection just gets closed.
        logger.debug("could not drain %s: %r", response.url, exc)


async def _read_capped(response: httpx.Response, limit: int, url: str) -> bytes:
    """The decoded body, refusing more than `limit` bytes raw or decoded (whichever comes first)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(f"Content-Length {declared} exceeds {limit} bytes", url=url)
    decoder = decoder_for(response.headers.get("content-encoding"))
    chunks: list[bytes] = []
    raw_size = decoded_size = 0
    try:
        async for raw in response.aiter_raw():
            raw_size += len(raw)
            if raw_size > limit:
                raise BudgetExceeded
            decoded = decoder.decode(raw, limit - decoded_size)
            decoded_size += len(decoded)
            chunks.append(decoded)
        chunks.append(decoder.flush(limit - decoded_size))
    except BudgetExceeded:
        raise ResponseTooLargeError(f"Response exceeds {limit} bytes", url=url) from None
    except (zlib.error, brotli.error) as exc:
        coding = response.headers.get("content-encoding")
        raise FetchError(f"Cannot decode body ({coding}): {exc}", url=url) from exc
    return b"".join(chunks)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; never negative."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT; an obsolete format may parse without zone
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_max_age(cache_control: str | None) -> int | None:
    """max-age from Cache-Control, None when absent or when caching is forbidden."""
    if not cache_control:
        return None
    max_age: int | None = None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-cache", "no-store"):
            return None
        if name == "max-age":
            value = value.strip().strip('"')
            max_age = int(value) if value.isdigit() else None
    return max_age
