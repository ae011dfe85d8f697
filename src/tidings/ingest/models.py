"""Publishers, their feeds, the articles they carry, and a log of every poll."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tidings.db.base import Base, UTCDateTime, utcnow


class Source(Base):
    """A publisher (The Mainichi, Yonhap...). One source has one or more feeds."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    homepage_url: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(16))
    logo_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    feeds: Mapped[list[Feed]] = relationship(back_populates="source", cascade="all, delete-orphan")


class Feed(Base):
    """A polled URL. Its failures are data (error_count, last_error, backoff), never exceptions."""

    __tablename__ = "feeds"
    __table_args__ = (Index("ix_feeds_due", "disabled", "next_poll_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(16))  # rss | atom | rdf | json | sitemap
    category: Mapped[str | None] = mapped_column(String(120))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # Hash of the last body we parsed: many servers ignore conditional GET and resend the same bytes.
    body_hash: Mapped[str | None] = mapped_column(String(64))
    interval_seconds: Mapped[int] = mapped_column(Integer, default=1800)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_new_entry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source: Mapped[Source] = relationship(back_populates="feeds")


class Article(Base):
    """One article, keyed by a stable public id derived from its canonical URL."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_published", "published_at"),
        Index("ix_articles_source_published", "source_id", "published_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    url: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    image_url: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # How the body was obtained: "page" (article page extracted), "feed" (feed content fallback),
    # "summary" (only the feed summary was usable).
    body_origin: Mapped[str] = mapped_column(String(16), default="page")
    duplicate_of: Mapped[str | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    # Set by the understanding step: the story this article belongs to, and the news agency whose
    # copy this is ("Kyodo News"), from its dateline or credit line. No foreign key: a story row is
    # only deleted once no article points at it, and SQLite cannot add one without rebuilding
    # `articles` (and with it the full-text index).
    story_id: Mapped[str | None] = mapped_column(String(32), index=True)
    wire_agency: Mapped[str | None] = mapped_column(String(80))

    source: Mapped[Source] = relationship()


class ArticleURL(Base):
    """Every URL under which an article was seen (feed links with tracking, redirects...).

    Lets a poll skip entries already stored without downloading the page again, which is what keeps
    a re-crawl idempotent and cheap.
    """

    __tablename__ = "article_urls"

    url_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)


class FetchLog(Base):
    """One row per poll, for the health pages and the admin dashboard."""

    __tablename__ = "fetch_logs"
    __table_args__ = (Index("ix_fetch_logs_feed_started", "feed_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | not_modified | error
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    new_articles: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
