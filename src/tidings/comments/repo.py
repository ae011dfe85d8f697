"""Queries of the comment tables. Functions of a session: the service owns the transactions.

Every write that must survive concurrency is a single statement: score changes are relative
UPDATEs, idempotent inserts are INSERT ... ON CONFLICT DO NOTHING (both SQLite and PostgreSQL have it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.accounts.models import User
from tidings.comments.models import Comment, CommentReport, CommentVote
from tidings.comments.views import ArticleLabel
from tidings.ingest.models import Article, Source


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# --- comments -----------------------------------------------------------------------------------------


async def insert_comment(session: AsyncSession, values: dict[str, Any]) -> Comment | None:
    """Insert a comment; None when its (user_id, client_token) is already taken."""
    statement = (
        _insert(session, Comment)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "client_token"])
        .returning(Comment)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def by_token(session: AsyncSession, user_id: int, token: str) -> Comment | None:
    statement = select(Comment).where(Comment.user_id == user_id, Comment.client_token == token)
    return (await session.execute(statement)).scalar_one_or_none()


async def get_comment(session: AsyncSession, comment_id: int, *, lock: bool = False) -> Comment | None:
    """A comment; `lock` takes its row lock (PostgreSQL) so that writers of one comment queue up."""
    statement = select(Comment).where(Comment.id == comment_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def comments_of(
    session: AsyncSession, article_ids: Sequence[str]
) -> Sequence[Row[Comment, str, datetime | None]]:
    """Every comment of these articles with its author's name: (Comment, display_name, deleted_at)."""
    statement = (
        select(Comment, User.display_name, User.deleted_at)
        .join(User, User.id == Comment.user_id)
        .where(Comment.article_id.in_(article_ids))
        .order_by(Comment.id)
    )
    return (await session.execute(statement)).all()


async def comments_by_ids(
    session: AsyncSession, ids: Iterable[int]
) -> Sequence[Row[Comment, str, datetime | None]]:
    statement = (
        select(Comment, User.display_name, User.deleted_at)
        .join(User, User.id == Comment.user_id)
        .where(Comment.id.in_(list(ids)))
    )
    return (await session.execute(statement)).all()


async def visible_counts(session: AsyncSession, article_ids: Sequence[str]) -> dict[str, int]:
    statement = (
        select(Comment.article_id, func.count())
        .where(Comment.article_id.in_(article_ids), Comment.status == "visible")
        .group_by(Comment.article_id)
    )
    return {article_id: count for article_id, count in (await session.execute(statement)).all()}


async def recent_count(session: AsyncSession, user_id: int, since: datetime) -> int:
    statement = select(func.count()).where(Comment.user_id == user_id, Comment.created_at >= since)
    return int((await session.execute(statement)).scalar_one())


async def recent_bodies(
    session: AsyncSession, user_id: int, since: datetime, *, exclude: int | None = None, limit: int = 50
) -> list[str]:
    statement = (
        select(Comment.body_markdown)
        .where(Comment.user_id == user_id, Comment.created_at >= since, Comment.status != "deleted")
        .order_by(Comment.created_at.desc())
        .limit(limit)
    )
    if exclude is not None:
        statement = statement.where(Comment.id != exclude)
    return list((await session.execute(statement)).scalars().all())


async def identical_elsewhere(session: AsyncSession, body_hash: str, article_id: str, since: datetime) -> int:
    """Other articles on which the same normalised text appeared since `since`."""
    statement = select(func.count(func.distinct(Comment.article_id))).where(
        Comment.body_hash == body_hash, Comment.created_at >= since, Comment.article_id != article_id
    )
    return int((await session.execute(statement)).scalar_one())


async def hide_held_of(
    session: AsyncSession, user_id: int, *, reason: str, moderator_id: int, now: datetime
) -> int:
    statement = (
        update(Comment)
        .where(Comment.user_id == user_id, Comment.status == "held")
        .values(status="hidden", hidden_reason=reason, moderated_by=moderator_id, moderated_at=now)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).rowcount  # type: ignore[attr-defined, no-any-return]


# --- votes --------------------------------------------------------------------------------------------


async def vote_of(session: AsyncSession, comment_id: int, user_id: int) -> int:
    statement = select(CommentVote.value).where(
        CommentVote.comment_id == comment_id, CommentVote.user_id == user_id
    )
    return int((await session.execute(statement)).scalar_one_or_none() or 0)


async def set_vote(session: AsyncSession, comment_id: int, user_id: int, value: int, now: datetime) -> None:
    where = (CommentVote.comment_id == comment_id, CommentVote.user_id == user_id)
    if value == 0:
        await session.execute(delete(CommentVote).where(*where))
        return
    statement = _insert(session, CommentVote).values(
        comment_id=comment_id, user_id=user_id, value=value, created_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["comment_id", "user_id"], set_={"value": value, "created_at": now}
    )
    await session.execute(statement)


async def adjust_score(
    session: AsyncSession, comment_id: int, *, ups: int, downs: int
) -> tuple[int, int, int]:
    """Relative update, so no vote is lost whatever runs beside it: (score, ups, downs) afterwards."""
    statement = (
        update(Comment)
        .where(Comment.id == comment_id)
        .values(ups=Comment.ups + ups, downs=Comment.downs + downs, score=Comment.score + (ups - downs))
        .returning(Comment.score, Comment.ups, Comment.downs)
        .execution_options(synchronize_session=False)
    )
    score, up_total, down_total = (await session.execute(statement)).one()
    return int(score), int(up_total), int(down_total)


async def viewer_votes(session: AsyncSession, user_id: int, comment_ids: Sequence[int]) -> dict[int, int]:
    if not comment_ids:
        return {}
    statement = select(CommentVote.comment_id, CommentVote.value).where(
        CommentVote.user_id == user_id, CommentVote.comment_id.in_(comment_ids)
    )
    return {comment_id: value for comment_id, value in (await session.execute(statement)).all()}


# --- reports ------------------------------------------------------------------------------------------


async def add_report(
    session: AsyncSession, comment_id: int, user_id: int, reason: str, now: datetime
) -> None:
    """One report per reader and comment: a second one (open or resolved) changes nothing."""
    statement = (
        _insert(session, CommentReport)
        .values(comment_id=comment_id, user_id=user_id, reason=reason, created_at=now)
        .on_conflict_do_nothing(index_elements=["comment_id", "user_id"])
    )
    await session.execute(statement)


async def resolve_reports(session: AsyncSession, comment_ids: Sequence[int], now: datetime) -> None:
    statement = (
        update(CommentReport)
        .where(CommentReport.comment_id.in_(comment_ids), CommentReport.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(statement)


async def open_report_counts(session: AsyncSession, comment_ids: Sequence[int]) -> dict[int, int]:
    if not comment_ids:
        return {}
    statement = (
        select(CommentReport.comment_id, func.count())
        .where(CommentReport.comment_id.in_(comment_ids), CommentReport.resolved_at.is_(None))
        .group_by(CommentReport.comment_id)
    )
    return {comment_id: count for comment_id, count in (await session.execute(statement)).all()}


async def open_reports(
    session: AsyncSession, comment_ids: Sequence[int]
) -> Sequence[Row[CommentReport, str]]:
    """(CommentReport, reporter display name) for the open reports of these comments, oldest first."""
    statement = (
        select(CommentReport, User.display_name)
        .join(User, User.id == CommentReport.user_id)
        .where(CommentReport.comment_id.in_(comment_ids), CommentReport.resolved_at.is_(None))
        .order_by(CommentReport.created_at)
    )
    return (await session.execute(statement)).all()


async def queue_candidates(session: AsyncSession, limit: int) -> list[tuple[int, datetime]]:
    """(comment id, waiting since) of held and of reported comments, oldest first, at most `limit`."""
    held = (
        select(Comment.id, Comment.created_at)
        .where(Comment.status == "held")
        .order_by(Comment.created_at)
        .limit(limit)
    )
    reported = (
        select(CommentReport.comment_id, func.min(CommentReport.created_at))
        .join(Comment, Comment.id == CommentReport.comment_id)
        .where(CommentReport.resolved_at.is_(None), Comment.status.in_(("visible", "held")))
        .group_by(CommentReport.comment_id)
        .order_by(func.min(CommentReport.created_at))
        .limit(limit)
    )
    since: dict[int, datetime] = {}
    for statement in (held, reported):
        for comment_id, when in (await session.execute(statement)).all():
            since[comment_id] = min(when, since.get(comment_id, when))
    return sorted(since.items(), key=lambda item: (item[1], item[0]))[:limit]


# --- articles -----------------------------------------------------------------------------------------


async def article_exists(session: AsyncSession, article_id: str) -> bool:
    return (await session.execute(select(Article.id).where(Article.id == article_id))).first() is not None


async def article_labels(session: AsyncSession, article_ids: Iterable[str]) -> dict[str, ArticleLabel]:
    statement = (
        select(Article.id, Article.title, Source.name)
        .join(Source, Source.id == Article.source_id)
        .where(Article.id.in_(list(article_ids)))
    )
    return {
        article_id: ArticleLabel(id=article_id, title=title, source_name=source)
        for article_id, title, source in (await session.execute(statement)).all()
    }


async def story_article_ids(session: AsyncSession, story_id: str) -> list[str]:
    statement = select(Article.id).where(Article.story_id == story_id).order_by(Article.published_at)
    return list((await session.execute(statement)).scalars().all())
