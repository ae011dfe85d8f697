"""GET /api/v1/me: who the API token (or the browser's session) belongs to.

The first call a mobile or sync client makes with a new token, to check it and to learn the
account's id and role. Authenticated by `Authorization: Bearer <token>` (made on the account's
API tokens page), or by the session cookie for the site's own pages.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field

from tidings.api.errors import ApiRoute, error_response
from tidings.api.schemas import ApiModel, ErrorOut
from tidings.errors import Unauthenticated
from tidings.web.auth import api_csrf_token, api_user

router = APIRouter(tags=["account"], route_class=ApiRoute)
# Declared for the OpenAPI document (the "Authorize" button of /api/docs); web.auth reads the header.
bearer = HTTPBearer(auto_error=False, description="An API token from the account's API tokens page.")


class MeOut(ApiModel):
    id: int
    display_name: str
    role: Literal["reader", "moderator", "admin"]
    csrf_token: str | None = Field(
        description=(
            "Only for cookie-authenticated calls (the site's own pages): send it as X-CSRF-Token on "
            "state-changing requests. Null for bearer tokens, which need none."
        )
    )


@router.get(
    "/me",
    response_model=MeOut,
    summary="The authenticated account",
    responses={401: {"model": ErrorOut, "description": "No valid API token or session (`unauthenticated`)."}},
)
async def me(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> MeOut | Response:
    user = await api_user(request)
    if user is None:
        error = Unauthenticated("send a valid API token as `Authorization: Bearer <token>`")
        response = error_response(error.code, error.message, error.status)
        response.headers["WWW-Authenticate"] = 'Bearer realm="tidings"'
        return response
    return MeOut(
        id=user.id,
        display_name=user.display_name,
        role=user.role,  # type: ignore[arg-type]
        csrf_token=await api_csrf_token(request),
    )
