"""`create_app(settings)`: the ASGI app that `tidings serve` runs, scheduler included."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tidings import __version__
from tidings.config import Settings
from tidings.errors import TidingsError
from tidings.ingest import repo
from tidings.runtime import Runtime

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, runtime: Runtime | None = None, run_scheduler: bool | None = None) -> FastAPI:
    run_scheduler = settings.scheduler_enabled if run_scheduler is None else run_scheduler

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
        try:
            yield
        finally:
            stop.set()
            if scheduler_task is not None:
                await scheduler_task
            if runtime is None:
                await rt.aclose()

    app = FastAPI(title="Tidings", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.exception_handler(TidingsError)
    async def _domain_error(request: Request, exc: TidingsError) -> JSONResponse:
        return JSONResponse(
            {"ok": False, "error": {"code": exc.code, "message": exc.message}, "status": exc.status},
            status_code=exc.status,
        )

    @app.get("/healthz")
    async def health(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.runtime
        try:
            async with rt.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
                articles = await repo.count_articles(session)
                sources = await repo.count_sources(session)
        except Exception as exc:  # health must answer, not raise
            log.warning("health check failed: %s", exc)
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse(
            {
                "ok": True,
                "version": __version__,
                "database": "sqlite" if settings.is_sqlite else "postgresql",
                "sources": sources,
                "articles": articles,
                "scheduler": {
                    "running": run_scheduler,
                    "polls_done": rt.scheduler.polls_done,
                    "last_tick": rt.scheduler.last_tick.isoformat() if rt.scheduler.last_tick else None,
                },
            }
        )

    return app
