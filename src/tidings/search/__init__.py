"""Full-text search over articles (SQLite FTS5 / PostgreSQL tsvector + pg_trgm). See service.py."""

from tidings.search.models import SearchHit, SearchPage
from tidings.search.query import ParsedQuery, Term, TermKind, parse_query
from tidings.search.service import SearchService, rebuild_index, recency_boosted_score, search

__all__ = [
    "ParsedQuery",
    "SearchHit",
    "SearchPage",
    "SearchService",
    "Term",
    "TermKind",
    "parse_query",
    "rebuild_index",
    "recency_boosted_score",
    "search",
]
