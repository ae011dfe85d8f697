"""Full-text search on both engines (the `settings` fixture runs every test on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tidings.db.migrate
from tidings.config import Settings
from tidings.db.engine import create_engine
from tidings.db.migrate import downgrade, upgrade
from tidings.db.models import Base
from tidings.errors import InvalidInput
from tidings.ingest.models import Article, Source
from tidings.search import SearchPage, SearchService, parse_query, plan, repo, search
from tidings.search.plan import PlanInput
from tidings.search.query import substring_script_regex
from tidings.search.schema import PG_INDEXES, PG_VECTOR_COLUMN, SQLITE_FTS_TABLES, include_object

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime.now(UTC)
_counter = itertools.count()


async def add_articles(sessions: Sessions, *specs: Mapping[str, object]) -> list[str]:
    """Insert one source and the given articles (title, text, optional age_days, language...)."""
    async with sessions() as session:
        source = Source(slug=f"source-{next(_counter)}", name="Test source")
        session.add(source)
        await session.flush()
        ids: list[str] = []
        for spec in specs:
            number = next(_counter)
            article_id = hashlib.md5(f"article-{number}".encode()).hexdigest()
            age = timedelta(days=float(spec.get("age_days", 1)))  # type: ignore[arg-type]
            session.add(
                Article(
                    id=article_id,
                    canonical_url=f"https://example.org/{number}",
                    url=f"https://example.org/{number}",
                    source_id=source.id,
                    title=spec["title"],
                    text=spec.get("text", ""),
                    published_at=NOW - age,
                    language=spec.get("language", "en"),
                    content_hash=article_id * 2,
                    duplicate_of=spec.get("duplicate_of"),
                )
            )
            ids.append(article_id)
        await session.commit()
        return ids


async def find(sessions: Sessions, query: str, **kwargs: object) -> SearchPage:
    async with sessions() as session:
        return await search(session, query, **kwargs)  # type: ignore[arg-type]


async def found_ids(sessions: Sessions, query: str, **kwargs: object) -> list[str]:
    return [hit.article_id for hit in (await find(sessions, query, **kwargs)).hits]


async def test_english_word_matches_whole_words_only(sessionmaker: Sessions) -> None:
    budget, other = await add_articles(
        sessionmaker,
        {"title": "Parliament approves the budget", "text": "The vote was close. Ministers celebrated."},
        {"title": "Weather", "text": "Budgetary rain is not a thing; sunny spells expected."},
    )
    page = await find(sessionmaker, "Budget")
    assert [hit.article_id for hit in page.hits] == [budget]
    assert page.total_estimate == 1
    assert await found_ids(sessionmaker, "parliament VOTE") == [budget]  # AND, case-insensitive
    assert await found_ids(sessionmaker, "sunny spells") == [other]
    assert await found_ids(sessionmaker, "parliament sunny") == []
    assert await found_ids(sessionmaker, "nonexistentword") == []


async def test_phrase_in_quotes_requires_adjacent_words(sessionmaker: Sessions) -> None:
    adjacent, apart = await add_articles(
        sessionmaker,
        {"title": "Trip", "text": "We flew to New York on Monday."},
        {"title": "Trip", "text": "A new plan for York was presented."},
    )
    assert set(await found_ids(sessionmaker, "new york")) == {adjacent, apart}
    assert await found_ids(sessionmaker, '"new york"') == [adjacent]


async def test_title_match_outranks_body_only_match(sessionmaker: Sessions) -> None:
    body_only, in_title = await add_articles(
        sessionmaker,
        {"title": "Science news", "text": "Researchers report progress in quantum computing this week."},
        {"title": "Quantum leap", "text": "Researchers report progress in computing chips this week."},
    )
    assert await found_ids(sessionmaker, "quantum") == [in_title, body_only]


async def test_recency_boost_orders_equal_matches_newest_first(sessionmaker: Sessions) -> None:
    article = {"title": "Election results", "text": "Turnout was high across the region."}
    old, newest, middle = await add_articles(
        sessionmaker,
        {**article, "age_days": 60},
        {**article, "age_days": 0.5},
        {**article, "age_days": 10},
    )
    page = await find(sessionmaker, "election")
    assert [hit.article_id for hit in page.hits] == [newest, middle, old]
    scores = [hit.score for hit in page.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


async def test_korean_substrings_including_two_character_queries(sessionmaker: Sessions) -> None:
    recent, old = await add_articles(
        sessionmaker,
        {"title": "서울시청에서 기자회견", "text": "서울시는 오늘 새로운 교통 정책을 발표했다.", "language": "ko"},
        {"title": "부산 소식", "text": "서울시와 부산시가 협약을 맺었다.", "language": "ko", "age_days": 90},
    )
    assert set(await found_ids(sessionmaker, "서울시")) == {recent, old}
    assert (await find(sessionmaker, "서울시")).hits[0].article_id == recent  # title match, and newer
    # 1-2 characters: LIKE fallback, limited to recent articles (see tidings.search.plan.SCAN_WINDOW).
    assert await found_ids(sessionmaker, "서울") == [recent]
    assert await found_ids(sessionmaker, "정책") == [recent]
    assert await found_ids(sessionmaker, "대구") == []


async def test_japanese_substrings(sessionmaker: Sessions) -> None:
    tokyo, osaka = await add_articles(
        sessionmaker,
        {"title": "東京都知事が会見", "text": "東京都は新しい防災計画を発表した。", "language": "ja"},
        {"title": "大阪の天気", "text": "大阪では明日、雨が降る見込みです。", "language": "ja"},
    )
    assert await found_ids(sessionmaker, "東京都") == [tokyo]
    assert await found_ids(sessionmaker, "東京") == [tokyo]
    assert await found_ids(sessionmaker, "防災計画") == [tokyo]
    assert await found_ids(sessionmaker, "天気") == [osaka]
    assert await found_ids(sessionmaker, "ＯＳＡＫＡ 大阪") == []  # full-width Latin is NFKC-folded, ANDed


async def test_chinese_substrings(sessionmaker: Sessions) -> None:
    beijing, _ = await add_articles(
        sessionmaker,
        {"title": "北京市发布新政策", "text": "北京市政府今天宣布了新的环境保护措施。", "language": "zh"},
        {"title": "上海天气", "text": "上海明天多云。", "language": "zh"},
    )
    assert await found_ids(sessionmaker, "环境保护") == [beijing]
    assert await found_ids(sessionmaker, "北京") == [beijing]
    assert await found_ids(sessionmaker, "北京市 措施") == [beijing]  # one indexed term, one short term


async def test_like_wildcards_in_substring_terms_are_literal(sessionmaker: Sessions) -> None:
    literal, _ = await add_articles(
        sessionmaker,
        {"title": "記号", "text": "東_京 と 100%東", "language": "ja"},
        {"title": "記号", "text": "東A京 と 100X東", "language": "ja"},
    )
    assert await found_ids(sessionmaker, "東_京") == [literal]
    assert await found_ids(sessionmaker, "0%東") == [literal]


async def test_mixed_script_query(sessionmaker: Sessions) -> None:
    samsung, _ = await add_articles(
        sessionmaker,
        {"title": "Samsung 서울 공장", "text": "Samsung opened a factory.", "language": "ko"},
        {"title": "Samsung results", "text": "Profits rose.", "language": "en"},
    )
    assert await found_ids(sessionmaker, "samsung 서울") == [samsung]


async def test_snippet_highlights_matches_and_escapes_html(sessionmaker: Sessions) -> None:
    await add_articles(
        sessionmaker,
        {
            "title": "<b>Budget</b> & <script>alert('title')</script>",
            "text": "Intro. <script>alert('x')</script> The budget passed <img src=x onerror=alert(1)>.",
        },
    )
    (hit,) = (await find(sessionmaker, "budget")).hits
    assert "<mark>budget</mark>" in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in hit.snippet_html
    stripped = hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped
    assert hit.title_html == (
        "&lt;b&gt;<mark>Budget</mark>&lt;/b&gt; &amp; &lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;"
    )
    assert hit.title.startswith("<b>")  # the raw title stays raw


async def test_cjk_snippet_is_highlighted(sessionmaker: Sessions) -> None:
    await add_articles(
        sessionmaker, {"title": "ニュース", "text": "きょう東京都で会議があった。", "language": "ja"}
    )
    (hit,) = (await find(sessionmaker, "東京")).hits
    assert hit.snippet_html == "きょう<mark>東京</mark>都で会議があった。"


HOSTILE_QUERIES = [
    '"',
    '"""',
    '"unterminated',
    "*",
    "budget*",
    "AND",
    "OR NOT",
    "a AND b OR c NOT d",
    "-budget",
    "(",
    ")",
    "((budget)",
    "title:budget",
    "{title text}: budget",
    "NEAR(budget vote, 2)",
    "^budget",
    "budget + vote",
    "'); DROP TABLE articles; --",
    '"); DROP TABLE articles; --',
    "1' OR '1'='1",
    "%",
    "_",
    "\\",
    "!!! ??? ...",
    "budget & | ! <-> :*",
    "\x00budget\x1f",
    "서울\" OR \"1",
    "x" * 5000,
    "東" * 400,
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
async def test_hostile_queries_are_just_text(sessionmaker: Sessions, query: str) -> None:
    await add_articles(sessionmaker, {"title": "Budget vote", "text": "The budget vote passed."})
    page = await find(sessionmaker, query)
    assert isinstance(page, SearchPage)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Article)) == 1


async def test_operators_are_searched_as_words(sessionmaker: Sessions) -> None:
    budget, _ = await add_articles(
        sessionmaker,
        {"title": "Budget", "text": "Lawmakers said NOT yet, AND then voted."},
        {"title": "Budget", "text": "Nothing to see."},
    )
    assert await found_ids(sessionmaker, "budget NOT") == [budget]
    assert await found_ids(sessionmaker, '"not yet, and"') == [budget]


@pytest.mark.parametrize("query", ["", "   ", "\t\n", '""', "!!!", None])
async def test_empty_queries_return_an_empty_page(sessionmaker: Sessions, query: str | None) -> None:
    await add_articles(sessionmaker, {"title": "Anything", "text": "at all"})
    async with sessionmaker() as session:
        page = await search(session, query)
    assert page == SearchPage(hits=[], next_cursor=None, total_estimate=0)


async def test_language_filter(sessionmaker: Sessions) -> None:
    english, french = await add_articles(
        sessionmaker,
        {"title": "Climate summit opens", "text": "Leaders meet.", "language": "en"},
        {"title": "Sommet climat", "text": "Climate summit: les dirigeants se réunissent.", "language": "fr"},
    )
    assert set(await found_ids(sessionmaker, "climate summit")) == {english, french}
    assert await found_ids(sessionmaker, "climate summit", language="fr") == [french]
    assert await found_ids(sessionmaker, "climate summit", language=" EN ") == [english]
    assert await found_ids(sessionmaker, "climate summit", language="de") == []


async def test_cursor_pagination_has_no_overlap(sessionmaker: Sessions) -> None:
    ids = await add_articles(
        sessionmaker,
        *({"title": f"Harbour report {n}", "text": "Ships in the harbour.", "age_days": n} for n in range(7)),
    )
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await find(sessionmaker, "harbour", limit=3, cursor=cursor)
        pages += 1
        assert page.total_estimate == 7
        seen.extend(hit.article_id for hit in page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
        assert cursor.replace("-", "").replace("_", "").isalnum()  # URL-safe, unpadded
    assert pages == 3
    assert seen == ids  # no overlap, nothing missed, newest first (ages 0..6)


async def test_foreign_or_forged_cursor_is_rejected(sessionmaker: Sessions) -> None:
    await add_articles(sessionmaker, *({"title": "Harbour", "text": "Ships."} for _ in range(3)))
    page = await find(sessionmaker, "harbour", limit=1)
    assert page.next_cursor
    with pytest.raises(InvalidInput):
        await find(sessionmaker, "ships", cursor=page.next_cursor)
    with pytest.raises(InvalidInput):
        await find(sessionmaker, "harbour", cursor="not-a-cursor!")


async def test_duplicates_are_excluded(sessionmaker: Sessions) -> None:
    (original,) = await add_articles(sessionmaker, {"title": "Volcano erupts", "text": "Ash everywhere."})
    await add_articles(
        sessionmaker, {"title": "Volcano erupts", "text": "Ash everywhere.", "duplicate_of": original}
    )
    page = await find(sessionmaker, "volcano")
    assert [hit.article_id for hit in page.hits] == [original]
    assert page.total_estimate == 1


async def test_updates_and_deletes_are_reflected(sessionmaker: Sessions) -> None:
    article_id, other_id = await add_articles(
        sessionmaker,
        {"title": "Morning briefing", "text": "Giraffes escaped from the zoo. 東京タワーの近く。"},
        {"title": "Evening briefing", "text": "Giraffes are tall."},
    )
    assert set(await found_ids(sessionmaker, "giraffes")) == {article_id, other_id}

    async with sessionmaker() as session:
        await session.execute(
            update(Article).where(Article.id == article_id).values(text="Penguins escaped. 大阪城の近く。")
        )
        await session.commit()
    assert await found_ids(sessionmaker, "giraffes") == [other_id]
    assert await found_ids(sessionmaker, "penguins") == [article_id]
    assert await found_ids(sessionmaker, "東京タワー") == []
    assert await found_ids(sessionmaker, "大阪城") == [article_id]

    async with sessionmaker() as session:
        article = await session.get(Article, article_id)
        assert article is not None
        article.title = "Lunch briefing"
        article.duplicate_of = None  # a non-indexed column changing alongside must not matter
        await session.commit()
    assert await found_ids(sessionmaker, "morning") == []
    assert await found_ids(sessionmaker, "lunch") == [article_id]

    async with sessionmaker() as session:
        await session.execute(delete(Article).where(Article.id == article_id))
        await session.commit()
    assert await found_ids(sessionmaker, "penguins") == []
    assert await found_ids(sessionmaker, "大阪城") == []
    assert await found_ids(sessionmaker, "briefing") == [other_id]
    await _assert_fts_integrity(sessionmaker)


async def test_cjk_edits_move_articles_in_and_out_of_the_trigram_index(sessionmaker: Sessions) -> None:
    """The trigram indexes only cover articles with CJK-like characters; edits crossing that line."""
    article_id, thai_id = await add_articles(
        sessionmaker,
        {"title": "Plain title", "text": "Nothing special here."},
        {"title": "ข่าว", "text": "กรุงเทพมหานครมีฝนตก", "language": "th"},
    )
    assert await found_ids(sessionmaker, "กรุงเทพ") == [thai_id]
    for new_text, expected in [("大阪城の近く。", [article_id]), ("No CJK any more.", []), ("大阪城", [article_id])]:
        async with sessionmaker() as session:
            await session.execute(update(Article).where(Article.id == article_id).values(text=new_text))
            await session.commit()
        assert await found_ids(sessionmaker, "大阪城") == expected
    async with sessionmaker() as session:
        await session.execute(delete(Article).where(Article.id.in_([article_id, thai_id])))
        await session.commit()
    assert await found_ids(sessionmaker, "大阪城") == []
    await _assert_fts_integrity(sessionmaker)


async def test_short_term_scan_is_bounded_to_the_newest_articles(
    sessionmaker: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan, "SCAN_MAX_ARTICLES", 2)
    newest, middle, _ = await add_articles(
        sessionmaker, *({"title": "서울 소식", "text": "", "age_days": age} for age in (1, 2, 3))
    )
    assert await found_ids(sessionmaker, "서울") == [newest, middle]
    assert len(await found_ids(sessionmaker, "서울 소식")) == 2  # still short terms only
    assert len(await found_ids(sessionmaker, "서울 소식 ")) == 2


@pytest.mark.parametrize("db_backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_postgres_uses_the_search_indexes(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        for query, index in [("budget", "ix_articles_search_vector"), ("東京都庁", "ix_articles_search_trigram")]:
            spec = PlanInput(query=parse_query(query), language=None, now=NOW)
            match_plan = repo.build_plan(session, spec)
            # Only the match conditions: on an empty table any index would do for duplicate_of IS NULL.
            conditions = [c for c in match_plan.conditions if "duplicate_of" not in c]
            sql = f"EXPLAIN SELECT a.id FROM {match_plan.from_sql} WHERE {' AND '.join(conditions)}"
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            explained = "\n".join((await session.execute(text(sql), match_plan.params)).scalars())
            assert index in explained, explained


def test_migration_and_query_agree_on_substring_scripts() -> None:
    path = Path(tidings.db.migrate.MIGRATIONS_DIR, "versions", "0002_search.py")
    module_spec = importlib.util.spec_from_file_location("migration_0002", path)
    assert module_spec and module_spec.loader
    migration = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(migration)
    assert substring_script_regex() == migration._CHARACTER_CLASS


async def test_rebuild_index_keeps_results(sessionmaker: Sessions) -> None:
    (article_id,) = await add_articles(sessionmaker, {"title": "Rebuild", "text": "Orchestra tour."})
    await SearchService(sessionmaker).rebuild_index()
    assert (await SearchService(sessionmaker).search("orchestra")).hits[0].article_id == article_id
    await _assert_fts_integrity(sessionmaker)


async def _assert_fts_integrity(sessions: Sessions) -> None:
    """SQLite: FTS5 checks its index against the content table (raises on any mismatch)."""
    async with sessions() as session:
        if repo.dialect_name(session) == "sqlite":
            for table in SQLITE_FTS_TABLES:
                # rank = 1: also compare the index with the content it was built from.
                await session.execute(
                    text(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")
                )


async def test_migration_downgrades_and_reindexes_existing_articles(
    settings: Settings, sessionmaker: Sessions
) -> None:
    (article_id,) = await add_articles(sessionmaker, {"title": "Lighthouse", "text": "灯台の光。"})
    await sessionmaker.kw["bind"].dispose()  # no pooled connection may hold the tables open
    await asyncio.to_thread(downgrade, settings, "0001")
    try:
        assert not await _search_objects(settings)
    finally:
        await asyncio.to_thread(upgrade, settings, "head")
    assert await found_ids(sessionmaker, "lighthouse") == [article_id]
    assert await found_ids(sessionmaker, "灯台の光") == [article_id]


async def test_autogenerate_ignores_search_objects_with_the_filter(settings: Settings) -> None:
    assert await _search_objects(settings)

    def diff(connection: Connection, with_filter: bool) -> list[str]:
        opts = {"compare_type": True, **({"include_object": include_object} if with_filter else {})}
        context = MigrationContext.configure(connection, opts=opts)
        return [repr(change) for change in compare_metadata(context, Base.metadata)]

    search_names = (*SQLITE_FTS_TABLES, PG_VECTOR_COLUMN, *PG_INDEXES)
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            unfiltered = await connection.run_sync(diff, False)
            filtered = await connection.run_sync(diff, True)
    finally:
        await engine.dispose()
    assert any(name in change for change in unfiltered for name in search_names)
    assert not any(name in change for change in filtered for name in search_names)


async def _search_objects(settings: Settings) -> list[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                sql = "SELECT name FROM sqlite_master WHERE name LIKE 'articles_fts%'"
            else:
                sql = (
                    "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_articles_search%' "
                    "UNION ALL SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'articles' AND column_name = 'search_vector'"
                )
            return list((await connection.exec_driver_sql(sql)).scalars())
    finally:
        await engine.dispose()
