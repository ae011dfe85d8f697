"""Who is asking: the session cookie, API bearer tokens, role checks and CSRF, for every route.

Use in routes:

    user = await current_user(request)            # User | None
    user = await require_user(request)            # or Depends(require_user): 401 → sign-in page
    user = await require_role(request, "moderator")  # or Depends(role_dependency("moderator"))
    await require_csrf(request)                   # every POST: the form's csrf_token or X-CSRF-Token
    token = await csrf_token(request)             # put into a form as <input name="csrf_token">
    respond_with_cookies(request, response)       # after rendering: sets a new anonymous CSRF cookie

The session cookie is `__Host-tidings_session` when cookies are Secure (Path=/, no Domain: no
subdomain can set or read it), `tidings_session` on a plain-http local set-up; always HttpOnly and
SameSite=Lax (sent on top-level navigations from other sites, never on their form posts or
fetches). Nothing here may be used by a cached page: all of it is per reader.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from tidings.accounts import csrf
from tidings.accounts.models import Session, User
from tidings.accounts.service import AccountService, SignedIn
from tidings.config import Settings
from tidings.errors import Forbidden, Unauthenticated
from tidings.web.forms import read_form

SESSION_COOKIE = "tidings_session"
CSRF_COOKIE = "tidings_csrf"
SECURE_PREFIX = "__Host-"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NOBODY = object()


class CsrfFailed(Forbidden):
    """The form is missing its security token, or it is out of date: reload the page and try again."""

    code = "csrf_failed"


def _accounts(request: Request) -> AccountService:
    accounts: AccountService = request.app.state.runtime.accounts
    return accounts


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


def cookie_name(settings: Settings, base: str) -> str:
    return SECURE_PREFIX + base if settings.secure_cookies else base


# --- sessions


async def current_session(request: Request) -> tuple[User, Session] | None:
    """The signed-in user and their session from the session cookie, looked up once per request."""
    cached = getattr(request.state, "auth", _NOBODY)
    if cached is not _NOBODY:
        return cached  # type: ignore[return-value]
    token = request.cookies.get(cookie_name(_settings(request), SESSION_COOKIE), "")
    found = await _accounts(request).resolve_session(token) if token else None
    request.state.auth = found
    return found


async def current_user(request: Request) -> User | None:
    found = await current_session(request)
    return found[0] if found else None


async def require_user(request: Request) -> User:
    """The signed-in user; Unauthenticated otherwise (pages redirect it to the sign-in form)."""
    user = await current_user(request)
    if user is None:
        raise Unauthenticated("sign in first")
    return user


async def require_role(request: Request, role: str) -> User:
    """The signed-in user if their role is `role` or higher (admin > moderator > reader)."""
    user = await require_user(request)
    if not user.has_role(role):
        raise Forbidden(f"this needs the {role} role")
    return user


def role_dependency(role: str) -> Callable[[Request], Awaitable[User]]:
    """`Depends(role_dependency("moderator"))` for routes that declare their needs in the signature."""

    async def dependency(request: Request) -> User:
        return await require_role(request, role)

    return dependency


def session_token_of(request: Request) -> str | None:
    return request.cookies.get(cookie_name(_settings(request), SESSION_COOKIE)) or None


def set_session_cookie(request: Request, response: Response, signed: SignedIn) -> None:
    """Send a new session's cookie; the rest of this request sees the new session."""
    settings = _settings(request)
    response.set_cookie(
        cookie_name(settings, SESSION_COOKIE),
        signed.token,
        max_age=settings.session_days * 86400,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    request.state.auth = (signed.user, signed.session)


def clear_session_cookie(request: Request, response: Response) -> None:
    settings = _settings(request)
    response.delete_cookie(
        cookie_name(settings, SESSION_COOKIE),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    request.state.auth = None


# --- CSRF


async def csrf_token(request: Request, *, anonymous: bool = False) -> str:
    """The token a form on this page must send back as `csrf_token`.

    Signed in, it is bound to the session; otherwise (or with `anonymous`, for the sign-in and
    sign-up forms) to a random cookie, which respond_with_cookies() sets when it is new.
    """
    found = None if anonymous else await current_session(request)
    if found is not None:
        return csrf.session_token(found[1].csrf_secret)
    settings = _settings(request)
    value = request.cookies.get(cookie_name(settings, CSRF_COOKIE), "")
    if not value or len(value) > 100:
        value = getattr(request.state, "new_csrf_cookie", None) or csrf.new_anonymous_value()
        request.state.new_csrf_cookie = value
    return csrf.anonymous_token(settings.signing_key(), value)


def respond_with_cookies(request: Request, response: Response) -> Response:
    """Set the anonymous CSRF cookie if csrf_token() made a new one for this response."""
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        settings = _settings(request)
        response.set_cookie(
            cookie_name(settings, CSRF_COOKIE),
            value,
            path="/",
            secure=settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )
    return response


async def require_csrf(request: Request, token: str | None = None, *, anonymous: bool = False) -> None:
    """Refuse (403) a state-changing request whose CSRF token is missing or wrong.

    `token` defaults to the posted form's `csrf_token` field, else the X-CSRF-Token header.
    """
    if token is None:
        token = request.headers.get(csrf.HEADER)
        if token is None and request.headers.get("content-type", "").startswith("application/x-www-form"):
            token = (await read_form(request)).get(csrf.FORM_FIELD)
    found = None if anonymous else await current_session(request)
    if found is not None:
        valid = csrf.session_token_valid(found[1].csrf_secret, token)
    else:
        settings = _settings(request)
        cookie = request.cookies.get(cookie_name(settings, CSRF_COOKIE))
        valid = csrf.anonymous_token_valid(settings.signing_key(), cookie, token)
    if not valid:
        raise CsrfFailed("the form's security token is missing or out of date: reload the page and try again")


# --- the JSON API


async def api_user(request: Request) -> User | None:
    """The caller of an API request: `Authorization: Bearer <token>`, else the session cookie.

    A bearer token carries no ambient authority (a browser never adds it by itself), so it needs no
    CSRF token; a cookie does, on every state-changing method, in the X-CSRF-Token header. A bearer
    header that is present but wrong never falls back to the cookie.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return await _accounts(request).resolve_api_token(value.strip())
    found = await current_session(request)
    if found is None:
        return None
    if request.method in UNSAFE_METHODS:
        await require_csrf(request, request.headers.get(csrf.HEADER) or "")
    return found[0]


async def api_csrf_token(request: Request) -> str | None:
    """The X-CSRF-Token a cookie-authenticated API client must send; None for bearer callers."""
    if request.headers.get("authorization") is not None:
        return None
    found = await current_session(request)
    return csrf.session_token(found[1].csrf_secret) if found else None
