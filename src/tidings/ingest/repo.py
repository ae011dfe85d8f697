"""Queries for sources, feeds, articles and fetch logs. No HTTP, no parsing: storage only."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.ingest.models import Article, ArticleURL, Feed, FetchLog, Source


def slugify(text: str, *, max_length: int = 80) -> str:
    """ASCII slug when the name has Latin letters, otherwise keep the letters (Korean, Japanese)."""
    normalised = unicodedata.normalize("NFKC", text).strip().lower()
    ascii_form = unicodedata.normalize("NFKD", normalised).encode("ascii", "ignore").decode()
    base = ascii_form if re.search(r"[a-z0-9]", ascii_form) else normalised
    slug = re.sub(r"[^\w]+", "-", base).strip("-_")
    return slug[:max_length].strip("-") or "source"


async def count_sources(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Source)) or 0)


async def get_source_by_homepage(session: AsyncSession, homepage_url: str) -> Source | None:
    return await session.scalar(select(Source).where(Source.homepage_url == homepage_url).limit(1))


async def unique_slug(session: AsyncSession, name: str) -> str:
    base = slugify(name)
    slug, n = base, 2
    while await session.scalar(select(Source.id).where(Source.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


async def create_source(
    session: AsyncSession,
    *,
    name: str,
    homepage_url: str | None,
    language: str | None = None,
    country: str | None = None,
) -> Source:
    source = Source(
        name=name[:300],
        slug=await unique_slug(session, name),
        homepage_url=homepage_url,
        language=language,
        country=(country or None) and country.upper()[:2],
    )
    session.add(source)
    await session.flush()
    return source


async def get_feed_by_url(session: AsyncSession, url: str) -> Feed | None:
    return await session.scalar(select(Feed).where(Feed.url == url))


async def create_feed(
    session: AsyncSession,
    *,
    source: Source,
    url: str,
    title: str | None,
    kind: str | None,
    category: str | None,
    interval: int,
    now: datetime,
) -> Feed:
    feed = Feed(
        source=source,
        url=url,
        title=title,
        kind=kind,
        category=category,
        interval_seconds=interval,
        next_poll_at=now,
        error_count=0,
        disabled=False,
    )
    session.add(feed)
    await session.flush()
    return feed


async def list_sources_with_feeds(session: AsyncSession) -> Sequence[Source]:
    from sqlalchemy.orm import selectinload

    rows = await session.scalars(select(Source).options(selectinload(Source.feeds)).order_by(Source.name))
    return rows.all()


SNAPSHOT_COLUMNS = (
    Feed.id,
    Feed.url,
    Feed.source_id,
    Feed.etag,
    Feed.last_modified,
    Feed.body_hash,
    Feed.interval_seconds,
    Feed.error_count,
    Feed.title,
    Source.language,
)


async def feed_snapshot_row(session: AsyncSession, feed_id: int) -> Any:
    query = select(*SNAPSHOT_COLUMNS).join(Source, Source.id == Feed.source_id).where(Feed.id == feed_id)
    return (await session.execute(query)).first()


async def claim_due_feeds(
    session: AsyncSession, *, now: datetime, limit: int, lease_seconds: int
) -> list[Any]:
    """Pick feeds that are due and push their next_poll_at forward by a lease.

    The lease means a second scheduler (another process, or the next tick while this poll is still
    running) will not pick the same feed; the poll's outcome then sets the real next time.
    Returns snapshot rows (SNAPSHOT_COLUMNS), so a poll needs no further read.
    """
    due = (
        select(*SNAPSHOT_COLUMNS)
        .join(Source, Source.id == Feed.source_id)
        .where(Feed.disabled.is_(False), Feed.next_poll_at <= now)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        due = due.with_for_update(of=Feed, skip_locked=True)
    rows = (await session.execute(due.order_by(Feed.next_poll_at).limit(limit))).all()
    if rows:
        await session.execute(
            update(Feed)
            .where(Feed.id.in_([r.id for r in rows]))
            .values(next_poll_at=now + timedelta(seconds=lease_seconds))
        )
    return list(rows)


async def count_due_feeds(session: AsyncSession, *, now: datetime) -> int:
    query = select(func.count()).select_from(Feed).where(Feed.disabled.is_(False), Feed.next_poll_at <= now)
    return int(await session.scalar(query) or 0)


async def next_due_time(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.min(Feed.next_poll_at)).where(Feed.disabled.is_(False)))


async def prune_fetch_logs(session: AsyncSession, *, older_than: datetime) -> int:
    result = await session.execute(delete(FetchLog).where(FetchLog.started_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)


async def known_url_hashes(session: AsyncSession, hashes: Iterable[str]) -> dict[str, str]:
    wanted = list(set(hashes))
    found: dict[str, str] = {}
    # Chunked: SQLite caps bound parameters per statement.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = await session.execute(
            select(ArticleURL.url_hash, ArticleURL.article_id).where(ArticleURL.url_hash.in_(chunk))
        )
        found.update({row.url_hash: row.article_id for row in rows})
    return found


async def existing_article_ids(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        rows = await session.scalars(select(Article.id).where(Article.id.in_(wanted[start : start + 500])))
        found.update(rows)
    return found


async def article_ids_by_content_hash(session: AsyncSession, hashes: Iterable[str]) -> dict[str, str]:
    """content hash → id of the first article stored with exactly that text."""
    wanted = list(set(hashes))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(
            select(Article.content_hash, Article.id)
            .where(Article.content_hash.in_(wanted[start : start + 500]), Article.duplicate_of.is_(None))
            .order_by(Article.fetched_at)
        )
        for content_hash, article_id in rows:
            found.setdefault(content_hash, article_id)
    return found


def add_url_aliases(session: AsyncSession, aliases: dict[str, str]) -> None:
    """Record url_hash → article_id pairs (the caller filters out hashes already known)."""
    session.add_all(ArticleURL(url_hash=h, article_id=a) for h, a in aliases.items())


async def get_article(session: AsyncSession, article_id: str) -> Article | None:
    return await session.get(Article, article_id)


async def count_articles(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Article)) or 0)


async def latest_articles(session: AsyncSession, *, limit: int = 20) -> Sequence[Article]:
    rows = await session.scalars(select(Article).order_by(Article.published_at.desc()).limit(limit))
    return rows.all()
