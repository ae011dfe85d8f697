"""The JSON API, /api/v1: the same services the HTML pages use (reading, and comments for accounts).

Served with its OpenAPI schema at /api/openapi.json and interactive docs at /api/docs.
"""

from __future__ import annotations

from fastapi import APIRouter

from tidings.api import articles, comments, follows, me, search, sources, stories, tags

API_PREFIX = "/api/v1"


def build_api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (articles, comments, stories, sources, tags, search, me, follows):
        router.include_router(module.router)
    return router
