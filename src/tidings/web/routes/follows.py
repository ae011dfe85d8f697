"""Following, muting, saving and the personal "For you" page.

Source, hashtag, story and article pages are shared (`public` HTTP caching; the article page also
sits in the server's page cache), so they carry no per-reader state: only a plain link to a small
uncached page (`/{lang}/follow?kind=tag&target=trade`, `/{lang}/article/{id}/save`) that shows the
reader's own buttons. With htmx the same URL is fetched in place and its buttons post in place.
Every POST checks its CSRF token first, then needs an account, then redirects back (303, to a
same-site `next` only) or answers htmx with the refreshed buttons. Everything here is `no-store`.

Reading history comes from a beacon, `POST /{lang}/article/{id}/read`, that app.js sends from the
cached article page. That page cannot carry a CSRF token, so the beacon instead requires the header
`X-Requested-With: tidings`: a cross-site form cannot set custom headers, and a cross-site fetch
that sets one needs a CORS preflight this site never grants; and the session cookie is SameSite=Lax,
so it is not sent on cross-site POSTs anyway. The beacon's only effect is one row of reading
history, so the worst a forgery could do is nothing a reader would notice.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tidings.accounts.models import User
from tidings.errors import Forbidden, InvalidInput, NotFound
from tidings.extract.urls import ARTICLE_ID
from tidings.follows.models import FOLLOW_KINDS, MUTE_KINDS, TARGET_MAX
from tidings.web.auth import csrf_token, current_user, require_csrf, require_user, respond_with_cookies
from tidings.web.forms import read_form
from tidings.web.rendering import NO_STORE, Renderer, html_response
from tidings.web.routes.accounts import safe_next
from tidings.web.routes.common import (
    LIST_PAGE_SIZE,
    cursor_of,
    is_htmx,
    layout,
    page_url,
    require_language,
    runtime_of,
)

BEACON_HEADER = "x-requested-with"
BEACON_VALUE = "tidings"
MAX_LOCAL_PARAM = 2000
VARY = {"Vary": "HX-Request, Cookie"}
ACTIONS = {"follow": FOLLOW_KINDS, "unfollow": FOLLOW_KINDS, "mute": MUTE_KINDS, "unmute": MUTE_KINDS}


def add_follow_routes(router: APIRouter, renderer: Renderer) -> None:
    def respond(request: Request, lang: str, template: str, *, status: int = 200, **context: Any) -> Response:
        body = renderer.render(template, lang, **context)
        response = html_response(body, status=status, cache_control=NO_STORE, headers=VARY)
        return respond_with_cookies(request, response)

    async def controls_context(
        request: Request, lang: str, kind: str, target: str, next_url: str
    ) -> dict[str, Any]:
        user = await current_user(request)
        follows = runtime_of(request).follows
        following, muted = await follows.state(user, kind, target) if user else (False, False)
        label = (await follows.labels([(kind, target)])).get((kind, target), target)
        return {
            "user": user,
            "kind": kind,
            "target": target,
            "label": label,
            "following": following,
            "muted": muted,
            "can_mute": kind in MUTE_KINDS,
            "next": next_url,
            "csrf_token": await csrf_token(request) if user else "",
        }

    @router.get("/{lang}/follow", include_in_schema=False)
    async def follow_page(lang: str, request: Request) -> Response:
        """The reader's follow (and mute) buttons for one source, hashtag or story."""
        require_language(lang)
        kind, target = _target(
            request.query_params.get("kind"), request.query_params.get("target"), FOLLOW_KINDS
        )
        next_url = safe_next(request.query_params.get("next"), lang)
        context = await controls_context(request, lang, kind, target, next_url)
        if is_htmx(request):
            return respond(request, lang, "fragment_follow.html", **context)
        return respond(request, lang, "follow.html", **layout(request, lang, **context))

    async def change(lang: str, action: str, request: Request) -> Response:
        require_language(lang)
        await require_csrf(request)
        user = await require_user(request)
        form = await read_form(request)
        kind, target = _target(form.get("kind"), form.get("target"), ACTIONS[action])
        follows = runtime_of(request).follows
        await getattr(follows, action)(user, kind, target)
        next_url = safe_next(form.get("next"), lang)
        if is_htmx(request):
            context = await controls_context(request, lang, kind, target, next_url)
            return respond(request, lang, "fragment_follow.html", **context)
        return _see_other(next_url)

    for action in ACTIONS:
        router.add_api_route(
            f"/{{lang}}/{action}",
            _bind(change, action),
            methods=["POST"],
            include_in_schema=False,
        )

    @router.get("/{lang}/for-you", include_in_schema=False)
    async def for_you(lang: str, request: Request) -> Response:
        require_language(lang)
        user = await current_user(request)
        if user is None:
            return respond(
                request, lang, "for_you.html", **layout(request, lang, user=None, items=[], next_url=None)
            )
        page = await runtime_of(request).follows.for_you(
            user, limit=LIST_PAGE_SIZE, cursor=cursor_of(request)
        )
        next_url = page_url(request.url.path, cursor=page.next_cursor) if page.next_cursor else None
        if is_htmx(request) and cursor_of(request):
            return respond(request, lang, "fragment_for_you.html", items=page.items, next_url=next_url)
        return respond(
            request,
            lang,
            "for_you.html",
            **layout(request, lang, user=user, items=page.items, next_url=next_url),
        )

    @router.get("/{lang}/for-you/local", include_in_schema=False)
    async def for_you_local(lang: str, request: Request) -> Response:
        """The anonymous reader's page, from the follows their browser keeps: no state, no account."""
        require_language(lang)
        tags = _split(request.query_params.get("tags", ""))
        sources = _split(request.query_params.get("sources", ""))
        page = await runtime_of(request).follows.for_you_local(
            tags=tags, sources=sources, limit=LIST_PAGE_SIZE
        )
        return respond(request, lang, "fragment_for_you.html", items=page.items, next_url=None, local=True)

    @router.get("/{lang}/following", include_in_schema=False)
    async def following(lang: str, request: Request) -> Response:
        require_language(lang)
        user = await require_user(request)
        follows = runtime_of(request).follows
        context = layout(
            request,
            lang,
            user=user,
            following=await follows.following(user),
            saved=await follows.saved(user),
            csrf_token=await csrf_token(request),
            next=f"/{lang}/following",
        )
        return respond(request, lang, "following.html", **context)

    async def save_context(request: Request, lang: str, article_id: str, user: User | None) -> dict[str, Any]:
        article = await runtime_of(request).articles.get(article_id)
        saved = await runtime_of(request).follows.is_saved(user, article_id) if user else False
        return {
            "user": user,
            "article": article,
            "saved": saved,
            "csrf_token": await csrf_token(request) if user else "",
            "signin_url": f"/{lang}/account/signin?{urlencode({'next': f'/{lang}/article/{article_id}/save'})}",
        }

    @router.get("/{lang}/article/{article_id}/save", include_in_schema=False)
    async def save_page(lang: str, article_id: str, request: Request) -> Response:
        require_language(lang)
        _article_id(article_id)
        context = await save_context(request, lang, article_id, await current_user(request))
        if is_htmx(request):
            return respond(request, lang, "fragment_save.html", **context)
        return respond(request, lang, "article_save.html", **layout(request, lang, **context))

    async def save_change(lang: str, article_id: str, request: Request, *, save: bool) -> Response:
        require_language(lang)
        _article_id(article_id)
        await require_csrf(request)
        user = await require_user(request)
        follows = runtime_of(request).follows
        await (follows.save(user, article_id) if save else follows.unsave(user, article_id))
        if is_htmx(request):
            return respond(
                request, lang, "fragment_save.html", **await save_context(request, lang, article_id, user)
            )
        next_url = safe_next((await read_form(request)).get("next"), lang)
        return _see_other(
            next_url if next_url != f"/{lang}/account" else f"/{lang}/article/{article_id}/save"
        )

    @router.post("/{lang}/article/{article_id}/save", include_in_schema=False)
    async def save(lang: str, article_id: str, request: Request) -> Response:
        return await save_change(lang, article_id, request, save=True)

    @router.post("/{lang}/article/{article_id}/unsave", include_in_schema=False)
    async def unsave(lang: str, article_id: str, request: Request) -> Response:
        return await save_change(lang, article_id, request, save=False)

    @router.post("/{lang}/article/{article_id}/read", include_in_schema=False)
    async def read_beacon(lang: str, article_id: str, request: Request) -> Response:
        """Record a read for a signed-in reader; anonymous readers' beacons are accepted and dropped."""
        require_language(lang)
        _article_id(article_id)
        if request.headers.get(BEACON_HEADER, "").lower() != BEACON_VALUE:
            raise Forbidden("send X-Requested-With: tidings")
        user = await current_user(request)
        if user is not None:
            await runtime_of(request).follows.record_read(user, article_id)
        return Response(status_code=204, headers={"Cache-Control": NO_STORE})


def _bind(handler: Any, action: str) -> Any:
    async def route(lang: str, request: Request) -> Response:
        return await handler(lang, action, request)  # type: ignore[no-any-return]

    route.__name__ = f"{action}_target"
    return route


def _target(kind: str | None, target: str | None, kinds: tuple[str, ...]) -> tuple[str, str]:
    kind, target = (kind or "").strip(), (target or "").strip()
    if kind not in kinds or not target or len(target) > TARGET_MAX or not target.isprintable():
        raise InvalidInput("name a source, hashtag or story to follow", code="invalid_target")
    return kind, target


def _article_id(article_id: str) -> None:
    if not ARTICLE_ID.fullmatch(article_id):
        raise NotFound(f"no article {article_id}")


def _split(value: str) -> list[str]:
    return [part for part in value[:MAX_LOCAL_PARAM].split(",") if part.strip()]


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": NO_STORE})
