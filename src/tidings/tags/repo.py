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


# The extractor says "organisation"; tags have always said "org".
_KIND = {"organisation": "org", "person": "person", "place": "place", "topic": "topic"}


async def tag_derived(
    session: AsyncSession, tags_by_article: dict[str, list[tuple[str, str, float]]]
) -> None:
    """Add derived hashtags (name, kind, score) to articles, beside the feed's own, up to the cap."""
    if not tags_by_article:
        return
    wanted: dict[str, tuple[str, str]] = {}
    for tags in tags_by_article.values():
        for name, kind, _ in tags:
            cleaned = clean_tag_name(name)
            if cleaned:
                wanted.setdefault(tag_slug(cleaned), (cleaned, _KIND.get(kind, "topic")))
    if not wanted:
        return
    rows = await session.execute(select(Tag.slug, Tag.id).where(Tag.slug.in_(list(wanted))))
    ids = {slug: tag_id for slug, tag_id in rows}
    created = [
        Tag(slug=slug, name=name, kind=kind) for slug, (name, kind) in wanted.items() if slug not in ids
    ]
    if created:
        session.add_all(created)
        await session.flush()
        ids.update({tag.slug: tag.id for tag in created})
    existing: dict[str, set[int]] = {}
    for article_id, tag_id in await session.execute(
        select(ArticleTag.article_id, ArticleTag.tag_id).where(
            ArticleTag.article_id.in_(list(tags_by_article))
        )
    ):
        existing.setdefault(article_id, set()).add(tag_id)
    for article_id, tags in tags_by_article.items():
        have = existing.get(article_id, set())
        # Scores are the extractor's own scale; the order (best first) is what carries over.
        for rank, (name, _, _) in enumerate(tags):
            cleaned = clean_tag_name(name)
            tag_id = ids.get(tag_slug(cleaned)) if cleaned else None
            if tag_id is None or tag_id in have or len(have) >= MAX_TAGS_PER_ARTICLE:
                continue
            have.add(tag_id)
            weight = max(0.1, 1.0 - 0.1 * rank)
            session.add(ArticleTag(article_id=article_id, tag_id=tag_id, origin="derived", weight=weight))
