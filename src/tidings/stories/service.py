"""The read side of stories: top stories for the home page, and one story's full coverage."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tidings.articles import repo as article_repo
from tidings.articles.service import card_from_row
from tidings.articles.views import ArticleCard, SourceRef
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.errors import NotFound
from tidings.ingest.models import Article, Source
from tidings.stories.models import Story
from tidings.stories.repo import story_score

TOP_STORY_HOURS = 48
MAX_STORY_ARTICLES = 300


@dataclass(frozen=True, slots=True)
class StoryCard:
    id: str
    title: str
    image_url: str | None
    first_published_at: Any
    last_published_at: Any
    article_count: int
    source_count: int
    languages: tuple[str, ...]
    lead_article_id: str | None


@dataclass(frozen=True, slots=True)
class CoverageGroup:
    """One publisher's articles in one language."""

    source: SourceRef
    language: str | None
    articles: tuple[ArticleCard, ...]


@dataclass(frozen=True, slots=True)
class StoryDetail:
    story: StoryCard
    first_reported: ArticleCard | None
    timeline: tuple[ArticleCard, ...]  # oldest first
    coverage: tuple[CoverageGroup, ...]  # biggest publishers first
    reprints: int  # copies collapsed into their original
    by_language: tuple[tuple[str, int], ...]


class StoryService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def top(
        self, *, language: str | None = None, limit: int = 8, min_sources: int = 2
    ) -> list[StoryCard]:
        """Ranked by source diversity, velocity and recency (stories/repo.py story_score), now."""
        now = utcnow()
        query = (
            select(Story)
            .where(Story.last_published_at >= now - timedelta(hours=TOP_STORY_HOURS))
            .where(Story.source_count >= min_sources)
            .order_by(Story.score.desc())
            .limit(200)
        )
        async with self.db.session() as session:
            stories = list(await session.scalars(query))
        if language:
            stories = [s for s in stories if language in (s.languages or [])]
        stories.sort(
            key=lambda s: story_score(
                sources=s.source_count, articles=s.article_count, last=s.last_published_at, now=now
            ),
            reverse=True,
        )
        return [_card(story) for story in stories[:limit]]

    async def get(self, story_id: str) -> StoryDetail:
        async with self.db.session() as session:
            story = await session.get(Story, story_id)
            if story is None:
                raise NotFound(f"no story {story_id}")
            rows = await article_repo.card_rows(
                session,
                article_repo.card_query()
                .where(Article.story_id == story_id)
                .order_by(Article.published_at, Article.id)
                .limit(MAX_STORY_ARTICLES),
            )
            reprints = await session.scalar(
                select(func.count())
                .select_from(Article)
                .where(Article.story_id == story_id, Article.duplicate_of.is_not(None))
            )
        timeline = tuple(card_from_row(row) for row in rows)
        groups: OrderedDict[tuple[int, str | None], list[ArticleCard]] = OrderedDict()
        for card in timeline:
            groups.setdefault((card.source.id, card.language), []).append(card)
        coverage = sorted(
            (
                CoverageGroup(source=cards[0].source, language=language, articles=tuple(reversed(cards)))
                for (_, language), cards in groups.items()
            ),
            key=lambda group: (-len(group.articles), group.source.name),
        )
        languages: dict[str, int] = {}
        for card in timeline:
            languages[card.language or "und"] = languages.get(card.language or "und", 0) + 1
        return StoryDetail(
            story=_card(story),
            first_reported=timeline[0] if timeline else None,
            timeline=timeline,
            coverage=tuple(coverage),
            reprints=int(reprints or 0),
            by_language=tuple(sorted(languages.items(), key=lambda item: -item[1])),
        )

    async def sources_of(self, story_ids: list[str], *, per_story: int = 4) -> dict[str, list[str]]:
        """A few publisher names per story, for story cards."""
        if not story_ids:
            return {}
        query = (
            select(Article.story_id, Source.name)
            .join(Source, Source.id == Article.source_id)
            .where(Article.story_id.in_(story_ids))
            .group_by(Article.story_id, Source.name)
            .order_by(Article.story_id, func.min(Article.published_at))
        )
        names: dict[str, list[str]] = {}
        async with self.db.session() as session:
            for story_id, name in await session.execute(query):
                if len(names.setdefault(story_id, [])) < per_story:
                    names[story_id].append(name)
        return names


def _card(story: Story) -> StoryCard:
    return StoryCard(
        id=story.id,
        title=story.title,
        image_url=story.image_url,
        first_published_at=story.first_published_at,
        last_published_at=story.last_published_at,
        article_count=story.article_count,
        source_count=story.source_count,
        languages=tuple(story.languages or ()),
        lead_article_id=story.lead_article_id,
    )
