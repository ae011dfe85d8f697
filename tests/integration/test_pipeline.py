"""End to end: the real poller, fetcher, parser and extractor against the local publisher.

Each test runs on SQLite and on PostgreSQL (the `settings` fixture).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from benchmarks.publisher import Publisher, fixture_corpus
from sqlalchemy import func, select

from tidings.config import Settings
from tidings.errors import Conflict
from tidings.ingest.models import Article, Feed, FetchLog
from tidings.runtime import Runtime


@pytest.fixture(scope="module")
def publisher() -> Iterator[Publisher]:
    with Publisher(fixture_corpus(), feeds_per_source=1) as pub:
        yield pub


@pytest.fixture
async def runtime(settings: Settings) -> Runtime:
    rt = Runtime.build(settings)
    yield rt  # type: ignore[misc]
    await rt.aclose()


async def _articles(rt: Runtime) -> list[Article]:
    async with rt.sessionmaker() as session:
        return list((await session.scalars(select(Article).order_by(Article.id))).all())


async def _feed(rt: Runtime, feed_id: int) -> Feed:
    async with rt.sessionmaker() as session:
        feed = await session.get(Feed, feed_id)
        assert feed is not None
        return feed


async def test_homepage_discovery_then_crawl_stores_clean_articles(runtime: Runtime, publisher: Publisher) -> None:
    added = await runtime.sources.add_from_url(publisher.base_url + "/")
    assert added.url.endswith(".rss")

    outcomes = await runtime.scheduler.run_once()
    assert [o.outcome for o in outcomes] == ["ok"]
    assert outcomes[0].new_articles > 0

    articles = await _articles(runtime)
    assert len(articles) == outcomes[0].new_articles
    for article in articles:
        assert re.fullmatch(r"[0-9a-f]{32}", article.id)
        assert "utm_" not in article.canonical_url  # tracking stripped, rel=canonical honoured
        assert article.title and article.text
        assert article.body_origin == "page"
        assert "<script" not in article.html.lower()
        assert "cookie" not in article.text.lower()  # the banner is boilerplate, not body
        assert article.language
    assert {a.language for a in articles} >= {"en"}


async def test_second_crawl_is_idempotent_and_conditional(runtime: Runtime, publisher: Publisher) -> None:
    added = await runtime.sources.add_from_url(publisher.feed_urls("rss")[0])
    first = await runtime.poller.poll_feed(added.feed_id)
    assert first.outcome == "ok" and first.new_articles > 0
    count = len(await _articles(runtime))

    second = await runtime.poller.poll_feed(added.feed_id)
    assert second.outcome == "not_modified"  # ETag sent back, 304 received
    assert len(await _articles(runtime)) == count

    # Same feed in another format (Atom): same articles, recognised by URL, nothing new.
    atom = await runtime.sources.add_from_url(publisher.feed_urls("atom")[0])
    third = await runtime.poller.poll_feed(atom.feed_id)
    assert third.outcome == "ok" and third.new_articles == 0
    assert len(await _articles(runtime)) == count


async def test_adding_the_same_feed_twice_is_a_conflict(runtime: Runtime, publisher: Publisher) -> None:
    url = publisher.feed_urls("json")[0]
    await runtime.sources.add_from_url(url)
    with pytest.raises(Conflict):
        await runtime.sources.add_from_url(url)


@pytest.mark.parametrize(
    ("switch", "code"),
    [("status=503", "http_503"), ("status=500", "http_500"), ("status=404", "http_404"), ("redirect=9", "too_many_redirects")],
)
async def test_broken_feed_is_data_with_backoff(
    runtime: Runtime, publisher: Publisher, switch: str, code: str
) -> None:
    added = await runtime.sources.add_from_url(publisher.feed_urls("rss")[0])
    async with runtime.sessionmaker() as session, session.begin():
        feed = await session.get(Feed, added.feed_id)
        assert feed is not None
        feed.url = f"{feed.url}?{switch}"

    outcome = await runtime.poller.poll_feed(added.feed_id)
    assert outcome.outcome == "error" and outcome.error_code == code
    feed = await _feed(runtime, added.feed_id)
    assert feed.error_count == 1 and feed.last_error and feed.last_error_code == code
    assert feed.last_polled_at is not None
    assert feed.next_poll_at - feed.last_polled_at >= timedelta(seconds=runtime.settings.min_poll_interval)
    if code == "http_503":  # Retry-After: 120 is honoured even though backoff alone would be shorter
        assert feed.next_poll_at - feed.last_polled_at >= timedelta(seconds=120)

    async with runtime.sessionmaker() as session:
        logs = (await session.scalars(select(FetchLog).where(FetchLog.feed_id == added.feed_id))).all()
    assert [log.outcome for log in logs] == ["error"]


async def test_page_that_is_not_a_feed_is_a_clear_parse_error(runtime: Runtime, publisher: Publisher) -> None:
    added = await runtime.sources.add_from_url(publisher.feed_urls("rss")[0])
    async with runtime.sessionmaker() as session, session.begin():
        feed = await session.get(Feed, added.feed_id)
        assert feed is not None
        feed.url = publisher.base_url + "/"  # an HTML homepage
    outcome = await runtime.poller.poll_feed(added.feed_id)
    assert outcome.outcome == "error" and outcome.error_code  # e.g. "html_page", a FeedParseError
    assert outcome.error and "not a feed" in outcome.error.lower()


async def test_truncated_feed_keeps_what_it_can_and_says_so(runtime: Runtime, publisher: Publisher) -> None:
    added = await runtime.sources.add_from_url(publisher.feed_urls("rss")[0])
    async with runtime.sessionmaker() as session, session.begin():
        feed = await session.get(Feed, added.feed_id)
        assert feed is not None
        feed.url = f"{feed.url}?malformed=1"
    outcome = await runtime.poller.poll_feed(added.feed_id)
    if outcome.outcome == "ok":  # recovered entries are kept, with the parser's warning logged
        async with runtime.sessionmaker() as session:
            log = (await session.scalars(select(FetchLog))).one()
        assert log.details and log.details.get("warning")
    else:
        assert outcome.error_code == "feed_parse_error"


async def test_feed_disabled_after_repeated_failures(runtime: Runtime, publisher: Publisher) -> None:
    added = await runtime.sources.add_from_url(publisher.feed_urls("rss")[0])
    async with runtime.sessionmaker() as session, session.begin():
        feed = await session.get(Feed, added.feed_id)
        assert feed is not None
        feed.url = f"{feed.url}?status=500"
    for _ in range(runtime.settings.max_feed_errors):
        outcome = await runtime.poller.poll_feed(added.feed_id)
    assert outcome.disabled
    feed = await _feed(runtime, added.feed_id)
    assert feed.disabled and feed.disabled_reason and "consecutive failures" in feed.disabled_reason
    assert await runtime.scheduler.run_once() == []  # a disabled feed is never claimed


async def test_feed_content_used_when_page_is_unavailable(settings: Settings, publisher: Publisher) -> None:
    # Article pages disallowed by robots.txt: the feed's own text must stand in.
    rt = Runtime.build(settings.model_copy(update={"fetch_articles": False}))
    try:
        added = await rt.sources.add_from_url(publisher.feed_urls("rss")[0])
        outcome = await rt.poller.poll_feed(added.feed_id)
        assert outcome.new_articles > 0
        articles = await _articles(rt)
        assert all(a.body_origin in ("feed", "summary") for a in articles)
        assert all(a.title for a in articles)
    finally:
        await rt.aclose()


async def test_scheduler_claims_each_due_feed_once(runtime: Runtime, publisher: Publisher) -> None:
    for kind in ("rss", "atom", "json"):
        await runtime.sources.add_from_url(publisher.feed_urls(kind)[0])
    assert await runtime.scheduler.count_due() == 3
    outcomes = await runtime.scheduler.run_once()
    assert sorted(o.feed_id for o in outcomes) == sorted({o.feed_id for o in outcomes})
    assert len(outcomes) == 3
    assert await runtime.scheduler.count_due() == 0
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(FetchLog)) == 3


async def test_opml_round_trip(runtime: Runtime, publisher: Publisher) -> None:
    for kind in ("rss", "atom"):
        await runtime.sources.add_from_url(publisher.feed_urls(kind)[0])
    exported = await runtime.sources.export_opml()
    assert exported.count("xmlUrl=") == 2
    again = await runtime.sources.import_opml(exported.encode())
    assert again.added == 0 and again.skipped == 2


async def test_pipeline_with_a_real_worker_process(settings: Settings, publisher: Publisher) -> None:
    # Extraction and feed parsing cross a process boundary here: results and errors must pickle.
    rt = Runtime.build(settings.model_copy(update={"extract_processes": 1}))
    try:
        added = await rt.sources.add_from_url(publisher.feed_urls("rss")[0])
        outcome = await rt.poller.poll_feed(added.feed_id)
        assert outcome.outcome == "ok" and outcome.new_articles > 0
        assert all(a.body_origin == "page" and a.content_hash for a in await _articles(rt))
        async with rt.db.transaction() as session:
            feed = await session.get(Feed, added.feed_id)
            assert feed is not None
            feed.url, feed.body_hash = publisher.base_url + "/", None  # an HTML page: a parse error
        failed = await rt.poller.poll_feed(added.feed_id)
        assert failed.outcome == "error" and failed.error_code == "html_page"  # the code survived pickling
    finally:
        await rt.aclose()


async def test_feed_categories_become_hashtags(runtime: Runtime, publisher: Publisher) -> None:
    from tidings.tags.models import ArticleTag, Tag

    added = await runtime.sources.add_from_url(publisher.feed_urls("rss")[0])
    await runtime.poller.poll_feed(added.feed_id)
    async with runtime.db.session() as session:
        tags = (await session.scalars(select(Tag.name))).all()
        links = await session.scalar(select(func.count()).select_from(ArticleTag))
    assert tags and links


async def test_an_entry_that_failed_is_retried_by_the_next_poll(
    runtime: Runtime, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = await runtime.sources.add_from_url(publisher.feed_urls("rss")[0])
    real_prepare = runtime.poller.articles.prepare
    failed: list[str] = []

    async def flaky_prepare(entry, feed, *, now):  # type: ignore[no-untyped-def]
        if not failed:
            failed.append(entry.link)
            raise RuntimeError("transient failure")
        return await real_prepare(entry, feed, now=now)

    monkeypatch.setattr(runtime.poller.articles, "prepare", flaky_prepare)
    first = await runtime.poller.poll_feed(added.feed_id)
    assert first.outcome == "ok" and first.new_articles == first.entries - 1
    feed = await _feed(runtime, added.feed_id)
    assert feed.etag is None and feed.body_hash is None  # so the next poll sees the whole feed again

    second = await runtime.poller.poll_feed(added.feed_id)
    assert second.outcome == "ok" and second.new_articles == 1  # the failed entry, and only it
    assert len(await _articles(runtime)) == first.entries
    third = await runtime.poller.poll_feed(added.feed_id)
    assert third.outcome == "not_modified"  # complete now: validators kept, 304 again
