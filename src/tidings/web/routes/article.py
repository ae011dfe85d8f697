"""`/{lang}/article/{id}`: the article page, rendered once and served from the page cache."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from tidings.articles.service import ArticleService
from tidings.articles.views import ArticleCard, ArticleDetail
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.errors import NotFound
from tidings.extract.urls import ARTICLE_ID
from tidings.web.httpcache import etag_matches
from tidings.web.imageproxy import sign_image_url
from tidings.web.pagecache import PageCache, ttl_for_age
from tidings.web.rendering import PAGE_CACHE_CONTROL, SECURITY_HEADERS, Renderer, html_response, json_ld
from tidings.web.routes.common import layout, require_language, runtime_of

OG_IMAGE_WIDTH = 1280
NOT_MODIFIED_HEADERS = {**SECURITY_HEADERS, "Cache-Control": PAGE_CACHE_CONTROL}


def add_article_route(router: APIRouter, settings: Settings, renderer: Renderer, cache: PageCache) -> None:
    signing_key = settings.signing_key()

    # A plain Starlette route, not a FastAPI one: this is the hot path (benchmarked against a
    # hello-world), and it needs no parameter validation or dependency injection to pay for.
    async def article_page(request: Request) -> Response:
        lang = require_language(request.path_params["lang"])
        article_id: str = request.path_params["article_id"]
        if not ARTICLE_ID.fullmatch(article_id):
            raise NotFound(f"no article {article_id}")
        runtime = runtime_of(request)
        articles = runtime.articles

        async def render() -> tuple[bytes, float]:
            article, related, in_story, copies = await _load(articles, article_id)
            context = article_context(request, lang, article, related, settings=settings, key=signing_key)
            insights = await runtime.ai.insights(article, language=lang) if article.text else None
            context.update(
                in_story=in_story, copies=copies, ai=insights, ai_generative=runtime.ai.mode == "generative"
            )
            # Only the count goes into the shared copy (up to a minute stale); the thread itself is per
            # reader and loads from /comments.
            context["comment_count"] = await runtime.comments.count(article_id)
            age = (utcnow() - article.published_at).total_seconds()
            return renderer.render("article.html", lang, **context).encode(), ttl_for_age(age)

        entry = await cache.get_or_render((lang, article_id), render)
        # The ETag names the page, not its encoding: both variants are the same representation
        # to a validating cache, which Vary keeps apart.
        headers = {"ETag": entry.etag, "Vary": "Accept-Encoding"}
        if etag_matches(request.headers.get("if-none-match"), entry.etag):
            return Response(status_code=304, headers={**NOT_MODIFIED_HEADERS, **headers})
        if "gzip" in request.headers.get("accept-encoding", ""):
            return html_response(entry.gzip_body, headers={**headers, "Content-Encoding": "gzip"})
        return html_response(entry.body, headers=headers)

    router.add_route("/{lang}/article/{article_id}", article_page, methods=["GET"], include_in_schema=False)


async def _load(
    articles: ArticleService, article_id: str
) -> tuple[ArticleDetail, list[ArticleCard], list[ArticleCard], list[ArticleCard]]:
    article = await articles.get(article_id)
    related = await articles.related(article_id)
    in_story = await articles.in_story(article_id, article.story_id)
    copies = await articles.copies(article_id, article.duplicate_of)
    return article, related, in_story, copies


def article_context(
    request: Request,
    lang: str,
    article: ArticleDetail,
    related: list[ArticleCard],
    *,
    settings: Settings,
    key: bytes,
) -> dict[str, Any]:
    # Absolute URLs (OpenGraph, JSON-LD) only from the configured public URL, never from the request's
    # Host header: the page is cached and shared, so one forged Host would reach every reader.
    base_url = settings.base_url.rstrip("/") or None
    og_image = None
    if base_url and article.image_url:
        og_image = base_url + sign_image_url(key, article.image_url, OG_IMAGE_WIDTH)
    page_url = f"{base_url}/{lang}/article/{article.id}" if base_url else None
    return layout(
        request,
        lang,
        keep_query=False,
        article=article,
        related=related,
        og_image=og_image,
        json_ld=json_ld(_news_article(article, og_image, page_url=page_url)),
        ai=None,
        ai_generative=False,
    )


def _news_article(article: ArticleDetail, image: str | None, *, page_url: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.snippet,
        "datePublished": article.published_at.isoformat(),
        "dateModified": article.fetched_at.isoformat(),
        "mainEntityOfPage": article.canonical_url,
        "isBasedOn": article.canonical_url,
        "publisher": {"@type": "Organization", "name": article.source.name},
        "keywords": [tag.name for tag in article.tags],
    }
    if page_url:
        data["url"] = page_url
    if article.language:
        data["inLanguage"] = article.language
    if article.author:
        data["author"] = {"@type": "Person", "name": article.author}
    if image:
        data["image"] = [image]
    if article.word_count:
        data["wordCount"] = article.word_count
    return data
