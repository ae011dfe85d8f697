"""What a reader follows, mutes, saves and has read: the inputs of their "For you" page.

Follows and mutes name their target by its public, stable key (a source's or hashtag's slug, a
story's id) rather than by a foreign key: the same key is what URLs, the API and the browser's
local preference set use, and a follow outlives a source being re-imported under a new row id.
Reading history is bounded (READ_HISTORY_KEEP per user, oldest dropped): it exists to rank the feed,
not to keep a record of everything a person ever read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow

FOLLOW_KINDS = ("source", "tag", "story")
MUTE_KINDS = ("source", "tag")
TARGET_MAX = 120  # slugs are at most 120 characters, story ids 32
READ_HISTORY_KEEP = 200  # read events kept per reader; older ones are dropped


class Follow(Base):
    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # source | tag | story
    target: Mapped[str] = mapped_column(String(TARGET_MAX), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Mute(Base):
    __tablename__ = "mutes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # source | tag
    target: Mapped[str] = mapped_column(String(TARGET_MAX), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedArticle(Base):
    __tablename__ = "saved_articles"
    __table_args__ = (Index("ix_saved_articles_user_created", "user_id", "created_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadEvent(Base):
    """The last time a reader opened an article; one row per (reader, article), re-reads move it."""

    __tablename__ = "read_events"
    __table_args__ = (Index("ix_read_events_user_read", "user_id", "read_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
