"""GET /healthz: is the database reachable, is the scheduler alive."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tidings import __version__
from tidings.ingest import repo
from tidings.web.deps import RuntimeDep

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def health(rt: RuntimeDep) -> JSONResponse:
    try:
        async with rt.db.session() as session:
            await session.execute(text("SELECT 1"))
            articles = await repo.count_articles(session)
            sources = await repo.count_sources(session)
    except Exception as exc:  # health must answer, not raise
        log.warning("health check failed: %s", exc)
        return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
    scheduler = rt.scheduler
    return JSONResponse(
        {
            "ok": True,
            "version": __version__,
            "database": "sqlite" if rt.settings.is_sqlite else "postgresql",
            "sources": sources,
            "articles": articles,
            "scheduler": {
                "running": scheduler.running,
                "polls_done": scheduler.polls_done,
                "last_tick": scheduler.last_tick.isoformat() if scheduler.last_tick else None,
            },
        }
    )
