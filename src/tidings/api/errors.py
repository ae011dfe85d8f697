"""Errors of the JSON API: one shape (`ErrorOut`) for domain errors and request validation alike.

The API's routes convert errors themselves (`ApiRoute`) instead of relying on app-wide handlers, so
the documented contract holds whatever handlers the app installs; the body is the same shape the
app's handlers produce for /api paths.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from tidings.api.schemas import ErrorBody, ErrorOut
from tidings.errors import InvalidInput, TidingsError

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such article, source or hashtag."}
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorOut,
        "description": "Malformed parameter or cursor (`invalid_input`, `invalid_cursor`).",
    }
}
NOT_FOUND_OR_INVALID = {**NOT_FOUND, **INVALID}


def error_response(code: str, message: str, status: int) -> JSONResponse:
    body = ErrorOut(ok=False, error=ErrorBody(code=code, message=message), status=status)
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers={"Cache-Control": "no-store"}
    )


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """`query.limit: Input should be less than or equal to 100; ...`: enough to fix the request."""
    parts = []
    for error in errors[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


class ApiRoute(APIRoute):
    """Answers domain errors and invalid parameters with `ErrorOut` instead of FastAPI's default shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                invalid = InvalidInput(describe_validation_errors(exc.errors()))
                return error_response(invalid.code, invalid.message, invalid.status)
            except HTTPException as exc:
                if exc.status_code != 400:
                    raise
                # FastAPI's answer to a body it cannot even decode (bytes that are not UTF-8): the
                # same 422 as malformed JSON, so clients handle one status for "fix your request".
                invalid = InvalidInput(f"body: {exc.detail}")
                return error_response(invalid.code, invalid.message, invalid.status)
            except TidingsError as exc:
                return error_response(exc.code, exc.message, exc.status)

        return handle
