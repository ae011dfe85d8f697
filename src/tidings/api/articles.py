"""GET /api/v1/articles...: the latest articles, one article, related articles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tidings.api.errors import INVALID, NOT_FOUND_OR_INVALID, ApiRoute
from tidings.api.params import ArticleId, Cursor, Language, LinksDep, PageLimit
from tidings.api.presenters import article_out, card_out, card_page_out
from tidings.api.schemas import ArticleOut, ArticlePageOut
from tidings.web.deps import ArticlesDep

router = APIRouter(prefix="/articles", tags=["articles"], route_class=ApiRoute)


@router.get(
    "",
    response_model=ArticlePageOut,
    summary="Latest articles",
    description="Newest first, duplicates of other articles left out. Cursor-paginated.",
    responses=INVALID,
)
async def latest_articles(
    articles: ArticlesDep,
    links: LinksDep,
    language: Language = None,
    cursor: Cursor = None,
    limit: PageLimit = 20,
) -> ArticlePageOut:
    page = await articles.latest(language=language, cursor=cursor, limit=limit)
    return card_page_out(page, links)


@router.get(
    "/{article_id}",
    response_model=ArticleOut,
    summary="One article",
    description="The full article: sanitised HTML and plain-text body, hashtags, source, canonical URL.",
    responses=NOT_FOUND_OR_INVALID,
)
async def get_article(article_id: ArticleId, articles: ArticlesDep, links: LinksDep) -> ArticleOut:
    return article_out(await articles.get(article_id), links)


@router.get(
    "/{article_id}/related",
    response_model=ArticlePageOut,
    summary="Related articles",
    description=(
        "Same topic (embedding similarity and shared hashtags), recent, from diverse sources (at most "
        "two per publisher); never this article's own copies or its story's other articles. A bounded "
        "list: `next_cursor` is always null."
    ),
    responses=NOT_FOUND_OR_INVALID,
)
async def related_articles(
    article_id: ArticleId,
    articles: ArticlesDep,
    links: LinksDep,
    limit: Annotated[int, Query(ge=1, le=20, description="How many related articles at most.")] = 6,
) -> ArticlePageOut:
    cards = await articles.related(article_id, limit=limit)
    return ArticlePageOut(items=[card_out(card, links) for card in cards], next_cursor=None)
