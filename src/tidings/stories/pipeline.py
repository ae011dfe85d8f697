"""Understanding new articles as they arrive: one pipeline for every caller.

After the poller stores articles it calls `notify()`; a background task then takes the articles
that have no features yet (so nothing is lost across restarts or crashes), has the analysis
worker embed, fingerprint, credit and tag them, and decides here, with everything recent in
memory, which earlier article each one copies and which story it joins. Story assignment is one
writer's job: `tidings serve` runs it beside its scheduler, so two processes never disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.stories import repo
from tidings.stories.analysis import Analyser, Analysis
from tidings.stories.clustering import StoryClusterer, StoryItem, central_article
from tidings.stories.duplicates import Fingerprint, NearDuplicateIndex
from tidings.stories.models import ArticleFeatures
from tidings.stories.related import RelatedIndex
from tidings.tags.repo import tag_derived

log = logging.getLogger(__name__)

BATCH = 32
IDLE_CHECK_SECONDS = 10.0
MAINTAIN_EVERY_SECONDS = 300.0
ERROR_BACKOFF_SECONDS = 30.0


@dataclass
class Decisions:
    """What one batch changes besides the features themselves."""

    duplicates: dict[str, str] = field(default_factory=dict)  # article → the original it copies
    wire: dict[str, str] = field(default_factory=dict)  # article → agency
    # Every story the batch joins, with the earliest date seen: rows are created where missing, not
    # only for stories the clusterer calls new (after a failed batch, memory is ahead of the database).
    stories: dict[str, datetime] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)  # story → articles joining it
    touched: set[str] = field(default_factory=set)


class Understanding:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        analyser: Analyser,
        related: RelatedIndex,
        clusterer: StoryClusterer | None = None,
        duplicates: NearDuplicateIndex | None = None,
        on_stories_changed: Callable[[set[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.analyser = analyser
        self.related = related
        self.clusterer = clusterer or StoryClusterer()
        self.duplicates = duplicates or NearDuplicateIndex()
        # Called with the stories a batch touched (the AI service warms their briefs).
        self.on_stories_changed = on_stories_changed
        self._originals: dict[str, str] = {}  # copy → original, for copies of copies
        self._dup_order: deque[tuple[datetime, str]] = deque()
        self._wake = asyncio.Event()
        self._restored = False
        self._last_maintained = time.monotonic()
        self.understood = 0
        self.last_error: str | None = None

    def notify(self) -> None:
        """New articles were stored: look now rather than at the next idle check."""
        self._wake.set()

    async def restore(self) -> None:
        """Rebuild the in-memory story and duplicate state from recent articles in the database."""
        await self.related.catch_up(self.db)
        now = utcnow()
        days = max(self.settings.story_window_days, self.settings.duplicate_window_days)
        async with self.db.session() as session:
            facts = await repo.recent_facts(session, since=repo.window_start(now, days))
        story_since = repo.window_start(now, self.settings.story_window_days)
        with_story = []
        for fact in facts:
            if fact.duplicate_of:
                self._originals[fact.id] = fact.duplicate_of
            self._remember_fingerprint(fact.id, Fingerprint.from_bytes(fact.fingerprint), fact.published_at)
            if fact.story_id and fact.published_at >= story_since and fact.model == self.related.model:
                with_story.append(
                    (self._item(fact, np.frombuffer(fact.vector, dtype=np.float32)), fact.story_id)
                )
        self.clusterer.restore(with_story)
        self._restored = True
        log.info("understanding restored %d recent articles, %d open stories", len(facts), len(with_story))

    async def run_forever(self) -> None:
        if not self._restored:
            await self.restore()
        while True:
            try:
                done = await self.run_once()
                if time.monotonic() - self._last_maintained > MAINTAIN_EVERY_SECONDS:
                    await self.maintain()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bad batch or a down embeddings server must not stop the loop
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("understanding failed; retrying in %ss", ERROR_BACKOFF_SECONDS)
                await asyncio.sleep(ERROR_BACKOFF_SECONDS)
                continue
            if done:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=IDLE_CHECK_SECONDS)

    async def run_until_idle(self, *, on_progress: Callable[[int], None] | None = None) -> int:
        """Understand everything pending (CLI, tests). Returns how many articles were understood."""
        if not self._restored:
            await self.restore()
        total = 0
        while done := await self.run_once():
            total += done
            if on_progress is not None:
                on_progress(done)
        return total

    async def pending(self) -> int:
        """Articles without a vector of the current model."""
        async with self.db.session() as session:
            return await repo.stale_vector_count(session, model=self.related.model)

    async def forget_other_models(self, *, everything: bool = False) -> int:
        """Drop stored vectors so they are computed again (after a model change, or all of them)."""
        async with self.db.transaction() as session:
            return await repo.forget_features(session, except_model="" if everything else self.related.model)

    async def run_once(self, *, limit: int = BATCH) -> int:
        async with self.db.session() as session:
            inputs = await repo.articles_to_understand(session, limit=limit)
        if not inputs:
            return 0
        analyses = await self.analyser.analyse(inputs)
        async with self.db.session() as session:
            rows = await repo.article_facts(session, [a.article_id for a in analyses])
        # An article deleted while it was analysed has nothing to attach its features to.
        by_id = {a.article_id: a for a in analyses if a.article_id in rows}
        facts = sorted(
            (
                repo.ArticleFacts(
                    **rows[a.article_id], model=a.model, vector=a.vector, fingerprint=a.fingerprint
                )
                for a in by_id.values()
            ),
            key=lambda fact: (fact.published_at, fact.id),
        )
        decisions = Decisions()
        vectors = []
        for fact in facts:
            vector = np.frombuffer(fact.vector, dtype=np.float32)
            vectors.append(vector)
            self._decide(fact, by_id[fact.id], vector, decisions)
        # Features and decisions commit together: an article with features is one whose story,
        # copies and hashtags are recorded, so a crash in between cannot leave it half understood.
        async with self.db.transaction() as session:
            await repo.save_features(session, (_features(a) for a in by_id.values()))
            await self._apply(session, decisions, by_id)
        if facts:
            self.related.upsert([fact.id for fact in facts], np.vstack(vectors))
        if self.on_stories_changed is not None:
            await self.on_stories_changed(decisions.touched)
        self.understood += len(analyses)
        return len(analyses)

    def _decide(
        self, fact: repo.ArticleFacts, analysis: Analysis, vector: np.ndarray, out: Decisions
    ) -> None:
        fingerprint = Fingerprint.from_bytes(analysis.fingerprint)
        matches = self.duplicates.query(fingerprint, exclude=fact.id)
        if matches:
            out.duplicates[fact.id] = self._original_of(matches[0].article_id)
            self._originals[fact.id] = out.duplicates[fact.id]
        self._remember_fingerprint(fact.id, fingerprint, fact.published_at)
        if analysis.wire_agency:
            out.wire[fact.id] = analysis.wire_agency
        assignment = self.clusterer.add(self._item(fact, vector))
        out.stories.setdefault(assignment.story_id, fact.published_at)
        out.members.setdefault(assignment.story_id, []).append(fact.id)
        out.touched.add(assignment.story_id)

    async def _apply(
        self, session: AsyncSession, decisions: Decisions, analyses: dict[str, Analysis]
    ) -> None:
        await repo.ensure_stories(session, decisions.stories)
        for story_id, members in decisions.members.items():
            await repo.assign_story(session, members, story_id)
        await repo.mark_duplicates(session, decisions.duplicates)
        await repo.set_wire_agencies(session, decisions.wire)
        await tag_derived(
            session,
            {
                article_id: [(tag.name, tag.kind, tag.score) for tag in analysis.hashtags]
                for article_id, analysis in analyses.items()
                if analysis.hashtags
            },
        )
        await repo.refresh_stories(session, decisions.touched, lead_articles=self._leads(decisions.touched))

    def _leads(self, story_ids: set[str]) -> dict[str, str]:
        states = self.clusterer.stories()
        return {story_id: central_article(states[story_id]) for story_id in story_ids if story_id in states}

    async def maintain(self, now: datetime | None = None) -> None:
        """Merge and split stories, forget what fell out of the windows, save the related index."""
        self._last_maintained = time.monotonic()
        now = now or utcnow()
        changes = self.clusterer.maintain(now)
        touched: set[str] = set()
        if changes:
            async with self.db.transaction() as session:
                for change in changes:
                    target = change.into or change.story_id
                    await repo.ensure_stories(session, {target: now})
                    await repo.assign_story(session, change.article_ids, target)
                    touched |= {change.story_id, target}
                await repo.refresh_stories(session, touched, lead_articles=self._leads(touched))
        self._forget_fingerprints(before=repo.window_start(now, self.settings.duplicate_window_days))
        self.related.save()

    def _original_of(self, article_id: str) -> str:
        seen = set()
        while article_id in self._originals and article_id not in seen:
            seen.add(article_id)
            article_id = self._originals[article_id]
        return article_id

    def _remember_fingerprint(self, article_id: str, fingerprint: Fingerprint, when: datetime) -> None:
        if article_id in self.duplicates:
            return
        self.duplicates.add(article_id, fingerprint)
        self._dup_order.append((when, article_id))

    def _forget_fingerprints(self, *, before: datetime) -> None:
        # Arrival order is close to date order; a late backfill just stays a little longer.
        while self._dup_order and self._dup_order[0][0] < before:
            _, article_id = self._dup_order.popleft()
            self.duplicates.remove(article_id)
            self._originals.pop(article_id, None)

    @staticmethod
    def _item(fact: repo.ArticleFacts, vector: np.ndarray) -> StoryItem:
        published = fact.published_at if fact.published_at.tzinfo else fact.published_at.replace(tzinfo=UTC)
        return StoryItem(
            article_id=fact.id,
            vector=vector,
            published_at=published,
            title=fact.title,
            text=fact.text_start,
            language=fact.language,
            source=fact.source_name,
        )


def _features(analysis: Analysis) -> ArticleFeatures:
    return ArticleFeatures(
        article_id=analysis.article_id,
        model=analysis.model,
        dimensions=analysis.dimensions,
        vector=analysis.vector,
        fingerprint=analysis.fingerprint,
    )
