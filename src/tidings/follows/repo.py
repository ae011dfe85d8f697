"""Queries for follows, mutes, saved articles and reading history.

Every function takes a session and runs a fixed number of statements whatever the number of
follows or candidates (sets are passed as IN lists), so the "For you" page costs the same few
round trips for a reader with three follows as for one with three hundred.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.articles import repo as articles_repo
from tidings.follows.models import READ_HISTORY_KEEP, Follow, Mute, ReadEvent, SavedArticle
from tidings.ingest.models import Article, Source
from tidings.stories.models import Story
from tidings.tags.models import ArticleTag, Tag


async def follows_of(session: AsyncSession, user_id: int) -> list[tuple[str, str]]:
    query = select(Follow.kind, Follow.target).where(Follow.user_id == user_id).order_by(Follow.created_at)
    return [(row.kind, row.target) for row in await session.execute(query)]


async def mutes_of(session: AsyncSession, user_id: int) -> list[tuple[str, str]]:
    query = select(Mute.kind, Mute.target).where(Mute.user_id == user_id).order_by(Mute.created_at)
    return [(row.kind, row.target) for row in await session.execute(query)]


async def add_once(session: AsyncSession, row: Follow | Mute | SavedArticle) -> bool:
    """Insert unless the same key is there already; True when it was new (idempotent follow)."""
    if await session.get(type(row), _key(row)) is not None:
        return False
    session.add(row)
    await session.flush()
    return True


async def remove(
    session: AsyncSession, model: type[Follow] | type[Mute], user_id: int, kind: str, target: str
) -> bool:
    result = await session.execute(
        delete(model).where(model.user_id == user_id, model.kind == kind, model.target == target)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def unsave(session: AsyncSession, user_id: int, article_id: str) -> bool:
    result = await session.execute(
        delete(SavedArticle).where(SavedArticle.user_id == user_id, SavedArticle.article_id == article_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def upsert_read(session: AsyncSession, user_id: int, article_id: str, at: datetime) -> None:
    """Record (or move) a read, then drop whatever falls beyond the newest READ_HISTORY_KEEP."""
    existing = await session.get(ReadEvent, (user_id, article_id))
    if existing is not None:
        existing.read_at = max(existing.read_at, at)
    else:
        session.add(ReadEvent(user_id=user_id, article_id=article_id, read_at=at))
    await session.flush()
    cutoff = await session.scalar(
        select(ReadEvent.read_at)
        .where(ReadEvent.user_id == user_id)
        .order_by(ReadEvent.read_at.desc())
        .offset(READ_HISTORY_KEEP)
        .limit(1)
    )
    if cutoff is not None:
        await session.execute(
            delete(ReadEvent).where(ReadEvent.user_id == user_id, ReadEvent.read_at <= cutoff)
        )


async def sources_by_slug(session: AsyncSession, slugs: Iterable[str]) -> dict[str, tuple[int, str]]:
    """slug → (id, name) for the sources that exist."""
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    rows = await session.execute(select(Source.slug, Source.id, Source.name).where(Source.slug.in_(wanted)))
    return {row.slug: (row.id, row.name) for row in rows}


async def tags_by_slug(session: AsyncSession, slugs: Iterable[str]) -> dict[str, tuple[int, str]]:
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    rows = await session.execute(select(Tag.slug, Tag.id, Tag.name).where(Tag.slug.in_(wanted)))
    return {row.slug: (row.id, row.name) for row in rows}


async def stories_by_id(session: AsyncSession, ids: Iterable[str]) -> dict[str, str]:
    """story id → title for the stories that exist."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(select(Story.id, Story.title).where(Story.id.in_(wanted)))
    return {row.id: row.title for row in rows}


async def read_tags(session: AsyncSession, user_id: int) -> Sequence[Any]:
    """(read_at, tag id, slug, name) for every hashtag of every article in the reading history."""
    query = (
        select(ReadEvent.read_at, Tag.id, Tag.slug, Tag.name)
        .join(ArticleTag, ArticleTag.article_id == ReadEvent.article_id)
        .join(Tag, Tag.id == ArticleTag.tag_id)
        .where(ReadEvent.user_id == user_id)
    )
    return (await session.execute(query)).all()


async def read_sources(session: AsyncSession, user_id: int) -> Sequence[Any]:
    """(read_at, source id, slug, name) for every article in the reading history."""
    query = (
        select(ReadEvent.read_at, Source.id, Source.slug, Source.name)
        .join(Article, Article.id == ReadEvent.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(ReadEvent.user_id == user_id)
    )
    return (await session.execute(query)).all()


async def candidate_rows(
    session: AsyncSession,
    *,
    source_ids: set[int],
    tag_ids: set[int],
    story_ids: set[str],
    muted_source_ids: set[int],
    muted_tag_ids: set[int],
    reader_id: int | None,
    since: datetime,
    limit: int,
) -> Sequence[Any]:
    """Card rows of recent originals from any of the sources, hashtags or stories, newest first.

    Leaves out copies (card_query), muted sources, articles carrying a muted hashtag and what the
    reader already read, in SQL, so that the limit counts only articles that can be shown.
    """
    matches: list[ColumnElement[bool]] = []
    if source_ids:
        matches.append(Article.source_id.in_(sorted(source_ids)))
    if story_ids:
        matches.append(Article.story_id.in_(sorted(story_ids)))
    if tag_ids:
        matches.append(
            exists().where(ArticleTag.article_id == Article.id, ArticleTag.tag_id.in_(sorted(tag_ids)))
        )
    if not matches:
        return []
    query = (
        articles_repo.card_query()
        .add_columns(Article.story_id)
        .where(or_(*matches), Article.published_at >= since)
    )
    if muted_source_ids:
        query = query.where(Article.source_id.not_in(sorted(muted_source_ids)))
    if muted_tag_ids:
        query = query.where(
            ~exists().where(ArticleTag.article_id == Article.id, ArticleTag.tag_id.in_(sorted(muted_tag_ids)))
        )
    if reader_id is not None:
        query = query.where(
            ~exists().where(and_(ReadEvent.user_id == reader_id, ReadEvent.article_id == Article.id))
        )
    query = query.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)
    return (await session.execute(query)).all()


async def tags_among(
    session: AsyncSession, article_ids: Sequence[str], tag_ids: set[int]
) -> list[tuple[str, int]]:
    """(article id, tag id) pairs: which of the interesting hashtags each candidate carries."""
    if not article_ids or not tag_ids:
        return []
    query = select(ArticleTag.article_id, ArticleTag.tag_id).where(
        ArticleTag.article_id.in_(list(article_ids)), ArticleTag.tag_id.in_(sorted(tag_ids))
    )
    return [(row.article_id, row.tag_id) for row in await session.execute(query)]


async def saved_rows(session: AsyncSession, user_id: int, *, limit: int) -> Sequence[Any]:
    """Card rows of saved articles, most recently saved first (copies included: they were chosen)."""
    query = (
        select(*articles_repo.CARD_COLUMNS)
        .join(Source, Source.id == Article.source_id)
        .join(SavedArticle, SavedArticle.article_id == Article.id)
        .where(SavedArticle.user_id == user_id)
        .order_by(SavedArticle.created_at.desc(), Article.id)
        .limit(limit)
    )
    return (await session.execute(query)).all()


async def is_saved(session: AsyncSession, user_id: int, article_id: str) -> bool:
    return await session.get(SavedArticle, (user_id, article_id)) is not None


def _key(row: Follow | Mute | SavedArticle) -> tuple[Any, ...]:
    if isinstance(row, SavedArticle):
        return (row.user_id, row.article_id)
    return (row.user_id, row.kind, row.target)
