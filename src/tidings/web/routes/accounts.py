"""The account pages: /{lang}/account, sign-up, sign-in, sign-out, password, deletion, API tokens.

Plain HTML forms, no JavaScript needed: each POST checks its CSRF token first, then either
redirects (303, so a reload never re-posts) or re-renders its form with a message in the page's
language and a status that says what went wrong (401 wrong credentials, 409 email taken, 422
invalid input, 429 too many attempts with Retry-After). Every answer is `no-store`: these pages are
per person and must never reach the shared page cache or a proxy.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from tidings.accounts.models import User
from tidings.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from tidings.accounts.service import AccountLocked, InvalidCredentials
from tidings.config import Settings
from tidings.errors import RateLimited, TidingsError
from tidings.web.auth import (
    clear_session_cookie,
    csrf_token,
    current_user,
    require_csrf,
    require_user,
    respond_with_cookies,
    session_token_of,
    set_session_cookie,
)
from tidings.web.forms import read_form
from tidings.web.ratelimit import RateLimiter, client_key
from tidings.web.rendering import NO_STORE, Renderer, html_response
from tidings.web.routes.common import layout, require_language, runtime_of

# Notices shown on the overview after a redirect (?done=...): only these names are honoured.
NOTICES = frozenset({"signed_up", "signed_in", "signed_out", "password", "deleted"})
MAX_NEXT = 2000
SignedInUser = Annotated[User, Depends(require_user)]


def add_account_routes(router: APIRouter, settings: Settings, renderer: Renderer) -> None:
    signins = RateLimiter(limit=settings.signins_per_minute, window_seconds=60, what="sign-in attempts")
    signups = RateLimiter(limit=settings.signups_per_hour, window_seconds=3600, what="sign-ups")

    async def page(
        request: Request,
        lang: str,
        template: str,
        *,
        status: int = 200,
        anonymous: bool = False,
        has_form: bool = True,
        **context: Any,
    ) -> Response:
        # No form, no token: a visitor merely looking at the overview gets no cookie.
        token = await csrf_token(request, anonymous=anonymous) if has_form else ""
        context.setdefault("retry_after", None)
        context.setdefault("retry_minutes", None)
        body = renderer.render(
            template,
            lang,
            **layout(
                request,
                lang,
                keep_query=False,
                csrf_token=token,
                min_length=MIN_LENGTH,
                max_length=MAX_LENGTH,
                **context,
            ),
        )
        headers = {"Retry-After": str(context["retry_after"])} if context.get("retry_after") else None
        response = html_response(body, status=status, cache_control=NO_STORE, headers=headers)
        return respond_with_cookies(request, response)

    def failure(
        request: Request, lang: str, template: str, exc: TidingsError, **context: Any
    ) -> Awaitable[Response]:
        retry_after = getattr(exc, "retry_after", None) if isinstance(exc, RateLimited) else None
        return page(
            request,
            lang,
            template,
            status=exc.status,
            error=exc.code,
            retry_after=retry_after,
            retry_minutes=-(-retry_after // 60) if retry_after else None,
            **context,
        )

    @router.get("/{lang}/account", include_in_schema=False)
    async def overview(lang: str, request: Request) -> Response:
        require_language(lang)
        done = request.query_params.get("done")
        user = await current_user(request)
        notice = done if done in NOTICES else None
        return await page(request, lang, "account.html", has_form=user is not None, user=user, notice=notice)

    @router.get("/{lang}/account/signup", include_in_schema=False)
    async def signup_form(lang: str, request: Request) -> Response:
        require_language(lang)
        return await page(request, lang, "account_signup.html", anonymous=True, error=None, email="", name="")

    @router.post("/{lang}/account/signup", include_in_schema=False)
    async def signup(lang: str, request: Request) -> Response:
        require_language(lang)
        await require_csrf(request, anonymous=True)
        form = await read_form(request)
        email, name = form.get("email", "")[:400], form.get("display_name", "")[:400]
        context: dict[str, Any] = {"anonymous": True, "email": email, "name": name}
        rt = runtime_of(request)
        try:
            signups.check(client_key(request))
            if form.get("password", "") != form.get("password_again", ""):
                return await page(
                    request, lang, "account_signup.html", status=422, error="password_mismatch", **context
                )
            user = await rt.accounts.sign_up(email, form.get("password", ""), name)
            signed = await rt.accounts.create_session(user, replacing=session_token_of(request))
        except TidingsError as exc:
            return await failure(request, lang, "account_signup.html", exc, **context)
        response = RedirectResponse(f"/{lang}/account?done=signed_up", status_code=303)
        set_session_cookie(request, response, signed)
        return _no_store(response)

    @router.get("/{lang}/account/signin", include_in_schema=False)
    async def signin_form(lang: str, request: Request) -> Response:
        require_language(lang)
        next_url = safe_next(request.query_params.get("next"), lang)
        return await page(
            request, lang, "account_signin.html", anonymous=True, error=None, email="", next=next_url
        )

    @router.post("/{lang}/account/signin", include_in_schema=False)
    async def signin(lang: str, request: Request) -> Response:
        require_language(lang)
        await require_csrf(request, anonymous=True)
        form = await read_form(request)
        email, next_url = form.get("email", "")[:400], safe_next(form.get("next"), lang)
        context: dict[str, Any] = {"anonymous": True, "email": email, "next": next_url}
        try:
            signins.check(client_key(request))
            signed = await runtime_of(request).accounts.sign_in(
                email, form.get("password", ""), replacing=session_token_of(request)
            )
        except TidingsError as exc:
            return await failure(request, lang, "account_signin.html", exc, **context)
        if next_url == f"/{lang}/account":
            next_url += "?done=signed_in"
        response = RedirectResponse(next_url, status_code=303)
        set_session_cookie(request, response, signed)
        return _no_store(response)

    @router.post("/{lang}/account/signout", include_in_schema=False)
    async def signout(lang: str, request: Request) -> Response:
        require_language(lang)
        await require_csrf(request)
        token = session_token_of(request)
        if token:
            await runtime_of(request).accounts.sign_out(token)
        response = RedirectResponse(f"/{lang}/account?done=signed_out", status_code=303)
        clear_session_cookie(request, response)
        return _no_store(response)

    @router.get("/{lang}/account/password", include_in_schema=False)
    async def password_form(lang: str, request: Request, user: SignedInUser) -> Response:
        require_language(lang)
        return await page(request, lang, "account_password.html", user=user, error=None)

    @router.post("/{lang}/account/password", include_in_schema=False)
    async def change_password(lang: str, request: Request, user: SignedInUser) -> Response:
        require_language(lang)
        await require_csrf(request)
        form = await read_form(request)
        new = form.get("new_password", "")
        if new != form.get("new_password_again", ""):
            return await page(
                request, lang, "account_password.html", status=422, user=user, error="password_mismatch"
            )
        try:
            signed = await runtime_of(request).accounts.change_password(
                user, form.get("current_password", ""), new, current_token=session_token_of(request)
            )
        except TidingsError as exc:
            return await failure(request, lang, "account_password.html", _wrong_password(exc), user=user)
        response = RedirectResponse(f"/{lang}/account?done=password", status_code=303)
        set_session_cookie(request, response, signed)
        return _no_store(response)

    @router.get("/{lang}/account/delete", include_in_schema=False)
    async def delete_form(lang: str, request: Request, user: SignedInUser) -> Response:
        require_language(lang)
        return await page(request, lang, "account_delete.html", user=user, error=None)

    @router.post("/{lang}/account/delete", include_in_schema=False)
    async def delete_account(lang: str, request: Request, user: SignedInUser) -> Response:
        require_language(lang)
        await require_csrf(request)
        form = await read_form(request)
        try:
            await runtime_of(request).accounts.delete_account(user, form.get("password", ""))
        except TidingsError as exc:
            return await failure(request, lang, "account_delete.html", _wrong_password(exc), user=user)
        response = RedirectResponse(f"/{lang}/account?done=deleted", status_code=303)
        clear_session_cookie(request, response)
        return _no_store(response)

    async def tokens_page(
        request: Request, lang: str, user: User, *, new_token: str | None = None
    ) -> Response:
        tokens = await runtime_of(request).accounts.api_tokens(user.id)
        return await page(
            request,
            lang,
            "account_tokens.html",
            user=user,
            tokens=tokens,
            error=None,
            new_token=new_token,
            token_name="",
        )

    @router.get("/{lang}/account/tokens", include_in_schema=False)
    async def tokens(lang: str, request: Request, user: SignedInUser) -> Response:
        require_language(lang)
        return await tokens_page(request, lang, user)

    @router.post("/{lang}/account/tokens", include_in_schema=False)
    async def create_token(lang: str, request: Request, user: SignedInUser) -> Response:
        """Answers with the page itself rather than a redirect: the new token is shown this once."""
        require_language(lang)
        await require_csrf(request)
        name = (await read_form(request)).get("name", "")[:400]
        rt = runtime_of(request)
        try:
            token, _ = await rt.accounts.create_api_token(user, name)
        except TidingsError as exc:
            listed = await rt.accounts.api_tokens(user.id)
            return await failure(
                request,
                lang,
                "account_tokens.html",
                exc,
                user=user,
                tokens=listed,
                new_token=None,
                token_name=name,
            )
        return await tokens_page(request, lang, user, new_token=token)

    @router.post("/{lang}/account/tokens/{token_id}/revoke", include_in_schema=False)
    async def revoke_token(lang: str, token_id: int, request: Request, user: SignedInUser) -> Response:
        require_language(lang)
        await require_csrf(request)
        await runtime_of(request).accounts.revoke_api_token(user.id, token_id)
        return _no_store(RedirectResponse(f"/{lang}/account/tokens", status_code=303))


def safe_next(value: str | None, lang: str) -> str:
    """Where to go after signing in: a path on this site only (no open redirect to `//evil`)."""
    default = f"/{lang}/account"
    if not value or len(value) > MAX_NEXT or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 0x20 or char == "\\" for char in value):
        return default
    return value


def _wrong_password(exc: TidingsError) -> TidingsError:
    """On the signed-in forms a wrong password is the person's own: say so plainly (400)."""
    if isinstance(exc, InvalidCredentials) and not isinstance(exc, AccountLocked):
        wrong = TidingsError("the password is wrong", code="wrong_password")
        wrong.status = 400
        return wrong
    return exc


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    return response
