"""The httpx transport that connects only to addresses the SSRF guard has just validated.

httpcore asks its network backend to `connect_tcp(host, port)` with the URL's host name. Our
backend resolves that name once, validates every address, and connects to a validated IP itself:
the name is never handed to another resolver, so a DNS answer that changes between check and
connect (rebinding) cannot redirect the socket. TLS is unaffected: httpcore then calls
`start_tls(server_hostname=<URL host>)` on the stream, so SNI and certificate verification stay
on the host name. The Host header comes from the URL, untouched.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import httpcore
import httpx

from tidings.config import Settings
from tidings.ingest.errors import BlockedURLError
from tidings.ingest.ssrf import IPAddress, SSRFGuard, parse_ip_address, resolve_host

logger = logging.getLogger(__name__)


Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]

# Idle keep-alive connections are cheap to keep a little, costly to keep across 10,000 hosts.
KEEPALIVE_EXPIRY_S = 30.0
# Origins whose idle connections are kept (LRU), at least; more with a high global concurrency.
MIN_POOLED_ORIGINS = 64


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolve, validate, then connect to the validated IP; never to a name."""

    def __init__(
        self,
        guard: SSRFGuard,
        *,
        resolver: Resolver = resolve_host,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._guard = guard
        self._resolve = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self._guard.check_host(host)  # the URL layer already did; cheap (cached) and keeps us honest
        addresses = self._guard.check_resolved(host, await self._resolve_bounded(host, port, timeout))
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                logger.debug("connect to %s (%s) port %d failed: %s", host, ip, port, exc)
                last_error = exc
        assert last_error is not None  # check_resolved never returns an empty list
        raise last_error

    async def _resolve_bounded(self, host: str, port: int, timeout: float | None) -> list[IPAddress]:
        literal = parse_ip_address(host)
        if literal is not None:  # also covers `2130706433`-style literals the OS would accept
            return [literal]
        try:
            async with asyncio.timeout(timeout):
                return await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"DNS resolution of {host!r} timed out") from exc
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"DNS resolution of {host!r} failed: {exc}") from exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedURLError("Unix sockets are never used for outbound fetches", url=path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _OriginTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport for ONE origin, its pool dialing through `GuardedNetworkBackend`.

    httpx 0.28 has no public hook for the network backend, so the pool it builds is replaced by an
    identical one with our backend; request/response conversion and exception mapping stay httpx's.
    """

    def __init__(
        self, *, backend: GuardedNetworkBackend, ssl_context: ssl.SSLContext, http2: bool, connections: int
    ) -> None:
        super().__init__(verify=ssl_context, trust_env=False, http1=True, http2=http2)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx internals changed: SafeTransport cannot install its network backend")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
            http1=True,
            http2=http2,
            network_backend=backend,
        )


class _Origin:
    __slots__ = ("active", "transport")

    def __init__(self, transport: _OriginTransport) -> None:
        self.transport = transport
        self.active = 0  # requests whose response has not been closed yet


class _ReleasingStream(httpx.AsyncByteStream):
    """Marks the origin's request finished when httpx closes the response."""

    def __init__(self, inner: httpx.AsyncByteStream, origin: _Origin) -> None:
        self._inner = inner
        self._origin: _Origin | None = origin

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._origin is not None:
                self._origin.active -= 1
                self._origin = None


class SafeTransport(httpx.AsyncBaseTransport):
    """The transport of `SafeFetcher`: guarded connections, one small connection pool per origin.

    Why per origin: httpcore's pool re-examines every pooled connection (including a `poll()` of
    each idle socket, and a quadratic idle count) whenever a request starts or ends. One shared pool
    over thousands of hosts made that the dominant CPU cost per request; pools of 2-3 connections
    make it negligible. At most `max_origins` idle origins keep their connections (LRU), so open
    sockets stay bounded however many hosts are polled.

    No proxy is ever configured: a proxy would do the DNS resolution and bypass the guard.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        guard: SSRFGuard | None = None,
        resolver: Resolver = resolve_host,
        inner_backend: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.guard = guard or SSRFGuard(settings.allow_hosts)
        self._backend = GuardedNetworkBackend(self.guard, resolver=resolver, inner=inner_backend)
        # Built once for all origins: loading the CA bundle is the costly part. SSL_CERT_FILE/DIR
        # are honoured (custom CAs for intranet feeds); proxies from the environment are not.
        self._ssl_context = ssl_context or httpx.create_ssl_context(trust_env=True)
        self._http2 = settings.http2
        # The fetcher allows per_host_concurrency requests per host name; +1 for http/https or
        # callers outside the fetcher's limiter, which otherwise simply queue in the pool.
        self._connections_per_origin = settings.per_host_concurrency + 1
        self._max_origins = max(MIN_POOLED_ORIGINS, 2 * settings.global_concurrency)
        self._origins: OrderedDict[tuple[bytes, bytes, int | None], _Origin] = OrderedDict()

    @property
    def pooled_origins(self) -> int:
        return len(self._origins)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = await self._origin_for(request.url)
        origin.active += 1
        try:
            response = await origin.transport.handle_async_request(request)
        except BaseException:
            origin.active -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, origin),
            extensions=response.extensions,
        )

    async def _origin_for(self, url: httpx.URL) -> _Origin:
        key = (url.raw_scheme, url.raw_host, url.port)
        origin = self._origins.get(key)
        if origin is not None:
            self._origins.move_to_end(key)
            return origin
        origin = self._origins[key] = _Origin(
            _OriginTransport(
                backend=self._backend,
                ssl_context=self._ssl_context,
                http2=self._http2,
                connections=self._connections_per_origin,
            )
        )
        if len(self._origins) > self._max_origins:
            await self._evict_idle_origins(keep=key)
        return origin

    async def _evict_idle_origins(self, *, keep: tuple[bytes, bytes, int | None]) -> None:
        excess = len(self._origins) - self._max_origins
        idle = [key for key, origin in self._origins.items() if origin.active == 0 and key != keep][:excess]
        for key in idle:
            # Closing only idle keep-alive sockets: nothing in flight on this origin.
            await self._origins.pop(key).transport.aclose()

    async def aclose(self) -> None:
        origins, self._origins = list(self._origins.values()), OrderedDict()
        for origin in origins:
            await origin.transport.aclose()
