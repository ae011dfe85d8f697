"""The HTML site through the ASGI app, on SQLite and PostgreSQL: pages, languages, errors, caching."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import lxml.html
import pytest
from fastapi import FastAPI
from tests.factories import make_article, make_source

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database, create_engine
from tidings.errors import NotFound
from tidings.ingest.models import Feed
from tidings.web.app import create_app
from tidings.web.fastpath import ArticleFastPath
from tidings.web.imageproxy import image_signature
from tidings.web.pagecache import PageCache

ARTICLE_BLOCKS = [
    "headline",
    "byline",
    "lead-image",
    "body",
    "hashtags",
    "ai-features",
    "comments",
    "related",
    "install",
]
RELATIVE_HOURS = {"en": "hours ago", "ko": "시간 전", "ja": "時間前"}
HOSTILE_TITLE = 'Budget </script><script>alert(1)</script> "><img src=x onerror=alert(1)>'
HOSTILE_SUMMARY = '<script>alert(1)</script> "><img src=x onerror=alert(1)> summary'


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


def parse(response: httpx.Response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.text)


def block_order(doc: lxml.html.HtmlElement) -> list[str]:
    return [el.get("data-block") for el in doc.xpath("//*[@data-block]")]


async def seed_article_with_related(app: FastAPI, **article: object) -> tuple[str, str]:
    db = app.state.runtime.db
    source = await make_source(db, "Seoul Herald")
    main = await make_article(db, source, tags=["Economy", "Seoul"], age=timedelta(hours=3), **article)  # type: ignore[arg-type]
    other = await make_source(db, "Tokyo Times")
    related = await make_article(
        db, other, title="Markets rally in Tokyo", tags=["Economy"], age=timedelta(hours=5)
    )
    return main.id, related.id


@pytest.mark.parametrize("lang", ["en", "ko", "ja"])
async def test_article_page_has_its_blocks_in_order_in_each_language(settings: Settings, lang: str) -> None:
    public = settings.model_copy(update={"base_url": "https://news.example.org"})
    async with running(public) as (app, client):
        article_id, related_id = await seed_article_with_related(app, title="City council passes the budget")
        response = await client.get(f"/{lang}/article/{article_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    doc = parse(response)
    assert doc.get("lang") == lang
    assert block_order(doc) == ARTICLE_BLOCKS
    assert len(doc.xpath("//h1")) == 1
    assert doc.xpath("//h1")[0].text_content() == "City council passes the budget"
    time = doc.xpath('//*[@data-block="byline"]//time')[0]
    assert RELATIVE_HOURS[lang] in time.text_content()
    assert time.get("datetime").endswith("+00:00") and time.get("title")
    source_link = doc.xpath('//*[@data-block="byline"]//a')[0]
    assert source_link.get("href").startswith(f"/{lang}/source/seoul-herald-")
    assert doc.xpath('//link[@rel="canonical"]/@href')[0].startswith("https://example")
    assert doc.xpath('//meta[@property="og:title"]/@content') == ["City council passes the budget"]
    assert doc.xpath('//meta[@property="og:type"]/@content') == ["article"]
    assert doc.xpath('//meta[@property="og:image"]/@content')[0].startswith("https://news.example.org/img?")
    ld = json.loads(doc.xpath('//script[@type="application/ld+json"]')[0].text)
    assert ld["@type"] == "NewsArticle" and ld["headline"] == "City council passes the budget"
    assert ld["url"] == f"https://news.example.org/{lang}/article/{article_id}"
    tags = doc.xpath('//*[@data-block="hashtags"]//a/@href')
    assert f"/{lang}/tag/economy" in tags
    read_more = doc.xpath('//a[@rel="noopener nofollow"]')
    assert read_more and read_more[0].get("href") == doc.xpath('//link[@rel="canonical"]/@href')[0]
    assert f"/{lang}/article/{related_id}" in doc.xpath('//*[@data-block="related"]//a/@href')
    switcher = doc.xpath('//nav[@class="language-switcher"]//a/@href')
    assert switcher == [f"/{code}/article/{article_id}" for code in ("en", "ko", "ja")]


async def test_hostile_title_and_summary_are_never_unescaped(settings: Settings) -> None:
    async with running(settings) as (app, client):
        article_id, _ = await seed_article_with_related(
            app, title=HOSTILE_TITLE, summary=HOSTILE_SUMMARY, html="<p>A sanitised body.</p>"
        )
        pages = [
            await client.get(f"/en/article/{article_id}"),
            await client.get("/en/"),
            await client.get("/en/tag/economy"),
            await client.get("/en/search", params={"q": "budget"}),
            await client.get("/en/search", params={"q": HOSTILE_TITLE}),
        ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
        assert "onerror=alert(1)>" not in page.text.replace("onerror=alert(1)&gt;", "")
    ld_text = parse(pages[0]).xpath('//script[@type="application/ld+json"]')[0].text
    assert "</" not in ld_text
    assert json.loads(ld_text)["headline"] == HOSTILE_TITLE  # same data, only escaped
    assert parse(pages[0]).xpath("//h1")[0].text_content() == HOSTILE_TITLE


async def test_a_forged_host_header_never_reaches_the_cached_page(settings: Settings) -> None:
    async with running(settings) as (app, client):  # no base_url configured
        article_id, _ = await seed_article_with_related(app)
        forged = await client.get(f"/en/article/{article_id}", headers={"Host": "evil.example"})
        honest = await client.get(f"/en/article/{article_id}")
    assert "evil.example" not in forged.text and "evil.example" not in honest.text
    assert not parse(honest).xpath('//meta[@property="og:image"]')  # no absolute URL to give


async def test_lead_image_goes_through_the_signed_image_proxy(settings: Settings) -> None:
    async with running(settings) as (app, client):
        article_id, _ = await seed_article_with_related(app, image_url="https://cdn.example.net/photo.jpg")
        doc = parse(await client.get(f"/en/article/{article_id}"))
    lead = doc.xpath('//*[@data-block="lead-image"]//img')[0]
    assert lead.get("alt") and lead.get("width") and lead.get("height")
    assert lead.get("loading") is None  # the lead image is not lazy
    src = urlsplit(lead.get("src"))
    params = {name: values[0] for name, values in parse_qs(src.query).items()}
    assert (
        src.path == "/img" and params["url"] == "https://cdn.example.net/photo.jpg" and params["w"] == "960"
    )
    assert params["s"] == image_signature(settings.signing_key(), params["url"], params["w"], params["q"])
    assert all(candidate.strip().startswith("/img?") for candidate in lead.get("srcset").split(","))
    related_images = doc.xpath('//*[@data-block="related"]//img')
    assert related_images and all(img.get("loading") == "lazy" for img in related_images)


@pytest.mark.parametrize(
    ("path", "lang", "text"),
    [
        ("/ko/article/0123456789abcdef0123456789abcdef", "ko", "페이지를 찾을 수 없습니다"),
        ("/ja/article/not-an-id", "ja", "ページが見つかりません"),
        ("/en/article/0123456789ABCDEF0123456789ABCDEF", "en", "Page not found"),
        ("/ja/no/such/page", "ja", "ページが見つかりません"),
        ("/xx/", "en", "Page not found"),
        ("/fr/article/0123456789abcdef0123456789abcdef", "en", "Page not found"),
    ],
)
async def test_not_found_pages_are_html_in_the_path_language(
    settings: Settings, path: str, lang: str, text: str
) -> None:
    async with running(settings) as (_, client):
        response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    doc = parse(response)
    assert doc.get("lang") == lang
    assert doc.xpath("//h1")[0].text_content() == text
    assert "Traceback" not in response.text


async def test_api_errors_keep_the_json_shape(settings: Settings) -> None:
    async with running(settings) as (_, client):
        response = await client.get("/api/unknown")
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error": {"code": "not_found", "message": "Not Found"},
        "status": 404,
    }


async def test_unexpected_errors_give_a_generic_page_without_a_traceback(settings: Settings) -> None:
    async with running(settings) as (app, client):
        article_id, _ = await seed_article_with_related(app)

        async def broken(_: str) -> None:
            raise RuntimeError("secret internals")

        app.state.runtime.articles.get = broken
        page = await client.get(f"/ko/article/{article_id}")
    assert page.status_code == 500
    assert parse(page).get("lang") == "ko"
    assert "secret internals" not in page.text and "Traceback" not in page.text


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("ko-KR,ko;q=0.9,en;q=0.8", "ko"),
        ("ja", "ja"),
        ("fr-FR, en;q=0.5", "en"),
        ("de", "en"),
        (None, "en"),
        ("en;q=0.3, ja;q=0.7", "ja"),
    ],
)
async def test_root_redirects_by_accept_language(
    settings: Settings, accept_language: str | None, expected: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    async with running(settings) as (_, client):
        response = await client.get("/", headers=headers)
    assert response.status_code in (302, 307)
    assert response.headers["location"] == f"/{expected}/"
    assert "Accept-Language" in response.headers["vary"]


async def test_home_pages_with_a_cursor_and_htmx_fragments(settings: Settings) -> None:
    async with running(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db)
        for minutes in range(25):
            await make_article(
                db, source, title=f"Story {minutes:02d}", age=timedelta(minutes=minutes + 1), tags=["Daily"]
            )
        first = parse(await client.get("/en/"))
        more = first.xpath('//*[@id="more"]//a')[0]
        second = parse(await client.get(more.get("href")))
        fragment = await client.get(more.get("hx-get"), headers={"HX-Request": "true"})
    titles_first = [a.text_content() for a in first.xpath('//ol[@id="cards"]//h3/a')]
    titles_second = [a.text_content() for a in second.xpath('//ol[@id="cards"]//h3/a')]
    assert titles_first == [f"Story {n:02d}" for n in range(20)]
    assert titles_second == [f"Story {n:02d}" for n in range(20, 25)]
    assert more.get("href").startswith("/en/?cursor=") and more.get("hx-target") == "#cards"
    assert not second.xpath('//*[@id="more"]//a')  # last page: no dead "More" link
    assert "<html" not in fragment.text and "Story 20" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    trending = first.xpath('//aside[@class="trending"]//a/@href')
    assert trending == ["/en/tag/daily"]
    assert not first.xpath('//*[@id="top-stories"]')  # hidden until stories exist


async def test_home_filters_by_content_language(settings: Settings) -> None:
    async with running(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db)
        await make_article(db, source, title="English news")
        await make_article(db, source, title="한국어 뉴스", language="ko")
        doc = parse(await client.get("/ja/", params={"language": "ko"}))
    titles = [a.text_content() for a in doc.xpath('//ol[@id="cards"]//h3/a')]
    assert titles == ["한국어 뉴스"]
    assert doc.xpath('//select[@name="language"]/option[@selected]/@value') == ["ko"]


async def test_source_page_shows_details_feed_health_and_articles(settings: Settings) -> None:
    async with running(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db, "Busan Daily", language="ko")
        async with db.transaction() as session:
            session.add(
                Feed(
                    source_id=source.id,
                    url="https://busan.example/rss",
                    title="Main feed",
                    error_count=3,
                    last_error="HTTP 503",
                    last_polled_at=utcnow() - timedelta(hours=2),
                )
            )
        await make_article(db, source, title="Port traffic grows")
        doc = parse(await client.get(f"/ko/source/{source.slug}"))
    assert doc.xpath("//h1")[0].text_content() == "Busan Daily"
    facts = doc.xpath('//dl[@class="facts"]')[0].text_content()
    assert "영국" in facts and "한국어" in facts  # country GB and language ko, named in Korean
    row = doc.xpath('//section[@class="feed-health"]//tbody/tr')[0].text_content()
    assert "Main feed" in row and "오류 발생" in row and "2시간 전" in row and "HTTP 503" in row
    assert [a.text_content() for a in doc.xpath('//ol[@id="cards"]//h3/a')] == ["Port traffic grows"]


async def test_tag_page_lists_the_tagged_articles(settings: Settings) -> None:
    async with running(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db)
        await make_article(db, source, title="Rain in Osaka", tags=["Weather"])
        await make_article(db, source, title="Elections", tags=["Politics"])
        doc = parse(await client.get("/ja/tag/weather"))
        missing = await client.get("/ja/tag/no-such-tag")
    assert doc.xpath("//h1")[0].text_content() == "#Weather"
    assert [a.text_content() for a in doc.xpath('//ol[@id="cards"]//h3/a')] == ["Rain in Osaka"]
    assert missing.status_code == 404 and parse(missing).get("lang") == "ja"


async def test_search_finds_english_words_and_korean_substrings(settings: Settings) -> None:
    async with running(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db, "Mixed Wire")
        await make_article(db, source, title="Orchestra tours Europe", text="The orchestra played in Vienna.")
        await make_article(
            db, source, title="서울시청 기자회견", text="서울시는 새로운 교통 정책을 발표했다.", language="ko"
        )
        english = await client.get("/en/search", params={"q": "orchestra"})
        korean = await client.get("/ko/search", params={"q": "서울"})
        filtered = await client.get("/en/search", params={"q": "orchestra", "language": "ko"})
        empty = await client.get("/ja/search")
    doc = parse(english)
    assert [a.text_content() for a in doc.xpath('//ol[@id="cards"]//h2/a')] == ["Orchestra tours Europe"]
    assert "<mark>Orchestra</mark>" in english.text
    assert doc.xpath('//input[@id="site-search"]/@value') == ["orchestra"]
    assert "Mixed Wire" in doc.xpath('//li[@class="result"]')[0].text_content()
    assert "<mark>서울</mark>" in korean.text
    assert "서울시청 기자회견" in parse(korean).xpath('//ol[@id="cards"]')[0].text_content()
    assert "No articles match" in filtered.text
    assert parse(empty).xpath('//p[@class="empty"]')[0].text_content().startswith("キーワード")


async def test_article_page_is_cached_with_an_etag_and_answers_304(settings: Settings) -> None:
    async with running(settings) as (app, client):
        article_id, _ = await seed_article_with_related(app)
        first = await client.get(f"/en/article/{article_id}")
        again = await client.get(f"/en/article/{article_id}")
        revalidated = await client.get(
            f"/en/article/{article_id}", headers={"If-None-Match": first.headers["etag"]}
        )
        other_language = await client.get(f"/ko/article/{article_id}")
    assert first.headers["etag"].startswith('"') and first.headers["cache-control"] == "public, max-age=60"
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == first.headers["etag"]
    assert other_language.headers["etag"] != first.headers["etag"]


async def test_every_page_has_one_h1_a_language_and_security_headers(settings: Settings) -> None:
    async with running(settings) as (app, client):
        article_id, _ = await seed_article_with_related(app)
        source_slug = (await app.state.runtime.articles.sources())[0].slug
        paths = [
            f"/{lang}{rest}"
            for lang in ("en", "ko", "ja")
            for rest in (
                "/",
                f"/article/{article_id}",
                f"/source/{source_slug}",
                "/tag/economy",
                "/search?q=council",
                "/search",
                "/offline",
                "/missing",
            )
        ]
        responses = [(path, await client.get(path)) for path in paths]
    for path, response in responses:
        doc = parse(response)
        assert doc.get("lang") == path.split("/")[1], path
        assert len(doc.xpath("//h1")) == 1, path
        assert doc.xpath('//form[@role="search"][@method="get"]//input[@name="q"]'), path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert not doc.xpath("//script[not(@src) and not(@type='application/ld+json')]"), path  # no inline JS
        assert not re.search(r"\son[a-z]+=", response.text.replace("onerror=alert", "")), path
        assert all(img.get("alt") is not None for img in doc.xpath("//img")), path


async def test_a_malformed_cursor_is_an_error_page_not_a_crash(settings: Settings) -> None:
    async with running(settings) as (_, client):
        response = await client.get("/ko/", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert parse(response).get("lang") == "ko"
    assert parse(response).xpath("//h1")[0].text_content() == "요청을 처리할 수 없습니다"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_page_cache_serves_fresh_entries_and_re_renders_after_the_ttl() -> None:
    clock = FakeClock()
    cache = PageCache(ttl=60, clock=clock)
    renders: list[int] = []

    async def render() -> bytes:
        renders.append(1)
        return b"<p>page</p>"

    first = await cache.get_or_render(("en", "a"), render)
    clock.now += 59
    assert await cache.get_or_render(("en", "a"), render) is first
    clock.now += 2
    stale = await cache.get_or_render(("en", "a"), render)
    assert stale is first  # stale-while-revalidate: answered at once...
    await asyncio.sleep(0)  # ...while one background task re-renders
    again = await cache.get_or_render(("en", "a"), render)
    assert len(renders) == 2 and again is not first and again.etag == first.etag  # same bytes, same ETag

    clock.now += 601  # far too old to serve stale: rendered before answering
    await cache.get_or_render(("en", "a"), render)
    assert len(renders) == 3


async def test_page_cache_evicts_the_least_recently_used_and_shares_one_render() -> None:
    cache = PageCache(max_entries=2)
    for key in ("a", "b"):
        cache.put(("en", key), key.encode())
    assert cache.fresh(("en", "a")) is not None  # "a" is now the most recently used
    cache.put(("en", "c"), b"c")
    assert cache.fresh(("en", "b")) is None and len(cache) == 2

    calls: list[int] = []

    async def slow_render() -> bytes:
        calls.append(1)
        await asyncio.sleep(0.01)
        return b"slow"

    results = await asyncio.gather(*(cache.get_or_render(("ko", "x"), slow_render) for _ in range(5)))
    assert len(calls) == 1 and {r.body for r in results} == {b"slow"}

    async def failing() -> bytes:
        raise NotFound("gone")

    with pytest.raises(NotFound):
        await cache.get_or_render(("ko", "y"), failing)
    assert cache.fresh(("ko", "y")) is None  # errors are not cached


async def test_article_page_is_served_precompressed_to_gzip_clients(settings: Settings) -> None:
    import gzip as gzip_module

    db = Database(create_engine(settings))
    try:
        source = await make_source(db)
        article = await make_article(db, source, title="Compressed once, served many times")
    finally:
        await db.dispose()
    app = create_app(settings, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            plain = await client.get(f"/en/article/{article.id}", headers={"Accept-Encoding": "identity"})
            zipped = await client.get(f"/en/article/{article.id}", headers={"Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.text == plain.text  # httpx decodes it: the same page
    assert zipped.headers["etag"] == plain.headers["etag"]
    assert len(gzip_module.compress(plain.content)) < len(plain.content)


async def test_fast_path_answers_cache_hits_exactly_like_the_route(settings: Settings) -> None:
    db = Database(create_engine(settings))
    try:
        source = await make_source(db)
        article = await make_article(db, source, title="Served twice, identically")
    finally:
        await db.dispose()
    app = create_app(settings, run_scheduler=False)
    shared_cache = next(m.kwargs["cache"] for m in app.user_middleware if m.cls is ArticleFastPath)
    path = f"/ko/article/{article.id}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for encoding in ("identity", "gzip"):
                routed = await client.get(path + "?via=route", headers={"Accept-Encoding": encoding})
                assert shared_cache.fresh(("ko", article.id)) is not None  # the route filled the shared cache
                fast = await client.get(path, headers={"Accept-Encoding": encoding})  # a cache hit
                assert fast.status_code == routed.status_code == 200
                assert fast.content == routed.content
                for name in (
                    "etag",
                    "content-type",
                    "cache-control",
                    "vary",
                    "content-security-policy",
                    "x-content-type-options",
                    "referrer-policy",
                    "x-frame-options",
                ):
                    assert fast.headers.get(name) == routed.headers.get(name), name
                assert fast.headers.get("content-encoding") == routed.headers.get("content-encoding")
            revalidated = await client.get(path, headers={"If-None-Match": fast.headers["etag"]})
            assert revalidated.status_code == 304 and revalidated.headers["etag"] == fast.headers["etag"]
            missing = await client.get(f"/ko/article/{'0' * 32}")
            assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


def test_older_articles_stay_cached_longer() -> None:
    from tidings.web.pagecache import ttl_for_age

    assert ttl_for_age(5 * 60) == 60  # "5 minutes ago" changes every minute
    assert ttl_for_age(5 * 3600) == 600
    assert ttl_for_age(5 * 86400) == 3600  # "5 days ago" changes daily


async def test_page_cache_honours_a_ttl_given_by_the_renderer() -> None:
    clock = FakeClock()
    cache = PageCache(ttl=60, clock=clock)

    async def render() -> tuple[bytes, float]:
        return b"<p>old news</p>", 3600.0

    first = await cache.get_or_render(("en", "b"), render)
    clock.now += 1800
    assert cache.fresh(("en", "b")) is first
