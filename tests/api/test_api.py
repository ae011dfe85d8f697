"""The JSON API (/api/v1) through the ASGI app, on both backends."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.factories import make_article, make_source

from tidings.articles.cursor import encode_cursor
from tidings.config import Settings
from tidings.db.engine import Database, create_engine
from tidings.ingest.models import Feed
from tidings.search.query import parse_query
from tidings.web.app import create_app

BASE = "https://news.example.org"
HOSTILE_TITLE = "Budget <script>alert(1)</script> & cuts"


@dataclass
class Api:
    client: httpx.AsyncClient
    newest_first: list[str]  # ids of every article, newest first
    daily_slug: str
    seoul_slug: str
    hostile_id: str
    korean_id: str


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    settings = settings.model_copy(update={"base_url": BASE})
    db = Database(create_engine(settings))
    try:
        daily = await make_source(db, "The Daily Example")
        seoul = await make_source(db, "서울 뉴스", language="ko")
        async with db.transaction() as session:
            session.add(
                Feed(
                    source_id=daily.id,
                    url="https://example.org/rss",
                    title="Main",
                    error_count=3,
                    last_error="HTTP 503",
                )
            )
        made = [
            await make_article(db, daily, age=timedelta(hours=h + 1), tags=["Trade", "Japan"])
            for h in range(5)
        ]
        hostile = await make_article(
            db,
            daily,
            title=HOSTILE_TITLE,
            age=timedelta(minutes=30),
            text="The council budget was cut again. " * 5,
        )
        korean = await make_article(
            db,
            seoul,
            title="서울시 버스 노선 발표",
            language="ko",
            age=timedelta(minutes=10),
            tags=["교통"],
            image_url=None,
        )
    finally:
        await db.dispose()
    app = create_app(settings, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(
                client=client,
                newest_first=[korean.id, hostile.id, *(a.id for a in made)],
                daily_slug=daily.slug,
                seoul_slug=seoul.slug,
                hostile_id=hostile.id,
                korean_id=korean.id,
            )


async def _ok(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


async def _error(client: httpx.AsyncClient, path: str, status: int, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["ok"] is False and body["status"] == status
    assert set(body["error"]) == {"code", "message"} and body["error"]["message"]
    return body


async def _walk(client: httpx.AsyncClient, path: str, limit: int, **params: Any) -> list[list[str]]:
    """Every page of a cursor-paginated list, as lists of item ids."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        body = await _ok(client, path, limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20


async def test_latest_articles_cards(api: Api) -> None:
    body = await _ok(api.client, "/api/v1/articles")
    assert [item["id"] for item in body["items"]] == api.newest_first and body["next_cursor"] is None
    card = next(item for item in body["items"] if item["id"] == api.hostile_id)
    assert card["title"] == HOSTILE_TITLE
    assert card["page_url"] == f"{BASE}/en/article/{api.hostile_id}"
    assert card["source"]["slug"] == api.daily_slug
    assert card["image_url"] == "https://images.example.org/lead.jpg"
    proxied = urlsplit(card["image_proxy_url"])
    assert f"{proxied.scheme}://{proxied.netloc}{proxied.path}" == f"{BASE}/img"
    query = parse_qs(proxied.query)
    assert query["url"] == [card["image_url"]] and query["w"] == ["640"] and query["s"]
    korean = body["items"][0]
    assert korean["image_url"] is None and korean["image_proxy_url"] is None and korean["language"] == "ko"


async def test_latest_pages_without_overlap_and_language_filter(api: Api) -> None:
    pages = await _walk(api.client, "/api/v1/articles", limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [i for page in pages for i in page] == api.newest_first  # no overlap, nothing skipped
    korean = await _ok(api.client, "/api/v1/articles", language="ko")
    assert [item["id"] for item in korean["items"]] == [api.korean_id]


async def test_article_detail(api: Api) -> None:
    body = await _ok(api.client, f"/api/v1/articles/{api.newest_first[2]}")
    assert body["html"].startswith("<p>") and body["text"] and body["word_count"] > 0
    assert {tag["slug"] for tag in body["tags"]} == {"trade", "japan"}
    assert body["source"]["slug"] == api.daily_slug
    assert body["canonical_url"] == body["url"] and body["canonical_url"].startswith("https://example")
    assert body["image_proxy_url"].startswith(f"{BASE}/img?")
    assert body["body_origin"] == "page" and body["author"] == "A. Reporter"


async def test_unknown_ids_are_404_and_malformed_ids_422(api: Api) -> None:
    missing = await _error(api.client, f"/api/v1/articles/{'0' * 32}", 404)
    assert missing["error"]["code"] == "not_found"
    await _error(api.client, f"/api/v1/articles/{'0' * 32}/related", 404)
    for bad in ("xyz", "A" * 32, "0" * 33):
        invalid = await _error(api.client, f"/api/v1/articles/{bad}", 422)
        assert invalid["error"]["code"] == "invalid_input" and "article_id" in invalid["error"]["message"]
    await _error(api.client, "/api/v1/sources/nobody", 404)
    await _error(api.client, "/api/v1/sources/nobody/articles", 404)
    await _error(api.client, "/api/v1/tags/nothing/articles", 404)


async def test_bad_parameters_and_cursors_are_422(api: Api) -> None:
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"limit": "x"},
        {"language": "<x>"},
        {"cursor": "not-a-cursor"},
    ):
        await _error(api.client, "/api/v1/articles", 422, **params)
    # Well-formed cursors carrying values the database cannot take: refused before any query.
    forged_id = encode_cursor(datetime.now(UTC), "abc\x00def")
    overflowing = encode_cursor(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12))), "0" * 32)
    for cursor in (forged_id, overflowing):
        body = await _error(api.client, "/api/v1/articles", 422, cursor=cursor)
        assert body["error"]["code"] == "invalid_cursor"
        await _error(api.client, f"/api/v1/sources/{api.daily_slug}/articles", 422, cursor=cursor)
        await _error(api.client, "/api/v1/tags/trade/articles", 422, cursor=cursor)
    await _error(api.client, "/api/v1/sources", 422, cursor="bm9wZQ")
    await _error(api.client, "/api/v1/search", 422, q="budget", cursor="bm9wZQ")
    await _error(api.client, "/api/v1/search", 422)  # q is required
    # A search cursor bound to the right query (its fingerprint is an unkeyed digest) but frozen in year 3M.
    fingerprint = parse_query("budget").fingerprint(None)
    far_future = base64.urlsafe_b64encode(f"{fingerprint}.0.99999999999999".encode()).decode().rstrip("=")
    body = await _error(api.client, "/api/v1/search", 422, q="budget", cursor=far_future)
    assert body["error"]["code"] == "invalid_cursor"


async def test_related_articles(api: Api) -> None:
    body = await _ok(api.client, f"/api/v1/articles/{api.newest_first[2]}/related", limit=3)
    ids = [item["id"] for item in body["items"]]
    assert ids and len(ids) <= 3 and api.newest_first[2] not in ids and body["next_cursor"] is None


async def test_sources_list_detail_and_articles(api: Api) -> None:
    pages = await _walk(api.client, "/api/v1/sources", limit=1)
    assert len(pages) == 2 and len({i for page in pages for i in page}) == 2
    listed = await _ok(api.client, "/api/v1/sources")
    counts = {source["slug"]: source["article_count"] for source in listed["items"]}
    assert counts == {api.daily_slug: 6, api.seoul_slug: 1}

    detail = await _ok(api.client, f"/api/v1/sources/{api.daily_slug}")
    assert detail["page_url"] == f"{BASE}/en/source/{api.daily_slug}"
    assert detail["feeds"] == [
        {
            "url": "https://example.org/rss",
            "title": "Main",
            "status": "failing",
            "error_count": 3,
            "last_error": "HTTP 503",
            "last_polled_at": None,
            "interval_seconds": 1800,
        }
    ]
    pages = await _walk(api.client, f"/api/v1/sources/{api.daily_slug}/articles", limit=4)
    assert [i for page in pages for i in page] == api.newest_first[1:]
    korean = await _ok(api.client, f"/api/v1/sources/{api.seoul_slug}/articles")
    assert korean["source"]["name"] == "서울 뉴스" and [i["id"] for i in korean["items"]] == [api.korean_id]


async def test_trending_tags_and_tag_articles(api: Api) -> None:
    trending = await _ok(api.client, "/api/v1/tags/trending")
    counts = {tag["slug"]: tag["article_count"] for tag in trending["items"]}
    assert counts == {"trade": 5, "japan": 5, "교통": 1} and trending["next_cursor"] is None
    pages = await _walk(api.client, "/api/v1/tags/trade/articles", limit=2)
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == api.newest_first[2:]
    korean = await _ok(api.client, "/api/v1/tags/교통/articles")
    assert korean["tag"] == {"slug": "교통", "name": "교통", "kind": "topic"}


async def test_search_highlights_and_pages(api: Api) -> None:
    body = await _ok(api.client, "/api/v1/search", q="budget")
    assert body["total_estimate"] == 7 and len(body["items"]) == 7
    hit = next(item for item in body["items"] if item["id"] == api.hostile_id)
    assert "<mark>" in hit["snippet_html"] and "<mark>" in hit["title_html"]
    assert "<script>" not in hit["title_html"] and "&lt;script&gt;" in hit["title_html"]
    assert hit["page_url"] == f"{BASE}/en/article/{api.hostile_id}"
    pages = await _walk(api.client, "/api/v1/search", limit=3, q="budget")
    ids = [i for page in pages for i in page]
    assert len(ids) == len(set(ids)) == 7
    korean = await _ok(api.client, "/api/v1/search", q="버스", language="ko")
    assert [item["id"] for item in korean["items"]] == [api.korean_id]
    assert (await _ok(api.client, "/api/v1/search", q=""))["items"] == []


async def test_openapi_document_lists_every_endpoint(api: Api) -> None:
    spec = await _ok(api.client, "/api/openapi.json")
    expected = {
        "/api/v1/articles",
        "/api/v1/articles/{article_id}",
        "/api/v1/articles/{article_id}/related",
        "/api/v1/sources",
        "/api/v1/sources/{slug}",
        "/api/v1/sources/{slug}/articles",
        "/api/v1/tags/trending",
        "/api/v1/tags/{slug}/articles",
        "/api/v1/search",
    }
    assert expected <= set(spec["paths"])
    for path in expected:
        operation = spec["paths"][path]["get"]
        assert operation["summary"] and operation["tags"], path
        assert "$ref" in str(operation["responses"]["200"]["content"]["application/json"]["schema"]), path
        assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }, path
        if "{" in path:
            assert "404" in operation["responses"], path
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert (await api.client.get("/api/docs")).status_code == 200
