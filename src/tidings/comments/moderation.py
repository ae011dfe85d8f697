"""Moderation: the queue of held and reported comments, hide/restore, and bans.

Mixed into `CommentService` (comments/service.py). Each action re-checks the acting account's role in
its own transaction: the role on a session object is never trusted (comments/access.py), so a reader
calling these gets Forbidden whatever the caller passes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tidings.accounts.models import ROLE_RANK, User
from tidings.comments import repo
from tidings.comments.access import UserRef, load_actor, require_moderator, viewer_of
from tidings.comments.models import Comment
from tidings.comments.threads import Author, hold_reasons, make_view
from tidings.comments.views import ArticleLabel, QueueItem, ReportView
from tidings.db.engine import Database
from tidings.errors import Conflict, Forbidden, NotFound

MAX_NOTE = 2000


class ModerationMixin:
    db: Database
    clock: Callable[[], datetime]
    edit_window: timedelta

    async def queue(self, moderator: UserRef | None, *, limit: int = 100) -> list[QueueItem]:
        """Held and reported comments, oldest waiting first, with hold reasons and open reports."""
        async with self.db.session() as session:
            actor = await load_actor(session, moderator)
            require_moderator(actor)
            candidates = await repo.queue_candidates(session, max(1, min(limit, 500)))
            ids = [comment_id for comment_id, _ in candidates]
            rows = {row[0].id: row for row in await repo.comments_by_ids(session, ids)}
            labels = await repo.article_labels(session, {row[0].article_id for row in rows.values()})
            reports: dict[int, list[ReportView]] = {}
            for report, reporter in await repo.open_reports(session, ids):
                reports.setdefault(report.comment_id, []).append(
                    ReportView(reason=report.reason, created_at=report.created_at, reporter_name=reporter)
                )
        viewer, now = viewer_of(actor), self.clock()
        items = []
        for comment_id, since in candidates:
            if comment_id not in rows:
                continue
            comment, name, deleted_at = rows[comment_id]
            view = make_view(
                comment,
                Author(name, deleted_at is not None),
                viewer,
                now=now,
                edit_window=self.edit_window,
                open_reports=len(reports.get(comment_id, [])),
            )
            article = labels.get(comment.article_id) or ArticleLabel(id=comment.article_id, title="")
            items.append(
                QueueItem(
                    comment=view,
                    article=article,
                    hold_reasons=hold_reasons(comment.hold_reason) if comment.status == "held" else [],
                    reports=reports.get(comment_id, []),
                    waiting_since=since,
                )
            )
        return items

    async def hide(self, moderator: UserRef | None, comment_id: int, reason: str = "") -> None:
        """Take a comment out of public view (it stays visible to moderators, with the note)."""
        async with self.db.transaction() as session:
            actor, comment = await self._moderated_comment(session, moderator, comment_id)
            now = self.clock()
            comment.status = "hidden"
            comment.hidden_reason = _clean_note(reason) or None
            comment.moderated_by, comment.moderated_at = actor.id, now
            await repo.resolve_reports(session, [comment.id], now)

    async def restore(self, moderator: UserRef | None, comment_id: int) -> None:
        """Publish a held or hidden comment; on a visible one, dismiss its reports."""
        async with self.db.transaction() as session:
            actor, comment = await self._moderated_comment(session, moderator, comment_id)
            now = self.clock()
            comment.status = "visible"
            comment.hold_reason, comment.hidden_reason = None, None
            comment.moderated_by, comment.moderated_at = actor.id, now
            await repo.resolve_reports(session, [comment.id], now)

    async def ban(self, moderator: UserRef | None, user_id: int, reason: str = "") -> int:
        """Ban an account from commenting, voting and reporting, and hide its held comments.

        Moderators may ban readers; admins may also ban moderators; nobody bans themselves or an equal.
        Returns how many held comments were hidden.
        """
        note = _clean_note(reason)
        async with self.db.transaction() as session:
            actor = await load_actor(session, moderator)
            require_moderator(actor)
            target = await session.get(User, user_id, populate_existing=True)
            if target is None or target.is_deleted:
                raise NotFound(f"no user {user_id}")
            if target.id == actor.id or ROLE_RANK.get(target.role, 0) >= ROLE_RANK[actor.role]:
                raise Forbidden("you cannot ban this account", code="cannot_ban")
            now = self.clock()
            if target.banned_at is None:
                target.banned_at, target.banned_reason = now, note or None
            return await repo.hide_held_of(
                session,
                target.id,
                reason=f"banned: {note}" if note else "banned",
                moderator_id=actor.id,
                now=now,
            )

    async def unban(self, moderator: UserRef | None, user_id: int) -> None:
        async with self.db.transaction() as session:
            actor = await load_actor(session, moderator)
            require_moderator(actor)
            target = await session.get(User, user_id, populate_existing=True)
            if target is None or target.is_deleted:
                raise NotFound(f"no user {user_id}")
            if target.id == actor.id or ROLE_RANK.get(target.role, 0) >= ROLE_RANK[actor.role]:
                raise Forbidden("you cannot unban this account", code="cannot_ban")
            target.banned_at, target.banned_reason = None, None

    async def _moderated_comment(
        self, session: AsyncSession, moderator: UserRef | None, comment_id: int
    ) -> tuple[User, Comment]:
        actor = await load_actor(session, moderator)
        require_moderator(actor)
        comment = await repo.get_comment(session, comment_id, lock=True)
        if comment is None:
            raise NotFound(f"no comment {comment_id}")
        if comment.status == "deleted":
            raise Conflict("this comment was deleted", code="comment_deleted")
        return actor, comment


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _clean_note(reason: str) -> str:
    """A moderator's note without control characters (PostgreSQL refuses NUL in text)."""
    return _CONTROL.sub("", reason).strip()[:MAX_NOTE]
