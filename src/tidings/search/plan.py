"""What an engine module hands to the repository: the FROM/WHERE of a search and its relevance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tidings.search.query import ParsedQuery

# Short CJK terms (1-2 characters) cannot use a trigram index: they are found by a LIKE scan over the
# articles of the last SCAN_WINDOW, and at most the SCAN_MAX_ARTICLES newest of them, so that the cost
# stays bounded however fast articles arrive (both bounds read ix_articles_published). Older articles are
# not found by such queries; a longer query (서울시, 東京都) searches everything.
SCAN_WINDOW = timedelta(days=30)
SCAN_MAX_ARTICLES = 5000
RECENT_SCAN_CONDITION = (
    "a.published_at >= :since AND a.published_at >= coalesce("
    "(SELECT published_at FROM articles ORDER BY published_at DESC LIMIT 1 OFFSET :scan_max), :since)"
)


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

    def add_recent_scan_bound(self, plan: MatchPlan) -> None:
        plan.conditions.append(RECENT_SCAN_CONDITION)
        plan.params.update(since=self.now - SCAN_WINDOW, scan_max=SCAN_MAX_ARTICLES - 1)
