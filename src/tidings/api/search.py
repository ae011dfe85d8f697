"""GET /api/v1/search: full-text search with highlighted titles and snippets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tidings.api.errors import INVALID, ApiRoute
from tidings.api.params import Cursor, Language, LinksDep, PageLimit
from tidings.api.presenters import search_page_out
from tidings.api.schemas import SearchPageOut
from tidings.errors import InvalidInput
from tidings.web.deps import SearchDep

router = APIRouter(tags=["search"], route_class=ApiRoute)


@router.get(
    "/search",
    response_model=SearchPageOut,
    summary="Search articles",
    description=(
        'Words, "quoted phrases" and CJK substrings, ranked by relevance and recency. An empty or '
        "unusable query gives an empty page. The cursor is bound to the query and language it came from."
    ),
    responses=INVALID,
)
async def search_articles(
    search: SearchDep,
    links: LinksDep,
    q: Annotated[str, Query(max_length=512, description="The query.")],
    language: Language = None,
    cursor: Cursor = None,
    limit: PageLimit = 20,
) -> SearchPageOut:
    try:
        page = await search.search(q, language=language, cursor=cursor, limit=limit)
    except (OverflowError, ValueError) as exc:
        # search.query.decode_cursor checks a cursor's query fingerprint (an unkeyed digest anyone can
        # compute) but not the size of its frozen "now": a forged one fails turning it into a datetime.
        # Database errors never arrive as these types (SQLAlchemy wraps them), so nothing else is masked.
        if cursor is None:
            raise
        raise InvalidInput("search cursor out of range", code="invalid_cursor") from exc
    return search_page_out(page, links)
