"""Everything a running Tidings needs, built from Settings in one place (CLI, web app, workers)."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tidings.articles.service import ArticleService
from tidings.config import Settings
from tidings.db.engine import Database, create_engine
from tidings.extract.runner import ArticleExtractor, PoolExtractor
from tidings.ingest.fetcher import Fetcher, SafeFetcher
from tidings.ingest.service import Poller
from tidings.ingest.sources import SourceService
from tidings.search.service import SearchService
from tidings.workers.queue import FeedQueue, no_flush
from tidings.workers.scheduler import Scheduler


@dataclass
class Runtime:
    settings: Settings
    db: Database
    fetcher: Fetcher
    extractor: ArticleExtractor
    poller: Poller
    sources: SourceService
    scheduler: Scheduler
    articles: ArticleService
    search: SearchService
    queue: FeedQueue | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        fetcher: Fetcher | None = None,
        extractor: ArticleExtractor | None = None,
        queue: bool = True,
    ) -> Runtime:
        """`queue=False` polls in this process even when a queue is configured (the workers do)."""
        db = Database(create_engine(settings))
        fetcher = fetcher or SafeFetcher(settings)
        extractor = extractor or PoolExtractor(settings.extract_processes)
        poller = Poller(settings=settings, db=db, fetcher=fetcher, extractor=extractor)
        feed_queue = FeedQueue.build(settings) if settings.queue_url and queue else None
        if feed_queue is not None:  # distributed mode: claim here, poll in `tidings worker`
            scheduler = Scheduler(
                settings=settings, db=db, poll=feed_queue.enqueue, flush=no_flush, due_to_flush=lambda: False
            )
        else:
            scheduler = Scheduler(
                settings=settings, db=db, poll=poller.poll, flush=poller.flush, due_to_flush=poller.writer.due
            )
        return cls(
            settings=settings,
            db=db,
            fetcher=fetcher,
            extractor=extractor,
            poller=poller,
            sources=SourceService(settings=settings, db=db, fetcher=fetcher),
            scheduler=scheduler,
            articles=ArticleService(db),
            search=SearchService(db.sessionmaker),
            queue=feed_queue,
        )

    @property
    def engine(self) -> AsyncEngine:
        return self.db.engine

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.db.sessionmaker

    async def aclose(self) -> None:
        if self.queue is not None:
            self.queue.close()
        await self.fetcher.aclose()
        self.extractor.close()
        await self.db.dispose()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
