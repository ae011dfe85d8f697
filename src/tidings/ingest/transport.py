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
import importlib.util
import logging
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from tidings.config import Settings
from tidings.ingest.errors import BlockedURLError
from tidings.ingest.ssrf import IPAddress, SSRFGuard, parse_ip_address, resolve_host

logger = logging.getLogger(__name__)


def _make_missing_sniffio_cheap() -> None:
    """httpcore 1.0 runs `import sniffio` each time it creates a lock or event (several per request).

    anyio >= 4.12 no longer installs sniffio, and a failing import scans sys.path every time
    (measured: ~40% of the per-request CPU). Recording the absence in sys.modules makes the import
    fail instantly, with the same outcome (httpcore falls back to asyncio). No effect if installed.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_make_missing_sniffio_cheap()

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]

# Idle keep-alive connections are cheap to keep a little, costly to keep across 10,000 hosts.
KEEPALIVE_EXPIRY_S = 30.0


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


class SafeTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` whose connection pool dials through `GuardedNetworkBackend`.

    httpx 0.28 has no public hook for the network backend, so the pool it builds is replaced by an
    identical one with our backend; request/response conversion and exception mapping stay httpx's.
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
        limits = pool_limits(settings)
        # Built once and handed to both pools: loading the CA bundle is the costly part of startup.
        context = ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, trust_env=False, http1=True, http2=settings.http2, limits=limits)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx internals changed: SafeTransport cannot install its network backend")
        self.guard = guard or SSRFGuard(settings.allow_hosts)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=settings.http2,
            network_backend=GuardedNetworkBackend(self.guard, resolver=resolver, inner=inner_backend),
        )


def pool_limits(settings: Settings) -> httpx.Limits:
    # Requests only go out while holding a global slot, so that many connections are busy at most;
    # a few more let robots.txt lookups and keep-alive to hot hosts coexist without churn.
    connections = settings.global_concurrency + 8
    return httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=KEEPALIVE_EXPIRY_S,
    )
