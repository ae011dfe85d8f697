"""The comments API: /api/v1/articles/{id}/comments and /api/v1/comments/{id}/...

What a mobile or sync client needs to take part in a discussion: read an article's thread, post
(idempotently: a client that lost the answer retries with the same `Idempotency-Key` and gets the same
comment back, never a second copy), vote, report and delete. Writing needs an account: an
`Authorization: Bearer <token>` header (no CSRF token: a browser never sends it by itself), or the
site's session cookie plus the X-CSRF-Token header. Every rule (bans, spam holds, who may see or
delete what) is CommentService's; this module only translates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field

from tidings.accounts.models import User
from tidings.api.errors import ApiRoute, error_response
from tidings.api.params import ArticleId
from tidings.api.schemas import ApiModel, ErrorOut
from tidings.comments import repo
from tidings.comments.service import MAX_REPORT_REASON, CommentService
from tidings.comments.views import CommentView, VoteResult
from tidings.errors import InvalidInput, Unauthenticated
from tidings.web.auth import api_user
from tidings.web.deps import get_runtime

router = APIRouter(tags=["comments"], route_class=ApiRoute)
# Declared for the OpenAPI document (the "Authorize" button of /api/docs); web.auth reads the header.
bearer = HTTPBearer(auto_error=False, description="An API token from the account's API tokens page.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

# Comment ids are PostgreSQL `integer`s: a larger number would be a database error, not a 404.
MAX_ID = 2**31 - 1
KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"  # what CommentService accepts as a client_token

CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="A comment's id.")]


def _error(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut, "description": description}}


UNAUTHENTICATED = _error(401, "No valid API token or session (`unauthenticated`).")
FORBIDDEN = _error(
    403,
    "Not allowed: banned account, own comment, not the author, or a cookie call without a valid "
    "X-CSRF-Token (`csrf_failed`).",
)
NOT_FOUND = _error(404, "No such article or comment (or one this account may not see).")
CONFLICT = _error(409, "This Idempotency-Key was already used for a comment on another article.")
INVALID = _error(
    422, "Malformed request: bad JSON, empty or too long body, unknown field, invalid key or vote."
)
WRITE_ERRORS = {**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND, **INVALID}


# --- schemas


class AuthorOut(ApiModel):
    id: int | None = Field(description="Null on placeholders of deleted or removed comments.")
    name: str
    deleted: bool = Field(description="The account was deleted; its comments stay, attributed to it.")


class HoldReasonOut(ApiModel):
    code: str = Field(description="Stable reason code, e.g. `links_many`, `new_account_rate`.")
    text: str


class CommentOut(ApiModel):
    """One comment as this caller may see it, with its replies nested below it."""

    id: int
    article_id: str
    parent_id: int | None
    depth: int = Field(description="0 for top-level comments.")
    status: Literal["visible", "held", "hidden", "deleted"] = Field(
        description="`held`: waiting for a moderator (shown only to its author and moderators)."
    )
    placeholder: str | None = Field(
        description="`[deleted]` or `[removed]` when only the thread position is shown (bodies empty)."
    )
    author: AuthorOut
    body_html: str = Field(description="Sanitised at write time: safe to insert as HTML.")
    body_markdown: str = Field(
        description="The Markdown source: only for its author and moderators, else empty."
    )
    created_at: datetime
    edited_at: datetime | None
    editable_until: datetime | None = Field(description="For the author, while the edit window is open.")
    score: int
    ups: int
    downs: int
    viewer_vote: int = Field(ge=-1, le=1, description="The caller's vote: -1, 0 or +1.")
    can_reply: bool
    can_edit: bool
    can_delete: bool
    can_vote: bool
    can_report: bool
    can_moderate: bool
    hold_reasons: list[HoldReasonOut] = Field(description="Moderators only; empty for everyone else.")
    hidden_reason: str | None = Field(description="Moderators only.")
    open_reports: int = Field(description="Moderators only; 0 for everyone else.")
    replies: list[CommentOut]


class CommentThreadOut(ApiModel):
    """An article's whole thread: top-level comments with their replies nested."""

    items: list[CommentOut]
    next_cursor: None = Field(description="Always null: the thread comes whole.")


class CommentIn(ApiModel):
    body: str = Field(min_length=1, description="Markdown (links, emphasis, quotes, code, lists).")
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The comment this answers.")
    client_token: str | None = Field(
        default=None,
        pattern=KEY_PATTERN,
        description="Makes posting idempotent, like the Idempotency-Key header (which wins if both match).",
    )


class VoteIn(ApiModel):
    value: int = Field(ge=-1, le=1, description="+1, -1, or 0 to take a vote back.")


class VoteOut(ApiModel):
    comment_id: int
    score: int
    ups: int
    downs: int
    viewer_vote: int = Field(ge=-1, le=1)


class ReportIn(ApiModel):
    reason: str = Field(default="", max_length=MAX_REPORT_REASON, description="What is wrong with it.")


# --- dependencies


def get_comments(request: Request) -> CommentService:
    return get_runtime(request).comments


CommentsDep = Annotated[CommentService, Depends(get_comments)]


async def caller(request: Request) -> User | None:
    """The authenticated account (None when there is none); a cookie call without CSRF raises 403."""
    return await api_user(request)


def unauthenticated() -> JSONResponse:
    error = Unauthenticated("send a valid API token as `Authorization: Bearer <token>`")
    response = error_response(error.code, error.message, error.status)
    response.headers["WWW-Authenticate"] = 'Bearer realm="tidings"'
    return response


# --- presenters


def comment_out(view: CommentView) -> CommentOut:
    return CommentOut(
        id=view.id,
        article_id=view.article_id,
        parent_id=view.parent_id,
        depth=view.depth,
        status=view.status,  # type: ignore[arg-type]
        placeholder=view.placeholder,
        author=AuthorOut(id=view.author_id, name=view.author_name, deleted=view.author_deleted),
        body_html=view.body_html,
        body_markdown=view.body_markdown,
        created_at=view.created_at,
        edited_at=view.edited_at,
        editable_until=view.editable_until,
        score=view.score,
        ups=view.ups,
        downs=view.downs,
        viewer_vote=view.viewer_vote,
        can_reply=view.can_reply,
        can_edit=view.can_edit,
        can_delete=view.can_delete,
        can_vote=view.can_vote,
        can_report=view.can_report,
        can_moderate=view.can_moderate,
        hold_reasons=[HoldReasonOut(code=r.code, text=r.text) for r in view.hold_reasons],
        hidden_reason=view.hidden_reason,
        open_reports=view.open_reports,
        replies=[comment_out(reply) for reply in view.replies],
    )


def vote_out(result: VoteResult) -> VoteOut:
    return VoteOut(
        comment_id=result.comment_id,
        score=result.score,
        ups=result.ups,
        downs=result.downs,
        viewer_vote=result.viewer_vote,
    )


def no_store(response: Response) -> None:
    # Every answer here depends on who asks (held comments, own votes): no shared cache may keep it.
    response.headers["Cache-Control"] = "private, no-store"


# --- routes


@router.get(
    "/articles/{article_id}/comments",
    response_model=CommentThreadOut,
    summary="An article's comments",
    description=(
        "The whole thread, replies nested. `best` orders each level by the lower bound of its vote "
        "ratio; `new` puts the newest top-level comments first (replies stay chronological). "
        "Authenticated callers also see their own held comments and their votes."
    ),
    responses={**NOT_FOUND, **INVALID},
)
async def article_comments(
    request: Request,
    response: Response,
    article_id: ArticleId,
    comments: CommentsDep,
    _credentials: BearerDep,
    sort: Annotated[Literal["best", "new"], Query(description="Order of each level.")] = "best",
) -> CommentThreadOut:
    user = await caller(request)
    views = await comments.thread(article_id, viewer=user, sort=sort)
    no_store(response)
    return CommentThreadOut(items=[comment_out(view) for view in views], next_cursor=None)


@router.post(
    "/articles/{article_id}/comments",
    response_model=CommentOut,
    status_code=201,
    summary="Post a comment",
    description=(
        "Stores the comment (visible, or `held` for a moderator when the spam rules say so) and returns "
        "it with 201. Send a unique `Idempotency-Key` (or `client_token`) per comment and reuse it on "
        "every retry: a retry returns the comment already stored, with 200, however often it arrives."
    ),
    responses={
        200: {"model": CommentOut, "description": "A retry: the comment stored the first time."},
        **WRITE_ERRORS,
        **CONFLICT,
    },
)
async def post_comment(
    request: Request,
    article_id: ArticleId,
    payload: CommentIn,
    comments: CommentsDep,
    _credentials: BearerDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=KEY_PATTERN,
            description="1-64 letters, digits or `. _ : -`, unique per comment, reused on retries.",
        ),
    ] = None,
) -> Response:
    user = await caller(request)
    if user is None:
        return unauthenticated()
    if idempotency_key and payload.client_token and idempotency_key != payload.client_token:
        raise InvalidInput(
            "Idempotency-Key and client_token differ: send one, or the same", code="invalid_client_token"
        )
    token = idempotency_key or payload.client_token
    # Only for the status code (201 stored now, 200 a replay): the service itself settles races
    # between concurrent retries, so a twin that commits in between still gets the one stored row.
    replay = token is not None and await _token_used(comments, user.id, token)
    view = await comments.post(
        user, article_id, payload.body, parent_id=payload.parent_id, client_token=token
    )
    body = comment_out(view).model_dump(mode="json")
    return JSONResponse(
        body, status_code=200 if replay else 201, headers={"Cache-Control": "private, no-store"}
    )


async def _token_used(comments: CommentService, user_id: int, token: str) -> bool:
    async with comments.db.session() as session:
        return await repo.by_token(session, user_id, token) is not None


@router.post(
    "/comments/{comment_id}/vote",
    response_model=VoteOut,
    summary="Vote on a comment",
    description="+1 or -1 (one vote per reader, never on one's own comment); 0 takes the vote back.",
    responses=WRITE_ERRORS,
)
async def vote_comment(
    request: Request,
    response: Response,
    comment_id: CommentId,
    payload: VoteIn,
    comments: CommentsDep,
    _credentials: BearerDep,
) -> VoteOut | Response:
    user = await caller(request)
    if user is None:
        return unauthenticated()
    result = await comments.vote(user, comment_id, payload.value)
    no_store(response)
    return vote_out(result)


@router.post(
    "/comments/{comment_id}/report",
    status_code=204,
    response_class=Response,
    summary="Report a comment",
    description="Flags it for moderators. Reporting twice changes nothing.",
    responses=WRITE_ERRORS,
)
async def report_comment(
    request: Request,
    comment_id: CommentId,
    payload: ReportIn,
    comments: CommentsDep,
    _credentials: BearerDep,
) -> Response:
    user = await caller(request)
    if user is None:
        return unauthenticated()
    await comments.report(user, comment_id, payload.reason)
    return Response(status_code=204)


@router.delete(
    "/comments/{comment_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a comment",
    description=(
        "Its author, or a moderator. The text is erased; replies keep their place under a `[deleted]` "
        "placeholder. Deleting twice changes nothing."
    ),
    responses={**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND, **_error(422, "Malformed comment id.")},
)
async def delete_comment(
    request: Request, comment_id: CommentId, comments: CommentsDep, _credentials: BearerDep
) -> Response:
    user = await caller(request)
    if user is None:
        return unauthenticated()
    await comments.delete(user, comment_id)
    return Response(status_code=204)
