"""Who is acting: every comment operation reloads the account from the database in its own transaction.

The object a page hands in (a `User` from the session lookup, or just an id) is only a reference: role
and ban are read fresh, so a demoted moderator or a freshly banned reader loses their powers on the very
next request, and a forged or stale object (`role="admin"` set in memory) grants nothing.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tidings.accounts.models import User
from tidings.comments.threads import ANONYMOUS, Viewer
from tidings.errors import Forbidden, Unauthenticated


class HasId(Protocol):
    @property
    def id(self) -> int: ...


UserRef = HasId | int


def _user_id(user: UserRef | None) -> int | None:
    if user is None:
        return None
    return user if isinstance(user, int) else user.id


async def load_actor(session: AsyncSession, user: UserRef | None) -> User:
    """The live account behind `user`; Unauthenticated when there is none (or it was deleted)."""
    user_id = _user_id(user)
    actor = await session.get(User, user_id, populate_existing=True) if user_id is not None else None
    if actor is None or actor.is_deleted:
        raise Unauthenticated("sign in to do this")
    return actor


def require_active(actor: User) -> None:
    if actor.is_banned:
        raise Forbidden("this account is banned from commenting", code="banned")


def is_moderator(actor: User) -> bool:
    return actor.has_role("moderator") and not actor.is_banned


def require_moderator(actor: User) -> None:
    if not is_moderator(actor):
        raise Forbidden("only moderators can do this", code="not_moderator")


def viewer_of(actor: User) -> Viewer:
    return Viewer(id=actor.id, is_moderator=is_moderator(actor), is_banned=actor.is_banned)


async def load_viewer(session: AsyncSession, user: UserRef | None) -> Viewer:
    """Reading needs no account: unknown or deleted accounts read as anonymous."""
    user_id = _user_id(user)
    if user_id is None:
        return ANONYMOUS
    actor = await session.get(User, user_id, populate_existing=True)
    if actor is None or actor.is_deleted:
        return ANONYMOUS
    return viewer_of(actor)
