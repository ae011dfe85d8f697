"""The comment pages: an article's live thread, a story's merged threads, and the forms that change them.

The article page itself is cached for everyone, so it only links here (and htmx loads the thread in
place); everything on these routes is per reader and `no-store`. Every form is a plain POST that
works without JavaScript (303 back to the thread, so a reload never re-posts); with htmx the same
POST answers with the re-rendered thread, swapped in place. Each POST checks its CSRF token first,
then wants an account; a domain error re-renders the thread with a message and its status (403, 404,
409, 422, 429), never a 500.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from tidings.accounts.models import User
from tidings.comments import repo
from tidings.comments.threads import SORTS
from tidings.config import Settings
from tidings.errors import NotFound, RateLimited, TidingsError, Unauthenticated
from tidings.extract.urls import ARTICLE_ID
from tidings.web.auth import csrf_token, current_user, require_csrf, respond_with_cookies
from tidings.web.forms import read_form
from tidings.web.ratelimit import RateLimiter
from tidings.web.rendering import NO_STORE, Renderer, html_response
from tidings.web.routes.common import is_htmx, layout, require_language, runtime_of

POSTS_PER_MINUTE = 10
# Where a form came from: the thread page to re-render (htmx) or redirect back to (plain POST).
THREAD_PATH = re.compile(r"^/(?P<lang>[a-z]{2})/(?P<kind>article|story)/(?P<id>[0-9a-f]{32})/comments$")
_VOTES = {"1": 1, "0": 0, "-1": -1}


class Thread:
    """One thread page: an article's comments or a story's, in one page language."""

    def __init__(self, lang: str, kind: str, target_id: str) -> None:
        self.lang, self.kind, self.id = lang, kind, target_id

    @property
    def path(self) -> str:
        return f"/{self.lang}/{self.kind}/{self.id}/comments"


def add_comment_routes(router: APIRouter, settings: Settings, renderer: Renderer) -> None:
    posting = RateLimiter(limit=POSTS_PER_MINUTE, window_seconds=60, what="comments")

    async def render_thread(
        request: Request,
        thread: Thread,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        draft: str = "",
    ) -> Response:
        """The thread as a full page, or as the fragment htmx swaps in (`HX-Request`)."""
        rt = runtime_of(request)
        user = await current_user(request)
        sort = request.query_params.get("sort", "best")
        sort = sort if sort in SORTS else "best"
        context: dict[str, Any] = {
            "thread_path": thread.path,
            "kind": thread.kind,
            "target_id": thread.id,
            "user": user,
            "sort": sort,
            "error": error,
            "retry_after": retry_after,
            "draft": draft,
            # A fresh token per render: submitting this form twice (double click, retry) stores one comment.
            "client_token": uuid.uuid4().hex,
            "csrf_token": await csrf_token(request) if user is not None else "",
            "signin_url": f"/{thread.lang}/account/signin?{urlencode({'next': thread.path})}",
        }
        if thread.kind == "article":
            context["comments"] = await rt.comments.thread(thread.id, viewer=user, sort=sort)
            context["count"] = await rt.comments.count(thread.id)
        else:
            context["comments"] = await rt.comments.story_threads(thread.id, viewer=user, sort=sort)
            context["count"] = await rt.comments.story_count(thread.id)
        if is_htmx(request):
            body = renderer.render("fragment_comments.html", thread.lang, **context)
        else:
            if thread.kind == "article":
                article = await rt.articles.get(thread.id)
                context.update(title=article.title, back_url=f"/{thread.lang}/article/{thread.id}")
            else:
                detail = await rt.stories.get(thread.id)
                context.update(title=detail.story.title, back_url=f"/{thread.lang}/story/{thread.id}")
            body = renderer.render(
                "comments.html", thread.lang, **layout(request, thread.lang, keep_query=False, **context)
            )
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        response = html_response(body, status=status, cache_control=NO_STORE, headers=headers)
        return respond_with_cookies(request, response)

    async def failed(request: Request, thread: Thread, exc: TidingsError, *, draft: str = "") -> Response:
        if isinstance(exc, Unauthenticated):  # the account vanished mid-request: sign in again
            return sign_in(request, thread)
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        return await render_thread(
            request, thread, status=exc.status, error=exc.code, retry_after=retry_after, draft=draft
        )

    async def done(request: Request, thread: Thread, anchor: str = "") -> Response:
        """After a change: htmx gets the new thread in place, a plain form a 303 back to the thread."""
        if is_htmx(request):
            return await render_thread(request, thread)
        target = thread.path + (f"#{anchor}" if anchor else "")
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": NO_STORE})

    async def acting_user(request: Request, thread: Thread) -> User | Response:
        """CSRF first (a forged post learns nothing, not even whether it was signed in), then the account."""
        await require_csrf(request)
        user = await current_user(request)
        return user if user is not None else sign_in(request, thread)

    # --- reading

    @router.get("/{lang}/article/{article_id}/comments", include_in_schema=False)
    async def article_comments(lang: str, article_id: str, request: Request) -> Response:
        return await render_thread(request, Thread(require_language(lang), "article", _checked(article_id)))

    @router.get("/{lang}/article/{article_id}/comments/count", include_in_schema=False)
    async def article_comment_count(lang: str, article_id: str, request: Request) -> Response:
        """The live counter's fragment: a few bytes every 30 seconds per open page."""
        require_language(lang)
        count = await runtime_of(request).comments.count(_checked(article_id))
        body = renderer.render("fragment_comment_count.html", lang, count=count)
        return html_response(body, cache_control=NO_STORE)

    @router.get("/{lang}/story/{story_id}/comments", include_in_schema=False)
    async def story_comments(lang: str, story_id: str, request: Request) -> Response:
        return await render_thread(request, Thread(require_language(lang), "story", _checked(story_id)))

    # --- writing

    @router.post("/{lang}/article/{article_id}/comments", include_in_schema=False)
    async def post_comment(lang: str, article_id: str, request: Request) -> Response:
        thread = Thread(require_language(lang), "article", _checked(article_id))
        user = await acting_user(request, thread)
        if isinstance(user, Response):
            return user
        form = await read_form(request)
        body, parent = form.get("body", ""), _int(form.get("parent_id"))
        draft = body if parent is None else ""
        try:
            posting.check(f"user:{user.id}")
            view = await runtime_of(request).comments.post(
                user, thread.id, body, parent_id=parent, client_token=form.get("client_token") or None
            )
        except NotFound as exc:
            if parent is None:
                raise  # no such article: the ordinary 404 page
            return await failed(request, thread, exc)
        except TidingsError as exc:
            return await failed(request, thread, exc, draft=draft)
        return await done(request, thread, f"c{view.id}")

    async def comment_action(request: Request, lang: str, comment_id: int, action: str) -> Response:
        require_language(lang)
        rt = runtime_of(request)
        await require_csrf(request)
        form = await read_form(request)
        thread = await thread_of(request, lang, form.get("thread", ""), comment_id)
        user = await current_user(request)
        if user is None:
            return sign_in(request, thread)
        anchor = f"c{comment_id}"
        try:
            if action == "edit":
                await rt.comments.edit(user, comment_id, form.get("body", ""))
            elif action == "delete":
                await rt.comments.delete(user, comment_id)
            elif action == "vote":
                value = _VOTES.get(form.get("value", ""))
                await rt.comments.vote(user, comment_id, value if value is not None else 2)
            else:
                await rt.comments.report(user, comment_id, form.get("reason", ""))
        except TidingsError as exc:
            return await failed(request, thread, exc)
        return await done(request, thread, anchor)

    @router.post("/{lang}/comments/{comment_id}/edit", include_in_schema=False)
    async def edit_comment(lang: str, comment_id: int, request: Request) -> Response:
        return await comment_action(request, lang, comment_id, "edit")

    @router.post("/{lang}/comments/{comment_id}/delete", include_in_schema=False)
    async def delete_comment(lang: str, comment_id: int, request: Request) -> Response:
        return await comment_action(request, lang, comment_id, "delete")

    @router.post("/{lang}/comments/{comment_id}/vote", include_in_schema=False)
    async def vote_comment(lang: str, comment_id: int, request: Request) -> Response:
        return await comment_action(request, lang, comment_id, "vote")

    @router.post("/{lang}/comments/{comment_id}/report", include_in_schema=False)
    async def report_comment(lang: str, comment_id: int, request: Request) -> Response:
        return await comment_action(request, lang, comment_id, "report")


async def thread_of(request: Request, lang: str, posted: str, comment_id: int) -> Thread:
    """The thread a comment form was on (its hidden `thread` field), else the comment's article."""
    match = THREAD_PATH.match(posted)
    if match and match["lang"] == lang:
        return Thread(lang, match["kind"], match["id"])
    async with runtime_of(request).db.session() as session:
        comment = await repo.get_comment(session, comment_id)
    if comment is None:
        raise NotFound(f"no comment {comment_id}")
    return Thread(lang, "article", comment.article_id)


def sign_in(request: Request, thread: Thread) -> Response:
    """Anonymous posts go to the sign-in form and back to the thread; htmx gets 401 and a redirect
    header (a 303 would be followed inside the XHR and swap the sign-in page into the thread)."""
    target = f"/{thread.lang}/account/signin?{urlencode({'next': thread.path})}"
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target, "Cache-Control": NO_STORE})
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": NO_STORE})


def _checked(item_id: str) -> str:
    if not ARTICLE_ID.fullmatch(item_id):
        raise NotFound(f"no article {item_id}")
    return item_id


def _int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 18:
        return None
    return int(value.strip())
