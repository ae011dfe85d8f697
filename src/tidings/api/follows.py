"""/api/v1/me/follows and /api/v1/me/for-you: what an account follows and mutes, and its feed.

For clients that keep a reader's follows in sync (and a way to carry a browser's local follow set
into an account). Authenticated like every account endpoint: `Authorization: Bearer <token>`, or
the site's session cookie plus X-CSRF-Token on POST and DELETE (web/auth.py `api_user`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field

from tidings.accounts.models import User
from tidings.api.errors import ApiRoute, error_response
from tidings.api.params import CURSOR_PATTERN, SLUG_PATTERN, LinksDep
from tidings.api.presenters import card_out
from tidings.api.schemas import ApiModel, ArticleCardOut, ErrorOut
from tidings.errors import Unauthenticated
from tidings.follows.models import TARGET_MAX
from tidings.follows.service import Following, FollowService
from tidings.web.auth import api_user
from tidings.web.deps import get_runtime

router = APIRouter(prefix="/me", tags=["following"], route_class=ApiRoute)
bearer = HTTPBearer(auto_error=False, description="An API token from the account's API tokens page.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

Kind = Literal["source", "tag", "story"]
ReasonKind = Literal["follow_tag", "follow_source", "follow_story", "read_tag", "read_source"]


def _error(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut, "description": description}}


READ_ERRORS = {
    **_error(401, "No valid API token or session (`unauthenticated`)."),
    **_error(422, "Malformed parameter or cursor (`invalid_input`, `invalid_cursor`)."),
}
WRITE_ERRORS = {
    **READ_ERRORS,
    **_error(403, "A cookie call without a valid X-CSRF-Token (`csrf_failed`)."),
    **_error(422, "Malformed body or parameter; stories cannot be muted (`invalid_input`)."),
}


class TargetOut(ApiModel):
    kind: Kind
    target: str = Field(description="A source's or hashtag's slug, or a story's id.")
    label: str = Field(description="Its name (or the story's title); the target itself if it is gone.")


class FollowsOut(ApiModel):
    follows: list[TargetOut]
    mutes: list[TargetOut] = Field(description="Muted sources and hashtags: never in the feed.")


class FollowIn(ApiModel):
    kind: Kind
    target: str = Field(min_length=1, max_length=TARGET_MAX, pattern=SLUG_PATTERN)
    mute: bool = Field(default=False, description="Mute instead of follow (sources and hashtags only).")


class ReasonOut(ApiModel):
    kind: ReasonKind
    label: str = Field(description="The hashtag's or source's name, or the story's title.")
    slug: str


class ForYouItemOut(ApiModel):
    article: ArticleCardOut
    reasons: list[ReasonOut] = Field(description="Why it is here, strongest first: follows, then reading.")


class ForYouPageOut(ApiModel):
    items: list[ForYouItemOut]
    next_cursor: str | None


def _follows(request: Request) -> FollowService:
    return get_runtime(request).follows


def _unauthenticated() -> Response:
    error = Unauthenticated("send a valid API token as `Authorization: Bearer <token>`")
    response = error_response(error.code, error.message, error.status)
    response.headers["WWW-Authenticate"] = 'Bearer realm="tidings"'
    return response


def _follows_out(following: Following) -> FollowsOut:
    return FollowsOut(
        follows=[TargetOut(kind=k, target=t, label=label) for k, t, label in following.follows],  # type: ignore[arg-type]
        mutes=[TargetOut(kind=k, target=t, label=label) for k, t, label in following.mutes],  # type: ignore[arg-type]
    )


async def _caller(request: Request) -> User | None:
    return await api_user(request)


@router.get(
    "/for-you", response_model=ForYouPageOut, summary="The account's For you feed", responses=READ_ERRORS
)
async def for_you(
    request: Request,
    links: LinksDep,
    _credentials: BearerDep,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=50, description="Items per page.")] = 20,
) -> ForYouPageOut | Response:
    """Recent articles ranked from follows and reading history, at most three per source a page,
    muted sources and hashtags and already-read articles left out."""
    user = await _caller(request)
    if user is None:
        return _unauthenticated()
    page = await _follows(request).for_you(user, limit=limit, cursor=cursor)
    items = [
        ForYouItemOut(
            article=card_out(card, links),
            reasons=[ReasonOut(kind=r.kind, label=r.label, slug=r.slug) for r in reasons],  # type: ignore[arg-type]
        )
        for card, reasons in page.items
    ]
    return ForYouPageOut(items=items, next_cursor=page.next_cursor)


@router.get(
    "/follows", response_model=FollowsOut, summary="What the account follows and mutes", responses=READ_ERRORS
)
async def list_follows(request: Request, _credentials: BearerDep) -> FollowsOut | Response:
    user = await _caller(request)
    if user is None:
        return _unauthenticated()
    return _follows_out(await _follows(request).following(user))


@router.post(
    "/follows",
    response_model=FollowsOut,
    summary="Follow or mute a source, hashtag or story",
    description="Idempotent: following twice is the same as once. Answers with the whole list.",
    responses=WRITE_ERRORS,
)
async def add_follow(payload: FollowIn, request: Request, _credentials: BearerDep) -> FollowsOut | Response:
    user = await _caller(request)
    if user is None:
        return _unauthenticated()
    service = _follows(request)
    if payload.mute:
        await service.mute(user, payload.kind, payload.target)
    else:
        await service.follow(user, payload.kind, payload.target)
    return _follows_out(await service.following(user))


@router.delete(
    "/follows",
    response_model=FollowsOut,
    summary="Unfollow or unmute",
    description="Idempotent: removing what is not there is not an error. Answers with the whole list.",
    responses=WRITE_ERRORS,
)
async def remove_follow(
    request: Request,
    _credentials: BearerDep,
    kind: Annotated[Kind, Query()],
    target: Annotated[str, Query(min_length=1, max_length=TARGET_MAX, pattern=SLUG_PATTERN)],
    mute: Annotated[bool, Query(description="Unmute instead of unfollow.")] = False,
) -> FollowsOut | Response:
    user = await _caller(request)
    if user is None:
        return _unauthenticated()
    service = _follows(request)
    if mute:
        await service.unmute(user, kind, target)
    else:
        await service.unfollow(user, kind, target)
    return _follows_out(await service.following(user))
