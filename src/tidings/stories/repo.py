"""Storage for the understanding step: what is left to understand, its results, story rows."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.db.base import utcnow
from tidings.ingest.models import Article, Source
from tidings.stories.analysis import AnalysisInput
from tidings.stories.models import ArticleFeatures, Story

# How much of the body the analysis reads: the embedder truncates long inputs anyway, and a
# wire dateline or credit sits at either end.
ANALYSIS_TEXT_CHARS = 12_000


async def articles_to_understand(session: AsyncSession, *, limit: int) -> list[AnalysisInput]:
    """Stored articles the understanding step has not seen yet, oldest first."""
    query = (
        select(Article.id, Article.title, Article.text, Article.language, Article.author, Article.categories)
        .outerjoin(ArticleFeatures, ArticleFeatures.article_id == Article.id)
        .where(ArticleFeatures.article_id.is_(None))
        .order_by(Article.fetched_at, Article.id)
        .limit(limit)
    )
    return [
        AnalysisInput(
            article_id=row.id,
            title=row.title,
            text=_bounded(row.text or ""),
            language=row.language,
            author=row.author,
            categories=tuple(row.categories or ()),
        )
        for row in await session.execute(query)
    ]


def _bounded(text: str) -> str:
    if len(text) <= ANALYSIS_TEXT_CHARS:
        return text
    half = ANALYSIS_TEXT_CHARS // 2
    return f"{text[:half]}\n\n{text[-half:]}"


@dataclass(frozen=True, slots=True)
class ArticleFacts:
    """What the in-memory indexes need of an article besides its vector."""

    id: str
    title: str
    text_start: str
    language: str | None
    source_name: str
    published_at: datetime
    story_id: str | None
    duplicate_of: str | None
    model: str
    vector: bytes
    fingerprint: bytes


_ARTICLE_FACTS = (
    Article.id,
    Article.title,
    func.substr(Article.text, 1, 1500).label("text_start"),
    Article.language,
    Source.name.label("source_name"),
    Article.published_at,
    Article.story_id,
    Article.duplicate_of,
)


def _facts_query() -> Any:
    return (
        select(*_ARTICLE_FACTS, ArticleFeatures.model, ArticleFeatures.vector, ArticleFeatures.fingerprint)
        .join(ArticleFeatures, ArticleFeatures.article_id == Article.id)
        .join(Source, Source.id == Article.source_id)
    )


def _facts(row: Any) -> ArticleFacts:
    return ArticleFacts(**row._asdict())


async def article_facts(session: AsyncSession, article_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What the decisions need of freshly analysed articles (their features are not stored yet)."""
    query = (
        select(*_ARTICLE_FACTS)
        .join(Source, Source.id == Article.source_id)
        .where(Article.id.in_(list(article_ids)))
    )
    return {row.id: row._asdict() for row in await session.execute(query)}


async def recent_facts(session: AsyncSession, *, since: datetime) -> list[ArticleFacts]:
    rows = await session.execute(
        _facts_query().where(Article.published_at >= since).order_by(Article.published_at, Article.id)
    )
    return [_facts(row) for row in rows]


async def vectors_after(
    session: AsyncSession, *, model: str, after: datetime | None, limit: int
) -> Sequence[Any]:
    """Vectors of one model stored after a point in time (the related index catches up with these)."""
    query = select(ArticleFeatures.article_id, ArticleFeatures.vector, ArticleFeatures.created_at).where(
        ArticleFeatures.model == model
    )
    if after is not None:
        query = query.where(ArticleFeatures.created_at > after)
    return (await session.execute(query.order_by(ArticleFeatures.created_at).limit(limit))).all()


async def vector_of(session: AsyncSession, article_id: str, *, model: str) -> bytes | None:
    return await session.scalar(
        select(ArticleFeatures.vector).where(
            ArticleFeatures.article_id == article_id, ArticleFeatures.model == model
        )
    )


async def stale_vector_count(session: AsyncSession, *, model: str) -> int:
    missing = (
        select(func.count())
        .select_from(Article)
        .outerjoin(ArticleFeatures, ArticleFeatures.article_id == Article.id)
        .where((ArticleFeatures.article_id.is_(None)) | (ArticleFeatures.model != model))
    )
    return int(await session.scalar(missing) or 0)


async def forget_features(session: AsyncSession, *, except_model: str) -> int:
    """Drop vectors of other models, so the understanding step embeds those articles again."""
    result = await session.execute(delete(ArticleFeatures).where(ArticleFeatures.model != except_model))
    return int(getattr(result, "rowcount", 0) or 0)


async def ensure_stories(session: AsyncSession, seeds: dict[str, datetime]) -> None:
    """Create story rows (id = seed article id) that do not exist yet; aggregates come later."""
    if not seeds:
        return
    existing = set(await session.scalars(select(Story.id).where(Story.id.in_(list(seeds)))))
    session.add_all(
        Story(id=story_id, title="", first_published_at=when, last_published_at=when)
        for story_id, when in seeds.items()
        if story_id not in existing
    )
    await session.flush()


async def assign_story(session: AsyncSession, article_ids: Iterable[str], story_id: str) -> None:
    ids = list(article_ids)
    for start in range(0, len(ids), 500):
        await session.execute(
            update(Article).where(Article.id.in_(ids[start : start + 500])).values(story_id=story_id)
        )


async def refresh_stories(
    session: AsyncSession, story_ids: Iterable[str], *, lead_articles: dict[str, str]
) -> None:
    """Recompute each story's aggregates from its articles; delete stories left empty."""
    ids = list(dict.fromkeys(story_ids))
    if not ids:
        return
    stats = {
        row.story_id: row
        for row in await session.execute(
            select(
                Article.story_id,
                func.count().label("articles"),
                func.count(func.distinct(Article.source_id)).label("sources"),
                func.min(Article.published_at).label("first"),
                func.max(Article.published_at).label("last"),
            )
            .where(Article.story_id.in_(ids))
            .group_by(Article.story_id)
        )
    }
    languages: dict[str, set[str]] = {}
    for story_id, language in await session.execute(
        select(Article.story_id, Article.language)
        .where(Article.story_id.in_(ids), Article.language.is_not(None))
        .distinct()
    ):
        languages.setdefault(story_id, set()).add(language)
    empty = [story_id for story_id in ids if story_id not in stats]
    if empty:
        await session.execute(delete(Story).where(Story.id.in_(empty)))
    leads = await _lead_rows(session, [lead_articles.get(story_id, story_id) for story_id in stats])
    now = utcnow()
    for story_id, row in stats.items():
        lead = leads.get(lead_articles.get(story_id, story_id))
        await session.execute(
            update(Story)
            .where(Story.id == story_id)
            .values(
                title=lead.title if lead else "",
                lead_article_id=lead.id if lead else None,
                image_url=await _story_image(session, story_id, lead),
                first_published_at=row.first,
                last_published_at=row.last,
                article_count=int(row.articles),
                source_count=int(row.sources),
                languages=sorted(languages.get(story_id, ())),
                score=story_score(
                    sources=int(row.sources), articles=int(row.articles), last=row.last, now=now
                ),
                updated_at=now,
            )
        )


async def _lead_rows(session: AsyncSession, article_ids: list[str]) -> dict[str, Any]:
    rows = await session.execute(
        select(Article.id, Article.title, Article.image_url).where(Article.id.in_(article_ids))
    )
    return {row.id: row for row in rows}


async def _story_image(session: AsyncSession, story_id: str, lead: Any) -> str | None:
    if lead is not None and lead.image_url:
        return str(lead.image_url)
    return await session.scalar(
        select(Article.image_url)
        .where(and_(Article.story_id == story_id, Article.image_url.is_not(None)))
        .order_by(Article.published_at)
        .limit(1)
    )


def story_score(*, sources: int, articles: int, last: datetime, now: datetime) -> float:
    """Home-page rank: many independent sources and fresh coverage beat one prolific outlet.

    Source diversity counts most (log-damped so a 40-source story does not bury everything);
    article count adds velocity; a 12-hour half-life on the latest article keeps the page moving.
    """
    age_hours = max((now - last).total_seconds() / 3600, 0.0)
    return (2.0 * math.log1p(sources) + math.log1p(articles)) * 0.5 ** (age_hours / 12)


async def save_features(session: AsyncSession, rows: Iterable[ArticleFeatures]) -> None:
    session.add_all(list(rows))
    await session.flush()


async def mark_duplicates(session: AsyncSession, originals: dict[str, str]) -> None:
    for article_id, original in originals.items():
        await session.execute(update(Article).where(Article.id == article_id).values(duplicate_of=original))


async def set_wire_agencies(session: AsyncSession, agencies: dict[str, str]) -> None:
    for article_id, agency in agencies.items():
        await session.execute(update(Article).where(Article.id == article_id).values(wire_agency=agency))


def window_start(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
