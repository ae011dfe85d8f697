"""GET /api/v1/sources...: publishers, their feed health and their articles."""

from __future__ import annotations

from fastapi import APIRouter

from tidings.api.errors import INVALID, NOT_FOUND_OR_INVALID, ApiRoute
from tidings.api.offsets import decode_offset_cursor, encode_offset_cursor
from tidings.api.params import Cursor, LinksDep, PageLimit, Slug
from tidings.api.presenters import card_out, source_detail_out, source_out
from tidings.api.schemas import SourceArticlesOut, SourceDetailOut, SourcePageOut
from tidings.web.deps import ArticlesDep

router = APIRouter(prefix="/sources", tags=["sources"], route_class=ApiRoute)


@router.get(
    "",
    response_model=SourcePageOut,
    summary="Sources",
    description="Every publisher, by name, with its article count. Cursor-paginated.",
    responses=INVALID,
)
async def list_sources(
    articles: ArticlesDep, links: LinksDep, cursor: Cursor = None, limit: PageLimit = 50
) -> SourcePageOut:
    # Sources number in the hundreds: the service returns them all and the API pages over the list.
    offset = decode_offset_cursor(cursor) if cursor else 0
    sources = await articles.sources()
    window = sources[offset : offset + limit]
    more = offset + limit < len(sources)
    return SourcePageOut(
        items=[source_out(source, links) for source in window],
        next_cursor=encode_offset_cursor(offset + limit) if more else None,
    )


@router.get(
    "/{slug}",
    response_model=SourceDetailOut,
    summary="One source",
    description="A publisher with the health of each of its feeds (status, errors, last poll, interval).",
    responses=NOT_FOUND_OR_INVALID,
)
async def get_source(slug: Slug, articles: ArticlesDep, links: LinksDep) -> SourceDetailOut:
    return source_detail_out(await articles.source(slug), links)


@router.get(
    "/{slug}/articles",
    response_model=SourceArticlesOut,
    summary="A source's articles",
    description="The source's articles, newest first. Cursor-paginated.",
    responses=NOT_FOUND_OR_INVALID,
)
async def source_articles(
    slug: Slug, articles: ArticlesDep, links: LinksDep, cursor: Cursor = None, limit: PageLimit = 20
) -> SourceArticlesOut:
    source, page = await articles.by_source(slug, cursor=cursor, limit=limit)
    return SourceArticlesOut(
        source=source_out(source, links),
        items=[card_out(card, links) for card in page.items],
        next_cursor=page.next_cursor,
    )
