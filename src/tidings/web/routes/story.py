"""`/{lang}/story/{id}`: all coverage of one story, by source and language, with a timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tidings.errors import NotFound
from tidings.extract.urls import ARTICLE_ID
from tidings.web.rendering import Renderer, html_response
from tidings.web.routes.common import layout, require_language, runtime_of


def add_story_routes(router: APIRouter, renderer: Renderer) -> None:
    @router.get("/{lang}/story/{story_id}", include_in_schema=False)
    async def story_page(lang: str, story_id: str, request: Request) -> Response:
        require_language(lang)
        # Story ids are their seed article's id: anything else cannot name a story.
        if not ARTICLE_ID.fullmatch(story_id):
            raise NotFound(f"no story {story_id}")
        runtime = runtime_of(request)
        detail = await runtime.stories.get(story_id)
        brief = await runtime.ai.brief(story_id, language=lang)
        context = layout(request, lang, detail=detail, brief=brief)
        return html_response(renderer.render("story.html", lang, **context))
