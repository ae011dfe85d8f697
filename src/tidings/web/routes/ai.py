"""The AI features' own URLs: ask about an article or a story, the model's summary, translation.

Every one works without JavaScript (a GET form, a full page back); htmx asks for the same URL and
gets the fragment in place. With a model configured, answers also stream over Server-Sent
Events (`…/ask/stream`): drafts as they arrive, then the verified answer that replaces them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from tidings.ai.service import AnswerView, FeatureUnavailable
from tidings.articles.views import ArticleDetail
from tidings.config import Settings
from tidings.errors import InvalidInput, NotFound
from tidings.extract.urls import ARTICLE_ID
from tidings.runtime import Runtime
from tidings.web.ratelimit import RateLimiter, client_key
from tidings.web.rendering import NO_STORE, Renderer, html_response
from tidings.web.routes.common import is_htmx, layout, require_language, runtime_of

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def add_ai_routes(router: APIRouter, settings: Settings, renderer: Renderer) -> None:
    limiter = RateLimiter(limit=settings.questions_per_minute, window_seconds=60)

    def question_of(request: Request) -> str:
        question = " ".join(request.query_params.get("q", "").split())
        if not question:
            raise InvalidInput("ask a question: the q parameter is empty")
        if len(question) > 300:
            raise InvalidInput("questions are limited to 300 characters")
        limiter.check(client_key(request))
        return question

    def answer_response(request: Request, lang: str, answer: AnswerView, **context: Any) -> Response:
        if is_htmx(request):
            body = renderer.render("fragment_answer.html", lang, answer=answer, **context)
        else:
            body = renderer.render("answer.html", lang, **layout(request, lang, answer=answer, **context))
        return html_response(body, cache_control=NO_STORE)

    @router.get("/{lang}/article/{article_id}/ask", include_in_schema=False)
    async def ask_article(lang: str, article_id: str, request: Request) -> Response:
        rt, article = await _article(request, lang, article_id)
        answer = await rt.ai.ask_article(article, question_of(request), language=lang)
        return answer_response(
            request, lang, answer, target=article, target_url=f"/{lang}/article/{article.id}"
        )

    @router.get("/{lang}/article/{article_id}/ask/stream", include_in_schema=False)
    async def ask_article_stream(lang: str, article_id: str, request: Request) -> Response:
        rt, article = await _article(request, lang, article_id)
        events = rt.ai.stream_article_answer(article, question_of(request), language=lang)
        return _sse(events, renderer, lang, target=article, target_url=f"/{lang}/article/{article.id}")

    @router.get("/{lang}/article/{article_id}/summary", include_in_schema=False)
    async def model_summary(lang: str, article_id: str, request: Request) -> Response:
        """The model's summary, fetched by the article page after it has shown the extractive one."""
        rt, article = await _article(request, lang, article_id)
        insights = await rt.ai.insights(article, language=lang, generative=True)
        body = renderer.render("fragment_insights.html", lang, insights=insights, article=article)
        return html_response(body, cache_control=NO_STORE)

    @router.get("/{lang}/article/{article_id}/translate", include_in_schema=False)
    async def translate(lang: str, article_id: str, request: Request) -> Response:
        rt, article = await _article(request, lang, article_id)
        limiter.check(client_key(request))
        try:
            stream = await rt.ai.translate(article, language=lang)
            text = "".join([part async for part in stream])
            error = None
        except FeatureUnavailable:
            text, error = "", "unavailable"
        except Exception:  # the model failed mid-way: say so rather than show half a translation
            text, error = "", "failed"
        context = layout(request, lang, article=article, translation=text, error=error)
        return html_response(renderer.render("translation.html", lang, **context), cache_control=NO_STORE)

    @router.get("/{lang}/story/{story_id}/ask", include_in_schema=False)
    async def ask_story(lang: str, story_id: str, request: Request) -> Response:
        require_language(lang)
        rt = runtime_of(request)
        detail = await rt.stories.get(_article_id(story_id))
        answer = await rt.ai.ask_story(detail.story.id, question_of(request), language=lang)
        return answer_response(
            request, lang, answer, target=detail.story, target_url=f"/{lang}/story/{detail.story.id}"
        )


async def _article(request: Request, lang: str, article_id: str) -> tuple[Runtime, ArticleDetail]:
    require_language(lang)
    rt = runtime_of(request)
    return rt, await rt.articles.get(_article_id(article_id))


def _article_id(value: str) -> str:
    if not ARTICLE_ID.fullmatch(value):
        raise NotFound(f"no article {value}")
    return value


def _sse(events: AsyncIterator[Any], renderer: Renderer, lang: str, **context: Any) -> Response:
    async def body() -> AsyncIterator[bytes]:
        async for event in events:
            if event.kind == "delta":
                yield _event("delta", json.dumps({"text": event.text}))
            else:
                html = renderer.render("fragment_answer.html", lang, answer=event.answer, **context)
                yield _event("done", json.dumps({"html": html}))

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()
