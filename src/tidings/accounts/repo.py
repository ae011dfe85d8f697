"""Queries of the accounts tables. Functions of a session: the service owns the transactions."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.accounts.models import ApiToken, Session, User


def token_hash(token: str) -> str:
    """What is stored for a session or API token: its SHA-256 (tokens are 256-bit random, so a
    plain hash is enough; no salt or slow hash needed, unlike passwords)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def users(session: AsyncSession, *, limit: int = 1000) -> Sequence[User]:
    return (await session.execute(select(User).order_by(User.id).limit(limit))).scalars().all()


async def session_with_user(
    session: AsyncSession, session_id: str, now: datetime
) -> tuple[Session, User] | None:
    row = (
        await session.execute(
            select(Session, User)
            .join(User, User.id == Session.user_id)
            .where(Session.id == session_id, Session.expires_at > now, User.deleted_at.is_(None))
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def touch_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(update(Session).where(Session.id == session_id).values(last_seen_at=now))


async def delete_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(Session).where(Session.id == session_id))


async def delete_sessions_of(session: AsyncSession, user_id: int, *, keep: str | None = None) -> None:
    statement = delete(Session).where(Session.user_id == user_id)
    if keep is not None:
        statement = statement.where(Session.id != keep)
    await session.execute(statement)


async def delete_expired_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(Session).where(Session.expires_at <= now))


async def sessions_of(session: AsyncSession, user_id: int) -> Sequence[Session]:
    result = await session.execute(
        select(Session).where(Session.user_id == user_id).order_by(Session.created_at)
    )
    return result.scalars().all()


async def api_token_with_user(session: AsyncSession, hashed: str) -> tuple[ApiToken, User] | None:
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == hashed, ApiToken.revoked_at.is_(None), User.deleted_at.is_(None))
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def api_tokens_of(session: AsyncSession, user_id: int) -> Sequence[ApiToken]:
    result = await session.execute(
        select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return result.scalars().all()
