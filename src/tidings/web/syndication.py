"""Outgoing RSS/Atom feeds and sitemaps. Being built: see issue 3."""

from fastapi import APIRouter


def build_syndication_router() -> APIRouter:
    return APIRouter()
