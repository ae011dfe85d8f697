"""Everything a running Tidings needs, built from Settings in one place (CLI, web app, workers)."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tidings.config import Settings
from tidings.db.engine import create_engine, create_sessionmaker
from tidings.extract.runner import ArticleExtractor, PoolExtractor
from tidings.ingest.fetcher import Fetcher, SafeFetcher
from tidings.ingest.service import Poller
from tidings.ingest.sources import SourceService
from tidings.workers.scheduler import Scheduler


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    fetcher: Fetcher
    extractor: ArticleExtractor
    poller: Poller
    sources: SourceService
    scheduler: Scheduler

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        fetcher: Fetcher | None = None,
        extractor: ArticleExtractor | None = None,
    ) -> Runtime:
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        fetcher = fetcher or SafeFetcher(settings)
        extractor = extractor or PoolExtractor(settings.extract_processes)
        poller = Poller(settings=settings, sessionmaker=sessionmaker, fetcher=fetcher, extractor=extractor)
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            fetcher=fetcher,
            extractor=extractor,
            poller=poller,
            sources=SourceService(settings=settings, sessionmaker=sessionmaker, fetcher=fetcher),
            scheduler=Scheduler(settings=settings, sessionmaker=sessionmaker, poll=poller.poll_feed),
        )

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        self.extractor.close()
        await self.engine.dispose()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
