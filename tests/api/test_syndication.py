"""Outgoing RSS/Atom feeds and sitemaps, read back with feedparser and lxml, on both backends."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import feedparser
import httpx
import pytest
from lxml import etree
from sqlalchemy import update
from tests.factories import make_article, make_source

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database, create_engine
from tidings.ingest.models import Article
from tidings.web import syndication
from tidings.web.app import create_app

BASE = "https://news.example.org"
HOSTILE_TITLE = 'Fish & <Chips> 🐟 <script>alert("x")</script>'
KOREAN_TITLE = "서울시, 새 버스 노선 발표"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@dataclass
class Site:
    client: httpx.AsyncClient
    settings: Settings
    source_slug: str
    korean_source_slug: str
    hostile_id: str
    korean_id: str
    old_id: str
    article_ids: list[str]


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    settings = settings.model_copy(update={"base_url": BASE + "/"})
    db = Database(create_engine(settings))
    try:
        daily = await make_source(db, "The Daily Example")
        # The factory derives this one's slug from the name as is: it is only ever read, never looked up.
        hostile_source = await make_source(db, "Fish & <Co>")
        seoul = await make_source(db, "서울 뉴스", language="ko")
        plain = [
            await make_article(db, daily, age=timedelta(hours=h), tags=["Trade", "Japan"])
            for h in range(1, 4)
        ]
        hostile = await make_article(
            db,
            hostile_source,
            title=HOSTILE_TITLE + "\x0b",  # a control character XML cannot carry: must be dropped, not crash
            summary="A <b>bold</b> & <img src=x onerror=alert(1)> salty story",
            age=timedelta(minutes=5),
            tags=["Trade"],
        )
        korean = await make_article(
            db,
            seoul,
            title=KOREAN_TITLE,
            language="ko",
            age=timedelta(minutes=10),
            tags=["교통"],
            image_url=None,
        )
        old = await make_article(db, daily, title="Last week's news", age=timedelta(days=7))
    finally:
        await db.dispose()
    app = create_app(settings, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Site(
                client=client,
                settings=settings,
                source_slug=daily.slug,
                korean_source_slug=seoul.slug,
                hostile_id=hostile.id,
                korean_id=korean.id,
                old_id=old.id,
                article_ids=[a.id for a in (*plain, hostile, korean, old)],
            )


def _parse_feed(response: httpx.Response) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.entries
    return parsed


async def test_rss_home_feed_round_trips_hostile_and_korean_titles(site: Site) -> None:
    response = await site.client.get("/feed.rss")
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    feed = _parse_feed(response)
    assert feed.version == "rss20"
    by_link = {entry.link: entry for entry in feed.entries}
    hostile = by_link[f"{BASE}/en/article/{site.hostile_id}"]
    assert hostile.title == HOSTILE_TITLE
    assert hostile.id == hostile.link  # guid is the permalink
    assert hostile.published_parsed
    assert {tag.term for tag in hostile.tags} == {"Trade"}
    assert (
        hostile.enclosures[0].href.startswith(f"{BASE}/img?") and hostile.enclosures[0].type == "image/jpeg"
    )
    # The description is HTML whose text is the snippet: markup in the snippet shows, never runs.
    assert html.unescape(hostile.summary) == "A <b>bold</b> & <img src=x onerror=alert(1)> salty story"
    assert by_link[f"{BASE}/en/article/{site.korean_id}"].title == KOREAN_TITLE
    assert (
        "enclosures" not in by_link[f"{BASE}/en/article/{site.korean_id}"]
        or not by_link[f"{BASE}/en/article/{site.korean_id}"].enclosures
    )
    assert feed.feed.link == f"{BASE}/en/"
    assert len(feed.entries) == len(site.article_ids)


async def test_hostile_text_stays_escaped_in_the_raw_xml(site: Site) -> None:
    for path in ("/feed.rss", "/feed.atom"):
        raw = (await site.client.get(path)).text
        assert "<script>" not in raw and "<img" not in raw and "<b>" not in raw
        assert "&lt;script&gt;" in raw
        assert "\x0b" not in raw


async def test_atom_home_feed(site: Site) -> None:
    response = await site.client.get("/feed.atom")
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = _parse_feed(response)
    assert feed.version == "atom10"
    entry = next(e for e in feed.entries if e.link.endswith(site.hostile_id))
    assert entry.title == HOSTILE_TITLE and entry.title_detail.type == "text/plain"
    assert entry.summary == "A <b>bold</b> & <img src=x onerror=alert(1)> salty story"
    assert entry.author == "Fish & <Co>"
    assert any(link.rel == "enclosure" for link in entry.links)
    assert feed.feed.updated_parsed and feed.feed.title == "Tidings"


async def test_language_filter_source_and_tag_feeds(site: Site) -> None:
    korean = _parse_feed(await site.client.get("/feed.rss", params={"language": "ko"}))
    assert [e.title for e in korean.entries] == [KOREAN_TITLE] and korean.feed.language == "ko"

    source = _parse_feed(await site.client.get(f"/source/{site.korean_source_slug}/feed.atom"))
    assert [e.title for e in source.entries] == [KOREAN_TITLE]
    assert source.feed.title == "서울 뉴스 · Tidings"

    tagged = _parse_feed(await site.client.get("/tag/trade/feed.rss"))
    assert len(tagged.entries) == 4 and all("Trade" in {t.term for t in e.tags} for e in tagged.entries)
    korean_tag = _parse_feed(await site.client.get("/tag/교통/feed.atom"))
    assert [e.title for e in korean_tag.entries] == [KOREAN_TITLE]


async def test_unknown_source_or_tag_is_404_and_bad_language_422(site: Site) -> None:
    assert (await site.client.get("/source/nobody/feed.rss")).status_code == 404
    assert (await site.client.get("/tag/nothing/feed.atom")).status_code == 404
    assert (await site.client.get("/feed.rss", params={"language": "<x>"})).status_code == 422


async def test_conditional_requests_answer_304(site: Site) -> None:
    first = await site.client.get("/feed.rss")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"].startswith("public")

    again = await site.client.get("/feed.rss", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    since = await site.client.get("/feed.rss", headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304
    stale = await site.client.get(
        "/feed.rss", headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    )
    assert stale.status_code == 200  # If-None-Match wins over If-Modified-Since
    assert (
        await site.client.get("/feed.rss", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    ).status_code == 200

    # An article arriving late, dated before everything listed, still changes the feed: no more 304.
    db = Database(create_engine(site.settings))
    try:
        source = await make_source(db, "Slow Wire")
        late = await make_article(db, source, title="Late arrival", age=timedelta(days=1))
        async with db.transaction() as session:
            await session.execute(
                update(Article)
                .where(Article.id == late.id)
                .values(fetched_at=utcnow() + timedelta(minutes=1))
            )
    finally:
        await db.dispose()
    assert (
        await site.client.get("/feed.rss", headers={"If-Modified-Since": last_modified})
    ).status_code == 200
    assert (await site.client.get("/feed.rss", headers={"If-None-Match": etag})).status_code == 200
    assert (
        await site.client.get(
            "/sitemap.xml", headers={"If-None-Match": (await site.client.get("/sitemap.xml")).headers["etag"]}
        )
    ).status_code == 304


def _xml(response: httpx.Response) -> etree._Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    return etree.fromstring(response.content)


async def test_sitemap_index_and_article_urlsets_with_hreflang(site: Site) -> None:
    index = _xml(await site.client.get("/sitemap.xml"))
    assert index.tag == f"{SITEMAP}sitemapindex"
    locations = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert locations == [
        f"{BASE}/sitemap-pages.xml",
        f"{BASE}/sitemap-news.xml",
        f"{BASE}/sitemap-tags-1.xml",
        f"{BASE}/sitemap-articles-1.xml",
    ]

    articles = _xml(await site.client.get("/sitemap-articles-1.xml"))
    assert articles.tag == f"{SITEMAP}urlset" and articles.nsmap["xhtml"] == XHTML.strip("{}")
    urls = articles.findall(f"{SITEMAP}url")
    languages = syndication.PAGE_LANGUAGES
    assert len(urls) == len(site.article_ids) * len(languages)
    first = urls[0]
    alternates = {link.get("hreflang"): link.get("href") for link in first.findall(f"{XHTML}link")}
    assert set(alternates) == {*languages, "x-default"}
    assert all(link.get("rel") == "alternate" for link in first.findall(f"{XHTML}link"))
    assert first.findtext(f"{SITEMAP}loc") in alternates.values()
    assert first.findtext(f"{SITEMAP}lastmod")
    listed = {loc.text.rsplit("/", 1)[1] for loc in articles.iter(f"{SITEMAP}loc")}
    assert listed == set(site.article_ids)
    assert (await site.client.get("/sitemap-articles-2.xml")).status_code == 404

    pages = _xml(await site.client.get("/sitemap-pages.xml"))
    page_locs = {loc.text for loc in pages.iter(f"{SITEMAP}loc")}
    assert {f"{BASE}/{lang}/" for lang in languages} <= page_locs
    assert f"{BASE}/ko/source/{site.source_slug}" in page_locs
    tags = _xml(await site.client.get("/sitemap-tags-1.xml"))
    assert f"{BASE}/en/tag/trade" in {loc.text for loc in tags.iter(f"{SITEMAP}loc")}


async def test_sitemaps_paginate_without_overlap(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syndication, "ENTRIES_PER_SITEMAP", 2)
    index = _xml(await site.client.get("/sitemap.xml"))
    article_files = [loc.text for loc in index.iter(f"{SITEMAP}loc") if "sitemap-articles-" in loc.text]
    assert len(article_files) == 3  # six articles, two per file
    seen: list[str] = []
    for location in article_files:
        urlset = _xml(await site.client.get(location.removeprefix(BASE)))
        seen += sorted({loc.text.rsplit("/", 1)[1] for loc in urlset.iter(f"{SITEMAP}loc")})
    assert sorted(seen) == sorted(site.article_ids)  # every article once, none twice
    assert (await site.client.get("/sitemap-articles-4.xml")).status_code == 404
    assert (await site.client.get("/sitemap-articles-0.xml")).status_code == 422


async def test_news_sitemap_lists_the_last_48_hours(site: Site) -> None:
    news = _xml(await site.client.get("/sitemap-news.xml"))
    assert news.tag == f"{SITEMAP}urlset" and news.nsmap["news"] == NEWS.strip("{}")
    entries = {url.findtext(f"{SITEMAP}loc"): url for url in news.findall(f"{SITEMAP}url")}
    assert f"{BASE}/en/article/{site.old_id}" not in entries
    assert len(entries) == len(site.article_ids) - 1
    korean = entries[f"{BASE}/en/article/{site.korean_id}"]
    assert korean.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}name") == "서울 뉴스"
    assert korean.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}language") == "ko"
    assert korean.findtext(f"{NEWS}news/{NEWS}title") == KOREAN_TITLE
    assert korean.findtext(f"{NEWS}news/{NEWS}publication_date").endswith("+00:00")
    hostile = entries[f"{BASE}/en/article/{site.hostile_id}"]
    assert hostile.findtext(f"{NEWS}news/{NEWS}title") == HOSTILE_TITLE


async def test_robots_txt_points_at_the_sitemap(settings: Settings) -> None:
    app = create_app(settings, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://news.test") as client:
            response = await client.get("/robots.txt")
    assert response.status_code == 200
    assert "Sitemap: http://news.test/sitemap.xml" in response.text
    assert "Disallow: /img" in response.text
