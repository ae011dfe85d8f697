"""Service views (articles.views, search.models) to API response models."""

from __future__ import annotations

from typing import Any

from tidings.api.links import PublicLinks
from tidings.api.schemas import (
    ArticleCardOut,
    ArticleOut,
    ArticlePageOut,
    FeedHealthOut,
    SearchHitOut,
    SearchPageOut,
    SourceDetailOut,
    SourceOut,
    SourceRefOut,
    StoryCoverageOut,
    StoryDetailOut,
    StoryOut,
    TagOut,
    TrendingTagOut,
)
from tidings.articles.views import (
    ArticleCard,
    ArticleDetail,
    CardPage,
    FeedHealth,
    SourceInfo,
    SourceRef,
    TagRef,
)
from tidings.search.models import SearchHit, SearchPage
from tidings.stories.service import StoryCard, StoryDetail


def source_ref_out(source: SourceRef) -> SourceRefOut:
    return SourceRefOut(id=source.id, slug=source.slug, name=source.name)


def tag_out(tag: TagRef) -> TagOut:
    return TagOut(slug=tag.slug, name=tag.name, kind=tag.kind)


def trending_tag_out(tag: TagRef, article_count: int) -> TrendingTagOut:
    return TrendingTagOut(slug=tag.slug, name=tag.name, kind=tag.kind, article_count=article_count)


def card_out(card: ArticleCard, links: PublicLinks) -> ArticleCardOut:
    return ArticleCardOut(**_card_fields(card, links, url=card.url))


def _card_fields(item: ArticleCard | ArticleDetail, links: PublicLinks, *, url: str) -> dict[str, Any]:
    """What a list card and the full article share."""
    return {
        "id": item.id,
        "title": item.title,
        "snippet": item.snippet,
        "language": item.language,
        "published_at": item.published_at,
        "url": url,
        "page_url": links.article_page(item.id),
        "source": source_ref_out(item.source),
        "image_url": item.image_url,
        "image_proxy_url": links.image_proxy(item.image_url),
    }


def card_page_out(page: CardPage, links: PublicLinks) -> ArticlePageOut:
    return ArticlePageOut(items=[card_out(card, links) for card in page.items], next_cursor=page.next_cursor)


def article_out(article: ArticleDetail, links: PublicLinks) -> ArticleOut:
    return ArticleOut(
        # The detail view has no separate fetch URL: the canonical one is where the article lives.
        **_card_fields(article, links, url=article.canonical_url),
        canonical_url=article.canonical_url,
        author=article.author,
        summary=article.summary,
        html=article.html,
        text=article.text,
        word_count=article.word_count,
        body_origin=article.body_origin,
        fetched_at=article.fetched_at,
        tags=[tag_out(tag) for tag in article.tags],
        story_id=article.story_id,
        wire_agency=article.wire_agency,
        duplicate_of=article.duplicate_of,
    )


def story_out(story: StoryCard, links: PublicLinks) -> StoryOut:
    return StoryOut(**_story_fields(story, links))


def _story_fields(story: StoryCard, links: PublicLinks) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "image_url": story.image_url,
        "first_published_at": story.first_published_at,
        "last_published_at": story.last_published_at,
        "article_count": story.article_count,
        "source_count": story.source_count,
        "languages": list(story.languages),
        "lead_article_id": story.lead_article_id,
        "page_url": links.story_page(story.id),
    }


def story_detail_out(detail: StoryDetail, links: PublicLinks) -> StoryDetailOut:
    return StoryDetailOut(
        **_story_fields(detail.story, links),
        first_reported=card_out(detail.first_reported, links) if detail.first_reported else None,
        timeline=[card_out(card, links) for card in detail.timeline],
        coverage=[
            StoryCoverageOut(
                source=source_ref_out(group.source),
                language=group.language,
                articles=[card_out(card, links) for card in group.articles],
            )
            for group in detail.coverage
        ],
        reprints=detail.reprints,
    )


def source_out(source: SourceInfo, links: PublicLinks) -> SourceOut:
    return SourceOut(
        id=source.id,
        slug=source.slug,
        name=source.name,
        homepage_url=source.homepage_url,
        country=source.country,
        language=source.language,
        article_count=source.article_count,
        page_url=links.source_page(source.slug),
    )


def feed_health_out(feed: FeedHealth) -> FeedHealthOut:
    return FeedHealthOut(
        url=feed.url,
        title=feed.title,
        status=feed.status,  # type: ignore[arg-type]  # the service only produces the four documented values
        error_count=feed.error_count,
        last_error=feed.last_error,
        last_polled_at=feed.last_polled_at,
        interval_seconds=feed.interval_seconds,
    )


def source_detail_out(source: SourceInfo, links: PublicLinks) -> SourceDetailOut:
    summary = source_out(source, links)
    return SourceDetailOut(**summary.model_dump(), feeds=[feed_health_out(feed) for feed in source.feeds])


def search_hit_out(hit: SearchHit, links: PublicLinks) -> SearchHitOut:
    return SearchHitOut(
        id=hit.article_id,
        title=hit.title,
        title_html=hit.title_html,
        snippet_html=hit.snippet_html,
        published_at=hit.published_at,
        language=hit.language,
        source_id=hit.source_id,
        score=hit.score,
        page_url=links.article_page(hit.article_id),
    )


def search_page_out(page: SearchPage, links: PublicLinks) -> SearchPageOut:
    return SearchPageOut(
        items=[search_hit_out(hit, links) for hit in page.hits],
        next_cursor=page.next_cursor,
        total_estimate=page.total_estimate,
    )
