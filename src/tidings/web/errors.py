"""One error policy for the whole app: JSON for machines, a page in the reader's language for people.

Paths under /api/ and the image proxy answer `{"ok": false, "error": {"code", "message"}, "status"}`;
everything else gets an HTML page whose language is the path's prefix (/ko/... → Korean, else English).
Unexpected exceptions are logged with their traceback and answered with a generic 500: the client
never sees internals.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidings.errors import TidingsError, Unauthenticated
from tidings.web.i18n import language_of_path
from tidings.web.rendering import NO_STORE, Renderer, html_response, renderer_for
from tidings.web.routes.common import layout

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/img")
_GENERIC_MESSAGES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    422: "Invalid input",
    500: "Internal server error",
}
_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    422: "invalid_input",
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith(JSON_PREFIXES)


def error_response(request: Request, *, status: int, code: str, message: str) -> Response:
    if wants_json(request):
        return JSONResponse(
            {"ok": False, "error": {"code": code, "message": message}, "status": status},
            status_code=status,
            headers={"Cache-Control": NO_STORE},
        )
    lang = language_of_path(request.url.path)
    context = layout(request, lang, keep_query=False, status=status)
    body = _renderer(request).render("error.html", lang, **context)
    return html_response(body, status=status, cache_control=NO_STORE)


def sign_in_redirect(request: Request) -> Response:
    """A page that needs an account sends people to the sign-in form, and back here afterwards
    (for a form post, to the page itself: the post's data is not kept)."""
    lang = language_of_path(request.url.path)
    back = request.url.path + (
        f"?{request.url.query}" if request.url.query and request.method == "GET" else ""
    )
    target = f"/{lang}/account/signin?{urlencode({'next': back})}"
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": NO_STORE})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TidingsError)
    async def _domain_error(request: Request, exc: TidingsError) -> Response:
        if isinstance(exc, Unauthenticated) and not wants_json(request):
            return sign_in_redirect(request)
        response = error_response(request, status=exc.status, code=exc.code, message=exc.message)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        message = exc.detail if isinstance(exc.detail, str) else _GENERIC_MESSAGES.get(status, "Error")
        response = error_response(request, status=status, code=_CODES.get(status, "error"), message=message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        # Say which input was wrong, not what the validator saw: values may be long or hostile.
        fields = sorted({".".join(str(part) for part in err.get("loc", ())) for err in exc.errors()})
        message = "Invalid input: " + ", ".join(fields) if fields else "Invalid input"
        return error_response(request, status=422, code="invalid_input", message=message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, status=500, code="internal_error", message="Internal server error")


def _renderer(request: Request) -> Renderer:
    runtime = getattr(request.app.state, "runtime", None)
    key = runtime.settings.signing_key() if runtime is not None else b""
    return renderer_for(key)
