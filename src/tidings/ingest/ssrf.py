"""SSRF guard: decide whether an outbound request may go to a URL, a host name or an IP address.

Two layers, both needed:

* `SSRFGuard.check_url` runs on every URL (first request and each redirect hop) before anything
  touches the network: scheme, host names reserved for internal use, and IP literals in any
  notation a resolver would accept (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`, `[::ffff:7f00:1]`).
* `SSRFGuard.check_resolved` runs inside the network backend on the addresses a host name resolved
  to, right before connecting to one of them (see `transport.py`), so DNS cannot be used to smuggle
  an internal address past the first layer, and DNS rebinding between check and connect is impossible.

`allow_hosts` (settings) exempts host names, IP addresses or CIDR networks from both layers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from functools import lru_cache

import httpx

from tidings.ingest.errors import BlockedURLError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Explicit tables rather than `ipaddress.is_global`: its answers changed between Python patch
# releases, and a security boundary should not move with the interpreter.
_FORBIDDEN_V4: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "unspecified / this network"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local / cloud metadata"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved / broadcast"),
    )
)

# Only global unicast (2000::/3) is reachable on the IPv6 Internet; everything else is refused
# unless it embeds an IPv4 address we can judge instead (mapped, NAT64, 6to4).
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_FORBIDDEN_V6: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), reason)
    for net, reason in (
        ("2001::/23", "IETF protocol assignments (incl. Teredo)"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
    )
)
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

# Names that resolve to something internal by convention, whatever public DNS says.
_FORBIDDEN_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data"})
_FORBIDDEN_SUFFIXES = (".localhost", ".localdomain", ".local", ".internal", ".home.arpa", ".intranet")

# A host made only of these characters is an IP notation attempt, never a DNS name we want to look up.
_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$")
_INET_ATON_PART = re.compile(r"^(?:0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")


def parse_ip_address(host: str) -> IPAddress | None:
    """The IP address `host` denotes, in any notation `inet_aton`/`getaddrinfo` accept, else None.

    Accepts `[v6]`, zone ids (`fe80::1%eth0`), and the BSD IPv4 forms: 1 to 4 parts, each decimal,
    octal (leading 0) or hex (0x); the last part fills the remaining bytes (`127.1` is 127.0.0.1).
    """
    host = host.strip().lower().removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return _parse_inet_aton(host)


def _parse_inet_aton(host: str) -> ipaddress.IPv4Address | None:
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_ATON_PART.match(part) for part in parts):
        return None
    values = [_parse_inet_aton_part(part) for part in parts]
    *leading, last = values
    if any(value > 0xFF for value in leading) or last >= 1 << (8 * (5 - len(values))):
        return None
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _parse_inet_aton_part(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if part.startswith("0") and len(part) > 1:
        return int(part[1:], 8)
    return int(part)


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why connecting to `ip` is refused, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv4Address):
        for network, reason in _FORBIDDEN_V4:
            if ip in network:
                return reason
        return None
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        embedded_reason = forbidden_reason(embedded)
        return f"{embedded_reason} (embedded in IPv6)" if embedded_reason else None
    if ip not in _GLOBAL_UNICAST_V6:
        return "not global unicast IPv6 (loopback, link-local, unique-local, multicast, reserved...)"
    for network, reason in _FORBIDDEN_V6:
        if ip in network:
            return reason
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address routes to, for the translation forms a host might honour."""
    if ip in _IPV4_MAPPED or ip in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    return None


def _forbidden_name_reason(host: str) -> str | None:
    if host in _FORBIDDEN_NAMES or host.endswith(_FORBIDDEN_SUFFIXES):
        return "internal host name"
    if "." not in host:
        # Single-label names are resolved through the local search domain: intranet by definition.
        return "single-label host name"
    return None


class SSRFGuard:
    """Refuses URLs and addresses that would let a feed URL reach into our own network."""

    def __init__(self, allow_hosts: Iterable[str] = ()) -> None:
        self._allowed_names: set[str] = set()
        self._allowed_suffixes: list[str] = []
        self._allowed_networks: list[IPNetwork] = []
        for entry in allow_hosts:
            self._add_allowed(entry)
        # Feeds are polled over and over: remember verdicts (pure functions of their argument).
        self._host_verdict = lru_cache(maxsize=8192)(self._compute_host_verdict)
        self._parse_checked = lru_cache(maxsize=8192)(self._compute_parse_checked)

    def _add_allowed(self, entry: str) -> None:
        entry = entry.strip().lower().removesuffix(".")
        if not entry:
            return
        if entry.startswith(("*.", ".")):
            self._allowed_suffixes.append("." + entry.lstrip("*."))
            return
        try:
            self._allowed_networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            self._allowed_names.add(entry)

    @property
    def has_allow_list(self) -> bool:
        return bool(self._allowed_names or self._allowed_suffixes or self._allowed_networks)

    def is_allowed_name(self, host: str) -> bool:
        """Whether the host name itself is allow-listed (then whatever it resolves to is accepted)."""
        host = _normalise_host(host)
        return host in self._allowed_names or any(host.endswith(s) for s in self._allowed_suffixes)

    def is_allowed_ip(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self._allowed_networks)

    def check_url(self, url: str | httpx.URL) -> httpx.URL:
        """Parse `url` and refuse it unless its scheme and host are acceptable. Returns the parsed URL."""
        if isinstance(url, httpx.URL):
            reason = self._url_verdict(url)
            parsed: httpx.URL | None = url
        else:
            parsed, reason = self._parse_checked(url)
        if reason:
            raise BlockedURLError(reason, url=str(url))
        assert parsed is not None
        return parsed

    def _compute_parse_checked(self, url: str) -> tuple[httpx.URL | None, str | None]:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            # httpx rejects some notations itself, e.g. `0177.0.0.1` ("Invalid IPv4 address").
            return None, f"Invalid URL: {exc}"
        return parsed, self._url_verdict(parsed)

    def _url_verdict(self, url: httpx.URL) -> str | None:
        if url.scheme not in ALLOWED_SCHEMES:
            return f"Scheme {url.scheme!r} is not allowed"
        host = url.raw_host.decode("ascii")
        reason = self._host_verdict(host)
        return f"Host {host!r} is not allowed: {reason}" if reason else None

    def check_host(self, host: str) -> None:
        """Refuse a host name or IP literal on its own (no DNS)."""
        reason = self._host_verdict(host)
        if reason:
            raise BlockedURLError(f"Host {host!r} is not allowed: {reason}", url=host)

    def _compute_host_verdict(self, host: str) -> str | None:
        name = _normalise_host(host)
        if not name:
            return "empty host"
        if self.is_allowed_name(name):
            return None
        ip = parse_ip_address(name)
        if ip is not None:
            return None if self.is_allowed_ip(ip) else forbidden_reason(ip)
        if ":" in name or (_NUMERIC_HOST.match(name) and not _looks_like_dns_name(name)):
            return "unparseable IP address notation"
        return _forbidden_name_reason(name)

    def check_resolved(self, host: str, addresses: Iterable[IPAddress]) -> list[IPAddress]:
        """Refuse unless EVERY address `host` resolved to is acceptable; return them, deduplicated.

        All of them, not just the one we would use: a name that also points inside is hostile.
        """
        unique = list(dict.fromkeys(addresses))
        if not unique:
            raise BlockedURLError(f"Host {host!r} resolved to no address", url=host)
        if self.is_allowed_name(host):
            return unique
        for ip in unique:
            if self.is_allowed_ip(ip):
                continue
            reason = forbidden_reason(ip)
            if reason:
                logger.warning("SSRF guard refused %s: resolves to %s (%s)", host, ip, reason)
                raise BlockedURLError(f"Host {host!r} resolves to {ip}: {reason}", url=host)
        return unique


def _normalise_host(host: str) -> str:
    return host.strip().lower().removesuffix(".")


def _looks_like_dns_name(name: str) -> bool:
    """`cafe.be` or `0x.fr` are names; `1.2.3.4.5` or `0x7f.0x1.1.1.1` are botched IP literals."""
    last_label = name.rsplit(".", 1)[-1]
    return any(ch.isalpha() for ch in last_label) and not last_label.startswith("0x")


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Resolve `host` with the system resolver, without blocking the event loop."""
    literal = parse_ip_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        # Zone ids (`fe80::1%eth0`) only occur on link-local addresses, which are refused anyway.
        addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
    return addresses
