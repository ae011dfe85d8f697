"""SQLite: FTS5 word index + trigram index + LIKE scan for short CJK terms (see migration 0002).

Why two FTS5 tables rather than trigram alone: trigram matches substrings, so "art" finds "start" and
"AI" (< 3 characters) finds nothing; it ignores accents only from SQLite 3.45; and its BM25 counts
trigrams, so long words weigh more than short ones. The unicode61 table gives whole-word matching,
accent folding (café = cafe) and word-level BM25 for space-separated languages. Each term goes to the
index that suits its script (query.TermKind).

Measured on 4,000 synthetic articles (7 M characters, half Latin, half Hangul): unicode61 indexed at
0.44 ms/article into 6 MB; trigram at 3.3 ms/article into 33 MB. So the word index is cheap, and the
trigram one is only filled with articles that contain CJK-like characters (migration 0002), the only
ones a trigram query can match.
"""

from __future__ import annotations

from tidings.search.plan import MatchPlan, PlanInput
from tidings.search.query import Term, fts5_match_expression, like_contains_pattern
from tidings.search.schema import SQLITE_TRIGRAM_TABLE, SQLITE_WORDS_TABLE

# bm25() column weights: a hit in the title counts like five in the body.
TITLE_WEIGHT = 5.0
BODY_WEIGHT = 1.0

AGE_DAYS_SQL = "max(0.0, julianday(:now) - julianday(a.published_at))"


def build_plan(spec: PlanInput) -> MatchPlan:
    query = spec.query
    fts_sources = [
        (table, terms)
        for table, terms in (
            (SQLITE_WORDS_TABLE, query.word_terms),
            (SQLITE_TRIGRAM_TABLE, query.indexed_substring_terms),
        )
        if terms
    ]
    if fts_sources:
        plan = _fts_plan(fts_sources)
    else:
        plan = _scan_plan(query.scan_terms)
        spec.add_recent_scan_bound(plan)
    for index, term in enumerate(query.scan_terms):
        plan.conditions.append(
            f"(a.title LIKE :scan{index} ESCAPE '\\' OR a.text LIKE :scan{index} ESCAPE '\\')"
        )
        plan.params[f"scan{index}"] = like_contains_pattern(term.text)
    return plan


def _fts_plan(fts_sources: list[tuple[str, tuple[Term, ...]]]) -> MatchPlan:
    subqueries: list[str] = []
    params: dict[str, object] = {}
    for index, (table, terms) in enumerate(fts_sources):
        # bm25() is negative, more negative is better; flipped so that relevance grows with quality.
        subqueries.append(
            f"(SELECT rowid AS fts_rowid, -bm25({table}, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS relevance "  # noqa: S608
            f"FROM {table} WHERE {table} MATCH :match{index}) m{index}"
        )
        params[f"match{index}"] = fts5_match_expression(terms)
    from_sql = subqueries[0]
    for index, subquery in enumerate(subqueries[1:], start=1):
        from_sql += f" JOIN {subquery} ON m{index}.fts_rowid = m0.fts_rowid"
    from_sql += " JOIN articles a ON a.rowid = m0.fts_rowid"
    relevance = " + ".join(f"m{index}.relevance" for index in range(len(subqueries)))
    return MatchPlan(
        from_sql=from_sql, relevance_sql=f"({relevance})", age_days_sql=AGE_DAYS_SQL, params=params
    )


def _scan_plan(scan_terms: tuple[Term, ...]) -> MatchPlan:
    """Only short substrings: no BM25 to be had, so count title and body containment, weighted like bm25."""
    parts = [
        f"(CASE WHEN a.title LIKE :scan{index} ESCAPE '\\' THEN {TITLE_WEIGHT} ELSE 0.0 END"
        f" + CASE WHEN a.text LIKE :scan{index} ESCAPE '\\' THEN {BODY_WEIGHT} ELSE 0.0 END)"
        for index in range(len(scan_terms))
    ]
    return MatchPlan(from_sql="articles a", relevance_sql=f"({' + '.join(parts)})", age_days_sql=AGE_DAYS_SQL)


def rebuild_statements() -> list[str]:
    """Re-read every article into both FTS5 indexes (after VACUUM or a batch migration of articles)."""
    return [
        f"INSERT INTO {table}({table}) VALUES ('rebuild')"  # noqa: S608 (constant names)
        for table in (SQLITE_WORDS_TABLE, SQLITE_TRIGRAM_TABLE)
    ]
