"""HTML pages. Being built: see issue 3."""

from fastapi import APIRouter

from tidings.config import Settings


def build_pages_router(settings: Settings) -> APIRouter:
    return APIRouter()
