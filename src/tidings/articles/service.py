"""The one read path for articles, sources and hashtags: HTML pages and the JSON API both use it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tidings.articles import repo
from tidings.articles.cursor import decode_cursor, encode_cursor
from tidings.articles.related import pick_related
from tidings.articles.views import (
    ArticleCard,
    ArticleDetail,
    CardPage,
    FeedHealth,
    SourceInfo,
    SourceRef,
    TagRef,
    make_snippet,
)
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.errors import NotFound
from tidings.ingest.models import Article, Feed, Source
from tidings.stories.related import RelatedIndex
from tidings.tags.models import ArticleTag

MAX_PAGE_SIZE = 100
# Related articles: at most this many from one publisher, so the list shows other voices.
MAX_RELATED_PER_SOURCE = 2


class ArticleService:
    def __init__(self, db: Database, *, related_index: RelatedIndex | None = None) -> None:
        self.db = db
        self.related_index = related_index

    async def latest(
        self, *, language: str | None = None, cursor: str | None = None, limit: int = 20
    ) -> CardPage:
        query = repo.card_query()
        if language:
            query = query.where(Article.language == language)
        return await self._page(query, cursor=cursor, limit=limit)

    async def by_source(
        self, slug: str, *, cursor: str | None = None, limit: int = 20
    ) -> tuple[SourceInfo, CardPage]:
        source = await self.source(slug)
        page = await self._page(
            repo.card_query().where(Article.source_id == source.id), cursor=cursor, limit=limit
        )
        return source, page

    async def by_tag(
        self, slug: str, *, cursor: str | None = None, limit: int = 20
    ) -> tuple[TagRef, CardPage]:
        async with self.db.session() as session:
            tag = await repo.tag_by_slug(session, slug)
        if tag is None:
            raise NotFound(f"no hashtag #{slug}")
        query = (
            repo.card_query()
            .join(ArticleTag, ArticleTag.article_id == Article.id)
            .where(ArticleTag.tag_id == tag.id)
        )
        page = await self._page(query, cursor=cursor, limit=limit)
        return TagRef(slug=tag.slug, name=tag.name, kind=tag.kind), page

    async def get(self, article_id: str) -> ArticleDetail:
        async with self.db.session() as session:
            found = await repo.article_with_source(session, article_id)
            if found is None:
                raise NotFound(f"no article {article_id}")
            article, source = found
            tags = await repo.tags_of(session, article_id)
        return ArticleDetail(
            id=article.id,
            title=article.title,
            source=SourceRef(id=source.id, slug=source.slug, name=source.name),
            published_at=article.published_at,
            fetched_at=article.fetched_at,
            image_url=article.image_url,
            language=article.language,
            author=article.author,
            canonical_url=article.canonical_url,
            summary=article.summary,
            html=article.html,
            text=article.text,
            word_count=article.word_count,
            body_origin=article.body_origin,
            tags=tuple(TagRef(slug=t.slug, name=t.name, kind=t.kind) for t in tags),
            story_id=article.story_id,
            wire_agency=article.wire_agency,
            duplicate_of=article.duplicate_of,
        )

    async def related(self, article_id: str, *, limit: int = 6) -> list[ArticleCard]:
        """Same topic, recent, diverse sources (articles/related.py); never the article's own copies
        or its story, which has its own list. Until the article has a vector: shared hashtags."""
        vector = self.related_index.vector(article_id) if self.related_index is not None else None
        if vector is not None:
            return await self._related_by_vector(article_id, vector, limit=limit)
        async with self.db.session() as session:
            article = await _existing(session, article_id)
            shared = dict(await repo.articles_sharing_tags(session, article_id, limit=limit * 10))
            rows: list[Any] = []
            if shared:
                rows += await repo.card_rows(session, repo.card_query().where(Article.id.in_(list(shared))))
            if len(rows) < limit * 2:
                same_source = repo.newest_first(
                    repo.card_query().where(Article.source_id == article.source_id, Article.id != article_id),
                    before=None,
                    limit=limit * 2,
                )
                rows += await repo.card_rows(session, same_source)
        return _rank_related(
            rows, shared=shared, anchor=article.published_at, exclude=article_id, limit=limit
        )

    async def _related_by_vector(self, article_id: str, vector: Any, *, limit: int) -> list[ArticleCard]:
        assert self.related_index is not None
        index = self.related_index
        similarity = dict(index.search(vector, limit * 10, exclude={article_id}))
        async with self.db.session() as session:
            article = await _existing(session, article_id)
            shared = dict(await repo.articles_sharing_tags(session, article_id, limit=limit * 10))
            original = article.duplicate_of or article.id
            query = repo.card_query().where(
                Article.id.in_(list(similarity.keys() | shared.keys())), Article.id != original
            )
            if article.story_id:
                query = query.where((Article.story_id.is_(None)) | (Article.story_id != article.story_id))
            rows = await repo.card_rows(session, query)
        picked = pick_related(
            rows,
            anchor=article.published_at,
            similarity=similarity,
            shared=shared,
            vector_of=index.vector,
            limit=limit,
        )
        return [card_from_row(row) for row in picked]

    async def in_story(self, article_id: str, story_id: str | None, *, limit: int = 6) -> list[ArticleCard]:
        """More in this story: the newest other coverage, one entry per set of copies."""
        if not story_id:
            return []
        query = repo.card_query().where(Article.story_id == story_id, Article.id != article_id)
        async with self.db.session() as session:
            rows = await repo.card_rows(session, repo.newest_first(query, before=None, limit=limit))
        return [card_from_row(row) for row in rows]

    async def copies(self, article_id: str, original_id: str | None) -> list[ArticleCard]:
        """The wire original and its other reprints (not this article), earliest first."""
        original = original_id or article_id
        query = (
            select(*repo.CARD_COLUMNS)
            .join(Source, Source.id == Article.source_id)
            .where((Article.id == original) | (Article.duplicate_of == original), Article.id != article_id)
            .order_by(Article.published_at, Article.id)
            .limit(50)
        )
        async with self.db.session() as session:
            rows = await repo.card_rows(session, query)
        return [card_from_row(row) for row in rows]

    async def sources(self) -> list[SourceInfo]:
        async with self.db.session() as session:
            counts = await repo.article_counts_by_source(session)
            sources = await repo.all_sources(session)
        return [_source_info(s, counts.get(s.id, 0), ()) for s in sources]

    async def source(self, slug: str) -> SourceInfo:
        async with self.db.session() as session:
            source = await repo.source_by_slug(session, slug)
            if source is None:
                raise NotFound(f"no source {slug}")
            feeds = await repo.feeds_of(session, source.id)
            counts = await repo.article_counts_by_source(session)
        return _source_info(source, counts.get(source.id, 0), feeds)

    async def trending_tags(self, *, hours: int = 48, limit: int = 12) -> list[tuple[TagRef, int]]:
        async with self.db.session() as session:
            rows = await repo.popular_tags(session, since=utcnow() - timedelta(hours=hours), limit=limit)
        return [(TagRef(slug=r.slug, name=r.name, kind=r.kind), int(r.articles)) for r in rows]

    async def _page(self, query: Any, *, cursor: str | None, limit: int) -> CardPage:
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        before = decode_cursor(cursor) if cursor else None
        async with self.db.session() as session:
            rows = await repo.card_rows(session, repo.newest_first(query, before=before, limit=limit + 1))
        cards = [card_from_row(r) for r in rows[:limit]]
        next_cursor = (
            encode_cursor(cards[-1].published_at, cards[-1].id) if len(rows) > limit and cards else None
        )
        return CardPage(items=cards, next_cursor=next_cursor)


async def _existing(session: Any, article_id: str) -> Article:
    found = await repo.article_with_source(session, article_id)
    if found is None:
        raise NotFound(f"no article {article_id}")
    return found[0]


def card_from_row(row: Any) -> ArticleCard:
    return ArticleCard(
        id=row.id,
        title=row.title,
        source=SourceRef(id=row.source_id, slug=row.source_slug, name=row.source_name),
        published_at=row.published_at,
        image_url=row.image_url,
        snippet=make_snippet(row.summary, row.text_start or ""),
        language=row.language,
        url=row.url,
    )


def _rank_related(
    rows: Sequence[Any], *, shared: dict[str, int], anchor: datetime, exclude: str, limit: int
) -> list[ArticleCard]:
    def score(row: Any) -> float:
        # Shared hashtags matter most; closeness in time breaks ties (a week apart halves it).
        days_apart = abs((row.published_at - anchor).total_seconds()) / 86400
        return (1 + shared.get(row.id, 0)) / (1 + days_apart / 7)

    seen: set[str] = {exclude}
    per_source: Counter[int] = Counter()
    picked: list[ArticleCard] = []
    for row in sorted(rows, key=score, reverse=True):
        if row.id in seen or per_source[row.source_id] >= MAX_RELATED_PER_SOURCE:
            continue
        seen.add(row.id)
        per_source[row.source_id] += 1
        picked.append(card_from_row(row))
        if len(picked) == limit:
            break
    return picked


def _source_info(source: Source, count: int, feeds: Sequence[Feed]) -> SourceInfo:
    return SourceInfo(
        id=source.id,
        slug=source.slug,
        name=source.name,
        homepage_url=source.homepage_url,
        country=source.country,
        language=source.language,
        article_count=count,
        feeds=tuple(_feed_health(f) for f in feeds),
    )


def _feed_health(feed: Feed) -> FeedHealth:
    if feed.disabled:
        status = "disabled"
    elif feed.error_count:
        status = "failing"
    elif feed.last_success_at is None:
        status = "new"
    else:
        status = "ok"
    return FeedHealth(
        url=feed.url,
        title=feed.title,
        status=status,
        error_count=feed.error_count,
        last_error=feed.last_error,
        last_polled_at=feed.last_polled_at,
        interval_seconds=feed.interval_seconds,
    )
