"""One feed entry → one stored article (or nothing, when we already have it).

Used by the poller for every new entry; the steps are: fetch the page (robots-aware), extract,
canonicalise, de-duplicate (canonical URL or identical text), store in its own short transaction.
"""

from __future__ import annotations

import html as html_lib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.config import Settings
from tidings.db.engine import Database
from tidings.errors import ExtractionError
from tidings.extract.article import ExtractedArticle
from tidings.extract.runner import ArticleExtractor, Extraction
from tidings.extract.sanitize import html_to_text, sanitize_html
from tidings.extract.urls import article_id, canonicalize_url, content_hash
from tidings.ingest import repo
from tidings.ingest.fetcher import Fetcher, FetchError, FetchResult
from tidings.ingest.models import Article
from tidings.ingest.parser import FeedEntry
from tidings.tags.repo import tag_new_articles

log = logging.getLogger(__name__)

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
# Identical text shorter than this (a one-line teaser, "Photo: AP") says nothing about identity.
MIN_TEXT_FOR_HASH_DEDUP = 200


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """An extracted article waiting to be stored, with every URL hash it is known under."""

    article: Article
    aliases: frozenset[str]
    dedup_hash: str | None


@dataclass(frozen=True, slots=True)
class FeedContext:
    """What an entry needs to know about the feed it came from (a snapshot, not an ORM object)."""

    feed_id: int
    source_id: int
    language: str | None


def entry_url_hash(link: str) -> str:
    return article_id(canonicalize_url(link))


class ArticleIngestor:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        fetcher: Fetcher,
        extractor: ArticleExtractor,
    ) -> None:
        self.settings = settings
        self.db = db
        self.fetcher = fetcher
        self.extractor = extractor

    async def prepare(self, entry: FeedEntry, feed: FeedContext, *, now: datetime) -> PreparedArticle | None:
        """Fetch and extract one entry (no database access: many run concurrently)."""
        page = await self._fetch_page(entry.link)
        extraction, origin = await self._extract(entry, page)
        if extraction is None:
            log.info("entry skipped, nothing usable: %s", entry.link)
            return None
        extracted = extraction.article
        final_url = page.url if page is not None else entry.link
        canonical = _choose_canonical(extracted.canonical_url, final_url)
        aid = article_id(canonical)
        text_hash = extraction.content_hash
        article = Article(
            id=aid,
            canonical_url=canonical,
            url=final_url,
            source_id=feed.source_id,
            feed_id=feed.feed_id,
            title=_title(entry, extracted),
            author=(extracted.author or entry.author or None),
            published_at=_published(entry, extracted, now),
            fetched_at=now,
            language=extracted.language or entry.language or feed.language,
            image_url=extracted.image or entry.image,
            summary=entry.summary or extracted.description,
            text=extracted.text,
            html=extracted.html,
            content_hash=text_hash,
            word_count=extracted.word_count,
            categories=list(dict.fromkeys(entry.categories))[:20],
            body_origin=origin,
            duplicate_of=None,
        )
        return PreparedArticle(
            article=article,
            aliases=frozenset({aid, entry_url_hash(entry.link), entry_url_hash(final_url)}),
            dedup_hash=text_hash if len(extracted.text) >= MIN_TEXT_FOR_HASH_DEDUP else None,
        )

    async def store(self, prepared: list[PreparedArticle]) -> list[str]:
        """Store a poll's new articles in one transaction; return the ids that were new.

        One transaction per poll rather than per article: on SQLite every transaction costs a few
        milliseconds of thread hand-offs, and a poll's articles are a natural unit (a crash loses at
        most the poll in flight, which the next poll redoes).
        """
        if not prepared:
            return []
        try:
            async with self.db.transaction() as session:
                return await _store_batch(session, prepared)
        except IntegrityError:
            # Another process stored one of these between our check and insert: retry one by one,
            # so that the rest are not lost with it.
            log.debug("concurrent insert while storing a batch; retrying one by one")
        stored: list[str] = []
        for item in prepared:
            try:
                async with self.db.transaction() as session:
                    stored += await _store_batch(session, [item])
            except IntegrityError:
                continue
        return stored

    async def _fetch_page(self, link: str) -> FetchResult | None:
        if not self.settings.fetch_articles:
            return None
        try:
            page = await self.fetcher.fetch(
                link, accept=HTML_ACCEPT, check_robots=self.settings.respect_robots
            )
        except FetchError as exc:
            # Not fatal: the feed's own content stands in for the page.
            log.info("article page not fetched (%s): %s", exc.code, link)
            return None
        content_type = page.content_type or ""
        if page.content and ("html" in content_type or not content_type):
            return page
        return None

    async def _extract(self, entry: FeedEntry, page: FetchResult | None) -> tuple[Extraction | None, str]:
        if page is not None:
            try:
                result = await self.extractor.extract(
                    page.content, url=page.url, fallback_html=entry.content_html
                )
                return result, "page"
            except ExtractionError:
                pass
        if entry.content_html:
            try:
                return await self.extractor.extract(entry.content_html, url=entry.link), "feed"
            except ExtractionError:
                pass
        summary = _from_summary(entry)
        if summary is None:
            return None, "summary"
        return Extraction(
            article=summary, content_hash=content_hash(summary.text or summary.title or entry.link)
        ), "summary"


async def _store_batch(session: AsyncSession, prepared: list[PreparedArticle]) -> list[str]:
    ids = [p.article.id for p in prepared]
    hashes = [p.dedup_hash for p in prepared if p.dedup_hash]
    existing_ids = await repo.existing_article_ids(session, ids)
    by_hash = await repo.article_ids_by_content_hash(session, hashes)
    aliases: dict[str, str] = {}
    stored: list[str] = []
    new_articles: list[Article] = []
    for item in prepared:
        article = item.article
        same = (
            article.id
            if article.id in existing_ids
            else (by_hash.get(item.dedup_hash) if item.dedup_hash else None)
        )
        if same is None:
            session.add(article)
            new_articles.append(article)
            existing_ids.add(article.id)
            if item.dedup_hash:
                by_hash[item.dedup_hash] = article.id
            stored.append(article.id)
            same = article.id
        for url_hash in item.aliases:
            aliases.setdefault(url_hash, same)
    await session.flush()
    await tag_new_articles(
        session, {article.id: article.categories for article in new_articles if article.categories}
    )
    known = await repo.known_url_hashes(session, aliases)
    repo.add_url_aliases(session, {h: a for h, a in aliases.items() if h not in known})
    return stored


def _choose_canonical(declared: str | None, final_url: str) -> str:
    """Trust rel=canonical only within the same site: a page must not claim another site's identity."""
    fallback = canonicalize_url(final_url)
    if not declared:
        return fallback
    declared = canonicalize_url(declared)
    if _site(declared) == _site(fallback):
        return declared
    return fallback


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _title(entry: FeedEntry, extracted: ExtractedArticle) -> str:
    title = (entry.title or extracted.title or "").strip()
    if not title:
        title = extracted.text[:80].split("\n")[0] or "(untitled)"
    return title[:1000]


def _published(entry: FeedEntry, extracted: ExtractedArticle, now: datetime) -> datetime:
    for candidate in (entry.published, extracted.published, entry.updated):
        if candidate is not None and candidate <= now + timedelta(hours=1):
            return candidate
    return now


def _from_summary(entry: FeedEntry) -> ExtractedArticle | None:
    summary = (entry.summary or "").strip()
    if not summary and not entry.title:
        return None
    body = sanitize_html(f"<p>{html_lib.escape(summary)}</p>") if summary else ""
    text = html_to_text(body) if body else ""
    return ExtractedArticle(
        title=entry.title,
        author=entry.author,
        published=entry.published,
        language=entry.language,
        image=entry.image,
        text=text,
        html=body,
        canonical_url=None,
        site_name=None,
        description=summary or None,
        word_count=len(text.split()),
    )
