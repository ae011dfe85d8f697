"""Helpers every page route shares: the language prefix, the layout's context, list pagination links."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from tidings.errors import NotFound
from tidings.runtime import Runtime
from tidings.web import i18n

# A content-language filter value: a bare ISO 639 code. Anything else is ignored, not an error.
_CONTENT_LANGUAGE = re.compile(r"[a-z]{2,3}")
CONTENT_LANGUAGES = i18n.LANGUAGES  # the filter's choices; the languages the UI itself speaks
LIST_PAGE_SIZE = 20


def require_language(lang: str) -> str:
    if not i18n.is_supported(lang):
        raise NotFound(f"no language {lang}")
    return lang


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def content_language(request: Request) -> str | None:
    value = request.query_params.get("language", "").strip().lower()
    return value if _CONTENT_LANGUAGE.fullmatch(value) else None


def cursor_of(request: Request) -> str | None:
    return request.query_params.get("cursor") or None


def layout(
    request: Request, lang: str, *, search_query: str = "", keep_query: bool = True, **extra: Any
) -> dict[str, Any]:
    """What base.html needs: the header's search box and the language switcher's links.

    Cached pages pass keep_query=False: one visitor's query string must not end up in everyone's copy.
    """
    path = request.url.path
    rest = path[len(lang) + 1 :] if path.startswith(f"/{lang}/") else "/"
    query = f"?{request.url.query}" if request.url.query and keep_query else ""
    alternates = [(code, i18n.LANGUAGE_NAMES[code], f"/{code}{rest}{query}") for code in i18n.LANGUAGES]
    return {"search_query": search_query, "alternates": alternates, **extra}


def page_url(path: str, **params: str | None) -> str:
    """`path` with the non-empty `params` as its query string (a "More" link keeps the filters)."""
    kept = {name: value for name, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
