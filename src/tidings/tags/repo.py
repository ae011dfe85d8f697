"""Storage of hashtags."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.ingest.repo import slugify
from tidings.tags.models import ArticleTag, Tag

MAX_TAGS_PER_ARTICLE = 8
# Categories that describe the feed, not the article: as hashtags they would tag everything.
GENERIC_CATEGORIES = frozenset(
    {
        "uncategorized",
        "uncategorised",
        "news",
        "general",
        "latest",
        "top stories",
        "home",
        "rss",
        "all",
        "misc",
    }
)
_URLISH = re.compile(r"^(https?:|www\.)|/")


def clean_tag_name(raw: str) -> str | None:
    """A feed category as a readable hashtag name, or None when it is noise."""
    name = re.sub(r"\s+", " ", raw).strip(" \t#,;:|")
    if not 2 <= len(name) <= 40 or _URLISH.search(name):
        return None
    if name.casefold() in GENERIC_CATEGORIES or name.isdigit():
        return None
    return name


def tag_slug(name: str) -> str:
    return slugify(name, max_length=60)


async def ensure_tags(session: AsyncSession, names: Iterable[str], *, kind: str = "topic") -> dict[str, int]:
    """slug → tag id for each name, creating the missing tags."""
    by_slug: dict[str, str] = {}
    for name in names:
        cleaned = clean_tag_name(name)
        if cleaned:
            by_slug.setdefault(tag_slug(cleaned), cleaned)
    if not by_slug:
        return {}
    rows = await session.execute(select(Tag.slug, Tag.id).where(Tag.slug.in_(list(by_slug))))
    found = {slug: tag_id for slug, tag_id in rows}
    created = [Tag(slug=slug, name=name, kind=kind) for slug, name in by_slug.items() if slug not in found]
    if created:
        session.add_all(created)
        await session.flush()  # one round trip for all the new tags' ids
        found.update({tag.slug: tag.id for tag in created})
    return found


async def tag_new_articles(
    session: AsyncSession, names_by_article: dict[str, list[str]], *, origin: str = "feed"
) -> None:
    """Tag freshly inserted articles (which have no tags yet) in a couple of statements."""
    slugs_to_ids = await ensure_tags(session, (name for names in names_by_article.values() for name in names))
    rows = []
    for article_id, names in names_by_article.items():
        tag_ids = dict.fromkeys(
            slugs_to_ids[tag_slug(cleaned)] for name in names if (cleaned := clean_tag_name(name))
        )
        rows += [
            ArticleTag(article_id=article_id, tag_id=tag_id, origin=origin)
            for tag_id in list(tag_ids)[:MAX_TAGS_PER_ARTICLE]
        ]
    session.add_all(rows)


async def tag_article(
    session: AsyncSession, *, article_id: str, names: Iterable[str], origin: str = "feed"
) -> None:
    slugs_to_ids = await ensure_tags(session, names)
    existing = set(
        await session.scalars(select(ArticleTag.tag_id).where(ArticleTag.article_id == article_id))
    )
    for tag_id in list(slugs_to_ids.values())[:MAX_TAGS_PER_ARTICLE]:
        if tag_id not in existing:
            session.add(ArticleTag(article_id=article_id, tag_id=tag_id, origin=origin))
