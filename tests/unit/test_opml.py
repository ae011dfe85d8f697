"""OPML import/export and the shipped default sources."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree

from tidings.errors import FeedParseError
from tidings.ingest.opml import OpmlOutline, parse_opml, render_opml

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def default_sources() -> bytes:
    return resources.files("tidings.data").joinpath("default_sources.opml").read_bytes()


def test_nested_outlines_are_flattened_with_nearest_category() -> None:
    outlines = parse_opml((FEEDS / "subscriptions.opml").read_bytes())
    assert outlines == [
        OpmlOutline(
            xml_url="https://en.yna.co.kr/RSS/news.xml",
            title="Yonhap",
            html_url="https://en.yna.co.kr/",
            category="Asia",
            language="en",
            country="KR",
        ),
        OpmlOutline(
            xml_url="https://www3.nhk.or.jp/rss/news/cat0.xml",
            title="NHK",
            html_url=None,
            category="Asia",
            language="ja",
            country=None,
        ),
        OpmlOutline(
            xml_url="http://feeds.bbci.co.uk/news/world/rss.xml",  # feed:// rewritten, XMLURL matched
            title="BBC",
            html_url=None,
            category="News",
            language=None,
            country=None,
        ),
        OpmlOutline(
            xml_url="https://blog.example.com/feed",
            title="Loose feed",
            html_url=None,
            category="Blogs",  # from the OPML 2.0 category attribute
            language=None,
            country=None,
        ),
    ]  # the duplicate, the folder without xmlUrl and the javascript: URL are gone


def test_render_round_trips() -> None:
    original = parse_opml((FEEDS / "subscriptions.opml").read_bytes())
    rendered = render_opml(original, title="Mine & yours <3")
    root = etree.fromstring(rendered.encode())
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "Mine & yours <3"
    assert parse_opml(rendered.encode()) == original


def test_render_without_category_or_title() -> None:
    rendered = render_opml(
        [
            OpmlOutline(
                xml_url="https://x.example/feed",
                title=None,
                html_url=None,
                category=None,
                language=None,
                country=None,
            )
        ],
        title="t",
    )
    (outline,) = parse_opml(rendered.encode())
    assert outline.xml_url == "https://x.example/feed"
    assert outline.title == "https://x.example/feed"  # OPML requires text; the URL stands in


def test_bare_ampersands_are_recovered() -> None:
    sloppy = b'<opml version="1.0"><body><outline text="Q&A" xmlUrl="https://q.example/rss?a=1&b=2"/></body></opml>'
    (outline,) = parse_opml(sloppy)
    assert outline.xml_url.startswith("https://q.example/rss?a=1")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty document"),
        (b"not xml at all", "XML"),
        (b'<rss version="2.0"><channel/></rss>', "not OPML: root element is <rss>"),
        (b'<opml version="2.0"><head/></opml>', "no <body>"),
        (
            b'<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]><opml><body>'
            b'<outline text="&x;" xmlUrl="https://a.example/"/></body></opml>',
            "unsafe XML",
        ),
    ],
)
def test_garbage_raises_feed_parse_error(content: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_opml(content)


def test_empty_body_is_an_empty_list() -> None:
    assert parse_opml(b'<opml version="2.0"><head/><body/></opml>') == []


# ---------------------------------------------------------------- default sources


def test_default_sources_are_a_sane_curated_list() -> None:
    outlines = parse_opml(default_sources())
    assert len(outlines) >= 30
    urls = [outline.xml_url for outline in outlines]
    assert len(set(urls)) == len(urls)
    assert all(urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname for url in urls)
    languages = {outline.language for outline in outlines}
    assert {"en", "ko", "ja"} <= languages
    assert len(languages) >= 3
    assert all(outline.title and outline.category for outline in outlines)
    assert all(outline.country and len(outline.country) == 2 for outline in outlines)
    assert all(outline.html_url for outline in outlines)


def test_default_sources_outline_attributes() -> None:
    root = etree.fromstring(default_sources())
    assert root.get("version") == "2.0"
    feeds = root.findall(".//outline[@xmlUrl]")
    assert feeds
    for feed in feeds:
        assert feed.get("type") == "rss"
        for attribute in ("text", "title", "xmlUrl", "htmlUrl", "language", "country"):
            assert feed.get(attribute), (attribute, feed.get("xmlUrl"))
        assert feed.getparent().tag == "outline"  # grouped under a category outline


@pytest.mark.parametrize(
    "needle",
    [
        "kyodonews",
        "en.yna.co.kr",
        "www.yna.co.kr",
        "koreaherald",
        "koreatimes",
        "hani.co.kr",
        "mainichi.jp",
        "nhk.or.jp",
        "asia.nikkei.com",
        "japantimes",
        "jiji.com",
        "asahi.com",
        "bbci.co.uk",
        "theguardian.com",
        "aljazeera",
        "rss.dw.com/rdf/rss-en",
        "rss.dw.com/rdf/rss-de",
        "france24.com/en",
        "france24.com/fr",
        "npr.org",
        "channelnewsasia",
        "scmp.com",
        "abc.net.au",
        "rnz.co.nz",
        "timesofindia",
        "elpais",
        "lemonde.fr",
    ],
)
def test_default_sources_cover_required_outlets(needle: str) -> None:
    assert needle in default_sources().decode()
