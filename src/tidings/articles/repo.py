"""Read queries for article lists and pages. Lists never load bodies: only what a card shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.ingest.models import Article, Feed, Source
from tidings.tags.models import ArticleTag, Tag

SNIPPET_SOURCE_CHARS = 400

CARD_COLUMNS = (
    Article.id,
    Article.title,
    Article.published_at,
    Article.image_url,
    Article.summary,
    func.substr(Article.text, 1, SNIPPET_SOURCE_CHARS).label("text_start"),
    Article.language,
    Article.url,
    Source.id.label("source_id"),
    Source.slug.label("source_slug"),
    Source.name.label("source_name"),
)


def card_query() -> Select[Any]:
    return (
        select(*CARD_COLUMNS)
        .join(Source, Source.id == Article.source_id)
        .where(Article.duplicate_of.is_(None))
    )


def newest_first(query: Select[Any], *, before: tuple[datetime, str] | None, limit: int) -> Select[Any]:
    if before is not None:
        query = query.where(tuple_(Article.published_at, Article.id) < before)
    return query.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)


async def card_rows(session: AsyncSession, query: Select[Any]) -> Sequence[Any]:
    return (await session.execute(query)).all()


async def article_with_source(session: AsyncSession, article_id: str) -> tuple[Article, Source] | None:
    row = (
        await session.execute(
            select(Article, Source).join(Source, Source.id == Article.source_id).where(Article.id == article_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def tags_of(session: AsyncSession, article_id: str) -> Sequence[Any]:
    query = (
        select(Tag.slug, Tag.name, Tag.kind)
        .join(ArticleTag, ArticleTag.tag_id == Tag.id)
        .where(ArticleTag.article_id == article_id)
        .order_by(ArticleTag.weight.desc(), Tag.name)
    )
    return (await session.execute(query)).all()


async def articles_sharing_tags(session: AsyncSession, article_id: str, *, limit: int) -> list[tuple[str, int]]:
    mine = select(ArticleTag.tag_id).where(ArticleTag.article_id == article_id).scalar_subquery()
    shared = func.count().label("shared")
    query = (
        select(ArticleTag.article_id, shared)
        .where(ArticleTag.tag_id.in_(mine), ArticleTag.article_id != article_id)
        .group_by(ArticleTag.article_id)
        .order_by(shared.desc())
        .limit(limit)
    )
    return [(row.article_id, int(row.shared)) for row in await session.execute(query)]


async def source_by_slug(session: AsyncSession, slug: str) -> Source | None:
    if "\x00" in slug:  # no slug has one, and PostgreSQL refuses NUL in text parameters
        return None
    return await session.scalar(select(Source).where(Source.slug == slug))


async def feeds_of(session: AsyncSession, source_id: int) -> Sequence[Feed]:
    return (await session.scalars(select(Feed).where(Feed.source_id == source_id).order_by(Feed.url))).all()


async def article_counts_by_source(session: AsyncSession) -> dict[int, int]:
    query = select(Article.source_id, func.count()).where(Article.duplicate_of.is_(None)).group_by(Article.source_id)
    return {source_id: int(count) for source_id, count in await session.execute(query)}


async def all_sources(session: AsyncSession) -> Sequence[Source]:
    return (await session.scalars(select(Source).order_by(Source.name))).all()


async def tag_by_slug(session: AsyncSession, slug: str) -> Tag | None:
    if "\x00" in slug:  # no slug has one, and PostgreSQL refuses NUL in text parameters
        return None
    return await session.scalar(select(Tag).where(Tag.slug == slug))


async def popular_tags(session: AsyncSession, *, since: datetime, limit: int) -> Sequence[Any]:
    count = func.count().label("articles")
    query = (
        select(Tag.slug, Tag.name, Tag.kind, count)
        .join(ArticleTag, ArticleTag.tag_id == Tag.id)
        .join(Article, Article.id == ArticleTag.article_id)
        .where(Article.published_at >= since, Article.duplicate_of.is_(None))
        .group_by(Tag.id, Tag.slug, Tag.name, Tag.kind)
        .order_by(count.desc(), Tag.name)
        .limit(limit)
    )
    return (await session.execute(query)).all()
