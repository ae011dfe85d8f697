"""Follows, mutes, saved articles, reading history and the "For you" ranking built from them.

Ranking, in a few queries whatever the number of follows (follows/repo.py):

1. Interests: followed sources, hashtags and stories, plus the hashtags and sources of recently
   read articles, each read weighing 0.5 ** (days since / READ_HALF_LIFE_DAYS), so last week's
   reading fades instead of steering the feed for ever.
2. Candidates: recent originals (copies collapsed) matching any interest, minus muted sources,
   articles with a muted hashtag and articles already read.
3. Score: the sum of matched interests' weights times 0.5 ** (hours old / AGE_HALF_LIFE_HOURS);
   every match is also a reason the page shows ("because you follow #trade").
4. Diversity: at most MAX_PER_SOURCE articles from one source on a page; the rest move down to the
   next page instead of vanishing.

Anonymous readers keep their follows in the browser; `for_you_local` ranks the same way from a
set passed in the request, with no reading history and nothing stored.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from tidings.accounts.models import User
from tidings.api.offsets import decode_offset_cursor, encode_offset_cursor
from tidings.articles.service import card_from_row
from tidings.articles.views import ArticleCard
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.errors import InvalidInput, NotFound
from tidings.follows import repo
from tidings.follows.models import FOLLOW_KINDS, MUTE_KINDS, TARGET_MAX, Follow, Mute, SavedArticle
from tidings.ingest.models import Article

READ_HALF_LIFE_DAYS = 3.0
AGE_HALF_LIFE_HOURS = 24.0
CANDIDATE_DAYS = 14  # older articles are not "for you" any more
MAX_CANDIDATES = 400
MAX_PER_SOURCE = 3
MAX_PAGE = 50
MAX_PAGES = MAX_CANDIDATES  # a cursor beyond this many pages is past the end anyway
# Interest weights. A follow is an explicit wish and outweighs what reading suggests; a followed
# story is narrower than a source or hashtag, so each of its articles counts a little more.
WEIGHTS = {"follow_story": 1.5, "follow_source": 1.0, "follow_tag": 1.0, "read_tag": 0.6, "read_source": 0.3}
READ_TAGS_KEPT = 12  # the strongest read hashtags that become interests
READ_SOURCES_KEPT = 5
MIN_READ_WEIGHT = 0.05  # a read interest weaker than this (about 13 days old, read once) is dropped
MAX_LOCAL_TARGETS = 50  # an anonymous reader's browser-side set, as sent in a query string


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an article is on the page: kind is follow_tag, follow_source, follow_story, read_tag or
    read_source; label is what to show (a hashtag's or source's name, a story's title); slug links it."""

    kind: str
    label: str
    slug: str


@dataclass(frozen=True, slots=True)
class ForYouPage:
    items: list[tuple[ArticleCard, list[Reason]]]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Following:
    """A reader's follows and mutes, with display names where the target still exists."""

    follows: list[tuple[str, str, str]]  # (kind, target, label)
    mutes: list[tuple[str, str, str]]


@dataclass
class _Interests:
    # id → (weight, Reason) per kind of match
    sources: dict[int, list[tuple[float, Reason]]]
    tags: dict[int, list[tuple[float, Reason]]]
    stories: dict[str, list[tuple[float, Reason]]]
    muted_sources: set[int]
    muted_tags: set[int]


class FollowService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- follows, mutes, saves, reads

    async def follow(self, user: User, kind: str, target: str) -> bool:
        _check(kind, target, FOLLOW_KINDS)
        return await self._add(Follow(user_id=user.id, kind=kind, target=target))

    async def unfollow(self, user: User, kind: str, target: str) -> bool:
        _check(kind, target, FOLLOW_KINDS)
        async with self.db.transaction() as session:
            return await repo.remove(session, Follow, user.id, kind, target)

    async def mute(self, user: User, kind: str, target: str) -> bool:
        _check(kind, target, MUTE_KINDS)
        return await self._add(Mute(user_id=user.id, kind=kind, target=target))

    async def unmute(self, user: User, kind: str, target: str) -> bool:
        _check(kind, target, MUTE_KINDS)
        async with self.db.transaction() as session:
            return await repo.remove(session, Mute, user.id, kind, target)

    async def save(self, user: User, article_id: str) -> bool:
        await self._require_article(article_id)
        return await self._add(SavedArticle(user_id=user.id, article_id=article_id))

    async def unsave(self, user: User, article_id: str) -> bool:
        async with self.db.transaction() as session:
            return await repo.unsave(session, user.id, article_id)

    async def is_saved(self, user: User, article_id: str) -> bool:
        async with self.db.session() as session:
            return await repo.is_saved(session, user.id, article_id)

    async def saved(self, user: User, *, limit: int = 100) -> list[ArticleCard]:
        async with self.db.session() as session:
            rows = await repo.saved_rows(session, user.id, limit=limit)
        return [card_from_row(row) for row in rows]

    async def record_read(self, user: User, article_id: str, *, at: datetime | None = None) -> None:
        """Remember that `user` opened the article (bounded history; re-reading moves it)."""
        await self._require_article(article_id)
        async with self.db.transaction() as session:
            await repo.upsert_read(session, user.id, article_id, at or utcnow())

    async def following(self, user: User) -> Following:
        async with self.db.session() as session:
            follows = await repo.follows_of(session, user.id)
            mutes = await repo.mutes_of(session, user.id)
            labels = await _labels(session, follows + mutes)
        return Following(
            follows=[(k, t, labels.get((k, t), t)) for k, t in follows],
            mutes=[(k, t, labels.get((k, t), t)) for k, t in mutes],
        )

    async def labels(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Display names of (kind, target) pairs that exist: a source's or hashtag's name, a story's title."""
        async with self.db.session() as session:
            return await _labels(session, pairs)

    async def state(self, user: User, kind: str, target: str) -> tuple[bool, bool]:
        """(following, muted) for one target: what its follow and mute buttons should say."""
        async with self.db.session() as session:
            follows = set(await repo.follows_of(session, user.id))
            mutes = set(await repo.mutes_of(session, user.id))
        return (kind, target) in follows, (kind, target) in mutes

    # --- For you

    async def for_you(self, user: User, *, limit: int = 20, cursor: str | None = None) -> ForYouPage:
        offset = decode_offset_cursor(cursor) if cursor else 0
        offset = min(offset, MAX_PAGES)
        now = utcnow()
        async with self.db.session() as session:
            follows = await repo.follows_of(session, user.id)
            mutes = await repo.mutes_of(session, user.id)
            interests = await _follow_interests(session, follows, mutes)
            await _add_read_interests(session, user.id, interests, now=now)
            ranked = await _rank(session, interests, reader_id=user.id, now=now)
        return _page(ranked, offset=offset, limit=limit)

    async def for_you_local(
        self, *, tags: Iterable[str], sources: Iterable[str], limit: int = 20
    ) -> ForYouPage:
        """The anonymous reader's page from the set their browser keeps; nothing is stored."""
        follows = [("tag", t) for t in _clean_targets(tags)] + [
            ("source", s) for s in _clean_targets(sources)
        ]
        now = utcnow()
        async with self.db.session() as session:
            interests = await _follow_interests(session, follows[:MAX_LOCAL_TARGETS], [])
            ranked = await _rank(session, interests, reader_id=None, now=now)
        return _page(ranked, offset=0, limit=limit)

    # --- helpers

    async def _add(self, row: Follow | Mute | SavedArticle) -> bool:
        try:
            async with self.db.transaction() as session:
                return await repo.add_once(session, row)
        except IntegrityError:  # a concurrent request added the same row first
            return False

    async def _require_article(self, article_id: str) -> None:
        async with self.db.session() as session:
            if await session.get(Article, article_id) is None:
                raise NotFound(f"no article {article_id}")


def _check(kind: str, target: str, kinds: Sequence[str]) -> None:
    if kind not in kinds:
        raise InvalidInput(f"kind must be one of {', '.join(kinds)}", code="invalid_kind")
    if not target or len(target) > TARGET_MAX or not target.isprintable() or target != target.strip():
        raise InvalidInput("target must be a slug or story id", code="invalid_target")


def _clean_targets(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        value = value.strip()
        if value and len(value) <= TARGET_MAX and value.isprintable():
            seen.setdefault(value, None)
    return list(seen)


async def _labels(session: Any, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    sources = await repo.sources_by_slug(session, (t for k, t in pairs if k == "source"))
    tags = await repo.tags_by_slug(session, (t for k, t in pairs if k == "tag"))
    stories = await repo.stories_by_id(session, (t for k, t in pairs if k == "story"))
    labels: dict[tuple[str, str], str] = {}
    labels.update({("source", slug): name for slug, (_, name) in sources.items()})
    labels.update({("tag", slug): name for slug, (_, name) in tags.items()})
    labels.update({("story", sid): title or sid for sid, title in stories.items()})
    return labels


async def _follow_interests(
    session: Any, follows: list[tuple[str, str]], mutes: list[tuple[str, str]]
) -> _Interests:
    wanted_sources = {t for k, t in follows + mutes if k == "source"}
    wanted_tags = {t for k, t in follows + mutes if k == "tag"}
    sources = await repo.sources_by_slug(session, wanted_sources)
    tags = await repo.tags_by_slug(session, wanted_tags)
    stories = await repo.stories_by_id(session, (t for k, t in follows if k == "story"))
    interests = _Interests(
        sources=defaultdict(list),
        tags=defaultdict(list),
        stories=defaultdict(list),
        muted_sources={sources[t][0] for k, t in mutes if k == "source" and t in sources},
        muted_tags={tags[t][0] for k, t in mutes if k == "tag" and t in tags},
    )
    for kind, target in follows:
        if kind == "source" and target in sources:
            source_id, name = sources[target]
            interests.sources[source_id].append(
                (WEIGHTS["follow_source"], Reason("follow_source", name, target))
            )
        elif kind == "tag" and target in tags:
            tag_id, name = tags[target]
            interests.tags[tag_id].append((WEIGHTS["follow_tag"], Reason("follow_tag", name, target)))
        elif kind == "story" and target in stories:
            title = stories[target] or target
            interests.stories[target].append((WEIGHTS["follow_story"], Reason("follow_story", title, target)))
    return interests


async def _add_read_interests(session: Any, user_id: int, interests: _Interests, *, now: datetime) -> None:
    """Hashtags and sources of recent reads, each read decayed by its age, the strongest kept."""

    def decayed(read_at: datetime) -> float:
        days = max(0.0, (now - read_at).total_seconds() / 86400)
        return float(0.5 ** (days / READ_HALF_LIFE_DAYS))

    for rows, bucket, kind, kept in (
        (await repo.read_tags(session, user_id), interests.tags, "read_tag", READ_TAGS_KEPT),
        (await repo.read_sources(session, user_id), interests.sources, "read_source", READ_SOURCES_KEPT),
    ):
        strength: defaultdict[int, float] = defaultdict(float)
        named: dict[int, tuple[str, str]] = {}
        for read_at, target_id, slug, name in rows:
            strength[target_id] += decayed(read_at)
            named[target_id] = (slug, name)
        for target_id, weight in sorted(strength.items(), key=lambda item: -item[1])[:kept]:
            if weight < MIN_READ_WEIGHT:
                break
            slug, name = named[target_id]
            # Saturating: ten reads on a hashtag suggest interest, not ten times a follow's worth.
            bucket[target_id].append((WEIGHTS[kind] * weight / (1 + weight), Reason(kind, name, slug)))


async def _rank(
    session: Any, interests: _Interests, *, reader_id: int | None, now: datetime
) -> list[tuple[float, Any, list[Reason]]]:
    rows = await repo.candidate_rows(
        session,
        source_ids=set(interests.sources),
        tag_ids=set(interests.tags),
        story_ids=set(interests.stories),
        muted_source_ids=interests.muted_sources,
        muted_tag_ids=interests.muted_tags,
        reader_id=reader_id,
        since=now - timedelta(days=CANDIDATE_DAYS),
        limit=MAX_CANDIDATES,
    )
    tags_of: dict[str, list[int]] = defaultdict(list)
    for article_id, tag_id in await repo.tags_among(session, [r.id for r in rows], set(interests.tags)):
        tags_of[article_id].append(tag_id)
    ranked = []
    for row in rows:
        matched = list(interests.sources.get(row.source_id, ()))
        for tag_id in tags_of.get(row.id, ()):
            matched += interests.tags[tag_id]
        matched += interests.stories.get(row.story_id or "", ())
        if not matched:
            continue
        hours = max(0.0, (now - row.published_at).total_seconds() / 3600)
        score = sum(weight for weight, _ in matched) * 0.5 ** (hours / AGE_HALF_LIFE_HOURS)
        ranked.append((score, row, _reasons(matched)))
    ranked.sort(key=lambda item: (-item[0], -item[1].published_at.timestamp(), item[1].id))
    return ranked


def _reasons(matched: list[tuple[float, Reason]]) -> list[Reason]:
    """Follows before reading history, stronger first, each reason once."""
    order = {"follow_story": 0, "follow_tag": 1, "follow_source": 2, "read_tag": 3, "read_source": 4}
    seen: dict[Reason, None] = {}
    for _, reason in sorted(matched, key=lambda m: (order[m[1].kind], -m[0], m[1].label)):
        seen.setdefault(reason, None)
    return list(seen)


def _page(ranked: list[tuple[float, Any, list[Reason]]], *, offset: int, limit: int) -> ForYouPage:
    """Page number `offset` of the ranked list, at most MAX_PER_SOURCE per source on each page.

    Pages are laid out from the top every time (the cursor is a page number), so an article held
    back by the cap opens the next page rather than disappearing.
    """
    limit = max(1, min(limit, MAX_PAGE))
    remaining = list(ranked)
    page: list[tuple[float, Any, list[Reason]]] = []
    for _ in range(offset + 1):
        page, held = [], []
        per_source: Counter[int] = Counter()
        for item in remaining:
            if len(page) < limit and per_source[item[1].source_id] < MAX_PER_SOURCE:
                per_source[item[1].source_id] += 1
                page.append(item)
            else:
                held.append(item)
        remaining = held
        if not page:
            break
    return ForYouPage(
        items=[(card_from_row(row), reasons) for _, row, reasons in page],
        next_cursor=encode_offset_cursor(offset + 1) if page and remaining else None,
    )
