"""The admin pages under /{lang}/admin: the ingestion dashboard, sources and feeds, users.

Every route, GET and POST, declares `Depends(role_dependency("admin"))`: the role is checked on each
request against the live session (a demoted admin's sessions end, see AccountService.set_role), so
nothing here trusts an earlier page view. Each POST checks its CSRF token before reading anything
else, then redirects (303, with a ?done= notice) or re-renders its page with the error's code and
status. Answers are `no-store`: they are per person and must never reach a shared cache.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from tidings.accounts.models import ROLES, User
from tidings.admin import charts
from tidings.admin.service import SPARK_DAYS, AdminService
from tidings.admin.stats import FEED_STATUSES
from tidings.errors import NotFound, TidingsError
from tidings.web.auth import csrf_token, require_csrf, respond_with_cookies, role_dependency
from tidings.web.forms import read_form
from tidings.web.rendering import NO_STORE, Renderer, html_response
from tidings.web.routes.common import layout, require_language, runtime_of

Admin = Annotated[User, Depends(role_dependency("admin"))]
NOTICES = frozenset({"added", "saved", "disabled", "enabled", "polled", "role", "banned", "unbanned"})
MAX_ID = 2**31 - 1  # PostgreSQL's integer: a larger id must be "not found", not a database error
MAX_FIELD = 4096


def admin_service(request: Request) -> AdminService:
    rt = runtime_of(request)
    return AdminService(
        db=rt.db, sources=rt.sources, accounts=rt.accounts, understanding=rt.understanding, queue=rt.queue
    )


def add_admin_routes(router: APIRouter, renderer: Renderer) -> None:
    async def page(
        request: Request, lang: str, template: str, user: User, *, status: int = 200, **context: Any
    ) -> Response:
        done = request.query_params.get("done")
        context.setdefault("notice", done if done in NOTICES else None)
        context.setdefault("error", None)
        context.setdefault("detail", None)
        body = renderer.render(
            template,
            lang,
            **layout(
                request,
                lang,
                keep_query=False,
                csrf_token=await csrf_token(request),
                user=user,
                hourly_chart=charts.hourly_chart,
                polls_chart=charts.polls_chart,
                status_chart=charts.status_chart,
                sparkline=charts.sparkline,
                **context,
            ),
        )
        response = html_response(body, status=status, cache_control=NO_STORE)
        return respond_with_cookies(request, response)

    def done(url: str) -> Response:
        return RedirectResponse(url, status_code=303, headers={"Cache-Control": NO_STORE})

    async def form_of(request: Request) -> dict[str, str]:
        """The posted form, after its CSRF token was checked; every field bounded in length."""
        await require_csrf(request)
        return {name: value[:MAX_FIELD] for name, value in (await read_form(request)).items()}

    # --- the dashboard

    @router.get("/{lang}/admin", include_in_schema=False)
    async def dashboard(lang: str, request: Request, user: Admin) -> Response:
        require_language(lang)
        board = await admin_service(request).dashboard()
        return await page(request, lang, "admin_dashboard.html", user, board=board, statuses=FEED_STATUSES)

    # --- sources and feeds

    async def sources_page(
        request: Request, lang: str, user: Admin, *, status: int = 200, **context: Any
    ) -> Response:
        listed = await admin_service(request).sources_health()
        context.setdefault("url", "")
        return await page(
            request,
            lang,
            "admin_sources.html",
            user,
            status=status,
            sources=listed,
            days=SPARK_DAYS,
            **context,
        )

    @router.get("/{lang}/admin/sources", include_in_schema=False)
    async def sources(lang: str, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await sources_page(request, lang, user)

    @router.post("/{lang}/admin/sources", include_in_schema=False)
    async def add_source(lang: str, request: Request, user: Admin) -> Response:
        require_language(lang)
        form = await form_of(request)
        url = form.get("url", "")
        try:
            added = await admin_service(request).add_source(url)
        except TidingsError as exc:
            return await sources_page(
                request, lang, user, status=exc.status, error=exc.code, detail=exc.message, url=url[:2048]
            )
        slug = await admin_service(request).source_slug_of_feed(added.feed_id)
        return done(f"/{lang}/admin/sources/{_segment(slug)}?done=added")

    async def source_page(
        request: Request, lang: str, slug: str, user: Admin, *, status: int = 200, **context: Any
    ) -> Response:
        service = admin_service(request)
        health = await service.source(slug)
        history = await service.history([f.feed.id for f in health.feeds])
        source = health.source
        context.setdefault(
            "values",
            {
                "name": source.name,
                "homepage": source.homepage_url or "",
                "country": source.country or "",
                "language": source.language or "",
            },
        )
        return await page(
            request,
            lang,
            "admin_source.html",
            user,
            status=status,
            health=health,
            history=history,
            days=SPARK_DAYS,
            **context,
        )

    @router.get("/{lang}/admin/sources/{slug}", include_in_schema=False)
    async def source(lang: str, slug: str, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await source_page(request, lang, slug, user)

    @router.post("/{lang}/admin/sources/{slug}", include_in_schema=False)
    async def edit_source(lang: str, slug: str, request: Request, user: Admin) -> Response:
        require_language(lang)
        form = await form_of(request)
        try:
            await admin_service(request).update_source(
                slug,
                name=form.get("name", ""),
                homepage=form.get("homepage", ""),
                country=form.get("country", ""),
                language=form.get("language", ""),
            )
        except NotFound:
            raise
        except TidingsError as exc:
            values = {key: form.get(key, "")[:2048] for key in ("name", "homepage", "country", "language")}
            return await source_page(
                request, lang, slug, user, status=exc.status, error=exc.code, values=values
            )
        return done(f"/{lang}/admin/sources/{_segment(slug)}?done=saved")

    async def feed_action(request: Request, lang: str, feed_id: int, action: str) -> Response:
        form = await form_of(request)
        feed_id = _checked_id(feed_id, "feed")
        service = admin_service(request)
        slug = await service.source_slug_of_feed(feed_id)
        if action == "poll":
            await service.poll_now(feed_id)
            notice = "polled"
        else:
            disabling = action == "disable"
            await service.set_feed_disabled(feed_id, disabled=disabling, reason=form.get("reason", ""))
            notice = "disabled" if disabling else "enabled"
        return done(f"/{lang}/admin/sources/{_segment(slug)}?done={notice}#feed-{feed_id}")

    @router.post("/{lang}/admin/feeds/{feed_id}/disable", include_in_schema=False)
    async def disable_feed(lang: str, feed_id: int, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await feed_action(request, lang, feed_id, "disable")

    @router.post("/{lang}/admin/feeds/{feed_id}/enable", include_in_schema=False)
    async def enable_feed(lang: str, feed_id: int, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await feed_action(request, lang, feed_id, "enable")

    @router.post("/{lang}/admin/feeds/{feed_id}/poll", include_in_schema=False)
    async def poll_feed(lang: str, feed_id: int, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await feed_action(request, lang, feed_id, "poll")

    # --- users

    async def users_page(
        request: Request, lang: str, user: Admin, *, status: int = 200, **context: Any
    ) -> Response:
        listed = await admin_service(request).users()
        return await page(
            request, lang, "admin_users.html", user, status=status, users=listed, roles=ROLES, **context
        )

    @router.get("/{lang}/admin/users", include_in_schema=False)
    async def users(lang: str, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await users_page(request, lang, user)

    async def user_action(request: Request, lang: str, user: User, user_id: int, action: str) -> Response:
        form = await form_of(request)
        user_id = _checked_id(user_id, "user")
        service = admin_service(request)
        try:
            if action == "role":
                await service.set_role(user, user_id, form.get("role", ""))
                notice = "role"
            elif action == "ban":
                await service.ban(user, user_id, form.get("reason", ""))
                notice = "banned"
            else:
                await service.unban(user_id)
                notice = "unbanned"
        except NotFound:
            raise
        except TidingsError as exc:
            return await users_page(request, lang, user, status=exc.status, error=exc.code)
        return done(f"/{lang}/admin/users?done={notice}#user-{user_id}")

    @router.post("/{lang}/admin/users/{user_id}/role", include_in_schema=False)
    async def change_role(lang: str, user_id: int, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await user_action(request, lang, user, user_id, "role")

    @router.post("/{lang}/admin/users/{user_id}/ban", include_in_schema=False)
    async def ban_user(lang: str, user_id: int, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await user_action(request, lang, user, user_id, "ban")

    @router.post("/{lang}/admin/users/{user_id}/unban", include_in_schema=False)
    async def unban_user(lang: str, user_id: int, request: Request, user: Admin) -> Response:
        require_language(lang)
        return await user_action(request, lang, user, user_id, "unban")


def _checked_id(value: int, what: str) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFound(f"no {what} {value}")
    return value


def _segment(slug: str) -> str:
    return quote(slug, safe="")
