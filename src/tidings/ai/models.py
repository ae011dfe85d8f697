"""Cached AI results, one row per (target, feature, language, model, content hash).

The key names everything the output depends on, so a changed article, a different model or a
reader language gives a new row instead of a stale answer; old rows are simply never read again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow


class AIResult(Base):
    __tablename__ = "ai_results"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the parts below
    target: Mapped[str] = mapped_column(String(48), index=True)  # "article:<id>" or "story:<id>"
    feature: Mapped[str] = mapped_column(String(32))  # summary | brief | translation ...
    language: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
