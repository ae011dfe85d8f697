"""What readers see, as plain immutable data. Built by the service; rendered by web and API alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SourceRef:
    id: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class TagRef:
    slug: str
    name: str
    kind: str = "topic"


@dataclass(frozen=True, slots=True)
class ArticleCard:
    """An article in a list: enough for a headline, a thumbnail and a snippet."""

    id: str
    title: str
    source: SourceRef
    published_at: datetime
    image_url: str | None
    snippet: str
    language: str | None
    url: str


@dataclass(frozen=True, slots=True)
class ArticleDetail:
    id: str
    title: str
    source: SourceRef
    published_at: datetime
    fetched_at: datetime
    image_url: str | None
    language: str | None
    author: str | None
    canonical_url: str
    summary: str | None
    html: str
    text: str
    word_count: int
    body_origin: str
    tags: tuple[TagRef, ...] = ()
    story_id: str | None = None
    wire_agency: str | None = None  # "Kyodo News" when this is an agency's copy
    duplicate_of: str | None = None  # the earlier article this one reprints

    @property
    def snippet(self) -> str:
        return make_snippet(self.summary, self.text)


@dataclass(frozen=True, slots=True)
class CardPage:
    items: list[ArticleCard]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class FeedHealth:
    url: str
    title: str | None
    status: str  # ok | failing | disabled | new
    error_count: int
    last_error: str | None
    last_polled_at: datetime | None
    interval_seconds: int


@dataclass(frozen=True, slots=True)
class SourceInfo:
    id: int
    slug: str
    name: str
    homepage_url: str | None
    country: str | None
    language: str | None
    article_count: int = 0
    feeds: tuple[FeedHealth, ...] = field(default_factory=tuple)


SNIPPET_CHARS = 220


def make_snippet(summary: str | None, text: str, limit: int = SNIPPET_CHARS) -> str:
    """The feed's summary when it has one, else the start of the body, cut at a word boundary."""
    source = (summary or "").strip() or text.strip()
    source = " ".join(source.split())
    if len(source) <= limit:
        return source
    cut = source[:limit]
    space = cut.rfind(" ")
    # CJK text has no spaces: cut at the limit rather than losing the whole snippet.
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.;:、。") + "…"
