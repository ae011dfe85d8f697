"""JSON API routes (/api/v1). Being built: see issue 3."""

from fastapi import APIRouter


def build_api_router() -> APIRouter:
    return APIRouter(prefix="/api/v1", tags=["api"])
