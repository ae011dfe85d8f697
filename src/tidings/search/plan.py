"""What an engine module hands to the repository: the FROM/WHERE of a search and its relevance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tidings.search.query import ParsedQuery

# Short CJK terms (1-2 characters) cannot use a trigram index: they are found by a LIKE scan bounded
# to this many days of articles (newest first through ix_articles_published). Older articles are not
# found by such queries; a longer query (서울시, 東京都) searches everything.
SCAN_WINDOW = timedelta(days=30)


@dataclass(slots=True)
class MatchPlan:
    """`from_sql` must expose the articles table as `a`; every condition is ANDed.

    `relevance_sql` is positive for a match, larger is better; its scale is engine-specific.
    """

    from_sql: str
    relevance_sql: str
    age_days_sql: str
    conditions: list[str] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlanInput:
    query: ParsedQuery
    language: str | None
    now: datetime

    @property
    def scan_since(self) -> datetime:
        return self.now - SCAN_WINDOW
