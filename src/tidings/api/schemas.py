"""Response models of the JSON API (/api/v1). The public contract: renaming a field is a breaking change.

Every list is a page: `items` plus `next_cursor`, null on the last page. Pass `next_cursor` back as
`cursor` to get the next page; cursors are opaque and only valid for the endpoint that issued them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tidings.extract.urls import ARTICLE_ID_PATTERN

ItemT = TypeVar("ItemT")


class ApiModel(BaseModel):
    # These models are only ever outputs. `extra="forbid"` closes the documented schema
    # (additionalProperties: false), so a field that leaks into a response undocumented fails the
    # schemathesis conformance check instead of quietly becoming part of the contract.
    model_config = ConfigDict(extra="forbid")


class ErrorBody(ApiModel):
    code: str = Field(description="Stable machine-readable code, e.g. `not_found`, `invalid_input`.")
    message: str = Field(description="Human-readable explanation (English).")


class ErrorOut(ApiModel):
    """The one error shape of every /api path."""

    ok: Literal[False]
    error: ErrorBody
    status: int = Field(description="The HTTP status code, repeated for clients that lose it.")


class SourceRefOut(ApiModel):
    id: int
    slug: str
    name: str


class TagOut(ApiModel):
    slug: str
    name: str
    kind: str = Field(description="topic | person | place | org")


class TrendingTagOut(TagOut):
    article_count: int = Field(description="Articles carrying the hashtag within the window.")


class ArticleCardOut(ApiModel):
    """An article in a list: headline, thumbnail, snippet."""

    id: str = Field(pattern=f"^{ARTICLE_ID_PATTERN}$")
    title: str = Field(description="Plain text: escape it when rendering as HTML.")
    snippet: str = Field(description="Plain text, at most ~220 characters.")
    language: str | None
    published_at: datetime
    url: str = Field(description="The article on the publisher's site.")
    page_url: str = Field(description="The article on this Tidings instance.")
    source: SourceRefOut
    image_url: str | None = Field(description="Lead image on the publisher's server: do not hotlink.")
    image_proxy_url: str | None = Field(
        description="The lead image through this instance's proxy, 640 px wide."
    )


class ArticleOut(ArticleCardOut):
    """One article with its full, sanitised body."""

    canonical_url: str
    author: str | None
    summary: str | None = Field(description="The feed's summary, plain text.")
    html: str = Field(description="Body as sanitised HTML (no scripts, styles or event handlers).")
    text: str = Field(description="Body as plain text.")
    word_count: int
    body_origin: str = Field(description="page (article page extracted) | feed (feed content) | summary")
    fetched_at: datetime
    tags: list[TagOut]
    story_id: str | None = Field(description="The story this article belongs to (see /stories/{id}).")
    wire_agency: str | None = Field(description="The news agency whose copy this is, e.g. `Kyodo News`.")
    duplicate_of: str | None = Field(description="The earlier article this one reprints, if any.")


class StoryOut(ApiModel):
    """One event's coverage across sources and languages."""

    id: str = Field(pattern=f"^{ARTICLE_ID_PATTERN}$")
    title: str = Field(description="The headline of the story's most central article. Plain text.")
    image_url: str | None
    first_published_at: datetime
    last_published_at: datetime
    article_count: int
    source_count: int
    languages: list[str]
    lead_article_id: str | None
    page_url: str


class StoryCoverageOut(ApiModel):
    source: SourceRefOut
    language: str | None
    articles: list[ArticleCardOut]


class StoryDetailOut(StoryOut):
    first_reported: ArticleCardOut | None
    timeline: list[ArticleCardOut] = Field(description="Every article of the story, oldest first.")
    coverage: list[StoryCoverageOut] = Field(description="Grouped by publisher and language.")
    reprints: int = Field(description="Wire copies folded into their original.")


class StoryPageOut(ApiModel):
    items: list[StoryOut]
    next_cursor: None = None


class FeedHealthOut(ApiModel):
    url: str
    title: str | None
    status: Literal["ok", "failing", "disabled", "new"]
    error_count: int
    last_error: str | None
    last_polled_at: datetime | None
    interval_seconds: int


class SourceOut(ApiModel):
    id: int
    slug: str
    name: str
    homepage_url: str | None
    country: str | None
    language: str | None
    article_count: int
    page_url: str


class SourceDetailOut(SourceOut):
    feeds: list[FeedHealthOut]


class SearchHitOut(ApiModel):
    id: str = Field(pattern=f"^{ARTICLE_ID_PATTERN}$")
    title: str = Field(description="Plain text.")
    title_html: str = Field(description="Title, HTML-escaped, matched terms wrapped in <mark>.")
    snippet_html: str = Field(
        description="Excerpt of the body, HTML-escaped, matched terms wrapped in <mark>."
    )
    published_at: datetime
    language: str | None
    source_id: int
    score: float = Field(description="Relevance x recency; only comparable within one response.")
    page_url: str


class PageOut(ApiModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


# Named subclasses rather than bare PageOut[X]: OpenAPI then shows readable component names.
class ArticlePageOut(PageOut[ArticleCardOut]):
    pass


class SourcePageOut(PageOut[SourceOut]):
    pass


class TrendingTagPageOut(PageOut[TrendingTagOut]):
    """Bounded list: next_cursor is always null."""


class SourceArticlesOut(PageOut[ArticleCardOut]):
    source: SourceOut


class TagArticlesOut(PageOut[ArticleCardOut]):
    tag: TagOut


class SearchPageOut(PageOut[SearchHitOut]):
    total_estimate: int | None = Field(
        description="Number of matches, exact up to a cap; null if not counted."
    )
