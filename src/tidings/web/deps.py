"""FastAPI dependencies: the runtime's services, looked up on the app, never created per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tidings.articles.service import ArticleService
from tidings.config import Settings
from tidings.runtime import Runtime
from tidings.search.service import SearchService
from tidings.stories.service import StoryService


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_settings(request: Request) -> Settings:
    return get_runtime(request).settings


def get_articles(request: Request) -> ArticleService:
    return get_runtime(request).articles


def get_search(request: Request) -> SearchService:
    return get_runtime(request).search


def get_stories(request: Request) -> StoryService:
    return get_runtime(request).stories


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ArticlesDep = Annotated[ArticleService, Depends(get_articles)]
SearchDep = Annotated[SearchService, Depends(get_search)]
StoriesDep = Annotated[StoryService, Depends(get_stories)]
