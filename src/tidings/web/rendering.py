"""Jinja2 environments (one per page language), their filters, and the HTML response with its headers.

One environment per language rather than one with per-request translations: the gettext callables
are installed once, compiled templates are shared by every request, and nothing is mutable per request.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Response

from tidings.web import i18n
from tidings.web.imageproxy import ALLOWED_WIDTHS, sign_image_url
from tidings.web.routes.assets import StaticAssets

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PAGE_CACHE_CONTROL = "public, max-age=60"
NO_STORE = "no-store"
# Scripts, styles and images from this origin only; no inline script or style anywhere (JSON-LD is
# data, not script: browsers don't execute application/ld+json, so CSP doesn't block it).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
}
# srcset candidates for article images; the largest proxied width is plenty for a 2x phone screen.
LEAD_WIDTHS = (480, 640, 960, 1280)
CARD_WIDTHS = (160, 320, 480, 640)


def html_response(
    body: str | bytes,
    *,
    status: int = 200,
    cache_control: str = PAGE_CACHE_CONTROL,
    headers: Mapping[str, str] | None = None,
) -> Response:
    merged = {**SECURITY_HEADERS, "Cache-Control": cache_control, **(headers or {})}
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=merged)


def json_ld(data: Mapping[str, Any]) -> str:
    """JSON for a `<script type="application/ld+json">` block.

    `<`, `>` and `&` are written as \\u escapes: the result is the same JSON, but a title containing
    `</script>` or `<!--` can no longer end the block early and inject markup.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class ImageSigner:
    """Proxied image URLs for templates: `src` and `srcset` through `/img`, signed with the site key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def src(self, url: str, width: int) -> str:
        return sign_image_url(self._key, url, width)

    def srcset(self, url: str, widths: tuple[int, ...]) -> str:
        return ", ".join(f"{sign_image_url(self._key, url, w)} {w}w" for w in widths if w in ALLOWED_WIDTHS)


class Renderer:
    def __init__(
        self, *, signing_key: bytes, assets: StaticAssets, templates_dir: Path = TEMPLATES_DIR
    ) -> None:
        self.assets = assets
        loader = jinja2.FileSystemLoader(templates_dir)
        signer = ImageSigner(signing_key)
        self._envs = {lang: _make_env(lang, loader, assets, signer) for lang in i18n.LANGUAGES}

    def render(self, template: str, lang: str, **context: Any) -> str:
        return self._envs[lang].get_template(template).render(lang=lang, **context)

    def environment(self, lang: str) -> jinja2.Environment:
        return self._envs[lang]


@functools.lru_cache(maxsize=4)
def renderer_for(signing_key: bytes) -> Renderer:
    """One renderer per site key, shared by the pages and the error handlers of an app."""
    return Renderer(signing_key=signing_key, assets=StaticAssets())


def _make_env(
    lang: str, loader: jinja2.BaseLoader, assets: StaticAssets, signer: ImageSigner
) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no stat() per render
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static=assets.url,
        image_src=signer.src,
        image_srcset=signer.srcset,
        lead_widths=LEAD_WIDTHS,
        card_widths=CARD_WIDTHS,
        languages=i18n.LANGUAGES,
        language_names=i18n.LANGUAGE_NAMES,
        og_locale=i18n.OG_LOCALES[lang],
    )
    env.filters.update(
        reltime=functools.partial(_relative, lang=lang),
        abstime=functools.partial(i18n.absolute_time, lang=lang),
        isotime=_iso,
        seg=_path_segment,
        number=functools.partial(i18n.number, lang=lang),
        language_name=functools.partial(i18n.language_name, lang=lang),
        country_name=functools.partial(i18n.country_name, lang=lang),
    )
    return env


def _relative(moment: datetime, lang: str) -> str:
    return i18n.relative_time(moment, lang)


def _path_segment(value: str) -> str:
    """A slug as one URL path segment: publisher names may put `?`, `#` or `&` in a slug."""
    return quote(value, safe="")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
