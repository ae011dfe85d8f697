"""The JSON API, /api/v1: a read-only view of the same services the HTML pages use.

Served with its OpenAPI schema at /api/openapi.json and interactive docs at /api/docs.
"""

from __future__ import annotations

from fastapi import APIRouter

from tidings.api import articles, me, search, sources, stories, tags

API_PREFIX = "/api/v1"


def build_api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (articles, stories, sources, tags, search, me):
        router.include_router(module.router)
    return router
