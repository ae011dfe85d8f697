"""Full-text search over article titles and bodies: one interface over SQLite FTS5 and PostgreSQL.

Ranking, the same on both engines:

    score = relevance / sqrt(1 + age_days / 7)

relevance is bm25 (SQLite, title weighted 5x the body) or ts_rank_cd (PostgreSQL, title 'A' over body
'B'), plus a title/body containment score for CJK substring terms. The recency factor halves a score
after three weeks and quarters it after 15 weeks: fresh news wins among comparable matches without
burying a much better older one. Articles marked duplicate_of another are excluded.

Pagination is by offset (capped at query.MAX_CURSOR_OFFSET) in an opaque cursor that also freezes
"now", so the recency boost does not reorder results between pages.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings.db.base import utcnow
from tidings.search import repo
from tidings.search.highlight import highlight_all, highlight_snippet
from tidings.search.models import SearchHit, SearchPage
from tidings.search.plan import PlanInput
from tidings.search.query import (
    MAX_CURSOR_OFFSET,
    CursorState,
    ParsedQuery,
    decode_cursor,
    encode_cursor,
    parse_query,
)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
RECENCY_SCALE_DAYS = 7.0


def recency_boosted_score(relevance: float, age_days: float) -> float:
    return relevance / math.sqrt(1.0 + max(age_days, 0.0) / RECENCY_SCALE_DAYS)


async def search(
    session: AsyncSession,
    query: str | None,
    *,
    language: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    now: datetime | None = None,
) -> SearchPage:
    """One page of matches for `query`. Empty or unusable input yields an empty page, never an error;
    a malformed or foreign cursor raises InvalidInput."""
    parsed = parse_query(query)
    if parsed.is_empty:
        return SearchPage(hits=[], next_cursor=None, total_estimate=0)
    language = _normalize_language(language)
    fingerprint = parsed.fingerprint(language)
    state = (
        decode_cursor(cursor, fingerprint)
        if cursor
        else CursorState(offset=0, now_epoch=int((now or utcnow()).timestamp()))
    )
    spec = PlanInput(query=parsed, language=language, now=datetime.fromtimestamp(state.now_epoch, UTC))
    limit = min(max(limit, 1), MAX_LIMIT)
    rows = await repo.find_ranked(session, spec, limit=limit + 1, offset=state.offset)
    next_offset = state.offset + limit
    has_more = len(rows) > limit and next_offset <= MAX_CURSOR_OFFSET
    next_cursor = encode_cursor(CursorState(next_offset, state.now_epoch), fingerprint) if has_more else None
    return SearchPage(
        hits=[_to_hit(row, parsed) for row in rows[:limit]],
        next_cursor=next_cursor,
        total_estimate=await repo.count_matches(session, spec),
    )


async def rebuild_index(session: AsyncSession) -> None:
    """Re-index every article (SQLite, after VACUUM or a batch migration of `articles`). Commits."""
    await repo.rebuild_index(session)
    await session.commit()


class SearchService:
    """The same operations for callers that hold a sessionmaker rather than a session (web, CLI)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def search(
        self,
        query: str | None,
        *,
        language: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> SearchPage:
        async with self._sessionmaker() as session:
            return await search(session, query, language=language, limit=limit, cursor=cursor)

    async def rebuild_index(self) -> None:
        async with self._sessionmaker() as session:
            await rebuild_index(session)


def _normalize_language(language: str | None) -> str | None:
    cleaned = (language or "").strip().lower()
    return cleaned or None


def _to_hit(row: repo.RankedArticle, parsed: ParsedQuery) -> SearchHit:
    snippet_source = row.body or row.title
    return SearchHit(
        article_id=row.article_id,
        title=row.title,
        title_html=highlight_all(row.title, parsed.terms),
        snippet_html=highlight_snippet(snippet_source, parsed.terms),
        published_at=row.published_at,
        source_id=row.source_id,
        language=row.language,
        score=recency_boosted_score(row.relevance, row.age_days),
    )
