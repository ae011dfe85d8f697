"""The installable-app parts: web app manifest, service worker, and the offline fallback page."""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Request, Response

from tidings.web import i18n
from tidings.web.rendering import Renderer, html_response
from tidings.web.routes.common import layout, require_language

THEME_COLOUR = "#1d4ed8"
BACKGROUND_COLOUR = "#ffffff"
# How many visited articles the service worker keeps for offline reading.
MAX_SAVED_PAGES = 30
SHELL_ASSETS = (
    "css/site.css",
    "js/app.js",
    "js/htmx.min.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/maskable-512.png",
)


def manifest(renderer: Renderer) -> dict[str, object]:
    static = renderer.assets.url
    return {
        "id": "/",
        "name": "Tidings",
        "short_name": "Tidings",
        "description": "News from many publishers in English, Korean and Japanese.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": static("icons/maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


def service_worker_source(renderer: Renderer) -> str:
    shell = [renderer.assets.url(name) for name in SHELL_ASSETS] + [
        f"/{lang}/offline" for lang in i18n.LANGUAGES
    ]
    # The worker's bytes must change whenever the shell does, or browsers keep the old worker.
    version = hashlib.blake2b("\n".join(shell).encode(), digest_size=6).hexdigest()
    return (
        renderer.environment(i18n.DEFAULT_LANGUAGE)
        .get_template("sw.js")
        .render(version=version, shell=shell, max_pages=MAX_SAVED_PAGES, languages=list(i18n.LANGUAGES))
    )


def add_pwa_routes(router: APIRouter, renderer: Renderer) -> None:
    manifest_body = json.dumps(manifest(renderer), ensure_ascii=False).encode()
    worker_body = service_worker_source(renderer).encode()

    @router.get("/manifest.webmanifest", include_in_schema=False)
    async def web_manifest() -> Response:
        return Response(
            manifest_body,
            media_type="application/manifest+json",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @router.get("/sw.js", include_in_schema=False)
    async def service_worker() -> Response:
        # Revalidated on every load: a stale worker would pin readers to an old release.
        return Response(
            worker_body,
            media_type="text/javascript; charset=utf-8",
            headers={
                "Cache-Control": "no-cache",
                "Service-Worker-Allowed": "/",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.get("/{lang}/offline", include_in_schema=False)
    async def offline_page(lang: str, request: Request) -> Response:
        require_language(lang)
        return html_response(renderer.render("offline.html", lang, **layout(request, lang, keep_query=False)))
