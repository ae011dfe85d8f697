"""Counting for the admin pages: articles and polls per hour or day, feed health, fetch history.

Grouping happens in the database (one row per hour or day, never one row per article or poll), by a
text label of the UTC hour or day: SQLite stores datetimes as ISO text, so a prefix of the stored
string is the label; PostgreSQL formats the timestamp in UTC. Labels are then placed into a fixed
list of buckets in Python, so empty hours show as zero rather than as missing bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.ingest.models import Article, Feed, FetchLog, Source

FEED_STATUSES = ("ok", "failing", "disabled", "new")
HOUR_FORMAT = "%Y-%m-%d %H"
DAY_FORMAT = "%Y-%m-%d"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of a chart: when it starts, and its counts."""

    start: datetime
    count: int
    errors: int = 0


def status_of(disabled: bool, last_polled_at: datetime | None, error_count: int) -> str:
    """ok | failing | disabled | new: what the health column shows and the dashboard counts."""
    if disabled:
        return "disabled"
    if last_polled_at is None:
        return "new"
    return "failing" if error_count > 0 else "ok"


def feed_status(feed: Feed) -> str:
    return status_of(feed.disabled, feed.last_polled_at, feed.error_count)


def _label(session: AsyncSession, column: Any, *, hourly: bool) -> Any:
    """A text label of the UTC hour ("2026-01-02 13") or day ("2026-01-02") of `column`."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        pattern = "YYYY-MM-DD HH24" if hourly else "YYYY-MM-DD"
        return func.to_char(func.timezone("UTC", column), pattern)
    return func.substr(column, 1, 13 if hourly else 10)


def hour_starts(now: datetime, hours: int) -> list[datetime]:
    """The starts of the last `hours` whole UTC hours, oldest first, the current hour last."""
    current = now.replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=n) for n in range(hours - 1, -1, -1)]


def day_starts(now: datetime, days: int) -> list[datetime]:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


async def articles_per_hour(session: AsyncSession, *, now: datetime, hours: int = 48) -> list[Bucket]:
    """Articles stored per hour (by fetched_at: when they reached us, not when they were published)."""
    starts = hour_starts(now, hours)
    label = _label(session, Article.fetched_at, hourly=True)
    rows = await session.execute(
        select(label, func.count()).where(Article.fetched_at >= starts[0]).group_by(label)
    )
    counts = {str(key): int(n) for key, n in rows}
    return [Bucket(start, counts.get(start.strftime(HOUR_FORMAT), 0)) for start in starts]


async def polls_per_hour(session: AsyncSession, *, now: datetime, hours: int = 48) -> list[Bucket]:
    """Polls per hour and how many of them failed."""
    starts = hour_starts(now, hours)
    label = _label(session, FetchLog.started_at, hourly=True)
    failed = func.sum(case((FetchLog.outcome == "error", 1), else_=0))
    rows = await session.execute(
        select(label, func.count(), failed).where(FetchLog.started_at >= starts[0]).group_by(label)
    )
    counts = {str(key): (int(n), int(e or 0)) for key, n, e in rows}
    return [Bucket(start, *counts.get(start.strftime(HOUR_FORMAT), (0, 0))) for start in starts]


async def feeds_by_status(session: AsyncSession) -> dict[str, int]:
    """How many feeds are ok, failing, disabled or never polled. Feeds number hundreds, not millions:
    reading their four columns is cheaper to reason about than a CASE per status."""
    counts = dict.fromkeys(FEED_STATUSES, 0)
    rows = await session.execute(select(Feed.disabled, Feed.last_polled_at, Feed.error_count))
    for disabled, last_polled_at, error_count in rows:
        counts[status_of(disabled, last_polled_at, error_count or 0)] += 1
    return counts


async def totals(session: AsyncSession) -> dict[str, int]:
    async def count(model: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return {"sources": await count(Source), "feeds": await count(Feed), "articles": await count(Article)}


async def articles_per_day_by_feed(
    session: AsyncSession, *, now: datetime, days: int = 14, feed_ids: Sequence[int] | None = None
) -> dict[int, list[int]]:
    """feed id → articles stored on each of the last `days` UTC days, oldest first."""
    starts = day_starts(now, days)
    index = {start.strftime(DAY_FORMAT): n for n, start in enumerate(starts)}
    label = _label(session, Article.fetched_at, hourly=False)
    query = (
        select(Article.feed_id, label, func.count())
        .where(Article.fetched_at >= starts[0], Article.feed_id.is_not(None))
        .group_by(Article.feed_id, label)
    )
    if feed_ids is not None:
        query = query.where(Article.feed_id.in_(list(feed_ids)))
    result: dict[int, list[int]] = {}
    for feed_id, day, n in await session.execute(query):
        position = index.get(str(day))
        if position is not None:
            result.setdefault(int(feed_id), [0] * days)[position] = int(n)
    return result


async def fetch_history(session: AsyncSession, feed_id: int, *, limit: int = 40) -> list[FetchLog]:
    """The feed's latest polls, newest first."""
    rows = await session.scalars(
        select(FetchLog)
        .where(FetchLog.feed_id == feed_id)
        .order_by(FetchLog.started_at.desc(), FetchLog.id.desc())
        .limit(limit)
    )
    return list(rows)
