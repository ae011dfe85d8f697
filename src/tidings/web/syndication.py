"""Outgoing RSS 2.0 / Atom feeds and sitemaps.

Feeds (50 newest articles each; links point to this instance's article pages, `/en/article/{id}`):

    /feed.rss, /feed.atom                       everything; `?language=ko` keeps one content language
    /source/{slug}/feed.rss, .../feed.atom      one publisher
    /tag/{slug}/feed.rss, .../feed.atom         one hashtag

Feeds are language-neutral URLs with a `language` filter rather than `/{lang}/feed.rss`: the path
language of the HTML pages is the *interface* language, while a feed filters *content* language.

Sitemaps: /sitemap.xml is an index of /sitemap-pages.xml (home, sources), /sitemap-tags-{n}.xml,
/sitemap-articles-{n}.xml (oldest first, so earlier files stay stable as news arrives) and
/sitemap-news.xml (Google News: the last 48 hours). Every page is listed once per interface
language with hreflang alternates, and no file holds more than 50,000 URLs.

Every response carries an ETag and answers If-None-Match with 304; feeds also carry Last-Modified
(when their newest article was stored) and answer If-Modified-Since. Sitemaps send no Last-Modified:
their entries' <lastmod> is what crawlers read, and no single stored time covers a whole file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.api.links import DEFAULT_PAGE_LANGUAGE, PAGE_LANGUAGES, PROXY_IMAGE_WIDTH, PublicLinks
from tidings.api.params import LANGUAGE_PATTERN, SLUG_PATTERN
from tidings.articles.views import ArticleCard, CardPage
from tidings.db.base import utcnow
from tidings.errors import NotFound
from tidings.ingest.models import Article
from tidings.tags.models import ArticleTag, Tag
from tidings.web.deps import ArticlesDep, RuntimeDep
from tidings.web.feedgen import (
    FeedChannel,
    FeedItem,
    NewsUrl,
    SitemapUrl,
    atom_document,
    news_sitemap,
    rss_document,
    sitemap_index,
    sitemap_urlset,
)
from tidings.web.httpcache import etag_matches, strong_etag

FEED_ITEMS = 50
MAX_URLS_PER_SITEMAP = 50_000  # the sitemaps.org limit
# Each article or tag is listed once per interface language.
ENTRIES_PER_SITEMAP = MAX_URLS_PER_SITEMAP // len(PAGE_LANGUAGES)
NEWS_WINDOW = timedelta(hours=48)
NEWS_MAX_URLS = 1000  # Google News sitemaps hold at most 1,000 URLs
FEED_CACHE = "public, max-age=300"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"

FeedSlug = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=120)]
ContentLanguage = Annotated[str | None, Query(pattern=LANGUAGE_PATTERN, max_length=16)]
SitemapPage = Annotated[int, Path(ge=1, le=100_000)]


# --- conditional responses


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:  # RFC 9110 13.1.3: If-Modified-Since is ignored when this is sent
        return etag_matches(if_none_match, etag)
    if_modified_since = request.headers.get("if-modified-since")
    if not if_modified_since or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


def xml_response(request: Request, body: bytes, media_type: str, last_modified: datetime | None) -> Response:
    etag = strong_etag(body)
    headers = {"ETag": etag, "Cache-Control": FEED_CACHE}
    if last_modified is not None:
        headers["Last-Modified"] = _http_date(last_modified)
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


# --- queries the services have no use for (bulk, id-only)


async def _tag_names_by_article(session: AsyncSession, article_ids: Sequence[str]) -> dict[str, list[str]]:
    """Hashtag names of many articles in one query (cards carry none)."""
    if not article_ids:
        return {}
    query = (
        select(ArticleTag.article_id, Tag.name)
        .join(Tag, Tag.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id.in_(list(article_ids)))
        .order_by(ArticleTag.article_id, ArticleTag.weight.desc(), Tag.name)
    )
    names: dict[str, list[str]] = defaultdict(list)
    for article_id, name in await session.execute(query):
        names[article_id].append(name)
    return names


async def _newest_fetch(session: AsyncSession, article_ids: Sequence[str]) -> datetime | None:
    """When the newest of these articles was stored. Not their newest publication date: an article
    arriving late with an older date changes the feed too, and If-Modified-Since must see that."""
    if not article_ids:
        return None
    newest: datetime | None = await session.scalar(
        select(func.max(Article.fetched_at)).where(Article.id.in_(list(article_ids)))
    )
    return newest


# Duplicates of another article are never listed anywhere, sitemaps included.
LISTED_ARTICLE = Article.duplicate_of.is_(None)


async def _count_listed_articles(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Article).where(LISTED_ARTICLE)) or 0)


async def _articles_for_sitemap(session: AsyncSession, page: int) -> list[tuple[str, datetime]]:
    query = (
        select(Article.id, Article.published_at)
        .where(LISTED_ARTICLE)
        .order_by(Article.published_at, Article.id)
        .offset((page - 1) * ENTRIES_PER_SITEMAP)
        .limit(ENTRIES_PER_SITEMAP)
    )
    return [(row.id, row.published_at) for row in await session.execute(query)]


TAG_IN_USE = (ArticleTag.tag_id == Tag.id, Article.id == ArticleTag.article_id, LISTED_ARTICLE)


async def _count_tags_in_use(session: AsyncSession) -> int:
    query = select(func.count(distinct(Tag.id))).select_from(Tag, ArticleTag, Article).where(*TAG_IN_USE)
    return int(await session.scalar(query) or 0)


async def _tags_for_sitemap(session: AsyncSession, page: int) -> list[tuple[str, datetime]]:
    newest = func.max(Article.published_at).label("newest")
    query = (
        select(Tag.slug, newest)
        .select_from(Tag, ArticleTag, Article)
        .where(*TAG_IN_USE)
        .group_by(Tag.id, Tag.slug)
        .order_by(Tag.id)
        .offset((page - 1) * ENTRIES_PER_SITEMAP)
        .limit(ENTRIES_PER_SITEMAP)
    )
    return [(row.slug, row.newest) for row in await session.execute(query)]


def _sitemap_pages(count: int) -> int:
    return max(1, -(-count // ENTRIES_PER_SITEMAP))


# --- feeds


async def _channel_items(
    runtime: RuntimeDep, links: PublicLinks, cards: Sequence[ArticleCard]
) -> tuple[list[FeedItem], datetime | None]:
    """The feed's items, and when the newest of them was stored (the feed's Last-Modified)."""
    ids = [card.id for card in cards]
    async with runtime.db.session() as session:
        tags = await _tag_names_by_article(session, ids)
        last_stored = await _newest_fetch(session, ids)
    items = [
        FeedItem(
            title=card.title,
            link=links.article_page(card.id),
            published_at=card.published_at,
            snippet=card.snippet,
            author=card.source.name,
            publisher_url=card.url,
            categories=tags.get(card.id, ()),
            image_url=links.image_proxy(card.image_url),
            image_width=PROXY_IMAGE_WIDTH if card.image_url else None,
        )
        for card in cards
    ]
    return items, last_stored


def _self_url(request: Request, links: PublicLinks) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return links.absolute(request.url.path + query)


Renderer = Callable[[FeedChannel], bytes]
FORMATS: dict[str, tuple[Renderer, str]] = {
    "rss": (rss_document, RSS_TYPE),
    "atom": (atom_document, ATOM_TYPE),
}


async def _feed_response(
    request: Request,
    runtime: RuntimeDep,
    fmt: str,
    page: CardPage,
    *,
    title: str,
    link: Callable[[PublicLinks], str],
    description: str,
    language: str | None,
) -> Response:
    links = PublicLinks.for_request(request, runtime.settings)
    items, last_stored = await _channel_items(runtime, links, page.items)
    channel = FeedChannel(
        title=title,
        link=link(links),
        self_url=_self_url(request, links),
        description=description,
        language=language,
        items=items,
    )
    render, media_type = FORMATS[fmt]
    return xml_response(request, render(channel), media_type, last_stored)


def _add_feed_routes(router: APIRouter, fmt: str) -> None:
    """The three feeds in one format; `fmt` is bound here, not a request parameter."""

    @router.get(f"/feed.{fmt}", include_in_schema=False)
    async def home_feed(
        request: Request, runtime: RuntimeDep, articles: ArticlesDep, language: ContentLanguage = None
    ) -> Response:
        page = await articles.latest(language=language, limit=FEED_ITEMS)
        return await _feed_response(
            request,
            runtime,
            fmt,
            page,
            title="Tidings" + (f" ({language})" if language else ""),
            link=lambda links: links.home_page(),
            description="The latest news from every source" + (f" in {language}" if language else ""),
            language=language,
        )

    @router.get(f"/source/{{slug}}/feed.{fmt}", include_in_schema=False)
    async def source_feed(
        request: Request, runtime: RuntimeDep, articles: ArticlesDep, slug: FeedSlug
    ) -> Response:
        source, page = await articles.by_source(slug, limit=FEED_ITEMS)
        return await _feed_response(
            request,
            runtime,
            fmt,
            page,
            title=f"{source.name} · Tidings",
            link=lambda links: links.source_page(source.slug),
            description=f"The latest articles from {source.name}",
            language=source.language,
        )

    @router.get(f"/tag/{{slug}}/feed.{fmt}", include_in_schema=False)
    async def tag_feed(
        request: Request, runtime: RuntimeDep, articles: ArticlesDep, slug: FeedSlug
    ) -> Response:
        tag, page = await articles.by_tag(slug, limit=FEED_ITEMS)
        return await _feed_response(
            request,
            runtime,
            fmt,
            page,
            title=f"#{tag.name} · Tidings",
            link=lambda links: links.tag_page(tag.slug),
            description=f"The latest articles tagged #{tag.name}",
            language=None,
        )


def build_syndication_router() -> APIRouter:
    router = APIRouter(tags=["syndication"])
    for fmt in FORMATS:
        _add_feed_routes(router, fmt)
    _add_sitemap_routes(router)
    _add_robots_route(router)
    return router


def _add_robots_route(router: APIRouter) -> None:
    @router.get("/robots.txt", include_in_schema=False)
    async def robots_txt(request: Request, runtime: RuntimeDep) -> Response:
        # The image proxy and the API are for readers and apps, not for crawlers to index.
        sitemap = PublicLinks.for_request(request, runtime.settings).absolute("/sitemap.xml")
        body = f"User-agent: *\nDisallow: /img\nDisallow: /api/\n\nSitemap: {sitemap}\n"
        return Response(body, media_type="text/plain", headers={"Cache-Control": "public, max-age=3600"})


# --- sitemaps


def _localized(page_url: Callable[[str], str], lastmod: datetime | None = None) -> list[SitemapUrl]:
    """The page once per interface language, each entry naming all of them (and x-default)."""
    alternates = [(lang, page_url(lang)) for lang in PAGE_LANGUAGES]
    alternates.append(("x-default", page_url(DEFAULT_PAGE_LANGUAGE)))
    return [SitemapUrl(loc=page_url(lang), lastmod=lastmod, alternates=alternates) for lang in PAGE_LANGUAGES]


def _add_sitemap_routes(router: APIRouter) -> None:
    @router.get("/sitemap.xml", include_in_schema=False)
    async def sitemap_root(request: Request, runtime: RuntimeDep) -> Response:
        links = PublicLinks.for_request(request, runtime.settings)
        async with runtime.db.session() as session:
            article_files = _sitemap_pages(await _count_listed_articles(session))
            tag_files = _sitemap_pages(await _count_tags_in_use(session))
        locations = [links.absolute("/sitemap-pages.xml"), links.absolute("/sitemap-news.xml")]
        locations += [links.absolute(f"/sitemap-tags-{n}.xml") for n in range(1, tag_files + 1)]
        locations += [links.absolute(f"/sitemap-articles-{n}.xml") for n in range(1, article_files + 1)]
        return xml_response(request, sitemap_index((loc, None) for loc in locations), XML_TYPE, None)

    @router.get("/sitemap-pages.xml", include_in_schema=False)
    async def sitemap_pages(request: Request, runtime: RuntimeDep, articles: ArticlesDep) -> Response:
        links = PublicLinks.for_request(request, runtime.settings)
        urls = _localized(links.home_page)
        for source in (await articles.sources())[: ENTRIES_PER_SITEMAP - 1]:
            urls += _localized(partial(links.source_page, source.slug))
        return xml_response(request, sitemap_urlset(urls), XML_TYPE, None)

    @router.get("/sitemap-articles-{page}.xml", include_in_schema=False)
    async def sitemap_articles(request: Request, runtime: RuntimeDep, page: SitemapPage) -> Response:
        links = PublicLinks.for_request(request, runtime.settings)
        async with runtime.db.session() as session:
            rows = await _articles_for_sitemap(session, page)
        if not rows and page > 1:
            raise NotFound(f"no sitemap page {page}")
        urls = [
            url
            for article_id, published_at in rows
            for url in _localized(partial(links.article_page, article_id), published_at)
        ]
        return xml_response(request, sitemap_urlset(urls), XML_TYPE, None)

    @router.get("/sitemap-tags-{page}.xml", include_in_schema=False)
    async def sitemap_tags(request: Request, runtime: RuntimeDep, page: SitemapPage) -> Response:
        links = PublicLinks.for_request(request, runtime.settings)
        async with runtime.db.session() as session:
            rows = await _tags_for_sitemap(session, page)
        if not rows and page > 1:
            raise NotFound(f"no sitemap page {page}")
        urls = [url for slug, newest in rows for url in _localized(partial(links.tag_page, slug), newest)]
        return xml_response(request, sitemap_urlset(urls), XML_TYPE, None)

    @router.get("/sitemap-news.xml", include_in_schema=False)
    async def sitemap_news(request: Request, runtime: RuntimeDep, articles: ArticlesDep) -> Response:
        links = PublicLinks.for_request(request, runtime.settings)
        cards = await _recent_cards(articles, since=utcnow() - NEWS_WINDOW, limit=NEWS_MAX_URLS)
        urls = [
            NewsUrl(
                loc=links.article_page(card.id),
                publication_name=card.source.name,
                language=(card.language or "und").lower(),
                published_at=card.published_at,
                title=card.title,
            )
            for card in cards
        ]
        return xml_response(request, news_sitemap(urls), XML_TYPE, None)


async def _recent_cards(articles: ArticlesDep, *, since: datetime, limit: int) -> list[ArticleCard]:
    """Newest articles published since `since`, through the same paged read as the home page."""
    cards: list[ArticleCard] = []
    cursor: str | None = None
    while len(cards) < limit:
        page = await articles.latest(cursor=cursor, limit=100)
        fresh = [card for card in page.items if card.published_at >= since]
        cards += fresh
        if len(fresh) < len(page.items) or page.next_cursor is None:
            break
        cursor = page.next_cursor
    return cards[:limit]
