"""Pages that list articles: home, a source, a hashtag, search results.

Each list pages with an opaque cursor. The "More" link is a plain link (`?cursor=…`) that works
without JavaScript; htmx requests the same URL and gets only the next items plus a new link.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from tidings.articles.views import CardPage, SourceRef
from tidings.ingest.models import Source
from tidings.runtime import Runtime
from tidings.web.rendering import Renderer, html_response
from tidings.web.routes.common import (
    LIST_PAGE_SIZE,
    content_language,
    cursor_of,
    is_htmx,
    layout,
    page_url,
    require_language,
    runtime_of,
)

MAX_QUERY_CHARS = 200
# Lists answer differently to htmx (a fragment) and to a browser (a page) at the same URL.
VARY = {"Vary": "HX-Request"}


def add_listing_routes(router: APIRouter, renderer: Renderer) -> None:
    def list_response(request: Request, lang: str, template: str, page: CardPage, **context: Any) -> Response:
        next_url = (
            page_url(request.url.path, language=context.get("language"), cursor=page.next_cursor)
            if page.next_cursor
            else None
        )
        if is_htmx(request) and cursor_of(request):
            body = renderer.render("fragment_cards.html", lang, cards=page.items, next_url=next_url)
        else:
            context = layout(request, lang, cards=page.items, next_url=next_url, **context)
            body = renderer.render(template, lang, **context)
        return html_response(body, headers=VARY)

    @router.get("/{lang}/", include_in_schema=False)
    async def home(lang: str, request: Request) -> Response:
        require_language(lang)
        articles = runtime_of(request).articles
        language = content_language(request)
        page = await articles.latest(language=language, cursor=cursor_of(request), limit=LIST_PAGE_SIZE)
        first_page = not is_htmx(request) and not cursor_of(request)
        trending = await articles.trending_tags() if not is_htmx(request) else []
        stories = runtime_of(request).stories
        top_stories = await stories.top(language=language) if first_page else []
        story_sources = await stories.sources_of([story.id for story in top_stories])
        return list_response(
            request,
            lang,
            "home.html",
            page,
            language=language,
            trending=trending,
            top_stories=top_stories,
            story_sources=story_sources,
        )

    @router.get("/{lang}/source/{slug}", include_in_schema=False)
    async def source_page(lang: str, slug: str, request: Request) -> Response:
        require_language(lang)
        articles = runtime_of(request).articles
        source, page = await articles.by_source(slug, cursor=cursor_of(request), limit=LIST_PAGE_SIZE)
        return list_response(request, lang, "source.html", page, source=source)

    @router.get("/{lang}/tag/{slug}", include_in_schema=False)
    async def tag_page(lang: str, slug: str, request: Request) -> Response:
        require_language(lang)
        articles = runtime_of(request).articles
        tag, page = await articles.by_tag(slug, cursor=cursor_of(request), limit=LIST_PAGE_SIZE)
        return list_response(request, lang, "tag.html", page, tag=tag)

    @router.get("/{lang}/search", include_in_schema=False)
    async def search_page(lang: str, request: Request) -> Response:
        require_language(lang)
        runtime = runtime_of(request)
        query = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY_CHARS]
        language = content_language(request)
        result = await runtime.search.search(
            query, language=language, cursor=cursor_of(request), limit=LIST_PAGE_SIZE
        )
        sources = await source_refs(runtime, {hit.source_id for hit in result.hits})
        next_url = (
            page_url(request.url.path, q=query, language=language, cursor=result.next_cursor)
            if result.next_cursor
            else None
        )
        context: dict[str, Any] = {"hits": result.hits, "sources": sources, "next_url": next_url}
        if is_htmx(request) and cursor_of(request):
            return html_response(renderer.render("fragment_search.html", lang, **context), headers=VARY)
        context = layout(
            request, lang, search_query=query, language=language, total=result.total_estimate, **context
        )
        return html_response(renderer.render("search.html", lang, **context), headers=VARY)


async def source_refs(runtime: Runtime, source_ids: Iterable[int]) -> dict[int, SourceRef]:
    """Name and slug of the given sources: search hits carry only the id."""
    ids = sorted(set(source_ids))
    if not ids:
        return {}
    async with runtime.db.session() as session:
        rows = (
            await session.execute(select(Source.id, Source.slug, Source.name).where(Source.id.in_(ids)))
        ).all()
    return {row.id: SourceRef(id=row.id, slug=row.slug, name=row.name) for row in rows}
