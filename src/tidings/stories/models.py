"""Stories (one event's coverage across sources and languages) and what the understanding step
derives per article: its vector and its near-duplicate fingerprint.

Vectors live in the database (pgvector is not available; the in-memory index is rebuilt from
here), with the model's name beside each one so a model change is detectable and re-embedding
can find what is stale.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow


class Story(Base):
    __tablename__ = "stories"
    __table_args__ = (
        Index("ix_stories_last_published", "last_published_at"),
        Index("ix_stories_score", "score"),
    )

    # The seed article's id: stable, and merges keep the older story's id.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    # The most central article, whose headline names the story (no FK: articles point here).
    lead_article_id: Mapped[str | None] = mapped_column(String(32))
    image_url: Mapped[str | None] = mapped_column(Text)
    first_published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    source_count: Mapped[int] = mapped_column(Integer, default=0)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Ranking for the home page: source diversity, velocity and recency (stories/ranking.py).
    score: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleFeatures(Base):
    """What the understanding step computed for one article (one row = the article was understood)."""

    __tablename__ = "article_features"

    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    dimensions: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, L2-normalised
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary)  # MinHash signature (stories/duplicates.py)
    # Monotonic enough to let other processes pick up new vectors incrementally.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
