"""What the comment service hands to pages and the API: plain frozen data, permissions precomputed.

Templates never decide who may edit, vote or see a held comment: the service fills the `can_*` flags
and leaves out what the viewer may not see (hold reasons and hide notes are moderator-only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HoldReason:
    code: str  # stable (spam.REASONS keys)
    text: str  # for moderators


@dataclass(frozen=True, slots=True)
class ArticleLabel:
    """Which article a comment belongs to, for story pages and the moderation queue."""

    id: str
    title: str
    source_name: str | None = None


@dataclass(slots=True)
class CommentView:
    id: int
    article_id: str
    parent_id: int | None
    depth: int
    status: str  # visible | held | hidden | deleted
    # "[deleted]" or "[removed]" when only the thread position is shown; body fields are then empty.
    placeholder: str | None
    author_id: int | None
    author_name: str
    author_deleted: bool
    body_html: str  # sanitised at write time: safe to output unescaped
    # The Markdown source, only for the author (to fill the edit form) and moderators.
    body_markdown: str
    created_at: datetime
    edited_at: datetime | None
    score: int
    ups: int
    downs: int
    viewer_vote: int  # -1, 0, +1
    can_reply: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_vote: bool = False
    can_report: bool = False
    can_moderate: bool = False
    editable_until: datetime | None = None  # for the author while the edit window is open
    # Moderator-only details (empty for everyone else; the author sees only that it is held).
    hold_reasons: list[HoldReason] = field(default_factory=list)
    hidden_reason: str | None = None
    open_reports: int = 0
    # Set on top-level comments of a story page: the article whose thread this is.
    article: ArticleLabel | None = None
    replies: list[CommentView] = field(default_factory=list)

    @property
    def is_placeholder(self) -> bool:
        return self.placeholder is not None

    @property
    def is_held(self) -> bool:
        return self.status == "held"


@dataclass(frozen=True, slots=True)
class VoteResult:
    comment_id: int
    score: int
    ups: int
    downs: int
    viewer_vote: int


@dataclass(frozen=True, slots=True)
class ReportView:
    reason: str
    created_at: datetime
    reporter_name: str


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One comment waiting for a moderator: held by the spam rules, reported by readers, or both."""

    comment: CommentView
    article: ArticleLabel
    hold_reasons: list[HoldReason]
    reports: list[ReportView]
    # When it started waiting (held: written; reported: first open report); the queue is oldest first.
    waiting_since: datetime

    @property
    def report_count(self) -> int:
        return len(self.reports)


def flatten(comments: list[CommentView]) -> list[CommentView]:
    """Pre-order list of a tree (each view keeps its `depth`), for templates that indent rather than nest."""
    out: list[CommentView] = []
    stack = list(reversed(comments))
    while stack:
        view = stack.pop()
        out.append(view)
        stack.extend(reversed(view.replies))
    return out
