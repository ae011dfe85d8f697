"""The one ingestion pipeline: poll a feed → parse → ingest new entries → record the outcome.

Every caller (scheduler, `tidings crawl`, the Redis worker, the admin "refresh" button) goes through
`Poller.poll_feed`. Whatever goes wrong becomes data on the feed (error_count, last_error, backoff)
and a FetchLog row; nothing escapes to crash the worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.errors import FeedParseError, TidingsError
from tidings.extract.runner import ArticleExtractor
from tidings.ingest import repo
from tidings.ingest.articles import ArticleIngestor, FeedContext, PreparedArticle, entry_url_hash
from tidings.ingest.boundedset import BoundedSet
from tidings.ingest.fetcher import Fetcher, FetchError, FetchResult
from tidings.ingest.parser import FeedEntry, ParsedFeed
from tidings.ingest.schedule import (
    ScheduleBounds,
    backoff_delay,
    interval_from_entries,
    next_interval,
    should_disable,
)
from tidings.ingest.statewriter import FeedStateWriter

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
KNOWN_URL_CACHE_SIZE = 200_000


@dataclass(slots=True)
class PollOutcome:
    feed_id: int
    url: str
    outcome: str  # ok | not_modified | error
    status: int | None = None
    entries: int = 0
    new_articles: int = 0
    error: str | None = None
    error_code: str | None = None
    duration_ms: int = 0
    next_poll_at: datetime | None = None
    disabled: bool = False
    warning: str | None = None  # a non-fatal complaint about the feed (recovered from bad XML...)
    article_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    """What a poll needs to know about a feed, read once when the feed is claimed."""

    id: int
    url: str
    source_id: int
    etag: str | None
    last_modified: str | None
    interval: int
    error_count: int
    language: str | None
    has_title: bool
    body_hash: str | None = None


class Poller:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        fetcher: Fetcher,
        extractor: ArticleExtractor,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.fetcher = fetcher
        self.clock = clock
        self.extractor = extractor
        self.bounds = ScheduleBounds.from_settings(settings)
        self.writer = FeedStateWriter(db)
        # Entry URLs already stored: most polls of a changed feed only re-list known entries.
        self.known_urls = BoundedSet(KNOWN_URL_CACHE_SIZE)
        self.articles = ArticleIngestor(settings=settings, db=db, fetcher=fetcher, extractor=extractor)

    async def poll_feed(self, feed_id: int) -> PollOutcome:
        """Poll one feed now and record the outcome at once (CLI, admin "refresh", tests)."""
        snapshot = await self._snapshot(feed_id)
        if snapshot is None:
            return PollOutcome(feed_id=feed_id, url="", outcome="error", error="feed not found")
        outcome = await self.poll(snapshot)
        await self.writer.flush()
        return outcome

    async def poll(self, snapshot: FeedSnapshot) -> PollOutcome:
        """Poll a claimed feed; its new state is buffered in `self.writer` (flushed by the caller)."""
        started = time.perf_counter()
        try:
            outcome, values = await self._poll(snapshot)
        except (FetchError, FeedParseError) as exc:
            outcome, values = self._failure(snapshot, exc)
        except Exception as exc:  # a bug must not take the worker down with it
            log.exception("unexpected error polling feed %s", snapshot.url)
            outcome, values = self._failure(snapshot, exc)
        outcome.duration_ms = int((time.perf_counter() - started) * 1000)
        self.writer.add(snapshot.id, values, self._log_row(snapshot, outcome))
        return outcome

    async def flush(self) -> None:
        await self.writer.flush()

    async def _snapshot(self, feed_id: int) -> FeedSnapshot | None:
        async with self.db.session() as session:
            row = await repo.feed_snapshot_row(session, feed_id)
        return snapshot_from_row(row) if row is not None else None

    async def _poll(self, feed: FeedSnapshot) -> tuple[PollOutcome, dict[str, object]]:
        result = await self.fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT
        )
        if result.not_modified:
            return self._not_modified(feed, result)
        body_hash = hashlib.sha256(result.content).hexdigest()
        if body_hash == feed.body_hash:
            # The server ignored our conditional GET but sent the very same bytes: nothing new.
            outcome, values = self._not_modified(feed, result, status=result.status)
            values.update(etag=result.etag, last_modified=result.last_modified)  # it may have new validators
            return outcome, values
        parsed = await self._parse(result)
        new_ids, complete = await self._ingest_new_entries(feed, parsed)
        outcome, values = self._success(feed, result, parsed, new_ids)
        # Remember the body only when every entry got through: an entry that failed must be
        # retried by the next poll, which an identical body would otherwise skip.
        values["body_hash"] = body_hash if complete else None
        if not complete:  # nor answer a 304 to the next poll, which would skip the retry just the same
            values.update(etag=None, last_modified=None)
        return outcome, values

    async def _parse(self, result: FetchResult) -> ParsedFeed:
        # In the worker pool: parsing a big feed takes milliseconds of CPU, and this event loop
        # also serves the web site.
        return await self.extractor.parse_feed(
            result.content, url=result.url, content_type=result.content_type
        )

    async def _ingest_new_entries(self, feed: FeedSnapshot, parsed: ParsedFeed) -> tuple[list[str], bool]:
        """Store the entries we have not seen; return the new article ids and whether all got through."""
        entries = _unique_by_link(parsed.entries)[: self.settings.max_new_articles_per_poll]
        hashes = {entry_url_hash(e.link): e for e in entries}
        unknown = [h for h in hashes if h not in self.known_urls]
        if unknown:
            async with self.db.session() as session:
                known = await repo.known_url_hashes(session, unknown)
            self.known_urls.update(known)
        fresh = [e for h, e in hashes.items() if h not in self.known_urls]
        if not fresh:
            return [], True
        context = FeedContext(
            feed_id=feed.id, source_id=feed.source_id, language=parsed.language or feed.language
        )
        now = self.clock()
        prepared = await asyncio.gather(*(self._prepare_one(entry, context, now) for entry in fresh))
        stored = await self.articles.store([p for p in prepared if p is not None])
        # Only what is now in the database counts as known; failed entries stay eligible for retry.
        self.known_urls.update(
            entry_url_hash(e.link) for e, p in zip(fresh, prepared, strict=True) if p is not None
        )
        return stored, all(p is not None for p in prepared)

    async def _prepare_one(
        self, entry: FeedEntry, context: FeedContext, now: datetime
    ) -> PreparedArticle | None:
        try:
            return await self.articles.prepare(entry, context, now=now)
        except TidingsError as exc:
            log.info("entry %s not ingested: %s", entry.link, exc)
        except Exception:
            # One bad entry must not cost us the others in the same feed.
            log.exception("unexpected error ingesting %s", entry.link)
        return None

    def _not_modified(
        self, feed: FeedSnapshot, result: FetchResult, *, status: int = 304
    ) -> tuple[PollOutcome, dict[str, object]]:
        now = self.clock()
        interval = next_interval(
            current=feed.interval,
            bounds=self.bounds,
            new_entries=0,
            observed=feed.interval,
            max_age=result.max_age,
        )
        values = _healthy(now, interval)
        outcome = PollOutcome(
            feed_id=feed.id,
            url=feed.url,
            outcome="not_modified",
            status=status,
            next_poll_at=now + timedelta(seconds=interval),
        )
        return outcome, values

    def _success(
        self, feed: FeedSnapshot, result: FetchResult, parsed: ParsedFeed, new_ids: list[str]
    ) -> tuple[PollOutcome, dict[str, object]]:
        now = self.clock()
        observed = interval_from_entries((e.published for e in parsed.entries), self.bounds)
        interval = next_interval(
            current=feed.interval,
            bounds=self.bounds,
            new_entries=len(new_ids),
            observed=observed,
            max_age=result.max_age,
            ttl_minutes=parsed.ttl_minutes,
        )
        values = _healthy(now, interval)
        values.update(etag=result.etag, last_modified=result.last_modified, kind=parsed.kind)
        if new_ids:
            values["last_new_entry_at"] = now
        if not feed.has_title and parsed.title:
            values["title"] = parsed.title[:500]
        outcome = PollOutcome(
            feed_id=feed.id,
            url=feed.url,
            outcome="ok",
            status=200,
            entries=len(parsed.entries),
            new_articles=len(new_ids),
            next_poll_at=now + timedelta(seconds=interval),
            article_ids=new_ids,
            warning=parsed.bozo_warning,
        )
        return outcome, values

    def _failure(self, feed: FeedSnapshot, exc: Exception) -> tuple[PollOutcome, dict[str, object]]:
        now = self.clock()
        errors = feed.error_count + 1
        retry_after = getattr(exc, "retry_after", None)
        delay = backoff_delay(
            error_count=errors, interval=feed.interval, bounds=self.bounds, retry_after=retry_after
        )
        code = getattr(exc, "code", "internal_error") if isinstance(exc, TidingsError) else "internal_error"
        message = str(exc)[:2000] or exc.__class__.__name__
        values: dict[str, object] = {
            "last_polled_at": now,
            "error_count": errors,
            "last_error": message,
            "last_error_code": code,
            "next_poll_at": now + timedelta(seconds=delay),
        }
        disabled = should_disable(errors, self.bounds)
        if disabled:
            values["disabled"] = True
            values["disabled_reason"] = f"disabled after {errors} consecutive failures; last: {message}"[
                :2000
            ]
            log.warning("feed disabled: %s (%s)", feed.url, message)
        outcome = PollOutcome(
            feed_id=feed.id,
            url=feed.url,
            outcome="error",
            status=getattr(exc, "upstream_status", None),
            error=message,
            error_code=code,
            next_poll_at=now + timedelta(seconds=delay),
            disabled=disabled,
        )
        return outcome, values

    def _log_row(self, feed: FeedSnapshot, outcome: PollOutcome) -> dict[str, object]:
        return {
            "feed_id": feed.id,
            "started_at": self.clock(),
            "duration_ms": outcome.duration_ms,
            "outcome": outcome.outcome,
            "status_code": outcome.status,
            "error": outcome.error,
            "entries": outcome.entries,
            "new_articles": outcome.new_articles,
            "details": {"warning": outcome.warning[:500]} if outcome.warning else None,
        }


def _healthy(now: datetime, interval: int) -> dict[str, object]:
    """Feed state after any successful poll: errors cleared, next poll one interval away."""
    return {
        "last_polled_at": now,
        "last_success_at": now,
        "error_count": 0,
        "last_error": None,
        "last_error_code": None,
        "interval_seconds": interval,
        "next_poll_at": now + timedelta(seconds=interval),
    }


def snapshot_from_row(row: Any) -> FeedSnapshot:
    return FeedSnapshot(
        id=row.id,
        url=row.url,
        source_id=row.source_id,
        etag=row.etag,
        last_modified=row.last_modified,
        interval=row.interval_seconds,
        error_count=row.error_count,
        language=row.language,
        has_title=bool(row.title),
        body_hash=row.body_hash,
    )


def _unique_by_link(entries: list[FeedEntry]) -> list[FeedEntry]:
    seen: set[str] = set()
    unique = []
    for entry in entries:
        key = entry_url_hash(entry.link)
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique
