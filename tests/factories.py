"""Tiny factories for tests that need articles in the database without running the crawler."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.extract.urls import article_id, content_hash
from tidings.ingest.models import Article, Source
from tidings.tags.repo import tag_article

_counter = itertools.count(1)


async def make_source(db: Database, name: str = "The Daily Example", *, language: str = "en") -> Source:
    async with db.transaction() as session:
        n = next(_counter)
        source = Source(
            name=name,
            slug=f"{name.lower().replace(' ', '-')}-{n}",
            homepage_url=f"https://example{n}.org/",
            language=language,
            country="GB",
        )
        session.add(source)
    return source


async def make_article(
    db: Database,
    source: Source,
    *,
    title: str | None = None,
    text: str | None = None,
    language: str = "en",
    published_at: datetime | None = None,
    age: timedelta | None = None,
    tags: list[str] | None = None,
    image_url: str | None = "https://images.example.org/lead.jpg",
    summary: str | None = None,
    html: str | None = None,
) -> Article:
    n = next(_counter)
    title = title or f"Article number {n}"
    text = text or f"{title}. " + "The council met on Tuesday to discuss the budget. " * 5
    url = f"{source.homepage_url}news/{n}"
    when = published_at or (utcnow() - (age if age is not None else timedelta(minutes=n)))
    article = Article(
        id=article_id(url),
        canonical_url=url,
        url=url,
        source_id=source.id,
        title=title,
        author="A. Reporter",
        published_at=when,
        fetched_at=utcnow(),
        language=language,
        image_url=image_url,
        summary=summary,
        text=text,
        html=html if html is not None else "".join(f"<p>{p}</p>" for p in text.split("\n\n")),
        content_hash=content_hash(text),
        word_count=len(text.split()),
        categories=tags or [],
        body_origin="page",
    )
    async with db.transaction() as session:
        session.add(article)
        await session.flush()
        if tags:
            await tag_article(session, article_id=article.id, names=tags)
    return article
