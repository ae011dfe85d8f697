from __future__ import annotations

import httpx

from tidings.config import Settings
from tidings.web.app import create_app


async def test_health_endpoint_reports_database_and_scheduler(settings: Settings) -> None:
    app = create_app(settings, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"] in ("sqlite", "postgresql")
    assert body["scheduler"]["running"] is False


async def test_serve_loads_default_sources_into_an_empty_database(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"load_default_sources": True}), run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            sources = (await client.get("/api/v1/sources", params={"limit": 100})).json()["items"]
    assert len(sources) >= 30
    assert {"en", "ko", "ja"} <= {s["language"] for s in sources}
