"""PostgreSQL: 'simple' tsvector (generated column, GIN) for words, pg_trgm ILIKE for CJK substrings.

'simple' neither stems nor drops stop words: a multilingual corpus gets no language-specific surprises
("news" is not reduced to "new"), and the same query behaves the same in every language. It does not
segment CJK text (a whole run of Han characters is one lexeme), hence the trigram index for those.
"""

from __future__ import annotations

from tidings.search.plan import MatchPlan, PlanInput
from tidings.search.query import like_contains_pattern, substring_script_regex

# Mirrors the tsvector weights: title is 'A' (1.0 in ts_rank_cd's default weights), body 'B' (0.4).
TITLE_WEIGHT = 1.0
BODY_WEIGHT = 0.4
# ts_rank_cd normalisation 1: divide by 1 + log(document length), so long bodies do not win by size.
RANK_NORMALIZATION = 1

AGE_DAYS_SQL = "greatest(0.0, extract(epoch FROM (CAST(:now AS timestamptz) - a.published_at)) / 86400.0)"
# Must be the exact expression of ix_articles_search_trigram for the planner to use the index.
CONCATENATED_TEXT_SQL = "(a.title || ' ' || a.text)"


def build_plan(spec: PlanInput) -> MatchPlan:
    query = spec.query
    plan = MatchPlan(from_sql="articles a", relevance_sql="", age_days_sql=AGE_DAYS_SQL)
    relevance_parts: list[str] = []
    if query.word_terms:
        # phraseto_tsquery parses plain text, never tsquery syntax: each term is a bound parameter.
        tsquery = " && ".join(
            f"phraseto_tsquery('simple', :word{index})" for index in range(len(query.word_terms))
        )
        plan.conditions.append(f"a.search_vector @@ ({tsquery})")
        relevance_parts.append(f"ts_rank_cd(a.search_vector, ({tsquery}), {RANK_NORMALIZATION})")
        plan.params.update({f"word{index}": term.text for index, term in enumerate(query.word_terms)})
    if query.indexed_substring_terms:
        # The trigram index is partial (articles with CJK-like characters only, see migration 0002); the
        # planner uses it only when the query repeats its predicate, as a literal, not a parameter.
        plan.conditions.append(f"{CONCATENATED_TEXT_SQL} ~ '{substring_script_regex()}'")
    substring_terms = query.indexed_substring_terms + query.scan_terms
    for index, term in enumerate(substring_terms):
        param = f"sub{index}"
        plan.params[param] = like_contains_pattern(term.text)
        plan.conditions.append(f"{CONCATENATED_TEXT_SQL} ILIKE :{param} ESCAPE '\\'")
        relevance_parts.append(
            f"(CASE WHEN a.title ILIKE :{param} ESCAPE '\\' THEN {TITLE_WEIGHT} ELSE 0.0 END"
            f" + CASE WHEN a.text ILIKE :{param} ESCAPE '\\' THEN {BODY_WEIGHT} ELSE 0.0 END)"
        )
    if query.scan_only:
        # Same bound as SQLite: 1-2 character patterns yield no trigram, so pg_trgm cannot help either.
        spec.add_recent_scan_bound(plan)
    plan.relevance_sql = f"({' + '.join(relevance_parts)})"
    return plan
