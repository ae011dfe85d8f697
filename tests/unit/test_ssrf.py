"""The SSRF guard, decision by decision: notations, address classes, names, allow-list, DNS answers."""

from __future__ import annotations

import asyncio
import ipaddress
import zlib

import pytest

from tidings.ingest.decoding import BudgetExceeded, decoder_for
from tidings.ingest.errors import BlockedURLError
from tidings.ingest.ssrf import SSRFGuard, forbidden_reason, parse_ip_address, resolve_host

# --------------------------------------------------------------------------- notations


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # one 32-bit decimal
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("0x7f.1", "127.0.0.1"),  # hex + short form
        ("0x7F000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # short form: last part fills the rest
        ("127.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x0", "0.0.0.0"),
        ("0251.0376.0251.0376", "169.254.169.254"),  # metadata, octal
        ("169.254.43518", "169.254.169.254"),  # metadata, short form
        ("0xa9fea9fe", "169.254.169.254"),
        ("10.0.0.1.", "10.0.0.1"),  # trailing dot
        ("[::1]", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("fe80::1%25eth0", "fe80::1"),  # zone id as it appears in a URL
        ("example.com", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("1.2.3.0x100", None),
        ("08.1.1.1", None),  # 8 is not an octal digit
        ("", None),
    ],
)
def test_parse_ip_address_like_inet_aton(host: str, expected: str | None) -> None:
    parsed = parse_ip_address(host)
    assert (str(parsed) if parsed else None) == expected


# --------------------------------------------------------------------------- address classes


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "100.64.0.1", "100.127.255.254",  # carrier-grade NAT
        "169.254.169.254", "169.254.0.1",  # link-local, cloud metadata
        "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
        "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1",
        "::", "::1", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "fec0::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
        "::127.0.0.1", "::10.0.0.1",  # IPv4-compatible (deprecated)
        "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",  # NAT64 of metadata / loopback
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:7f00:1::", "2002:a9fe:a9fe::1",  # 6to4 of loopback / metadata
        "2001:0:4136:e378::1",  # Teredo
        "2001:db8::1", "100::1",
    ],
)  # fmt: skip
def test_forbidden_addresses(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2606:4700::1111",
     "2a00:1450:4007:80e::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)  # fmt: skip
def test_public_addresses(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1:8080/feed",
        "http://0177.0.0.1/",  # httpx refuses the notation itself
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::1]:80/",
        "http://[::]/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.GOOGLE.INTERNAL./",
        "http://localhost/",
        "http://app.localhost/",
        "http://printer.local/",
        "http://intranet/",  # single label: local search domain
        "http://1.2.3.4.5/",  # botched literal: never sent to DNS
        "ftp://example.com/file",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "http:///nohost",
        "not a url at all",
    ],
)
def test_blocked_urls(url: str) -> None:
    with pytest.raises(BlockedURLError) as info:
        SSRFGuard().check_url(url)
    assert info.value.code == "blocked_url"


@pytest.mark.parametrize(
    "url",
    ["https://example.com/feed.xml", "http://93.184.216.34/", "https://[2606:4700::1111]/", "http://cafe.be/",
     "https://xn--bcher-kva.example/", "https://bücher.example/rss", "HTTPS://Example.COM:8443/x?y#z"],
)  # fmt: skip
def test_allowed_urls(url: str) -> None:
    assert SSRFGuard().check_url(url).scheme in ("http", "https")


def test_allow_list_accepts_names_ips_and_networks() -> None:
    guard = SSRFGuard(["127.0.0.1", "10.20.0.0/16", "feeds.corp", "*.intranet.example", "::1", " "])
    for url in (
        "http://127.0.0.1:8000/",
        "http://2130706433/",  # same address, other notation
        "http://10.20.3.4/",
        "http://feeds.corp/",
        "http://FEEDS.CORP./rss",
        "http://news.intranet.example/",
        "http://[::1]/",
    ):
        guard.check_url(url)
    for url in (
        "http://127.0.0.2/",
        "http://10.21.0.1/",
        "http://other.localhost/",
        "http://[::ffff:127.0.0.1]/",
    ):
        with pytest.raises(BlockedURLError):
            guard.check_url(url)
    assert guard.has_allow_list and not SSRFGuard().has_allow_list


# --------------------------------------------------------------------------- resolved addresses


def _ips(*addresses: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.ip_address(a) for a in addresses]


def test_resolved_addresses_must_all_be_public() -> None:
    guard = SSRFGuard()
    assert guard.check_resolved("example.com", _ips("93.184.216.34", "93.184.216.34")) == _ips(
        "93.184.216.34"
    )
    for answer in (_ips("93.184.216.34", "10.0.0.1"), _ips("::ffff:169.254.169.254"), _ips("::1"), []):
        with pytest.raises(BlockedURLError):
            guard.check_resolved("example.com", answer)


def test_allow_list_applies_to_resolved_addresses() -> None:
    guard = SSRFGuard(["127.0.0.0/8", "feeds.corp"])
    assert guard.check_resolved("dev.example", _ips("127.0.0.1")) == _ips("127.0.0.1")
    assert guard.check_resolved("feeds.corp", _ips("192.168.1.10")) == _ips("192.168.1.10")
    for host, answer in (
        ("dev.example", _ips("127.0.0.1", "192.168.1.10")),
        ("other.corp", _ips("10.0.0.1")),
    ):
        with pytest.raises(BlockedURLError):
            guard.check_resolved(host, answer)


async def test_resolve_host_understands_literals_without_dns() -> None:
    assert await resolve_host("2130706433", 80) == _ips("127.0.0.1")
    assert await resolve_host("[::1]", 80) == _ips("::1")
    assert ipaddress.ip_address("127.0.0.1") in await asyncio.wait_for(resolve_host("localhost", 80), 5)


# --------------------------------------------------------------------------- bounded decoding


def test_gzip_decoder_never_exceeds_its_budget() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = compressor.compress(bytes(16 * 1024 * 1024)) + compressor.flush()  # ~16 KiB -> 16 MiB
    decoder = decoder_for("gzip")
    with pytest.raises(BudgetExceeded):
        decoder.decode(chunk, 1024 * 1024)
    assert decoder_for("gzip").decode(chunk[:1000], 16 * 1024 * 1024)  # small prefixes decode fine


def test_unknown_coding_passes_through() -> None:
    assert decoder_for("zstd-unknown").decode(b"abc", 10) == b"abc"
    assert decoder_for(None).decode(b"abc", 10) == b"abc"
    with pytest.raises(BudgetExceeded):
        decoder_for("identity").decode(b"abcd", 3)
