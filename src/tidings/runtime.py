"""Everything a running Tidings needs, built from Settings in one place (CLI, web app, workers)."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tidings.accounts.service import AccountService
from tidings.ai.embeddings import embedder_model_name
from tidings.ai.service import AIService
from tidings.articles.service import ArticleService
from tidings.comments.service import CommentService
from tidings.config import Settings
from tidings.db.engine import Database, create_engine
from tidings.extract.runner import ArticleExtractor, PoolExtractor
from tidings.follows.service import FollowService
from tidings.ingest.fetcher import Fetcher, SafeFetcher
from tidings.ingest.service import FeedSnapshot, Poller, PollOutcome
from tidings.ingest.sources import SourceService
from tidings.search.service import SearchService
from tidings.stories.analysis import Analyser, PoolAnalyser
from tidings.stories.pipeline import Understanding
from tidings.stories.related import RelatedIndex
from tidings.stories.service import StoryService
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
    stories: StoryService
    related: RelatedIndex
    understanding: Understanding
    ai: AIService
    accounts: AccountService
    comments: CommentService
    follows: FollowService
    queue: FeedQueue | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        fetcher: Fetcher | None = None,
        extractor: ArticleExtractor | None = None,
        queue: bool = True,
        analyser: Analyser | None = None,
    ) -> Runtime:
        """`queue=False` polls in this process even when a queue is configured (the workers do)."""
        db = Database(create_engine(settings))
        fetcher = fetcher or SafeFetcher(settings)
        extractor = extractor or PoolExtractor(settings.extract_processes)
        poller = Poller(settings=settings, db=db, fetcher=fetcher, extractor=extractor)
        related = RelatedIndex(
            model=embedder_model_name(settings),
            path=settings.data_dir / "related.index" if _persistent(settings) else None,
            hnsw_threshold=settings.hnsw_threshold,
        )
        # The analysis pool starts its process (and loads the model) on first use, not here.
        understanding = Understanding(
            settings=settings, db=db, analyser=analyser or PoolAnalyser(settings), related=related
        )

        ai = AIService(db, provider=_chat_provider(settings), timeout=settings.llm_timeout)
        understanding.on_stories_changed = ai.warm_briefs

        async def poll_and_understand(snapshot: FeedSnapshot) -> PollOutcome:
            outcome = await poller.poll(snapshot)
            if outcome.new_articles:
                understanding.notify()
            return outcome

        feed_queue = FeedQueue.build(settings) if settings.queue_url and queue else None
        if feed_queue is not None:  # distributed mode: claim here, poll in `tidings worker`
            scheduler = Scheduler(
                settings=settings, db=db, poll=feed_queue.enqueue, flush=no_flush, due_to_flush=lambda: False
            )
        else:
            scheduler = Scheduler(
                settings=settings,
                db=db,
                poll=poll_and_understand,
                flush=poller.flush,
                due_to_flush=poller.writer.due,
            )
        return cls(
            settings=settings,
            db=db,
            fetcher=fetcher,
            extractor=extractor,
            poller=poller,
            sources=SourceService(settings=settings, db=db, fetcher=fetcher),
            scheduler=scheduler,
            articles=ArticleService(db, related_index=related),
            search=SearchService(db.sessionmaker),
            stories=StoryService(db),
            related=related,
            understanding=understanding,
            ai=ai,
            accounts=AccountService(db, settings),
            comments=CommentService(db, settings),
            follows=FollowService(db),
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
        self.understanding.analyser.close()
        if self.ai.provider is not None:
            await self.ai.provider.aclose()
        self.related.save()
        await self.db.dispose()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _persistent(settings: Settings) -> bool:
    """Indexes are saved next to a file database; an in-memory or server database gets none."""
    return ":memory:" not in settings.database_url


def _chat_provider(settings: Settings) -> Any:
    if not settings.llm_url:
        return None
    from tidings.ai.llm import OpenAICompatibleChat

    return OpenAICompatibleChat(
        base_url=settings.llm_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key.get_secret_value(),
        read_timeout=settings.llm_timeout,
        total_timeout=settings.llm_timeout * 2,
    )
