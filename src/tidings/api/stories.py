"""GET /api/v1/stories...: top stories now, and one story's full coverage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tidings.api.errors import INVALID, NOT_FOUND_OR_INVALID, ApiRoute
from tidings.api.params import Language, LinksDep
from tidings.api.presenters import story_detail_out, story_out
from tidings.api.schemas import StoryDetailOut, StoryPageOut
from tidings.extract.urls import ARTICLE_ID_PATTERN
from tidings.web.deps import StoriesDep

router = APIRouter(prefix="/stories", tags=["stories"], route_class=ApiRoute)

StoryId = Annotated[
    str, Path(pattern=ARTICLE_ID_PATTERN, description="32 lowercase hex digits.", examples=["0" * 32])
]


@router.get(
    "",
    response_model=StoryPageOut,
    summary="Top stories",
    description=(
        "Stories of the last 48 hours covered by at least two sources, ranked by source diversity, "
        "velocity and recency. A bounded list: `next_cursor` is always null."
    ),
    responses=INVALID,
)
async def top_stories(
    stories: StoriesDep,
    links: LinksDep,
    language: Language = None,
    limit: Annotated[int, Query(ge=1, le=50, description="How many stories at most.")] = 10,
) -> StoryPageOut:
    cards = await stories.top(language=language, limit=limit)
    return StoryPageOut(items=[story_out(card, links) for card in cards])


@router.get(
    "/{story_id}",
    response_model=StoryDetailOut,
    summary="One story",
    description="Every article of the story: a timeline, coverage by publisher and language, the first report.",
    responses=NOT_FOUND_OR_INVALID,
)
async def get_story(story_id: StoryId, stories: StoriesDep, links: LinksDep) -> StoryDetailOut:
    return story_detail_out(await stories.get(story_id), links)
