"""The offline fake publisher (benchmarks/publisher.py), exercised over real HTTP with httpx."""

from __future__ import annotations

import gzip
import io
import json
import socket
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import feedparser
import httpx
import pytest
from benchmarks import publisher_pages
from benchmarks.publisher import FIXTURE_CORPUS, Publisher, fixture_corpus, load_corpus
from lxml import etree
from lxml import html as lxml_html
from PIL import Image


@pytest.fixture(scope="module")
def publisher() -> Iterator[Publisher]:
    with Publisher(fixture_corpus(), poll_feeds=10) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def _parse_feed(response: httpx.Response) -> feedparser.FeedParserDict:
    return feedparser.parse(
        response.content, response_headers={"content-type": response.headers["content-type"]}
    )


# -- corpus ------------------------------------------------------------------


def test_fixture_corpus_has_the_promised_shape() -> None:
    articles = fixture_corpus()
    assert len(articles) == 12
    assert {"id", "title", "text", "date", "source", "url", "lang"} <= set(articles[0])
    languages = [a["lang"] for a in articles]
    assert languages.count("ko") == 2 and languages.count("ja") == 2
    assert any(a["text"].startswith("TOKYO (Kyodo) --") for a in articles)
    assert len({a["id"] for a in articles}) == 12


def test_load_corpus_accepts_directory_file_and_limit(tmp_path: Path) -> None:
    assert load_corpus(FIXTURE_CORPUS.parent) == load_corpus(FIXTURE_CORPUS)
    assert len(load_corpus(FIXTURE_CORPUS, limit=3)) == 3


# -- feeds -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_every_feed_parses_with_entries(publisher: Publisher, client: httpx.Client, kind: str) -> None:
    urls = publisher.feed_urls(kind)
    assert len(urls) == 4  # one per source in the fixture corpus
    total = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        parsed = _parse_feed(response)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.entries
        total += len(parsed.entries)
        for entry in parsed.entries:
            assert entry.title and entry.link.startswith(publisher.base_url + "/articles/")
    assert total == 12


def test_json_feeds_follow_json_feed_1_1(publisher: Publisher, client: httpx.Client) -> None:
    # feedparser 6.0 has no JSON Feed support, so check the spec's required fields by hand.
    ids = []
    for url in publisher.feed_urls("json"):
        response = client.get(url)
        assert response.headers["content-type"].startswith("application/feed+json")
        document = response.json()
        assert document["version"] == "https://jsonfeed.org/version/1.1" and document["title"]
        assert document["feed_url"] == url
        for item in document["items"]:
            assert item["id"] and (item.get("content_text") or item.get("content_html"))
            assert "utm_source=jsonfeed" in item["url"]
            datetime.fromisoformat(item["date_published"].replace("Z", "+00:00"))
            ids.append(item["id"])
    assert len(set(ids)) == 12


def test_rss_items_are_newest_first_with_tracking_links_and_clean_guids(
    publisher: Publisher, client: httpx.Client
) -> None:
    parsed = _parse_feed(client.get(publisher.feed_urls("rss")[0]))
    published = [entry.published_parsed for entry in parsed.entries]
    assert published == sorted(published, reverse=True)
    first = parsed.entries[0]
    assert "utm_source=rss" in first.link
    assert first.id == first.link.split("?")[0]
    assert first.tags[0].term and first.summary and first.author


def test_feeds_per_source_splits_each_source(client: httpx.Client) -> None:
    with Publisher(fixture_corpus(), feeds_per_source=2) as split:
        urls = split.feed_urls()
        assert len(urls) == 8
        ids = [entry.id for url in urls for entry in _parse_feed(client.get(url)).entries]
    assert len(ids) == len(set(ids)) == 12


def test_news_sitemap_lists_every_article(publisher: Publisher, client: httpx.Client) -> None:
    response = client.get(publisher.url("/sitemap-news.xml"))
    root = etree.fromstring(response.content)
    namespaces = {
        "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
        "n": "http://www.google.com/schemas/sitemap-news/0.9",
    }
    assert len(root.findall("s:url", namespaces)) == 12
    assert root.find("s:url/n:news/n:publication/n:language", namespaces) is not None


# -- pages -------------------------------------------------------------------


def test_article_page_carries_canonical_og_and_json_ld(publisher: Publisher, client: httpx.Client) -> None:
    response = client.get(publisher.article_url("hb-0001", utm_source="rss"))
    assert response.status_code == 200
    document = lxml_html.fromstring(response.content)
    clean_url = publisher.article_url("hb-0001")
    assert document.get("lang") == "ko"
    assert document.xpath("//link[@rel='canonical']/@href") == [clean_url]
    assert document.xpath("//meta[@property='og:url']/@content") == [clean_url]
    assert document.xpath("//meta[@property='og:title']/@content") == ["서울시, 한강 수상버스 시범 운항 시작"]
    assert document.xpath("//meta[@name='description']/@content")
    ld = json.loads(document.xpath("//script[@type='application/ld+json']/text()")[0])
    assert ld["@type"] == "NewsArticle" and ld["headline"].startswith("서울시")
    assert ld["datePublished"].startswith("2026-03-02") and ld["author"][0]["name"]
    paragraphs = document.xpath("//article//p[not(@class)]/text()")
    assert paragraphs[0].startswith("서울시는 월요일부터")
    # The boilerplate an extractor must ignore is really there.
    for selector in ("//nav", "//*[@id='cookie-consent']", "//*[@class='share']", "//aside", "//footer"):
        assert document.xpath(selector), selector


def test_lead_image_is_a_real_jpeg(publisher: Publisher, client: httpx.Client) -> None:
    page = lxml_html.fromstring(client.get(publisher.article_url("rc-0001")).content)
    image_url = page.xpath("//meta[@property='og:image']/@content")[0]
    response = client.get(image_url)
    assert response.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (320, 180)


def test_homepage_advertises_feed_and_robots_disallows(publisher: Publisher, client: httpx.Client) -> None:
    home = lxml_html.fromstring(client.get(publisher.base_url + "/").content)
    assert home.xpath("//link[@rel='alternate' and @type='application/rss+xml']/@href")[0] == "/feeds/0.rss"
    robots = client.get(publisher.url("/robots.txt")).text
    assert "Disallow: /private/" in robots and "Sitemap:" in robots


def test_robots_can_allow_everything(client: httpx.Client) -> None:
    with Publisher(fixture_corpus(), robots_disallow=None) as open_site:
        assert "Disallow: \n" in client.get(open_site.url("/robots.txt")).text


def test_unknown_paths_are_404(publisher: Publisher, client: httpx.Client) -> None:
    for path in ("/nope", "/feeds/99.rss", "/feeds/0.xml", "/articles/missing.html", "/poll/10.rss"):
        assert client.get(publisher.url(path)).status_code == 404, path


# -- conditional GET -----------------------------------------------------------


def test_etag_and_last_modified_give_304(publisher: Publisher, client: httpx.Client) -> None:
    url = publisher.feed_urls()[0]
    first = client.get(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    by_etag = client.get(url, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.content == b"" and by_etag.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    older = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": older}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert client.get(url, headers=both).status_code == 200


def test_validators_can_be_switched_off(publisher: Publisher, client: httpx.Client) -> None:
    url = publisher.feed_urls(etag=0, lastmod=0)[0]
    response = client.get(url)
    assert "etag" not in response.headers and "last-modified" not in response.headers
    # ...and then the conditions are ignored, like a server that never supported them.
    etag = client.get(publisher.feed_urls()[0]).headers["etag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}).status_code == 200


# -- switches ------------------------------------------------------------------


def test_slow_delays_the_answer(publisher: Publisher, client: httpx.Client) -> None:
    started = time.perf_counter()
    response = client.get(publisher.feed_urls(slow=0.2)[0])
    assert response.status_code == 200 and time.perf_counter() - started >= 0.2


def test_dribble_sends_headers_then_starves_the_reader(publisher: Publisher) -> None:
    timeout = httpx.Timeout(5, read=0.3)
    with (
        httpx.Client(timeout=timeout) as http,
        http.stream("GET", publisher.feed_urls(dribble=1)[0]) as response,
    ):
        assert response.status_code == 200 and int(response.headers["content-length"]) > 1000
        with pytest.raises(httpx.ReadTimeout):
            for _ in response.iter_raw():
                pass


@pytest.mark.parametrize("status", [500, 503, 429])
def test_status_switch(publisher: Publisher, client: httpx.Client, status: int) -> None:
    response = client.get(publisher.feed_urls(status=status, retry_after=7)[0])
    assert response.status_code == status
    assert response.headers.get("retry-after") == (None if status == 500 else "7")


def test_redirect_chain_ends_at_the_resource(publisher: Publisher, client: httpx.Client) -> None:
    response = client.get(publisher.feed_urls(redirect=3)[0], follow_redirects=True)
    assert [r.status_code for r in response.history] == [302, 302, 302]
    assert response.status_code == 200 and str(response.url) == publisher.feed_urls()[0]
    assert _parse_feed(response).entries
    permanent = client.get(publisher.feed_urls(redirect=1, redirect_code=301)[0])
    assert (
        permanent.status_code == 301
        and permanent.headers["location"] == publisher.feed_urls(redirect_code=301)[0]
    )


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_malformed_xml_is_not_well_formed(publisher: Publisher, client: httpx.Client, kind: str) -> None:
    response = client.get(publisher.feed_urls(kind, malformed=1)[0])
    assert response.status_code == 200
    assert _parse_feed(response).bozo
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)


def test_malformed_json_feed_is_not_json(publisher: Publisher, client: httpx.Client) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(client.get(publisher.feed_urls("json", malformed=1)[0]).content)


def test_gzip_switch(publisher: Publisher, client: httpx.Client) -> None:
    with client.stream(
        "GET", publisher.feed_urls(gzip=1)[0], headers={"Accept-Encoding": "identity"}
    ) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip" and raw[:2] == b"\x1f\x8b"
    assert feedparser.parse(gzip.decompress(raw)).entries


@pytest.mark.parametrize("kind", ["rss", "json"])
def test_huge_pads_but_stays_valid(publisher: Publisher, client: httpx.Client, kind: str) -> None:
    response = client.get(publisher.feed_urls(kind, huge=1.5)[0])
    assert len(response.content) == int(response.headers["content-length"]) > int(1.5 * 2**20)
    if kind == "json":
        assert response.json()["items"]
    else:
        parsed = _parse_feed(response)
        assert not parsed.bozo and parsed.entries


def test_bomb_is_small_on_the_wire_and_huge_inflated(publisher: Publisher, client: httpx.Client) -> None:
    with client.stream("GET", publisher.feed_urls(bomb=1)[0]) as response:
        assert response.headers["content-encoding"] == "gzip"
        wire_length = int(response.headers["content-length"])
        raw = b"".join(response.iter_raw())
    assert len(raw) == wire_length < 2 * 2**20
    assert int.from_bytes(raw[-4:], "little") == 2**30  # gzip ISIZE: 1 GiB inflated
    inflater = zlib.decompressobj(31)
    prefix = inflater.decompress(raw[:65536], 8 * 2**20)  # bounded: never inflate the whole bomb
    assert prefix and prefix.count(0) == len(prefix)


def test_bomb_stream_is_valid_gzip_when_small() -> None:
    stream = b"".join(publisher_pages.gzip_bomb_chunks(3, blocks_per_chunk=2))
    assert len(stream) == publisher_pages.gzip_bomb_length(3)
    assert gzip.decompress(stream) == bytes(3 * 2**20)  # also checks CRC and ISIZE


def test_per_path_switches_apply_to_plain_urls(publisher: Publisher, client: httpx.Client) -> None:
    url = publisher.feed_urls()[1]
    publisher.set_switches("/feeds/1.rss", status=503)
    try:
        assert client.get(url).status_code == 503
        assert client.get(url + "?status=200").status_code == 200  # the query overrides the path default
    finally:
        publisher.set_switches("/feeds/1.rss")
    assert client.get(url).status_code == 200
    publisher.set_switches("/feeds/2.rss", redirect=2)
    try:
        response = client.get(publisher.feed_urls()[2], follow_redirects=True)
        assert response.status_code == 200 and len(response.history) == 2
    finally:
        publisher.set_switches("/feeds/2.rss")


# -- poll (benchmark) mode -----------------------------------------------------


def test_poll_even_feeds_answer_304_odd_feeds_always_200(publisher: Publisher, client: httpx.Client) -> None:
    even = client.get(publisher.url("/poll/4.rss"))
    assert even.status_code == 200 and len(_parse_feed(even).entries) == 5
    etag = even.headers["etag"]
    assert client.get(publisher.url("/poll/4.rss"), headers={"If-None-Match": etag}).status_code == 304
    odd = client.get(publisher.url("/poll/5.rss"))
    assert odd.status_code == 200 and "etag" not in odd.headers
    again = client.get(
        publisher.url("/poll/5.rss"), headers={"If-None-Match": etag, "If-Modified-Since": "x"}
    )
    assert again.status_code == 200 and len(_parse_feed(again).entries) == 5
    assert publisher.poll_urls()[3] == publisher.url("/poll/3.rss")


# -- HTTP plumbing -------------------------------------------------------------


def test_pipelined_keep_alive_requests_and_head(publisher: Publisher) -> None:
    host, port = publisher.base_url.removeprefix("http://").split(":")
    request = f"GET /poll/0.rss HTTP/1.1\r\nHost: {host}\r\n\r\nHEAD /robots.txt HTTP/1.1\r\nHost: {host}\r\n"
    request += "Connection: close\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert received.endswith(b"\r\n\r\n")  # HEAD: headers only, then the server closed


def test_requests_served_counts(publisher: Publisher, client: httpx.Client) -> None:
    before = publisher.requests_served
    client.get(publisher.base_url + "/")
    client.get(publisher.url("/robots.txt"))
    assert publisher.requests_served == before + 2
    assert publisher.hits("/robots.txt") >= 1 and publisher.hits("/private/never") == 0


def test_subprocess_mode(client: httpx.Client) -> None:
    with Publisher(fixture_corpus(), poll_feeds=4, subprocess=True) as child:
        assert child.base_url.startswith("http://127.0.0.1:")
        assert _parse_feed(client.get(child.feed_urls("atom")[0])).entries
        assert client.get(child.url("/poll/2.rss")).status_code == 200
        assert child.requests_served == 2 and child.hits("/poll/2.rss") == 1
        url = child.base_url
    with pytest.raises(httpx.ConnectError):
        client.get(url + "/")


def test_constructor_switches_and_non_get_methods(client: httpx.Client) -> None:
    with Publisher(fixture_corpus(), switches={"/feeds/0.rss": {"status": 429, "retry_after": 3}}) as flaky:
        response = client.get(flaky.feed_urls()[0])
        assert response.status_code == 429 and response.headers["retry-after"] == "3"
        assert client.post(flaky.feed_urls()[1], content=b"x").status_code == 405
        assert client.head(flaky.feed_urls()[1], params={"slow": 0.05}).headers["content-length"] != "0"
