"""Comments on articles, their votes and their reports.

The HTML of a comment is rendered and sanitised once, when it is written (comments are read far more
often than written, and the renderer then never runs on a page view). The score is denormalised
(`ups`, `downs`, `score`) and only ever changed by relative UPDATEs, so concurrent votes cannot lose
each other. `client_token` makes posting idempotent: a retried POST with the same token returns the
comment already stored instead of storing it twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow

STATUSES = ("visible", "held", "hidden", "deleted")


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("user_id", "client_token", name="uq_comments_user_id_client_token"),
        # Threads and counts of one article by status, newest or best first.
        Index("ix_comments_article_status_created", "article_id", "status", "created_at"),
        Index("ix_comments_article_status_score", "article_id", "status", "score"),
        # Spam heuristics: an author's recent comments, identical text across articles.
        Index("ix_comments_user_created", "user_id", "created_at"),
        Index("ix_comments_body_hash_created", "body_hash", "created_at"),
        # The moderation queue: held comments, oldest first.
        Index("ix_comments_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # Accounts are anonymised, never deleted, so a plain foreign key keeps every comment attributed.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # sha256 of the normalised text (spam.body_hash); NULL for texts too short to compare.
    body_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="visible")  # visible | held | hidden | deleted
    # Spam reason codes (spam.REASONS), space-separated, while held.
    hold_reason: Mapped[str | None] = mapped_column(Text)
    # What the moderator wrote when hiding it.
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    moderated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ups: Mapped[int] = mapped_column(Integer, default=0)
    downs: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[int] = mapped_column(Integer, default=0)
    client_token: Mapped[str | None] = mapped_column(String(64))


class CommentVote(Base):
    """One vote per reader and comment; `value` is +1 or -1 (clearing a vote deletes the row)."""

    __tablename__ = "comment_votes"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentReport(Base):
    """One report per reader and comment, open until a moderator acts on the comment."""

    __tablename__ = "comment_reports"
    __table_args__ = (Index("ix_comment_reports_open", "resolved_at", "created_at"),)

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
