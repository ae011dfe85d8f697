"""Result types of a search. Plain dataclasses: search owns no ORM models (see schema.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: str
    title: str  # raw text: escape it (or use title_html) when rendering
    title_html: str  # title, HTML-escaped, matches wrapped in <mark>
    snippet_html: str  # window of the body, HTML-escaped, matches wrapped in <mark>
    published_at: datetime
    source_id: int
    language: str | None
    score: float  # relevance x recency; comparable within one engine only


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    next_cursor: str | None
    # Exact up to repo.TOTAL_COUNT_CAP matches, the cap itself beyond ("1000+"); None when not counted.
    total_estimate: int | None
