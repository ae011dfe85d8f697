"""The HTML site: `/` → `/{lang}/`, then every page under /en/, /ko/ and /ja/ (issue 3).

Routes live in `tidings.web.routes`: article (cached), listings (home, source, hashtag, search),
pwa (manifest, service worker, offline page), assets (fingerprinted /static files) and accounts
(sign-in, sign-up and the account's own pages; never cached), comments (threads and their forms)
and moderation (the queue); never cached.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from tidings.config import Settings
from tidings.web.i18n import negotiate_language
from tidings.web.pagecache import PageCache
from tidings.web.rendering import renderer_for
from tidings.web.routes.accounts import add_account_routes
from tidings.web.routes.admin import add_admin_routes
from tidings.web.routes.ai import add_ai_routes
from tidings.web.routes.article import add_article_route
from tidings.web.routes.assets import add_assets_routes
from tidings.web.routes.comments import add_comment_routes
from tidings.web.routes.follows import add_follow_routes
from tidings.web.routes.listings import add_listing_routes
from tidings.web.routes.moderation import add_moderation_routes
from tidings.web.routes.pwa import add_pwa_routes
from tidings.web.routes.story import add_story_routes


def build_pages_router(settings: Settings, *, page_cache: PageCache | None = None) -> APIRouter:
    renderer = renderer_for(settings.signing_key())
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def choose_language(request: Request) -> RedirectResponse:
        lang = negotiate_language(request.headers.get("accept-language"))
        return RedirectResponse(
            f"/{lang}/",
            status_code=302,
            headers={"Vary": "Accept-Language", "Cache-Control": "private, no-cache"},
        )

    # One flat router, the article page first: FastAPI walks nested routers route by route, and the
    # article page is the one that must be fast.
    add_article_route(router, settings, renderer, page_cache if page_cache is not None else PageCache())
    add_assets_routes(router, renderer.assets)
    add_pwa_routes(router, renderer)
    add_listing_routes(router, renderer)
    add_story_routes(router, renderer)
    add_ai_routes(router, settings, renderer)
    add_account_routes(router, settings, renderer)
    add_follow_routes(router, renderer)
    add_admin_routes(router, renderer)
    add_comment_routes(router, settings, renderer)
    add_moderation_routes(router, renderer)
    return router
