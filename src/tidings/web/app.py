"""`create_app(settings)`: the ASGI app that `tidings serve` runs, scheduler included."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from tidings import __version__
from tidings.api.routes import build_api_router
from tidings.config import Settings
from tidings.ingest.fetcher import SafeFetcher
from tidings.runtime import Runtime
from tidings.web import health
from tidings.web.errors import install_error_handlers
from tidings.web.fastpath import ArticleFastPath
from tidings.web.imageproxy import image_router
from tidings.web.pagecache import PageCache
from tidings.web.pages import build_pages_router
from tidings.web.syndication import build_syndication_router


def create_app(settings: Settings, *, runtime: Runtime | None = None, run_scheduler: bool | None = None) -> FastAPI:
    run_scheduler = settings.scheduler_enabled if run_scheduler is None else run_scheduler
    # Images come from many CDNs and each page needs several: no politeness delay between them.
    image_fetcher = SafeFetcher(settings.model_copy(update={"per_host_delay": 0.0, "per_host_concurrency": 4}))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or Runtime.build(settings)
        app.state.runtime = rt
        stop = asyncio.Event()
        scheduler_task = None
        if settings.load_default_sources:
            await rt.sources.load_defaults_if_empty()
        if run_scheduler:
            scheduler_task = asyncio.create_task(rt.scheduler.run_forever(stop), name="scheduler")
        # Story assignment has one writer: the process that runs the scheduler. Any other web
        # process only follows the vectors it stores, for related articles.
        if run_scheduler and settings.understanding_enabled:
            understanding_task = asyncio.create_task(rt.understanding.run_forever(), name="understanding")
        else:
            understanding_task = asyncio.create_task(_follow_vectors(rt, stop), name="related-index")
        try:
            yield
        finally:
            stop.set()
            understanding_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await understanding_task
            if scheduler_task is not None:
                await scheduler_task
            await image_fetcher.aclose()
            if runtime is None:
                await rt.aclose()

    app = FastAPI(
        title="Tidings",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )

    install_error_handlers(app)  # one JSON shape for /api and /img, one HTML error page for people
    # Routes are tried in order and the article page is the hot path, so the pages go first. None of
    # their patterns (/{lang}/article/..., /{lang}/search, ...) can match an /api/v1/..., /img,
    # feed or sitemap URL, so the order changes no answer, only how many patterns are tried.
    page_cache = PageCache()
    app.include_router(build_pages_router(settings, page_cache=page_cache))
    app.include_router(health.router)
    app.include_router(image_router(settings, fetcher=image_fetcher))
    app.include_router(build_api_router())
    app.include_router(build_syndication_router())
    app.add_middleware(ArticleFastPath, cache=page_cache)
    return app


RELATED_FOLLOW_SECONDS = 30.0


async def _follow_vectors(rt: Runtime, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await rt.related.catch_up(rt.db)
        except Exception:  # the database may be briefly away; the next round catches up
            logging.getLogger(__name__).exception("related index catch-up failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=RELATED_FOLLOW_SECONDS)
