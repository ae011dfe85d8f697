"""`/{lang}/moderation`: the queue of held and reported comments, and the hide/restore/ban forms.

Moderators and admins only, checked on every request, GET and POST alike (and the comment service
checks the role again, from the database, inside each action). Each POST checks its CSRF token first;
success is a 303 back to the queue (or to the thread the form was on), a refused action re-renders the
queue with a message and its status. Per person: `no-store`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tidings.accounts.models import User
from tidings.errors import TidingsError
from tidings.web.auth import csrf_token, require_csrf, require_role, respond_with_cookies
from tidings.web.forms import read_form
from tidings.web.rendering import NO_STORE, Renderer, html_response
from tidings.web.routes.comments import THREAD_PATH
from tidings.web.routes.common import layout, require_language, runtime_of

# Notices after a redirect (?done=...): only these names are honoured.
NOTICES = frozenset({"hidden", "restored", "banned", "unbanned"})


def add_moderation_routes(router: APIRouter, renderer: Renderer) -> None:
    async def queue_page(
        request: Request, lang: str, user: User, *, status: int = 200, error: str | None = None
    ) -> Response:
        items = await runtime_of(request).comments.queue(user)
        done = request.query_params.get("done")
        context = layout(
            request,
            lang,
            keep_query=False,
            user=user,
            items=items,
            error=error,
            notice=done if done in NOTICES else None,
            csrf_token=await csrf_token(request),
        )
        body = renderer.render("moderation.html", lang, **context)
        return respond_with_cookies(request, html_response(body, status=status, cache_control=NO_STORE))

    @router.get("/{lang}/moderation", include_in_schema=False)
    async def moderation(lang: str, request: Request) -> Response:
        require_language(lang)
        user = await require_role(request, "moderator")
        return await queue_page(request, lang, user)

    async def act(request: Request, lang: str, action: str, target: int) -> Response:
        require_language(lang)
        await require_csrf(request)
        user = await require_role(request, "moderator")
        form = await read_form(request)
        comments = runtime_of(request).comments
        reason = form.get("reason", "")
        try:
            if action == "hide":
                await comments.hide(user, target, reason)
            elif action == "restore":
                await comments.restore(user, target)
            elif action == "ban":
                await comments.ban(user, target, reason)
            else:
                await comments.unban(user, target)
        except TidingsError as exc:
            return await queue_page(request, lang, user, status=exc.status, error=exc.code)
        # A moderator acting from a thread goes back to it; from the queue, back to the queue.
        match = THREAD_PATH.match(form.get("thread", ""))
        if match and match["lang"] == lang:
            back = f"{match.group(0)}#c{target}" if action in ("hide", "restore") else match.group(0)
        else:
            back = f"/{lang}/moderation?done={_DONE[action]}"
        return RedirectResponse(back, status_code=303, headers={"Cache-Control": NO_STORE})

    @router.post("/{lang}/moderation/comments/{comment_id}/hide", include_in_schema=False)
    async def hide(lang: str, comment_id: int, request: Request) -> Response:
        return await act(request, lang, "hide", comment_id)

    @router.post("/{lang}/moderation/comments/{comment_id}/restore", include_in_schema=False)
    async def restore(lang: str, comment_id: int, request: Request) -> Response:
        return await act(request, lang, "restore", comment_id)

    @router.post("/{lang}/moderation/users/{user_id}/ban", include_in_schema=False)
    async def ban(lang: str, user_id: int, request: Request) -> Response:
        return await act(request, lang, "ban", user_id)

    @router.post("/{lang}/moderation/users/{user_id}/unban", include_in_schema=False)
    async def unban(lang: str, user_id: int, request: Request) -> Response:
        return await act(request, lang, "unban", user_id)


_DONE = {"hide": "hidden", "restore": "restored", "ban": "banned", "unban": "unbanned"}
