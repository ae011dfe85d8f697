"""Online story clustering: each new article joins the story it reports on, or starts one.

Why online: an article must be in its story within seconds of being stored, so stories grow one
article at a time (single pass) instead of re-clustering everything; `maintain()`, run
periodically, repairs what a single pass gets wrong (two stories that converged are merged, a
story that chained two events together is split) and forgets stories older than the window.

Scoring an article against a story (every weight is in `ClusteringParams`):
- similarity: the mean of the cosine to the story's centroid and to its nearest member. The
  centroid keeps a big story from chaining into its neighbours; the nearest member lets a
  translation find its original in a story that is already diffuse.
- languages: multilingual encoders score the same content lower across languages (MEANTIME's
  Spanish/Italian/Dutch translations of English: 0.88 on average instead of 1.0; Japanese and
  Korean translations in the tests: 0.64–0.76), so an article in a language the story lacks gets
  part of that gap back.
- time: only stories with an article within `window_days` are candidates, and a saturating
  penalty grows with the gap between the article and the story's time span (half-life in days):
  reports of one event appear within hours to days; a match a week apart needs more evidence.
- names and numbers shared with the story's members (signals.py) add a bonus, never a malus: an
  article without capitalised names (Japanese, Korean) is judged on its vector and numbers.
The defaults come from a small grid over two corpora with human judgements, translations of one
article (MEANTIME) and independent reports of one event (SemEval-2022): benchmarks/stories.py.

Candidate lookup is one matrix-vector product over the centroids of the active stories, then the
full score for the best few: under a millisecond with 5,000 active stories. Not thread-safe: one
worker owns a clusterer.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from tidings.stories.signals import (
    DocumentFrequency,
    Signals,
    average_linkage_split,
    extract_signals,
    overlap,
)

DAY = 86_400.0


@dataclass
class StoryItem:
    article_id: str
    vector: np.ndarray
    published_at: datetime  # timezone-aware
    title: str
    text: str
    language: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Assignment:
    story_id: str
    is_new: bool
    score: float  # the joined story's score; for a new story the best one rejected (0 if none)


@dataclass(frozen=True)
class StoryChange:
    """What `maintain()` moved: `article_ids` left story `story_id` for story `into`.

    merge: every article of `story_id` moved into the older story `into`; `story_id` is gone.
    split: `article_ids` left `story_id` to form the new story `into`, named after its earliest
    article like any new story.
    """

    kind: Literal["merge", "split"]
    story_id: str
    article_ids: list[str]
    into: str | None


@dataclass(frozen=True)
class ClusteringParams:
    join_threshold: float = 0.70  # score needed to join a story rather than start one
    centroid_weight: float = 0.5  # similarity = w·cos(centroid) + (1 − w)·cos(nearest member)
    cross_lingual: float = 0.15  # added when no member shares the article's language
    entity_weight: float = 0.2  # × the members' mean share of the article's names (IDF-weighted)
    number_weight: float = 0.1  # × the same for its numbers
    window_days: float = 7.0  # stories with no article this close in time are not candidates
    time_penalty: float = 0.2  # the most a time gap can subtract ...
    half_life_days: float = 2.0  # ... half of it reached at this gap
    candidates: int = 16  # stories scored in full: the best by centroid similarity
    max_member_vectors: int = 256  # the nearest-member search looks at a story's latest this many
    # Merge and split compare two groups by average linkage (the mean similarity across them),
    # with a gap between the two bars so that one never undoes the other.
    merge_threshold: float = 0.80  # average linkage, less the time penalty, at which stories merge
    split_threshold: float = 0.55  # a story splits when its two halves' average linkage is below
    min_split_size: int = 2  # neither half of a split may be smaller
    max_split_members: int = 200  # average linkage is O(n³); bigger stories are not re-checked


@dataclass(slots=True)
class _Member:
    article_id: str
    vector: np.ndarray  # float32, normalised
    published: float  # POSIX seconds
    signals: Signals
    language: str | None
    source: str | None


@dataclass
class StoryState:
    story_id: str
    members: list[str] = field(default_factory=list)  # article ids, oldest first
    centroid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    first_published: datetime | None = None
    last_published: datetime | None = None
    languages: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    entities: Counter[str] = field(default_factory=Counter, repr=False)  # name → members using it
    numbers: Counter[str] = field(default_factory=Counter, repr=False)
    first_ts: float = field(default=math.inf, repr=False)  # POSIX seconds of first/last_published
    last_ts: float = field(default=-math.inf, repr=False)
    _entries: list[_Member] = field(default_factory=list, repr=False)
    _sum: np.ndarray | None = field(default=None, repr=False)
    _matrix: np.ndarray | None = field(default=None, repr=False)

    def vectors(self) -> np.ndarray:
        """Member vectors, one row per entry of `members`."""
        if self._matrix is None or len(self._matrix) != len(self._entries):
            self._matrix = np.vstack([m.vector for m in self._entries])
        return self._matrix

    def _extend(self, entries: list[_Member]) -> None:
        """Add members, updating the aggregates in O(new members) (plus a sort when out of order)."""
        if any(m.published < self.last_ts for m in entries):
            self._entries = sorted([*self._entries, *entries], key=lambda m: m.published)
            self._matrix = None
        else:
            self._entries += entries
            if self._matrix is not None:
                self._matrix = np.vstack([self._matrix, *[m.vector for m in entries]])
        self.members = [m.article_id for m in self._entries]
        added = np.vstack([m.vector for m in entries]).sum(axis=0, dtype=np.float64)
        total = added if self._sum is None else self._sum + added
        self._sum = total
        self.centroid = (total / max(float(np.linalg.norm(total)), 1e-9)).astype(np.float32)
        self.first_ts = min(self.first_ts, *(m.published for m in entries))
        self.last_ts = max(self.last_ts, *(m.published for m in entries))
        self.first_published = datetime.fromtimestamp(self.first_ts, UTC)
        self.last_published = datetime.fromtimestamp(self.last_ts, UTC)
        for m in entries:
            self.languages.update([m.language] if m.language else [])
            self.sources.update([m.source] if m.source else [])
            self.entities.update(m.signals.entities)
            self.numbers.update(m.signals.numbers)

    def _linkage(self, other: StoryState) -> float:
        """Average linkage: the mean cosine over all pairs of members, one from each story."""
        assert self._sum is not None and other._sum is not None
        return float(self._sum @ other._sum) / (len(self.members) * len(other.members))


def central_article(state: StoryState) -> str:
    """The member closest to the story's centroid: its most typical report, used for its title."""
    return state.members[int(np.argmax(state.vectors() @ state.centroid))]


class _CentroidIndex:
    """Centroids of the active stories as one matrix, for one matrix-vector product per article."""

    def __init__(self, dimensions: int) -> None:
        self.matrix = np.zeros((64, dimensions), dtype=np.float32)
        self.first = np.zeros(64)
        self.last = np.zeros(64)
        self.ids: list[str] = []
        self.row: dict[str, int] = {}

    def put(self, story: StoryState) -> None:
        row = self.row.get(story.story_id)
        if row is None:
            row = len(self.ids)
            if row == len(self.matrix):  # grow by doubling: amortised O(1) per story
                self.matrix = np.vstack([self.matrix, np.zeros_like(self.matrix)])
                self.first = np.concatenate([self.first, np.zeros_like(self.first)])
                self.last = np.concatenate([self.last, np.zeros_like(self.last)])
            self.ids.append(story.story_id)
            self.row[story.story_id] = row
        self.matrix[row] = story.centroid
        self.first[row] = story.first_ts
        self.last[row] = story.last_ts

    def remove(self, story_id: str) -> None:
        row = self.row.pop(story_id)
        last = len(self.ids) - 1
        if row != last:  # move the last row into the hole
            moved = self.ids[last]
            self.matrix[row], self.first[row], self.last[row] = (
                self.matrix[last],
                self.first[last],
                self.last[last],
            )
            self.ids[row] = moved
            self.row[moved] = row
        self.ids.pop()

    def near(self, vector: np.ndarray, start: float, end: float, k: int) -> list[tuple[str, float]]:
        """The k stories most similar to `vector` among those with an article in [start, end]."""
        n = len(self.ids)
        if not n:
            return []
        similarity = self.matrix[:n] @ vector
        similarity[(self.last[:n] < start) | (self.first[:n] > end)] = -np.inf
        top = np.argpartition(-similarity, k - 1)[:k] if n > k else np.arange(n)
        return [(self.ids[i], float(similarity[i])) for i in top if similarity[i] > -np.inf]


class StoryClusterer:
    """The stories of the last `window_days`, in memory; the database stays the record."""

    def __init__(self, params: ClusteringParams | None = None) -> None:
        self.params = params or ClusteringParams()
        self._stories: dict[str, StoryState] = {}
        self._story_of: dict[str, str] = {}
        self._index: _CentroidIndex | None = None
        self._entity_df = DocumentFrequency()
        self._number_df = DocumentFrequency()
        self._dirty: set[str] = set()  # stories changed since the last maintain()
        self._latest = -math.inf

    def stories(self) -> dict[str, StoryState]:
        return dict(self._stories)

    def story_of(self, article_id: str) -> str | None:
        return self._story_of.get(article_id)

    def add(self, item: StoryItem) -> Assignment:
        """Put one article in its story: an existing one, or a new one named after the article."""
        known = self._story_of.get(item.article_id)
        if known is not None:
            return Assignment(known, False, 1.0)
        member = self._member(item)
        best_id, best_score = None, 0.0
        for story_id, score in self._scores(member):
            if best_id is None or score > best_score:
                best_id, best_score = story_id, score
        self._entity_df.add(member.signals.entities)
        self._number_df.add(member.signals.numbers)
        if best_id is not None and best_score >= self.params.join_threshold:
            self._attach(self._stories[best_id], [member])
            return Assignment(best_id, False, best_score)
        self._attach(self._new_story(item.article_id), [member])
        return Assignment(item.article_id, True, max(best_score, 0.0))

    def restore(self, items_with_story: Iterable[tuple[StoryItem, str]]) -> None:
        """Rebuild the in-memory state from stored articles and their stories (at startup)."""
        grouped: dict[str, list[_Member]] = {}
        for item, story_id in sorted(items_with_story, key=lambda pair: pair[0].published_at):
            if item.article_id in self._story_of:
                continue
            member = self._member(item)
            self._entity_df.add(member.signals.entities)
            self._number_df.add(member.signals.numbers)
            grouped.setdefault(story_id, []).append(member)
            self._story_of[item.article_id] = story_id
        for story_id, members in grouped.items():
            self._attach(self._stories.get(story_id) or self._new_story(story_id), members)

    def maintain(self, now: datetime | None = None) -> list[StoryChange]:
        """Expire, split, merge; returns the moves to apply to the database, in order.

        `now` defaults to the latest publication time seen, so a replay behaves like live use.
        """
        now_ts = now.timestamp() if now is not None else self._latest
        for story_id in [s for s, story in self._stories.items() if story.last_ts < now_ts - self._window]:
            self._drop(story_id)
        changes: list[StoryChange] = []
        for story_id in sorted(self._dirty & self._stories.keys()):
            changes += self._split(self._stories[story_id])
        queue = sorted(self._dirty & self._stories.keys())
        while queue:  # a round either merges something or ends the loop
            merged = self._merge_round(queue)
            changes += merged
            queue = sorted({change.into for change in merged if change.into in self._stories})
        self._dirty.clear()
        return changes

    # -- internals -----------------------------------------------------------------------------

    @property
    def _window(self) -> float:
        return self.params.window_days * DAY

    def _member(self, item: StoryItem) -> _Member:
        if item.published_at.tzinfo is None:
            raise ValueError("StoryItem.published_at must be timezone-aware")
        vector = np.asarray(item.vector, dtype=np.float32).ravel()
        vector = vector / max(float(np.linalg.norm(vector)), 1e-9)
        if self._index is None:
            self._index = _CentroidIndex(len(vector))
        published = item.published_at.timestamp()
        self._latest = max(self._latest, published)
        return _Member(
            article_id=item.article_id,
            vector=vector,
            published=published,
            signals=extract_signals(item.title, item.text),
            language=item.language,
            source=item.source,
        )

    def _new_story(self, story_id: str) -> StoryState:
        story = self._stories[story_id] = StoryState(story_id=story_id)
        return story

    def _time_penalty(self, gap_seconds: float) -> float:
        gap_days = max(0.0, gap_seconds) / DAY
        return self.params.time_penalty * (1.0 - 0.5 ** (gap_days / self.params.half_life_days))

    def _scores(self, member: _Member) -> Iterable[tuple[str, float]]:
        assert self._index is not None
        p = self.params
        start, end = member.published - self._window, member.published + self._window
        for story_id, centroid_similarity in self._index.near(member.vector, start, end, p.candidates):
            story = self._stories[story_id]
            nearest = float(np.max(story.vectors()[-p.max_member_vectors :] @ member.vector))
            similarity = p.centroid_weight * centroid_similarity + (1 - p.centroid_weight) * nearest
            gap = max(story.first_ts - member.published, member.published - story.last_ts)
            size = len(story.members)
            bonus = p.entity_weight * overlap(member.signals.entities, story.entities, size, self._entity_df)
            bonus += p.number_weight * overlap(member.signals.numbers, story.numbers, size, self._number_df)
            if member.language and story.languages and member.language not in story.languages:
                bonus += p.cross_lingual
            yield story_id, similarity - self._time_penalty(gap) + bonus

    def _attach(self, story: StoryState, members: list[_Member]) -> None:
        story._extend(members)
        for member in members:
            self._story_of[member.article_id] = story.story_id
        assert self._index is not None
        self._index.put(story)
        self._dirty.add(story.story_id)

    def _drop(self, story_id: str) -> StoryState:
        story = self._stories.pop(story_id)
        for article_id in story.members:
            self._story_of.pop(article_id, None)
        if self._index is not None:
            self._index.remove(story_id)
        self._dirty.discard(story_id)
        return story

    def _split(self, story: StoryState) -> list[StoryChange]:
        p = self.params
        if not 2 * p.min_split_size <= len(story.members) <= p.max_split_members:
            return []
        labels, between = average_linkage_split(story.vectors())
        halves = [
            [m for m, label in zip(story._entries, labels, strict=True) if label == side] for side in (0, 1)
        ]
        if between >= p.split_threshold or min(len(h) for h in halves) < p.min_split_size:
            return []
        # The half holding the story's seed keeps the id (after a merge, the half with the oldest).
        seeded = [any(m.article_id == story.story_id for m in h) for h in halves]
        keep = seeded.index(True) if any(seeded) else int(halves[1][0].published < halves[0][0].published)
        staying, leaving = halves[keep], halves[1 - keep]
        self._drop(story.story_id)
        self._attach(self._new_story(story.story_id), staying)
        self._attach(self._new_story(leaving[0].article_id), leaving)
        return [StoryChange("split", story.story_id, [m.article_id for m in leaving], leaving[0].article_id)]

    def _merge_round(self, story_ids: list[str]) -> list[StoryChange]:
        """Merge stories in `story_ids` with any active story that converged, best pairs first."""
        assert self._index is not None
        index, p = self._index, self.params
        n = len(index.ids)
        pairs: set[tuple[str, str]] = set()
        for start in range(0, len(story_ids), 512):  # blocks keep the similarity matrix small
            block = story_ids[start : start + 512]
            similarity = index.matrix[[index.row[s] for s in block]] @ index.matrix[:n].T
            # The centroids' cosine bounds average linkage from above: only these pairs can merge.
            for i, j in zip(*np.nonzero(similarity >= p.merge_threshold), strict=True):
                if block[i] != index.ids[j]:
                    pairs.add((min(block[i], index.ids[j]), max(block[i], index.ids[j])))
        scored = []
        for a, b in pairs:
            first, second = self._stories[a], self._stories[b]
            gap = max(first.first_ts - second.last_ts, second.first_ts - first.last_ts)
            score = first._linkage(second) - self._time_penalty(gap)
            if gap <= self._window and score >= p.merge_threshold:
                scored.append((score, a, b))
        changes: list[StoryChange] = []
        done: set[str] = set()
        for _, a, b in sorted(scored, reverse=True):
            if a in done or b in done:  # changed in this round: the next round looks again
                continue
            done |= {a, b}
            older, younger = sorted(
                (self._stories[a], self._stories[b]), key=lambda s: (s.first_ts, s.story_id)
            )
            self._drop(younger.story_id)
            self._attach(older, younger._entries)
            changes.append(StoryChange("merge", younger.story_id, list(younger.members), older.story_id))
        return changes
