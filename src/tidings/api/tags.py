"""GET /api/v1/tags...: trending hashtags and a hashtag's articles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tidings.api.errors import INVALID, NOT_FOUND_OR_INVALID, ApiRoute
from tidings.api.params import Cursor, LinksDep, PageLimit, Slug
from tidings.api.presenters import card_out, tag_out, trending_tag_out
from tidings.api.schemas import TagArticlesOut, TrendingTagPageOut
from tidings.web.deps import ArticlesDep

router = APIRouter(prefix="/tags", tags=["tags"], route_class=ApiRoute)


@router.get(
    "/trending",
    response_model=TrendingTagPageOut,
    summary="Trending hashtags",
    description=(
        "Hashtags carried by the most articles published within the window. A bounded list: "
        "`next_cursor` is always null."
    ),
    responses=INVALID,
)
async def trending_tags(
    articles: ArticlesDep,
    hours: Annotated[int, Query(ge=1, le=24 * 30, description="Window, in hours before now.")] = 48,
    limit: Annotated[int, Query(ge=1, le=100, description="How many hashtags at most.")] = 12,
) -> TrendingTagPageOut:
    ranked = await articles.trending_tags(hours=hours, limit=limit)
    return TrendingTagPageOut(items=[trending_tag_out(tag, count) for tag, count in ranked], next_cursor=None)


@router.get(
    "/{slug}/articles",
    response_model=TagArticlesOut,
    summary="A hashtag's articles",
    description="Articles carrying the hashtag, newest first. Cursor-paginated.",
    responses=NOT_FOUND_OR_INVALID,
)
async def tag_articles(
    slug: Slug, articles: ArticlesDep, links: LinksDep, cursor: Cursor = None, limit: PageLimit = 20
) -> TagArticlesOut:
    tag, page = await articles.by_tag(slug, cursor=cursor, limit=limit)
    return TagArticlesOut(
        tag=tag_out(tag), items=[card_out(card, links) for card in page.items], next_cursor=page.next_cursor
    )
