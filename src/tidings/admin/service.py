"""What an admin can see and do: the dashboard's numbers, source and feed health, edits, users.

Every change is validated here rather than in the route, so the same rules hold wherever an admin
action comes from. Errors are TidingsErrors with stable codes; the pages turn each code into a
message in the reader's language. An admin may not demote or ban themselves: the last admin locking
themselves out would leave nobody able to undo it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tidings.accounts.models import ROLES, User
from tidings.accounts.service import AccountService
from tidings.admin import stats
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.errors import Conflict, InvalidInput, NotFound, TidingsError
from tidings.ingest.models import Feed, FetchLog, Source
from tidings.ingest.sources import AddedFeed, SourceService
from tidings.stories.pipeline import Understanding
from tidings.workers.queue import FeedQueue

log = logging.getLogger(__name__)

SPARK_DAYS = 14
DASHBOARD_HOURS = 48
HISTORY_ROWS = 40
_COUNTRY = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
# Messages SourceService raises, mapped to codes the page can say in the reader's language.
_DISCOVERY_CODES = (
    ("not an http(s) URL", "bad_url"),
    ("URL too long", "bad_url"),
    ("could not fetch", "fetch_failed"),
    ("no feed found", "no_feed"),
    ("links to feeds", "feeds_unreadable"),
)


@dataclass(slots=True)
class FeedHealth:
    feed: Feed
    status: str
    per_day: list[int]


@dataclass(slots=True)
class SourceHealth:
    source: Source
    feeds: list[FeedHealth] = field(default_factory=list)


@dataclass(slots=True)
class Dashboard:
    articles: list[stats.Bucket]
    polls: list[stats.Bucket]
    feeds: dict[str, int]
    totals: dict[str, int]
    queue_depth: int | None  # None: polls run in this process, there is no queue
    queue_error: bool
    understanding_backlog: int | None

    @property
    def error_rate(self) -> float:
        polls = sum(b.count for b in self.polls)
        return sum(b.errors for b in self.polls) / polls if polls else 0.0


class AdminService:
    def __init__(
        self,
        *,
        db: Database,
        sources: SourceService,
        accounts: AccountService,
        understanding: Understanding | None = None,
        queue: FeedQueue | None = None,
    ) -> None:
        self.db = db
        self.sources = sources
        self.accounts = accounts
        self.understanding = understanding
        self.queue = queue

    # --- the dashboard

    async def dashboard(self, *, now: datetime | None = None) -> Dashboard:
        now = now or utcnow()
        async with self.db.session() as session:
            articles = await stats.articles_per_hour(session, now=now, hours=DASHBOARD_HOURS)
            polls = await stats.polls_per_hour(session, now=now, hours=DASHBOARD_HOURS)
            feeds = await stats.feeds_by_status(session)
            totals = await stats.totals(session)
        depth, queue_error = await self._queue_depth()
        backlog = await self.understanding.pending() if self.understanding is not None else None
        return Dashboard(articles, polls, feeds, totals, depth, queue_error, backlog)

    async def _queue_depth(self) -> tuple[int | None, bool]:
        """Messages waiting in Redis; a Redis that does not answer is shown, not raised."""
        if self.queue is None:
            return None, False
        try:
            return await asyncio.to_thread(self.queue.pending), False
        except Exception as exc:  # any Redis failure: the dashboard must still render
            log.warning("queue depth unavailable: %s", exc)
            return None, True

    # --- sources and feeds

    async def sources_health(self, *, now: datetime | None = None) -> list[SourceHealth]:
        now = now or utcnow()
        async with self.db.session() as session:
            sources = await session.scalars(
                select(Source).options(selectinload(Source.feeds)).order_by(Source.name, Source.id)
            )
            listed = list(sources)
            per_day = await stats.articles_per_day_by_feed(session, now=now, days=SPARK_DAYS)
        return [
            SourceHealth(
                source,
                [
                    FeedHealth(feed, stats.feed_status(feed), per_day.get(feed.id, [0] * SPARK_DAYS))
                    for feed in sorted(source.feeds, key=lambda f: f.id)
                ],
            )
            for source in listed
        ]

    async def source(self, slug: str, *, now: datetime | None = None) -> SourceHealth:
        now = now or utcnow()
        async with self.db.session() as session:
            source = await session.scalar(
                select(Source).options(selectinload(Source.feeds)).where(Source.slug == _slug(slug))
            )
            if source is None:
                raise NotFound(f"no source {slug}")
            feeds = sorted(source.feeds, key=lambda f: f.id)
            per_day = await stats.articles_per_day_by_feed(
                session, now=now, days=SPARK_DAYS, feed_ids=[f.id for f in feeds]
            )
        return SourceHealth(
            source,
            [FeedHealth(f, stats.feed_status(f), per_day.get(f.id, [0] * SPARK_DAYS)) for f in feeds],
        )

    async def history(self, feed_ids: list[int]) -> dict[int, list[FetchLog]]:
        """Each feed's latest polls, newest first."""
        async with self.db.session() as session:
            return {fid: await stats.fetch_history(session, fid, limit=HISTORY_ROWS) for fid in feed_ids}

    async def add_source(self, url: str) -> AddedFeed:
        """Add a feed or a homepage to discover feeds on; errors carry a code the page can explain."""
        try:
            return await self.sources.add_from_url(url.strip()[:4096])
        except Conflict as exc:
            raise Conflict(exc.message, code="feed_exists") from exc
        except InvalidInput as exc:
            code = next((c for prefix, c in _DISCOVERY_CODES if prefix in exc.message), "no_feed")
            raise InvalidInput(exc.message, code=code) from exc
        except TidingsError as exc:  # a feed that fetched but would not parse, for one
            raise InvalidInput(exc.message, code="feed_unreadable") from exc

    async def update_source(
        self, slug: str, *, name: str, homepage: str, country: str, language: str
    ) -> Source:
        name = _clean_text(name, 300)
        if not name:
            raise InvalidInput("a source needs a name", code="bad_name")
        homepage = homepage.strip()
        if homepage:
            parts = urlsplit(homepage)
            if parts.scheme not in ("http", "https") or not parts.hostname or len(homepage) > 2048:
                raise InvalidInput("the homepage must be an http(s) URL", code="bad_homepage")
        country = country.strip().upper()
        if country and not _COUNTRY.fullmatch(country):
            raise InvalidInput("a country is two letters, like JP", code="bad_country")
        language = language.strip()
        if language and not _LANGUAGE.fullmatch(language):
            raise InvalidInput("a language is a code like ko or en-GB", code="bad_language")
        async with self.db.transaction() as session:
            source = await session.scalar(select(Source).where(Source.slug == _slug(slug)))
            if source is None:
                raise NotFound(f"no source {slug}")
            source.name = name
            source.homepage_url = homepage or None
            source.country = country or None
            source.language = language or None
        return source

    async def set_feed_disabled(self, feed_id: int, *, disabled: bool, reason: str = "") -> Feed:
        """Disable (with a reason) or enable a feed. Enabling forgets the errors and polls it soon:
        whoever re-enables a feed wants to know now whether it works."""
        async with self.db.transaction() as session:
            feed = await self._feed(session, feed_id)
            feed.disabled = disabled
            if disabled:
                feed.disabled_reason = _clean_text(reason, 2000) or None
            else:
                feed.disabled_reason = None
                feed.error_count = 0
                feed.next_poll_at = utcnow()
        return feed

    async def poll_now(self, feed_id: int) -> Feed:
        """Make the feed due: the scheduler's next tick (or the worker queue) polls it."""
        async with self.db.transaction() as session:
            feed = await self._feed(session, feed_id)
            if feed.disabled:
                raise Conflict("enable the feed first", code="feed_disabled")
            feed.next_poll_at = utcnow()
        return feed

    async def source_slug_of_feed(self, feed_id: int) -> str:
        async with self.db.session() as session:
            slug = await session.scalar(
                select(Source.slug).join(Feed, Feed.source_id == Source.id).where(Feed.id == feed_id)
            )
        if slug is None:
            raise NotFound(f"no feed {feed_id}")
        return slug

    @staticmethod
    async def _feed(session: AsyncSession, feed_id: int) -> Feed:
        feed = await session.get(Feed, feed_id)
        if feed is None:
            raise NotFound(f"no feed {feed_id}")
        return feed

    # --- users

    async def users(self) -> list[User]:
        return [u for u in await self.accounts.list_users() if not u.is_deleted]

    async def set_role(self, actor: User, user_id: int, role: str) -> User:
        if role not in ROLES:
            raise InvalidInput(f"no role {role[:40]!r}", code="bad_role")
        if actor.id == user_id and role != actor.role:
            raise Conflict("you cannot change your own role", code="own_account")
        return await self.accounts.set_role(user_id, role)

    async def ban(self, actor: User, user_id: int, reason: str) -> User:
        if actor.id == user_id:
            raise Conflict("you cannot ban yourself", code="own_account")
        return await self.accounts.ban(user_id, _clean_text(reason, 2000))

    async def unban(self, user_id: int) -> User:
        return await self.accounts.unban(user_id)


def _slug(value: str) -> str:
    """A slug to look up. PostgreSQL refuses a NUL in text outright (an error, not "no match"), and
    no slug contains a control character, so such a value is simply not found."""
    if len(value) > 200 or any(unicodedata.category(ch) == "Cc" for ch in value):
        raise NotFound("no such source")
    return value


def _clean_text(value: str, limit: int) -> str:
    """Trimmed, without control characters (a name must not carry terminal escapes or NULs)."""
    kept = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C" or ch == " ")
    return " ".join(kept.split())[:limit]
