"""SafeFetcher against real HTTP servers on 127.0.0.1 (asyncio, random ports).

The servers speak just enough HTTP/1.1 for each scenario, byte by byte when needed (slow-loris,
gzip bomb), and record what they received.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import ipaddress
import itertools
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
import h2.config
import h2.connection
import h2.events
import httpcore
import httpx
import pytest

from tidings.config import Settings
from tidings.ingest.fetcher import (
    BlockedURLError,
    FetchConnectError,
    Fetcher,
    FetchResult,
    FetchTimeoutError,
    HTTPStatusError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    SafeFetcher,
    TooManyRedirectsError,
    parse_max_age,
    parse_retry_after,
)
from tidings.ingest.hostlimit import HostLimiter
from tidings.ingest.ssrf import IPAddress
from tidings.ingest.transport import SafeTransport

# --------------------------------------------------------------------------- test server


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    at: float  # loop time when the request line arrived


Handler = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class LocalServer:
    """Minimal HTTP/1.1 server with keep-alive; `routes` maps a path (no query) to a handler."""

    host: str = "127.0.0.1"
    ssl_context: ssl.SSLContext | None = None
    routes: dict[str, Handler] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> LocalServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def url(self, path: str, host: str | None = None) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{host or self.host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while request := await self._read_request(reader):
                self.received.append(request)
                handler = self.routes.get(request.path.split("?", 1)[0], not_found)
                await handler(request, writer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> Received | None:
        line = await reader.readline()
        if not line.strip():
            return None
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return Received(method, target, headers, asyncio.get_running_loop().time())


def write_response(
    writer: asyncio.StreamWriter, status: int, headers: dict[str, str] | None = None, body: bytes = b""
) -> None:
    head = [f"HTTP/1.1 {status} X"]
    # 304/204 usually come without Content-Length: the client must still reuse the connection.
    framing = {} if status in (204, 304) else {"Content-Length": str(len(body))}
    all_headers = framing | (headers or {})
    head += [f"{name}: {value}" for name, value in all_headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


def respond(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Handler:
    async def handler(_request: Received, writer: asyncio.StreamWriter) -> None:
        write_response(writer, status, headers, body)

    return handler


not_found = respond(404, body=b"not found")


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    srv = await LocalServer().start()
    yield srv
    await srv.stop()


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "allow_hosts": ["127.0.0.1"],
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "total_timeout": 2.0,
        "per_host_delay": 0.0,
        "max_redirects": 5,
        "http2": False,
    }
    return Settings(**(values | overrides))


@pytest.fixture
async def fetcher() -> AsyncIterator[SafeFetcher]:
    async with SafeFetcher(make_settings()) as safe:
        yield safe


def fake_resolver(table: dict[str, list[str]], calls: list[str] | None = None):
    async def resolve(host: str, port: int) -> list[IPAddress]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(ip) for ip in table[host]]

    return resolve


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Passes connections through to the real backend and remembers where they went."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connected_to: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        self.connected_to.append((host, port))
        return await self.inner.connect_tcp(host, port, timeout=timeout, local_address=local_address)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


# --------------------------------------------------------------------------- SSRF guard, end to end


async def test_loopback_is_blocked_without_allow_list(server: LocalServer) -> None:
    server.routes["/ok"] = respond(200, body=b"secret")
    async with SafeFetcher(make_settings(allow_hosts=[])) as safe:
        for url in (
            server.url("/ok"),
            server.url("/ok", host="localhost"),
            f"http://2130706433:{server.port}/ok",
        ):
            with pytest.raises(BlockedURLError) as info:
                await safe.fetch(url)
            assert info.value.code == "blocked_url"
            assert info.value.url == url
    assert server.received == []


async def test_allow_listed_host_is_fetched(server: LocalServer, fetcher: SafeFetcher) -> None:
    server.routes["/feed"] = respond(
        200,
        {"Content-Type": 'application/rss+xml; charset="ISO-8859-1"', "Cache-Control": "public, max-age=600"},
        b"<rss/>",
    )
    result = await fetcher.fetch(server.url("/feed"), accept="application/rss+xml")
    assert isinstance(fetcher, Fetcher)
    assert (result.status, result.content, result.url) == (200, b"<rss/>", server.url("/feed"))
    assert (result.content_type, result.encoding, result.max_age) == (
        "application/rss+xml",
        "ISO-8859-1",
        600,
    )
    sent = server.received[0].headers
    assert sent["user-agent"] == make_settings().user_agent
    assert sent["accept-encoding"] == "gzip, deflate, br"
    assert sent["accept"] == "application/rss+xml"


async def test_cookies_are_neither_kept_nor_sent(server: LocalServer, fetcher: SafeFetcher) -> None:
    server.routes["/set"] = respond(302, {"Set-Cookie": "session=abc; Path=/", "Location": "/get"})
    server.routes["/get"] = respond(200, body=b"ok")
    await fetcher.fetch(server.url("/set"))
    await fetcher.fetch(server.url("/get"))
    assert all("cookie" not in r.headers for r in server.received)


async def test_hostname_resolving_to_private_address_is_blocked(server: LocalServer) -> None:
    calls: list[str] = []
    resolver = fake_resolver({"evil.example": ["93.184.216.34", "10.0.0.7"]}, calls)
    settings = make_settings(allow_hosts=[])
    async with SafeFetcher(settings, transport=SafeTransport(settings, resolver=resolver)) as safe:
        with pytest.raises(BlockedURLError, match=r"10\.0\.0\.7") as info:
            await safe.fetch(f"http://evil.example:{server.port}/")
    assert info.value.url == f"http://evil.example:{server.port}/"
    assert calls == ["evil.example"]


async def test_redirect_to_name_resolving_inside_is_refused_mid_chain(server: LocalServer) -> None:
    server.routes["/go"] = respond(302, {"Location": f"http://evil.example:{server.port}/ok"})
    server.routes["/ok"] = respond(200, body=b"internal")
    settings = make_settings(allow_hosts=["127.0.0.1"])
    backend = RecordingBackend()
    resolver = fake_resolver({"evil.example": ["10.0.0.7"]})
    transport = SafeTransport(settings, resolver=resolver, inner_backend=backend)
    async with SafeFetcher(settings, transport=transport) as safe:
        with pytest.raises(BlockedURLError, match=r"10\.0\.0\.7") as info:
            await safe.fetch(server.url("/go"))
    assert info.value.url == f"http://evil.example:{server.port}/ok"
    assert backend.connected_to == [("127.0.0.1", server.port)]  # the first hop only
    assert server.paths() == ["/go"]


async def test_connects_to_the_validated_ip_not_the_name(server: LocalServer) -> None:
    """DNS rebinding: the name is resolved once, checked, and the socket goes to that very IP."""
    server.routes["/ok"] = respond(200, body=b"fine")
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])  # the second answer would be the attack
    calls: list[str] = []

    async def rebinding_resolver(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        return [ipaddress.ip_address(ip) for ip in next(answers)]

    backend = RecordingBackend()
    settings = make_settings(allow_hosts=["127.0.0.1"])
    transport = SafeTransport(settings, resolver=rebinding_resolver, inner_backend=backend)
    async with SafeFetcher(settings, transport=transport) as safe:
        first = await safe.fetch(f"http://feeds.example.test:{server.port}/ok")
        second = await safe.fetch(f"http://feeds.example.test:{server.port}/ok")  # pooled connection
    assert first.content == second.content == b"fine"
    assert backend.connected_to == [("127.0.0.1", server.port)]
    assert calls == ["feeds.example.test"]
    assert server.received[0].headers["host"] == f"feeds.example.test:{server.port}"


async def test_dns_failure_is_a_connect_error() -> None:
    settings = make_settings(allow_hosts=[])
    async with SafeFetcher(settings, transport=SafeTransport(settings, resolver=fake_resolver({}))) as safe:
        with pytest.raises(FetchConnectError) as info:
            await safe.fetch("http://no-such-host.example/")
    assert info.value.code == "connect_error"


async def test_connection_refused_is_a_connect_error(fetcher: SafeFetcher) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(FetchConnectError):
            await fetcher.fetch(f"http://127.0.0.1:{port}/")


async def test_environment_proxy_is_ignored(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = await LocalServer().start()
    proxy.routes["/ok"] = respond(200, body=b"from proxy")
    server.routes["/ok"] = respond(200, body=b"direct")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy.url(""))
    try:
        async with SafeFetcher(make_settings()) as safe:
            assert (await safe.fetch(server.url("/ok"))).content == b"direct"
            with pytest.raises(BlockedURLError):
                await safe.fetch(f"http://169.254.169.254:{server.port}/latest/meta-data/")
    finally:
        await proxy.stop()
    assert proxy.received == []


# --------------------------------------------------------------------------- redirects


async def test_relative_redirects_are_followed(server: LocalServer, fetcher: SafeFetcher) -> None:
    server.routes["/a/start"] = respond(301, {"Location": "next"})
    server.routes["/a/next"] = respond(302, {"Location": "/final?x=1"})
    server.routes["/final"] = respond(200, body=b"done")
    result = await fetcher.fetch(server.url("/a/start"))
    assert (result.url, result.content) == (server.url("/final?x=1"), b"done")
    assert server.paths() == ["/a/start", "/a/next", "/final?x=1"]
    assert server.connections == 1  # redirect bodies drained, connection kept alive


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/ok",  # loopback, not allow-listed
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::ffff:10.0.0.1]/",  # IPv4-mapped private
        "http://metadata.google.internal/computeMetadata/v1/",
        "file:///etc/passwd",
    ],
)
async def test_redirect_to_forbidden_target_is_refused(
    server: LocalServer, fetcher: SafeFetcher, location: str
) -> None:
    target = location.format(port=server.port)
    server.routes["/go"] = respond(302, {"Location": target})
    server.routes["/ok"] = respond(200, body=b"internal")
    with pytest.raises(BlockedURLError) as info:
        await fetcher.fetch(server.url("/go"))
    assert info.value.url == str(httpx.URL(target))
    assert server.paths() == ["/go"]


async def test_redirect_limit(server: LocalServer) -> None:
    server.routes["/loop"] = respond(307, {"Location": "/loop"})
    async with SafeFetcher(make_settings(max_redirects=2)) as safe:
        with pytest.raises(TooManyRedirectsError) as info:
            await safe.fetch(server.url("/loop"))
    assert info.value.code == "too_many_redirects"
    assert server.paths() == ["/loop"] * 3


# --------------------------------------------------------------------------- conditional GET, status


async def test_conditional_get_returns_304(server: LocalServer, fetcher: SafeFetcher) -> None:
    stamp = "Sun, 22 Nov 2026 10:00:00 GMT"

    async def feed(request: Received, writer: asyncio.StreamWriter) -> None:
        if (
            request.headers.get("if-none-match") == '"v1"'
            or request.headers.get("if-modified-since") == stamp
        ):
            write_response(writer, 304, {"ETag": '"v1"'})
        else:
            write_response(writer, 200, {"ETag": '"v1"', "Last-Modified": stamp}, b"<feed/>")

    server.routes["/feed"] = feed
    first = await fetcher.fetch(server.url("/feed"))
    assert (first.status, first.etag, first.last_modified, first.not_modified) == (200, '"v1"', stamp, False)
    by_etag = await fetcher.fetch(server.url("/feed"), etag=first.etag)
    by_date = await fetcher.fetch(server.url("/feed"), last_modified=first.last_modified)
    for result in (by_etag, by_date):
        assert (result.status, result.content, result.not_modified) == (304, b"", True)
    assert server.received[1].headers["if-none-match"] == '"v1"'
    assert server.connections == 1  # bodiless 304s keep the connection alive
    assert server.received[2].headers["if-modified-since"] == stamp


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(429, "120", 120.0), (503, "DATE+30", 30.0), (500, None, None), (404, "soon", None)],
)
async def test_error_status_carries_retry_after(
    server: LocalServer, fetcher: SafeFetcher, status: int, retry_after: str | None, expected: float | None
) -> None:
    if retry_after == "DATE+30":
        retry_after = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.routes["/x"] = respond(status, {"Retry-After": retry_after} if retry_after else {}, b"nope")
    with pytest.raises(HTTPStatusError) as info:
        await fetcher.fetch(server.url("/x"))
    assert (info.value.upstream_status, info.value.code) == (status, f"http_{status}")
    if expected is None:
        assert info.value.retry_after is None
    else:
        assert info.value.retry_after == pytest.approx(expected, abs=2)


# --------------------------------------------------------------------------- size caps and decoding


async def test_content_length_over_cap_is_refused_upfront(server: LocalServer, fetcher: SafeFetcher) -> None:
    server.routes["/big"] = respond(200, body=b"x" * 5000)
    with pytest.raises(ResponseTooLargeError, match="Content-Length") as info:
        await fetcher.fetch(server.url("/big"), max_bytes=2048)
    assert info.value.code == "too_large"
    assert (await fetcher.fetch(server.url("/big"), max_bytes=5000)).content == b"x" * 5000


async def test_chunked_body_over_cap_is_cut(server: LocalServer, fetcher: SafeFetcher) -> None:
    async def endless(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(10_000):
            writer.write(b"400\r\n" + b"y" * 1024 + b"\r\n")
            await writer.drain()

    server.routes["/endless"] = endless
    with pytest.raises(ResponseTooLargeError):
        await fetcher.fetch(server.url("/endless"), max_bytes=64 * 1024)


def gzip_bomb_parts(block: int = 4 * 1024 * 1024) -> tuple[bytes, bytes]:
    """A gzip stream start and a repeatable segment, each inflating to `block` zero bytes.

    Full flushes make segments self-contained, so start + N segments is a valid (unfinished)
    stream of (N + 1) * block bytes, built without ever holding more than one block.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(block)
    start = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    return start, segment


async def test_gzip_bomb_is_stopped_without_inflating_it(server: LocalServer) -> None:
    start, segment = gzip_bomb_parts()
    segments = 255  # 256 * 4 MiB = 1 GiB once inflated, about 1 MiB on the wire
    body_length = len(start) + segments * len(segment)
    sent: list[int] = []

    async def bomb(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(
            f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {body_length}\r\n\r\n".encode()
        )
        writer.write(start)
        sent.append(len(start))
        for _ in range(segments):
            writer.write(segment)
            sent.append(len(segment))
            await writer.drain()

    server.routes["/bomb"] = bomb
    tracemalloc.start()
    try:
        async with SafeFetcher(make_settings(max_response_bytes=10 * 1024 * 1024)) as safe:
            with pytest.raises(ResponseTooLargeError):
                await safe.fetch(server.url("/bomb"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert body_length < 10 * 1024 * 1024  # the Content-Length check alone could not catch it
    assert peak < 48 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "br", "gzip, br"])
async def test_compressed_bodies_are_decoded(server: LocalServer, fetcher: SafeFetcher, coding: str) -> None:
    text = b"<rss>" + b"news " * 2000 + b"</rss>"
    encoders = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "raw-deflate": lambda data: zlib.compress(data)[2:-4],  # servers that skip the zlib wrapper
        "br": brotli.compress,
        "gzip, br": lambda data: brotli.compress(gzip.compress(data)),
    }
    header = "deflate" if coding == "raw-deflate" else coding
    server.routes["/z"] = respond(200, {"Content-Encoding": header}, encoders[coding](text))
    assert (await fetcher.fetch(server.url("/z"))).content == text


async def test_brotli_bomb_is_capped(server: LocalServer, fetcher: SafeFetcher) -> None:
    server.routes["/br"] = respond(
        200, {"Content-Encoding": "br"}, brotli.compress(bytes(8 * 1024 * 1024), quality=1)
    )
    with pytest.raises(ResponseTooLargeError):
        await fetcher.fetch(server.url("/br"), max_bytes=1024 * 1024)


# --------------------------------------------------------------------------- timeouts


async def test_slow_loris_body_is_cut_by_total_timeout(server: LocalServer) -> None:
    async def dribble(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(100_000):
            writer.write(b".")  # one byte well within the read timeout, forever
            await writer.drain()
            await asyncio.sleep(0.05)

    server.routes["/slow"] = dribble
    async with SafeFetcher(make_settings(read_timeout=1.0, total_timeout=0.6)) as safe:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError) as info:
            await safe.fetch(server.url("/slow"))
    assert 0.5 < time.monotonic() - started < 2.0
    assert info.value.code == "timeout"


async def test_slow_headers_are_cut_by_read_timeout(server: LocalServer) -> None:
    async def silent(_request: Received, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server.routes["/silent"] = silent
    async with SafeFetcher(make_settings(read_timeout=0.3, total_timeout=3.0)) as safe:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError):
            await safe.fetch(server.url("/silent"))
    assert time.monotonic() - started < 1.0


# --------------------------------------------------------------------------- robots.txt


async def test_robots_disallow_is_enforced_and_cached(server: LocalServer, fetcher: SafeFetcher) -> None:
    server.routes["/robots.txt"] = respond(200, {}, b"User-agent: Tidings\nDisallow: /private\n")
    server.routes["/public"] = respond(200, body=b"ok")
    server.routes["/private/page"] = respond(200, body=b"secret")
    with pytest.raises(RobotsDisallowedError) as info:
        await fetcher.fetch(server.url("/private/page"), check_robots=True)
    assert info.value.code == "robots_disallowed"
    results = await asyncio.gather(
        *(fetcher.fetch(server.url("/public"), check_robots=True) for _ in range(3))
    )
    assert [r.content for r in results] == [b"ok"] * 3
    assert (await fetcher.fetch(server.url("/private/page"))).content == b"secret"  # not asked to check
    assert server.paths().count("/robots.txt") == 1


@pytest.mark.parametrize("robots_status", [404, 500])
async def test_unavailable_robots_allows(
    server: LocalServer, fetcher: SafeFetcher, robots_status: int
) -> None:
    server.routes["/robots.txt"] = respond(robots_status, body=b"Disallow: /")
    server.routes["/page"] = respond(200, body=b"ok")
    assert (await fetcher.fetch(server.url("/page"), check_robots=True)).content == b"ok"


async def test_respect_robots_setting_turns_checks_off(server: LocalServer) -> None:
    server.routes["/robots.txt"] = respond(200, {}, b"User-agent: *\nDisallow: /\n")
    server.routes["/page"] = respond(200, body=b"ok")
    async with SafeFetcher(make_settings(respect_robots=False)) as safe:
        assert (await safe.fetch(server.url("/page"), check_robots=True)).content == b"ok"
    assert server.paths() == ["/page"]


# --------------------------------------------------------------------------- politeness


async def test_per_host_delay_spaces_request_starts(server: LocalServer) -> None:
    server.routes["/p"] = respond(200, body=b"ok")
    async with SafeFetcher(make_settings(per_host_delay=0.15, per_host_concurrency=1)) as safe:
        await safe.fetch(
            server.url("/p")
        )  # warm: later requests share one open connection, no connect jitter
        await asyncio.gather(*(safe.fetch(server.url("/p")) for _ in range(3)))
    starts = [r.at for r in server.received]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 3
    assert min(gaps) >= 0.12, gaps


async def test_per_host_concurrency_is_capped(server: LocalServer) -> None:
    in_flight = peak = 0

    async def slow(_request: Received, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        write_response(writer, 200, body=b"ok")

    server.routes["/s"] = slow
    async with SafeFetcher(make_settings(per_host_concurrency=2, global_concurrency=8)) as safe:
        await asyncio.gather(*(safe.fetch(server.url("/s")) for _ in range(6)))
    assert peak == 2


async def test_idle_origins_are_evicted_from_the_pool(server: LocalServer) -> None:
    server.routes["/p"] = respond(200, body=b"ok")
    names = [f"h{index}.example.test" for index in range(70)]
    settings = make_settings(global_concurrency=8)
    transport = SafeTransport(settings, resolver=fake_resolver({name: ["127.0.0.1"] for name in names}))
    async with SafeFetcher(settings, transport=transport) as safe:
        for name in names:
            await safe.fetch(f"http://{name}:{server.port}/p")
        assert transport.pooled_origins == 64  # the 6 least recently used were closed
    assert transport.pooled_origins == 0


async def test_host_limiter_forgets_idle_hosts() -> None:
    limiter = HostLimiter(global_concurrency=4, per_host_concurrency=1, per_host_delay=0)
    for index in range(5000):
        async with await limiter.acquire(f"host{index}.example"):
            pass
    assert len(limiter) == 0

    delayed = HostLimiter(global_concurrency=4, per_host_concurrency=1, per_host_delay=0.01)
    for index in range(3000):
        async with await delayed.acquire(f"host{index}.example"):
            pass
    # Entries outlive their last user only while their delay matters. How many are still inside
    # that window during the loop depends on the machine's speed, so check the sweep itself once
    # every delay has surely elapsed (a timing-free assertion, stable on a loaded CI machine).
    await asyncio.sleep(0.05)
    delayed._sweep()
    assert len(delayed) == 0


# --------------------------------------------------------------------------- TLS: SNI and checks on the name


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl not available")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=tidings.test",
         "-addext", "subjectAltName=DNS:tidings.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_uses_hostname_for_sni_and_verification(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    sni: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: sni.append(name)  # type: ignore[assignment]
    srv = await LocalServer(ssl_context=server_context).start()
    srv.routes["/ok"] = respond(200, body=b"secure")
    client_context = ssl.create_default_context(cafile=str(cert))
    resolver = fake_resolver({"tidings.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    settings = make_settings(allow_hosts=["127.0.0.1"], http2=True)  # offers h2, server picks HTTP/1.1
    transport = SafeTransport(settings, resolver=resolver, ssl_context=client_context)
    try:
        async with SafeFetcher(settings, transport=transport) as safe:
            result = await safe.fetch(f"https://tidings.test:{srv.port}/ok")
            with pytest.raises(FetchConnectError):  # certificate is not valid for this name
                await safe.fetch(f"https://other.test:{srv.port}/ok")
    finally:
        await srv.stop()
    assert result.content == b"secure"
    assert sni[0] == "tidings.test"


async def test_http2_over_tls_through_the_guarded_backend(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server_context.set_alpn_protocols(["h2"])
    authorities: list[bytes] = []

    async def serve_h2(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        connection.initiate_connection()
        writer.write(connection.data_to_send())
        while data := await reader.read(65536):
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    authorities.append(dict(event.headers)[b":authority"])
                    connection.send_headers(event.stream_id, [(":status", "200"), ("content-length", "2")])
                    connection.send_data(event.stream_id, b"h2", end_stream=True)
            writer.write(connection.data_to_send())
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve_h2, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    settings = make_settings(allow_hosts=["127.0.0.1"], http2=True)
    resolver = fake_resolver({"tidings.test": ["127.0.0.1"]})
    transport = SafeTransport(
        settings, resolver=resolver, ssl_context=ssl.create_default_context(cafile=str(cert))
    )
    try:
        async with SafeFetcher(settings, transport=transport) as safe:
            result = await safe.fetch(f"https://tidings.test:{port}/feed")
    finally:
        server.close()
    assert result.content == b"h2"
    assert authorities == [f"tidings.test:{port}".encode()]


# --------------------------------------------------------------------------- small pure helpers


def test_parse_retry_after() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(email.utils.formatdate(now + 90, usegmt=True), now=now) == pytest.approx(90)
    assert parse_retry_after(email.utils.formatdate(now - 90, usegmt=True), now=now) == 0.0
    assert parse_retry_after("tomorrow") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("max-age=300", 300), ("public, max-age=\"60\"", 60), ("no-cache, max-age=60", None),
     ("max-age=60, no-store", None), ("max-age=-1", None), ("private", None)],
)  # fmt: skip
def test_parse_max_age(header: str | None, expected: int | None) -> None:
    assert parse_max_age(header) == expected


def test_fetch_result_properties() -> None:
    result = FetchResult(
        url="https://example.org/",
        status=304,
        headers=httpx.Headers({"Content-Type": "Text/HTML; Charset=UTF-8"}),
        content=b"",
        etag=None,
        last_modified=None,
        max_age=None,
    )
    assert (result.not_modified, result.content_type, result.encoding) == (True, "text/html", "UTF-8")
