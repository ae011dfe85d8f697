"""The comments domain: posting, editing, deleting, voting, reporting and reading threads.

Moderation (queue, hide, restore, ban) lives in comments/moderation.py and is mixed in, so pages use
one `CommentService`. Every method that changes something runs in one transaction and reloads the
acting account there (comments/access.py). CPU work (Markdown rendering) happens before the
transaction, so SQLite's single writer is held only for the queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tidings.accounts.models import User
from tidings.comments import repo
from tidings.comments.access import UserRef, is_moderator, load_actor, load_viewer, require_active, viewer_of
from tidings.comments.markdown import render
from tidings.comments.models import Comment
from tidings.comments.moderation import ModerationMixin
from tidings.comments.spam import DUPLICATE_WINDOW, RATE_WINDOW, HoldDecision, assess, body_hash
from tidings.comments.threads import SORTS, Author, Viewer, build_tree, can_see, make_view
from tidings.comments.views import CommentView, VoteResult
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_REPORT_REASON = 1000
_TOKEN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Controls other than tab and newline never belong in a comment (and NUL breaks PostgreSQL text).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


class CommentService(ModerationMixin):
    def __init__(self, db: Database, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.edit_window = timedelta(minutes=settings.comment_edit_window)
        self.max_depth = settings.comment_max_depth
        self.max_chars = settings.comment_max_chars

    # --- writing ---------------------------------------------------------------------------------

    async def post(
        self,
        user: UserRef | None,
        article_id: str,
        body: str,
        *,
        parent_id: int | None = None,
        client_token: str | None = None,
    ) -> CommentView:
        """Store a comment (visible, or held with reasons) and return the author's view of it.

        With `client_token`, posting is idempotent: the same token from the same account returns the
        comment stored the first time, however many retries arrive and however concurrently.
        """
        text = self._clean_body(body)
        token = _clean_token(client_token)
        html = render(text)
        digest = body_hash(text)
        # Checks first, in a read session: on SQLite the write transaction holds the one writer's
        # lock, and under load every statement inside it waits its turn on a busy event loop.
        async with self.db.session() as session:
            actor = await load_actor(session, user)
            require_active(actor)
            if token is not None and (existing := await repo.by_token(session, actor.id, token)) is not None:
                return self._replayed(existing, actor, article_id)
            if not await repo.article_exists(session, article_id):
                raise NotFound(f"no article {article_id}")
            now = self.clock()
            parent, depth = await self._placement(session, actor, article_id, parent_id)
            decision = await self._assess(session, actor, text, digest, article_id, now)
        row = {
            "article_id": article_id,
            "parent_id": parent,
            "depth": depth,
            "user_id": actor.id,
            "body_markdown": text,
            "body_html": html,
            "body_hash": digest,
            "status": "held" if decision.hold else "visible",
            "hold_reason": " ".join(decision.reasons) or None,
            "created_at": now,
            "client_token": token,
        }
        # Only the insert holds the write lock. A concurrent request with the same token may have
        # committed in between: the unique (user, token) constraint makes this insert a no-op then.
        async with self.db.transaction() as session:
            comment = await repo.insert_comment(session, row)
            if comment is None:
                assert token is not None
                existing = await repo.by_token(session, actor.id, token)
                if existing is None:  # pragma: no cover - the conflicting row cannot vanish
                    raise Conflict("client_token already used")
                return self._replayed(existing, actor, article_id)
            return self._own_view(comment, actor)

    async def edit(self, user: UserRef | None, comment_id: int, body: str) -> CommentView:
        """The author rewrites their comment within the edit window (moderators hide, never rewrite)."""
        text = self._clean_body(body)
        html = render(text)
        digest = body_hash(text)
        async with self.db.transaction() as session:
            actor = await load_actor(session, user)
            require_active(actor)
            comment = await self._get_seen(session, actor, comment_id, lock=True)
            if comment.user_id != actor.id:
                raise Forbidden("only its author can edit a comment", code="not_author")
            if comment.status not in ("visible", "held"):
                raise Forbidden("this comment can no longer be edited", code="comment_locked")
            now = self.clock()
            if now >= comment.created_at + self.edit_window:
                raise Forbidden("the time to edit this comment is over", code="edit_window_closed")
            if text != comment.body_markdown:
                decision = await self._assess(
                    session, actor, text, digest, comment.article_id, now, editing=comment.id
                )
                comment.body_markdown, comment.body_html, comment.body_hash = text, html, digest
                comment.edited_at = now
                if decision.hold:
                    # A held comment stays held (editing must not launder it); a visible one goes back.
                    known = (comment.hold_reason or "").split()
                    comment.hold_reason = " ".join(dict.fromkeys([*known, *decision.reasons]))
                    comment.status = "held"
                await session.flush()
            return self._own_view(comment, actor)

    async def delete(self, user: UserRef | None, comment_id: int) -> None:
        """Author or moderator. The text is erased; the row stays as "[deleted]" while replies hang on it."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, user)
            comment = await repo.get_comment(session, comment_id, lock=True)
            is_author = comment is not None and comment.user_id == actor.id
            if comment is None or not (is_author or can_see(comment, viewer_of(actor))):
                raise NotFound(f"no comment {comment_id}")
            if not (is_author or is_moderator(actor)):
                raise Forbidden("only its author or a moderator can delete a comment", code="not_author")
            if comment.status == "deleted":
                return
            now = self.clock()
            comment.status, comment.deleted_at = "deleted", now
            comment.body_markdown, comment.body_html, comment.body_hash = "", "", None
            if not is_author:
                comment.moderated_by, comment.moderated_at = actor.id, now
            await repo.resolve_reports(session, [comment.id], now)

    async def vote(self, user: UserRef | None, comment_id: int, value: int) -> VoteResult:
        """+1 / -1, or 0 to take a vote back. One vote per reader; never on one's own comment."""
        if value not in (-1, 0, 1):
            raise InvalidInput("a vote is -1, 0 or 1", code="invalid_vote")
        async with self.db.transaction() as session:
            actor = await load_actor(session, user)
            require_active(actor)
            # The row lock queues concurrent votes on one comment (PostgreSQL; SQLite's writer lock
            # already does), so reading the previous vote and writing the new one cannot interleave.
            comment = await self._get_seen(session, actor, comment_id, lock=True)
            if comment.user_id == actor.id:
                raise Forbidden("you cannot vote on your own comment", code="own_comment")
            if comment.status != "visible":
                raise InvalidInput("this comment cannot be voted on", code="not_votable")
            previous = await repo.vote_of(session, comment_id, actor.id)
            if previous == value:
                return VoteResult(comment_id, comment.score, comment.ups, comment.downs, value)
            await repo.set_vote(session, comment_id, actor.id, value, self.clock())
            ups = int(value == 1) - int(previous == 1)
            downs = int(value == -1) - int(previous == -1)
            score, up_total, down_total = await repo.adjust_score(session, comment_id, ups=ups, downs=downs)
            return VoteResult(comment_id, score, up_total, down_total, value)

    async def report(self, user: UserRef | None, comment_id: int, reason: str = "") -> None:
        """Flag a comment for moderators. Reporting twice changes nothing."""
        async with self.db.transaction() as session:
            actor = await load_actor(session, user)
            require_active(actor)
            comment = await self._get_seen(session, actor, comment_id)
            if comment.user_id == actor.id:
                raise Forbidden("you cannot report your own comment", code="own_comment")
            if comment.status != "visible":
                return  # held or hidden: already in moderators' hands
            text = _CONTROL.sub("", reason).strip()[:MAX_REPORT_REASON]
            await repo.add_report(session, comment_id, actor.id, text, self.clock())

    # --- reading ---------------------------------------------------------------------------------

    async def thread(
        self, article_id: str, *, viewer: UserRef | None = None, sort: str = "best"
    ) -> list[CommentView]:
        """The article's comments as a tree of top-level views with nested `replies`."""
        _check_sort(sort)
        async with self.db.session() as session:
            who = await load_viewer(session, viewer)
            if not await repo.article_exists(session, article_id):
                raise NotFound(f"no article {article_id}")
            views = await self._views(session, [article_id], who)
        return build_tree(views, sort)

    async def story_threads(
        self, story_id: str, *, viewer: UserRef | None = None, sort: str = "best"
    ) -> list[CommentView]:
        """The threads of every article of a story, merged; each top-level view names its article."""
        _check_sort(sort)
        async with self.db.session() as session:
            who = await load_viewer(session, viewer)
            article_ids = await repo.story_article_ids(session, story_id)
            if not article_ids:
                raise NotFound(f"no story {story_id}")
            views = await self._views(session, article_ids, who)
            labels = await repo.article_labels(session, {view.article_id for view in views})
        return build_tree(views, sort, labels=labels)

    async def count(self, article_id: str) -> int:
        """Visible comments of one article (what the live counter shows)."""
        return (await self.counts([article_id])).get(article_id, 0)

    async def counts(self, article_ids: Sequence[str]) -> dict[str, int]:
        """Visible comments per article, for lists of cards; articles without comments are left out."""
        if not article_ids:
            return {}
        async with self.db.session() as session:
            return await repo.visible_counts(session, list(article_ids))

    async def story_count(self, story_id: str) -> int:
        async with self.db.session() as session:
            article_ids = await repo.story_article_ids(session, story_id)
            if not article_ids:
                return 0
            return sum((await repo.visible_counts(session, article_ids)).values())

    # --- helpers ---------------------------------------------------------------------------------

    def _clean_body(self, body: str) -> str:
        text = _CONTROL.sub("", body.replace("\r\n", "\n").replace("\r", "\n")).strip()
        if not text or not render(text):
            raise InvalidInput("a comment cannot be empty", code="comment_empty")
        if len(text) > self.max_chars:
            raise InvalidInput(
                f"a comment can be at most {self.max_chars} characters ({len(text)} given)",
                code="comment_too_long",
            )
        return text

    async def _get_seen(
        self, session: AsyncSession, actor: User, comment_id: int, *, lock: bool = False
    ) -> Comment:
        """The comment if it exists and this account may see it: otherwise NotFound, never a hint."""
        comment = await repo.get_comment(session, comment_id, lock=lock)
        if comment is None or not can_see(comment, viewer_of(actor)):
            raise NotFound(f"no comment {comment_id}")
        return comment

    async def _placement(
        self, session: AsyncSession, actor: User, article_id: str, parent_id: int | None
    ) -> tuple[int | None, int]:
        """(parent id, depth) of a new comment. Replies beyond the deepest level attach to the deepest
        allowed ancestor, so they land beside the comment they answer instead of being refused."""
        if parent_id is None:
            return None, 0
        parent = await repo.get_comment(session, parent_id)
        if parent is None:
            raise NotFound(f"no comment {parent_id}")
        if parent.article_id != article_id:
            raise InvalidInput("a reply must be on the same article as its parent", code="wrong_article")
        # Deleted and removed comments show as placeholders: they exist, but take no new replies.
        if not (
            parent.status == "visible" or (parent.status == "held" and can_see(parent, viewer_of(actor)))
        ):
            raise InvalidInput("this comment can no longer be replied to", code="not_repliable")
        node: Comment | None = parent
        while node is not None and node.depth >= self.max_depth:
            node = await repo.get_comment(session, node.parent_id) if node.parent_id is not None else None
        if node is None:
            return None, 0
        return node.id, node.depth + 1

    async def _assess(
        self,
        session: AsyncSession,
        actor: User,
        text: str,
        digest: str | None,
        article_id: str,
        now: datetime,
        *,
        editing: int | None = None,
    ) -> HoldDecision:
        if is_moderator(actor):
            return HoldDecision(hold=False)
        recent = 0 if editing else await repo.recent_count(session, actor.id, now - RATE_WINDOW)
        bodies = await repo.recent_bodies(session, actor.id, now - DUPLICATE_WINDOW, exclude=editing)
        elsewhere = (
            await repo.identical_elsewhere(session, digest, article_id, now - DUPLICATE_WINDOW)
            if digest
            else 0
        )
        return assess(
            text,
            account_age=now - actor.created_at,
            recent_comment_count=recent,
            recent_bodies_same_user=bodies,
            recent_identical_elsewhere=elsewhere,
        )

    async def _views(
        self, session: AsyncSession, article_ids: list[str], viewer: Viewer
    ) -> list[CommentView]:
        rows = await repo.comments_of(session, article_ids)
        ids = [row[0].id for row in rows]
        votes = await repo.viewer_votes(session, viewer.id, ids) if viewer.id is not None else {}
        reports = await repo.open_report_counts(session, ids) if viewer.is_moderator else {}
        now = self.clock()
        return [
            make_view(
                comment,
                Author(name, deleted_at is not None),
                viewer,
                now=now,
                edit_window=self.edit_window,
                vote=votes.get(comment.id, 0),
                open_reports=reports.get(comment.id, 0),
            )
            for comment, name, deleted_at in rows
        ]

    def _own_view(self, comment: Comment, actor: User) -> CommentView:
        author = Author(actor.display_name, actor.is_deleted)
        return make_view(comment, author, viewer_of(actor), now=self.clock(), edit_window=self.edit_window)

    def _replayed(self, comment: Comment, actor: User, article_id: str) -> CommentView:
        if comment.article_id != article_id:
            raise Conflict(
                "this client_token was already used for another comment", code="client_token_reused"
            )
        return self._own_view(comment, actor)


def _clean_token(token: str | None) -> str | None:
    if token is None or token == "":
        return None
    if not _TOKEN.match(token):
        raise InvalidInput("client_token: 1-64 letters, digits or . _ : -", code="invalid_client_token")
    return token


def _check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", code="invalid_sort")
