"""Adding publishers: from a feed or homepage URL, from OPML, and the bundled default list."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.errors import Conflict, FeedParseError, InvalidInput
from tidings.ingest import repo
from tidings.ingest.discovery import discover_feeds
from tidings.ingest.fetcher import Fetcher, FetchError
from tidings.ingest.models import Feed, Source
from tidings.ingest.opml import OpmlOutline, parse_opml, render_opml
from tidings.ingest.parser import ParsedFeed, looks_like_feed, parse_feed
from tidings.ingest.schedule import ScheduleBounds

log = logging.getLogger(__name__)

MAX_DISCOVERY_CANDIDATES = 5


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AddedFeed:
    feed_id: int
    url: str
    title: str | None
    source_name: str


class SourceService:
    def __init__(self, *, settings: Settings, db: Database, fetcher: Fetcher | None = None) -> None:
        self.settings = settings
        self.db = db
        self.fetcher = fetcher
        self.bounds = ScheduleBounds.from_settings(settings)

    async def add_from_url(self, url: str) -> AddedFeed:
        """Add a feed URL, or a homepage whose feeds we discover from <link rel=alternate>."""
        url = _validate_url(url)
        if self.fetcher is None:
            raise RuntimeError("SourceService.add_from_url needs a fetcher")
        async with self.db.session() as session:
            if await repo.get_feed_by_url(session, url) is not None:
                raise Conflict(f"feed already added: {url}")
        try:
            result = await self.fetcher.fetch(url)
        except FetchError as exc:
            raise InvalidInput(f"could not fetch {url}: {exc}") from exc
        if looks_like_feed(result.content, result.content_type):
            parsed = parse_feed(result.content, url=result.url, content_type=result.content_type)
            return await self._store_feed(url, parsed, homepage=parsed.link)
        candidates = discover_feeds(result.content, base_url=result.url)
        if not candidates:
            raise InvalidInput(f"no feed found at {url}: not a feed, and the page links to none")
        for candidate in candidates[:MAX_DISCOVERY_CANDIDATES]:
            try:
                feed_result = await self.fetcher.fetch(candidate)
                parsed = parse_feed(
                    feed_result.content, url=feed_result.url, content_type=feed_result.content_type
                )
            except (FetchError, FeedParseError) as exc:
                log.info("discovered feed %s unusable: %s", candidate, exc)
                continue
            async with self.db.session() as session:
                if await repo.get_feed_by_url(session, candidate) is not None:
                    raise Conflict(f"feed already added: {candidate}")
            return await self._store_feed(candidate, parsed, homepage=parsed.link or result.url)
        raise InvalidInput(f"{url} links to feeds, but none of them could be read")

    async def _store_feed(self, url: str, parsed: ParsedFeed, *, homepage: str | None) -> AddedFeed:
        name = parsed.title or urlsplit(homepage or url).hostname or url
        outline = OpmlOutline(
            xml_url=url, title=name, html_url=homepage, category=None, language=parsed.language, country=None
        )
        async with self.db.transaction() as session:
            feed, source = await self._add_outline(session, outline, now=utcnow())
            if parsed.title and not feed.title:
                feed.title = parsed.title[:500]
            return AddedFeed(feed_id=feed.id, url=feed.url, title=feed.title, source_name=source.name)

    async def import_opml(self, content: bytes) -> ImportReport:
        outlines = parse_opml(content)
        report = ImportReport()
        now = utcnow()
        async with self.db.transaction() as session:
            for outline in outlines:
                try:
                    url = _validate_url(outline.xml_url)
                except InvalidInput as exc:
                    report.errors.append(str(exc))
                    continue
                if await repo.get_feed_by_url(session, url) is not None:
                    report.skipped += 1
                    continue
                await self._add_outline(session, outline, now=now)
                report.added += 1
        return report

    async def export_opml(self) -> str:
        async with self.db.session() as session:
            sources = await repo.list_sources_with_feeds(session)
            outlines = [
                OpmlOutline(
                    xml_url=feed.url,
                    title=feed.title or source.name,
                    html_url=source.homepage_url,
                    category=feed.category,
                    language=source.language,
                    country=source.country,
                )
                for source in sources
                for feed in source.feeds
            ]
        return render_opml(outlines, title="Tidings sources")

    async def load_defaults_if_empty(self) -> ImportReport | None:
        async with self.db.session() as session:
            if await repo.count_sources(session) > 0:
                return None
        report = await self.import_opml(default_sources_opml())
        log.info("loaded %d default sources", report.added)
        return report

    async def _add_outline(
        self, session: AsyncSession, outline: OpmlOutline, *, now: datetime
    ) -> tuple[Feed, Source]:
        """One source per homepage (a publisher with several feeds stays one source)."""
        homepage = outline.html_url or _origin(outline.xml_url)
        source = await repo.get_source_by_homepage(session, homepage)
        if source is None:
            source = await repo.create_source(
                session,
                name=outline.title or urlsplit(homepage).hostname or homepage,
                homepage_url=homepage,
                language=outline.language,
                country=outline.country,
            )
        feed = await repo.create_feed(
            session,
            source=source,
            url=outline.xml_url,
            title=outline.title,
            kind=None,
            category=outline.category,
            interval=self.bounds.default,
            now=now,
        )
        return feed, source


def default_sources_opml() -> bytes:
    return resources.files("tidings.data").joinpath("default_sources.opml").read_bytes()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _validate_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"not an http(s) URL: {url!r}")
    if len(url) > 2048:
        raise InvalidInput("URL too long")
    return url
