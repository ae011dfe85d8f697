"""Search queries, raw SQL over the engine-specific plans (the FTS objects have no ORM models)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.db.base import UTCDateTime
from tidings.search import postgres_fts, sqlite_fts
from tidings.search.plan import MatchPlan, PlanInput

# Counting stops here: beyond it the UI shows "1000+" and the database is spared a full count.
TOTAL_COUNT_CAP = 1000
# The snippet is cut from this much of the body (a match further down shows the opening instead).
BODY_CHARS_FOR_SNIPPET = 20_000
# Ordering key, monotonic in relevance / sqrt(1 + age_days / 7) (see service.recency_boosted_score)
# for positive relevance, squared so that SQLite builds without math functions can evaluate it.
_ORDER_KEY_SQL = "r.relevance * r.relevance / (1.0 + r.age_days / 7.0)"
_DATETIME_PARAMS = ("now", "since")


@dataclass(frozen=True, slots=True)
class RankedArticle:
    article_id: str
    title: str
    body: str  # the first BODY_CHARS_FOR_SNIPPET characters
    published_at: datetime
    source_id: int
    language: str | None
    relevance: float
    age_days: float


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def build_plan(session: AsyncSession, spec: PlanInput) -> MatchPlan:
    plan = (sqlite_fts if dialect_name(session) == "sqlite" else postgres_fts).build_plan(spec)
    plan.conditions.append("a.duplicate_of IS NULL")
    if spec.language:
        plan.conditions.append("a.language = :language")
        plan.params["language"] = spec.language
    plan.params["now"] = spec.now
    return plan


async def find_ranked(
    session: AsyncSession, spec: PlanInput, *, limit: int, offset: int
) -> list[RankedArticle]:
    plan = build_plan(session, spec)
    # Plans are assembled from constant SQL fragments; every user-supplied value is a bound parameter.
    sql = (
        "SELECT r.id, r.relevance, r.age_days, a.title, substr(a.text, 1, :body_chars) AS body, "  # noqa: S608
        "a.published_at, a.source_id, a.language "
        f"FROM (SELECT a.id AS id, {plan.relevance_sql} AS relevance, {plan.age_days_sql} AS age_days "
        f"FROM {plan.from_sql} WHERE {_where(plan)}) r "
        "JOIN articles a ON a.id = r.id "
        f"ORDER BY {_ORDER_KEY_SQL} DESC, r.id LIMIT :limit OFFSET :offset"
    )
    params = {**plan.params, "body_chars": BODY_CHARS_FOR_SNIPPET, "limit": limit, "offset": offset}
    statement = _statement(sql).columns(published_at=UTCDateTime())
    result = await session.execute(statement, params)
    return [
        RankedArticle(
            article_id=row.id,
            title=row.title,
            body=row.body or "",
            published_at=row.published_at,
            source_id=row.source_id,
            language=row.language,
            relevance=float(row.relevance or 0.0),
            age_days=float(row.age_days or 0.0),
        )
        for row in result
    ]


async def count_matches(session: AsyncSession, spec: PlanInput) -> int:
    """Number of matches, capped at TOTAL_COUNT_CAP."""
    plan = build_plan(session, spec)
    sql = f"SELECT count(*) FROM (SELECT 1 AS one FROM {plan.from_sql} WHERE {_where(plan)} LIMIT :cap) c"  # noqa: S608
    params = {**plan.params, "cap": TOTAL_COUNT_CAP}
    return int((await session.execute(_statement(sql), params)).scalar_one())


async def rebuild_index(session: AsyncSession) -> None:
    """Rebuild the SQLite FTS5 indexes from articles. PostgreSQL's generated column needs no rebuild."""
    if dialect_name(session) == "sqlite":
        for statement in sqlite_fts.rebuild_statements():
            await session.execute(text(statement))


def _where(plan: MatchPlan) -> str:
    return " AND ".join(plan.conditions) if plan.conditions else "1 = 1"


def _statement(sql: str) -> TextClause:
    # Datetimes go through UTCDateTime so SQLite receives the very string format it stores.
    typed = [bindparam(name, type_=UTCDateTime()) for name in _DATETIME_PARAMS if f":{name}" in sql]
    statement = text(sql)
    return statement.bindparams(*typed) if typed else statement
