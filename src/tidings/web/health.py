"""GET /healthz: is the database reachable, is the scheduler alive.

Load balancers call this every few seconds, so it does the least that proves the point: one
`SELECT 1`, no counting of tables that grow without bound.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tidings import __version__
from tidings.web.deps import RuntimeDep

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def health(rt: RuntimeDep) -> JSONResponse:
    try:
        async with rt.db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # health must answer, not raise
        log.warning("health check failed: %s", exc)
        return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
    scheduler = rt.scheduler
    return JSONResponse(
        {
            "ok": True,
            "version": __version__,
            "database": "sqlite" if rt.settings.is_sqlite else "postgresql",
            "scheduler": {
                "running": scheduler.running,
                "polls_done": scheduler.polls_done,
                "last_tick": scheduler.last_tick.isoformat() if scheduler.last_tick else None,
            },
        }
    )
