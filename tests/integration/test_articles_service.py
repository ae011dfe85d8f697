from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from tests.factories import make_article, make_source

from tidings.articles.service import ArticleService
from tidings.config import Settings
from tidings.db.engine import Database, create_engine
from tidings.errors import InvalidInput, NotFound
from tidings.tags.repo import clean_tag_name


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


async def test_latest_pages_with_cursor_newest_first(db: Database) -> None:
    source = await make_source(db)
    made = [await make_article(db, source, age=timedelta(hours=i)) for i in range(7)]
    service = ArticleService(db)

    first = await service.latest(limit=3)
    assert [c.id for c in first.items] == [a.id for a in made[:3]]
    assert first.next_cursor
    second = await service.latest(limit=3, cursor=first.next_cursor)
    assert [c.id for c in second.items] == [a.id for a in made[3:6]]
    third = await service.latest(limit=3, cursor=second.next_cursor)
    assert [c.id for c in third.items] == [made[6].id] and third.next_cursor is None


async def test_language_filter_and_snippets(db: Database) -> None:
    source = await make_source(db)
    await make_article(db, source, language="en", summary="An English summary.")
    korean = await make_article(db, source, language="ko", text="서울시는 화요일 새로운 버스 노선을 발표했다. " * 20)
    page = await ArticleService(db).latest(language="ko")
    assert [c.id for c in page.items] == [korean.id]
    assert page.items[0].snippet.endswith("…") and len(page.items[0].snippet) <= 221


async def test_bad_cursor_is_invalid_input(db: Database) -> None:
    with pytest.raises(InvalidInput):
        await ArticleService(db).latest(cursor="not-a-cursor!!")


async def test_article_detail_with_tags_and_not_found(db: Database) -> None:
    source = await make_source(db)
    article = await make_article(db, source, tags=["Trade", "Japan", "news", "https://x.y/z"])
    detail = await ArticleService(db).get(article.id)
    assert detail.title == article.title and detail.source.slug == source.slug
    assert {t.name for t in detail.tags} == {"Trade", "Japan"}  # generic and URL-ish categories dropped
    with pytest.raises(NotFound):
        await ArticleService(db).get("0" * 32)


async def test_by_source_and_by_tag(db: Database) -> None:
    one, two = await make_source(db, "One"), await make_source(db, "Two")
    a = await make_article(db, one, tags=["Elections"])
    b = await make_article(db, two, tags=["Elections"])
    await make_article(db, two)
    service = ArticleService(db)
    info, page = await service.by_source(one.slug)
    assert info.name == "One" and [c.id for c in page.items] == [a.id]
    tag, page = await service.by_tag("elections")
    assert tag.name == "Elections" and {c.id for c in page.items} == {a.id, b.id}
    with pytest.raises(NotFound):
        await service.by_tag("nope")
    with pytest.raises(NotFound):
        await service.by_source("nope")


async def test_related_prefers_shared_tags_and_diverse_sources(db: Database) -> None:
    home, other, third = await make_source(db, "Home"), await make_source(db, "Other"), await make_source(db, "Third")
    anchor = await make_article(db, home, tags=["Typhoon", "Okinawa"])
    best = await make_article(db, other, tags=["Typhoon", "Okinawa"])
    good = await make_article(db, third, tags=["Typhoon"])
    same_source = [await make_article(db, home) for _ in range(4)]
    related = await ArticleService(db).related(anchor.id, limit=4)
    ids = [c.id for c in related]
    assert ids[:2] == [best.id, good.id]
    assert anchor.id not in ids
    assert sum(1 for c in related if c.source.id == home.id) <= 2
    assert set(ids[2:]) <= {a.id for a in same_source}


async def test_trending_tags_counts_recent_articles(db: Database) -> None:
    source = await make_source(db)
    for _ in range(3):
        await make_article(db, source, tags=["Budget"])
    await make_article(db, source, tags=["Old story"], age=timedelta(days=10))
    trending = await ArticleService(db).trending_tags()
    assert trending[0][0].name == "Budget" and trending[0][1] == 3
    assert all(tag.name != "Old story" for tag, _ in trending)


async def test_source_info_has_feed_health(db: Database) -> None:
    source = await make_source(db)
    info = await ArticleService(db).source(source.slug)
    assert info.feeds == () and info.article_count == 0
    assert [s.slug for s in await ArticleService(db).sources()] == [source.slug]


@pytest.mark.parametrize(
    ("raw", "clean"), [(" #Trade ", "Trade"), ("news", None), ("x", None), ("a/b", None), ("2026", None), ("Seoul  City", "Seoul City")]
)
def test_clean_tag_name(raw: str, clean: str | None) -> None:
    assert clean_tag_name(raw) == clean


@pytest.mark.parametrize(
    "payload",
    [
        '["9999-12-31T23:00:00-05:00", "0123456789abcdef0123456789abcdef"]',
        '["2026-01-01T00:00:00+00:00", "abc\\u0000def"]',
        '["2026-01-01T00:00:00", "0123456789abcdef0123456789abcdef"]',
        '["0001-01-01T00:00:00+14:00", "0123456789abcdef0123456789abcdef"]',
    ],
)
async def test_forged_cursors_are_invalid_input_not_errors(db: Database, payload: str) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    with pytest.raises(InvalidInput):
        await ArticleService(db).latest(cursor=cursor)
