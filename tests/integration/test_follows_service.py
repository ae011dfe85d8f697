"""FollowService on SQLite and PostgreSQL: follows, mutes, saves, reads and the For you ranking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from tests.factories import make_article, make_source

from tidings.accounts.models import User
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database, create_engine
from tidings.errors import InvalidInput, NotFound
from tidings.follows.models import READ_HISTORY_KEEP, ReadEvent
from tidings.follows.service import FollowService, Reason
from tidings.ingest.models import Article
from tidings.stories.models import Story


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


async def make_user(db: Database, name: str = "Reader") -> User:
    async with db.transaction() as session:
        user = User(email=f"{name.lower()}@example.org", display_name=name, password_hash="x")
        session.add(user)
    return user


def ids(page: object) -> list[str]:
    return [card.id for card, _ in page.items]  # type: ignore[attr-defined]


async def test_follow_is_idempotent_and_listed(db: Database) -> None:
    user = await make_user(db)
    source = await make_source(db, "Kyodo News")
    await make_article(db, source, tags=["Trade"])
    service = FollowService(db)
    assert await service.follow(user, "tag", "trade") is True
    assert await service.follow(user, "tag", "trade") is False
    assert await service.follow(user, "source", source.slug)
    assert await service.mute(user, "tag", "sports")
    following = await service.following(user)
    assert following.follows == [("tag", "trade", "Trade"), ("source", source.slug, "Kyodo News")]
    assert following.mutes == [("tag", "sports", "sports")]
    assert await service.state(user, "tag", "trade") == (True, False)
    assert await service.unfollow(user, "tag", "trade") is True
    assert await service.unfollow(user, "tag", "trade") is False
    with pytest.raises(InvalidInput):
        await service.follow(user, "person", "x")
    with pytest.raises(InvalidInput):
        await service.mute(user, "story", "x")
    with pytest.raises(InvalidInput):
        await service.follow(user, "tag", "x" * 121)


async def test_ranking_and_reasons(db: Database) -> None:
    user = await make_user(db)
    kyodo, other = await make_source(db, "Kyodo News"), await make_source(db, "Other Paper")
    both = await make_article(db, other, tags=["Trade"], age=timedelta(hours=3))
    by_source = await make_article(db, kyodo, tags=["Weather"], age=timedelta(hours=1))
    by_tag_old = await make_article(db, other, tags=["Trade"], age=timedelta(days=3))
    await make_article(db, other, tags=["Weather"], age=timedelta(hours=1))  # no interest: absent
    story_article = await make_article(db, other, tags=["Politics"], age=timedelta(hours=2))
    async with db.transaction() as session:
        now = utcnow()
        session.add(
            Story(id=story_article.id, title="Election night", first_published_at=now, last_published_at=now)
        )
        await session.execute(
            update(Article).where(Article.id == story_article.id).values(story_id=story_article.id)
        )
    kyodo_trade = await make_article(db, kyodo, tags=["Trade"], age=timedelta(hours=2))

    service = FollowService(db)
    await service.follow(user, "tag", "trade")
    await service.follow(user, "source", kyodo.slug)
    await service.follow(user, "story", story_article.id)
    page = await service.for_you(user, limit=10)
    # Two matches beat one; a story follow outweighs a source; a three-day-old match comes last.
    assert ids(page) == [kyodo_trade.id, story_article.id, by_source.id, both.id, by_tag_old.id]
    reasons = dict(zip(ids(page), [r for _, r in page.items], strict=True))
    assert reasons[kyodo_trade.id] == [
        Reason("follow_tag", "Trade", "trade"),
        Reason("follow_source", "Kyodo News", kyodo.slug),
    ]
    assert reasons[story_article.id] == [Reason("follow_story", "Election night", story_article.id)]
    assert page.next_cursor is None


async def test_mutes_exclude_sources_and_tags(db: Database) -> None:
    user = await make_user(db)
    loud, quiet = await make_source(db, "Loud Paper"), await make_source(db, "Quiet Paper")
    await make_article(db, loud, tags=["Trade"])
    sports_trade = await make_article(db, quiet, tags=["Trade", "Sports"])
    kept = await make_article(db, quiet, tags=["Trade"])
    service = FollowService(db)
    await service.follow(user, "tag", "trade")
    await service.mute(user, "source", loud.slug)
    await service.mute(user, "tag", "sports")
    assert ids(await service.for_you(user)) == [kept.id]
    await service.unmute(user, "tag", "sports")
    assert set(ids(await service.for_you(user))) == {kept.id, sports_trade.id}


async def test_reads_decay_and_read_articles_are_left_out(db: Database) -> None:
    user = await make_user(db)
    source = await make_source(db)
    read_long_ago = await make_article(db, source, tags=["Japan"], age=timedelta(days=12))
    read_today = await make_article(db, source, tags=["Korea"], age=timedelta(days=12))
    japan = await make_article(db, source, tags=["Japan"], age=timedelta(hours=1))
    korea = await make_article(db, source, tags=["Korea"], age=timedelta(hours=1))
    service = FollowService(db)
    await service.record_read(user, read_long_ago.id, at=utcnow() - timedelta(days=9))
    await service.record_read(user, read_today.id)
    page = await service.for_you(user)
    got = ids(page)
    # Same age, one hashtag each: the recently read hashtag ranks first; read articles never show.
    assert got.index(korea.id) < got.index(japan.id)
    assert read_today.id not in got and read_long_ago.id not in got
    reasons = dict(zip(got, [r for _, r in page.items], strict=True))
    assert Reason("read_tag", "Korea", "korea") in reasons[korea.id]
    with pytest.raises(NotFound):
        await service.record_read(user, "0" * 32)


async def test_rereading_moves_the_read_instead_of_adding_one(db: Database) -> None:
    user = await make_user(db)
    source = await make_source(db)
    service = FollowService(db)
    articles = [await make_article(db, source) for _ in range(3)]
    for article in articles:
        await service.record_read(user, article.id, at=utcnow() - timedelta(days=1))
    await service.record_read(user, articles[0].id)
    async with db.session() as session:
        rows = (
            await session.execute(
                select(ReadEvent.article_id, ReadEvent.read_at).where(ReadEvent.user_id == user.id)
            )
        ).all()
    assert len(rows) == 3 <= READ_HISTORY_KEEP
    newest = max(rows, key=lambda row: row.read_at)
    assert newest.article_id == articles[0].id


async def test_history_drops_the_oldest_beyond_the_bound(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tidings.follows import repo

    monkeypatch.setattr(repo, "READ_HISTORY_KEEP", 2)
    user = await make_user(db)
    source = await make_source(db)
    service = FollowService(db)
    articles = [await make_article(db, source) for _ in range(4)]
    for n, article in enumerate(articles):
        await service.record_read(user, article.id, at=utcnow() - timedelta(hours=10 - n))
    async with db.session() as session:
        kept = set(
            (await session.scalars(select(ReadEvent.article_id).where(ReadEvent.user_id == user.id))).all()
        )
    assert kept == {articles[2].id, articles[3].id}


async def test_copies_collapsed_and_diversity_cap(db: Database) -> None:
    user = await make_user(db)
    busy, small = await make_source(db, "Busy Wire"), await make_source(db, "Small Paper")
    busy_articles = [
        await make_article(db, busy, tags=["Trade"], age=timedelta(minutes=10 + i)) for i in range(5)
    ]
    small_article = await make_article(db, small, tags=["Trade"], age=timedelta(hours=5))
    copy = await make_article(db, small, tags=["Trade"], age=timedelta(minutes=1))
    async with db.transaction() as session:
        await session.execute(
            update(Article).where(Article.id == copy.id).values(duplicate_of=busy_articles[0].id)
        )
    service = FollowService(db)
    await service.follow(user, "tag", "trade")

    first = await service.for_you(user, limit=4)
    assert copy.id not in ids(first)
    # At most three from one source on a page: the small paper's older article gets the fourth slot.
    assert ids(first) == [a.id for a in busy_articles[:3]] + [small_article.id]
    assert first.next_cursor
    second = await service.for_you(user, limit=4, cursor=first.next_cursor)
    assert ids(second) == [a.id for a in busy_articles[3:]]
    assert second.next_cursor is None
    with pytest.raises(InvalidInput):
        await service.for_you(user, cursor="???")


async def test_local_preferences_rank_without_an_account(db: Database) -> None:
    source = await make_source(db, "Kyodo News")
    other = await make_source(db, "Other Paper")
    trade = await make_article(db, other, tags=["Trade"])
    by_source = await make_article(db, source, tags=["Weather"])
    await make_article(db, other, tags=["Weather"])
    service = FollowService(db)
    page = await service.for_you_local(tags=["trade", "", "nonexistent"], sources=[source.slug])
    assert set(ids(page)) == {trade.id, by_source.id}
    assert (await service.for_you_local(tags=[], sources=[])).items == []


async def test_saved_articles(db: Database) -> None:
    user = await make_user(db)
    source = await make_source(db)
    first, second = await make_article(db, source), await make_article(db, source)
    service = FollowService(db)
    assert await service.save(user, first.id)
    assert await service.save(user, second.id)
    assert not await service.save(user, second.id)
    assert [card.id for card in await service.saved(user)] == [second.id, first.id]
    assert await service.is_saved(user, first.id)
    assert await service.unsave(user, first.id)
    assert not await service.is_saved(user, first.id)
    with pytest.raises(NotFound):
        await service.save(user, "0" * 32)
