"""discover_feeds: <link rel=alternate> first, <a href> guesses after, absolute and deduplicated."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidings.ingest.discovery import discover_feeds

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def test_fixture_page_best_first_with_base_href_and_no_comment_feed() -> None:
    found = discover_feeds((FEEDS / "page.html").read_bytes(), base_url="https://www.example.org/news/story")
    assert found == [
        "https://www.example.org/atom.xml",
        "https://www.example.org/news/feed/",  # resolved against <base href>; the #dup copy folded in
        "https://www.example.org/feed.json",
        "https://www.example.org/rss/world.xml",  # <a href> fallback, after declared feeds
    ]


def test_accepts_str_and_relative_hrefs_against_page_url() -> None:
    page = '<html><head><link rel="alternate" type="application/rss+xml" href="../rss.xml"></head></html>'
    assert discover_feeds(page, base_url="https://a.example/blog/post/") == ["https://a.example/blog/rss.xml"]


def test_rel_feed_without_type_and_case_insensitive_attributes() -> None:
    page = (
        b'<HTML><HEAD><LINK REL="Feed" HREF="/updates">'
        b'<LINK Rel="ALTERNATE" Type="Application/Atom+XML" href="/a"></HEAD>'
    )
    assert discover_feeds(page, base_url="https://b.example/") == [
        "https://b.example/a",
        "https://b.example/updates",
    ]


def test_comment_feed_kept_when_it_is_the_only_one() -> None:
    page = '<link rel="alternate" type="application/rss+xml" title="Comments on: Post" href="/post/feed/">'
    assert discover_feeds(page, base_url="https://c.example/post/") == ["https://c.example/post/feed/"]


def test_feed_scheme_is_unwrapped_and_reader_services_skipped() -> None:
    page = """<body>
      <a href="feed://d.example/rss.xml">RSS</a>
      <a href="feed:https://d.example/atom.xml">Atom</a>
      <a href="https://feedly.com/i/subscription/feed/https://d.example/rss.xml">Feedly</a>
      <a href="mailto:rss@d.example">Email our RSS team</a>
      <a href="javascript:void(0)">RSS</a>
    </body>"""
    assert discover_feeds(page, base_url="https://d.example/") == [
        "http://d.example/rss.xml",
        "https://d.example/atom.xml",
    ]


def test_anchor_heuristics_prefer_feedish_urls_over_labels() -> None:
    page = """<body>
      <a href="/subscribe-to-newsletter">Subscribe to our newsletter</a>
      <a href="/syndication">RSS</a>
      <a href="/feeds/all.atom.xml">All posts</a>
      <a href="/about">Our long story about how we started using RSS and Atom feeds in 2004</a>
    </body>"""
    assert discover_feeds(page, base_url="https://e.example/") == [
        "https://e.example/feeds/all.atom.xml",
        "https://e.example/syndication",
    ]


def test_ignores_non_feed_alternates() -> None:
    page = """<head>
      <link rel="alternate" hreflang="de" href="/de/">
      <link rel="alternate" media="handheld" href="https://m.example/">
      <link rel="alternate stylesheet" type="text/css" href="/dark.css">
      <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    </head>"""
    assert discover_feeds(page, base_url="https://f.example/") == []


@pytest.mark.parametrize(
    "garbage", [b"", "   ", b"\x00\x01\x02", "<<<>>>", b"<html><head><link rel=alternate"]
)
def test_garbage_never_raises(garbage: bytes | str) -> None:
    assert discover_feeds(garbage, base_url="https://g.example/") == []


def test_non_utf8_page_with_meta_charset() -> None:
    page = (
        '<html><head><meta charset="shift_jis"><title>ニュース</title>'
        '<link rel="alternate" type="application/rss+xml" title="ニュース" href="/rss/news.rdf">'
        "</head></html>"
    ).encode("shift_jis")
    assert discover_feeds(page, base_url="https://h.example.jp/") == ["https://h.example.jp/rss/news.rdf"]
