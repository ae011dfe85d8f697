"""CommentService on SQLite and PostgreSQL: threads, edits, votes under concurrency, idempotent posting,
spam holds, reports, moderation and the attempts of readers to moderate anyway."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from tests.factories import make_article, make_source

from tidings.accounts.models import User
from tidings.comments.models import Comment, CommentReport, CommentVote
from tidings.comments.service import CommentService
from tidings.comments.views import CommentView, flatten
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database, create_engine
from tidings.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from tidings.ingest.models import Article

_names = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(db: Database, settings: Settings, clock: Clock) -> CommentService:
    return CommentService(db, settings, clock=clock)


async def make_user(
    db: Database, role: str = "reader", *, age: timedelta = timedelta(days=30), name: str | None = None
) -> User:
    n = next(_names)
    user = User(
        email=f"user{n}@example.org",
        display_name=name or f"Reader {n}",
        password_hash=None,
        role=role,
        created_at=utcnow() - age,
    )
    async with db.transaction() as session:
        session.add(user)
    return user


async def make_target(db: Database) -> Article:
    return await make_article(db, await make_source(db))


def ids(views: list[CommentView]) -> list[int]:
    return [view.id for view in views]


async def test_post_reply_thread_and_count(db: Database, service: CommentService) -> None:
    article = await make_target(db)
    alice, bob = await make_user(db, name="Alice"), await make_user(db)
    assert await service.thread(article.id) == [] and await service.count(article.id) == 0

    top = await service.post(alice, article.id, "First **thoughts**")
    assert top.status == "visible" and top.body_html == "<p>First <strong>thoughts</strong></p>"
    assert top.author_name == "Alice" and top.can_edit and top.editable_until is not None
    reply = await service.post(bob.id, article.id, "A reply", parent_id=top.id)
    assert reply.depth == 1 and reply.parent_id == top.id

    thread = await service.thread(article.id, viewer=bob)
    assert ids(thread) == [top.id] and ids(thread[0].replies) == [reply.id]
    assert thread[0].can_vote and thread[0].can_report and not thread[0].can_edit
    assert not thread[0].body_markdown  # the source is only for its author and moderators
    assert [v.id for v in flatten(thread)] == [top.id, reply.id]
    assert await service.count(article.id) == 2
    assert await service.counts([article.id, "0" * 32]) == {article.id: 2}
    with pytest.raises(NotFound):
        await service.thread("0" * 32)
    with pytest.raises(NotFound):
        await service.post(alice, "0" * 32, "hello")
    with pytest.raises(Unauthenticated):
        await service.post(None, article.id, "hello")


async def test_reply_depth_is_bounded(db: Database, settings: Settings, clock: Clock) -> None:
    service = CommentService(db, settings.model_copy(update={"comment_max_depth": 2}), clock=clock)
    article, other = await make_target(db), await make_target(db)
    user = await make_user(db)
    level0 = await service.post(user, article.id, "zero")
    level1 = await service.post(user, article.id, "one", parent_id=level0.id)
    level2 = await service.post(user, article.id, "two", parent_id=level1.id)
    deeper = await service.post(user, article.id, "three", parent_id=level2.id)
    assert (level2.depth, deeper.depth, deeper.parent_id) == (2, 2, level1.id)
    with pytest.raises(InvalidInput):
        await service.post(user, other.id, "wrong article", parent_id=level0.id)
    with pytest.raises(NotFound):
        await service.post(user, article.id, "no parent", parent_id=999_999)


async def test_edit_window_and_who_may_edit(db: Database, service: CommentService, clock: Clock) -> None:
    article = await make_target(db)
    author, other, moderator = await make_user(db), await make_user(db), await make_user(db, "moderator")
    comment = await service.post(author, article.id, "Typo teh")
    clock.advance(minutes=5)
    edited = await service.edit(author, comment.id, "Typo the")
    assert edited.body_html == "<p>Typo the</p>" and edited.edited_at == clock.now
    for intruder in (other, moderator):
        with pytest.raises(Forbidden) as refused:
            await service.edit(intruder, comment.id, "Rewritten by someone else")
        assert refused.value.code == "not_author"
    clock.advance(minutes=11)
    with pytest.raises(Forbidden) as late:
        await service.edit(author, comment.id, "Too late")
    assert late.value.code == "edit_window_closed"
    assert not (await service.thread(article.id, viewer=author))[0].can_edit


async def test_delete_keeps_thread_with_placeholder(db: Database, service: CommentService) -> None:
    article = await make_target(db)
    author, replier, moderator = await make_user(db), await make_user(db), await make_user(db, "moderator")
    parent = await service.post(author, article.id, "Parent text")
    reply = await service.post(replier, article.id, "Reply", parent_id=parent.id)
    leaf = await service.post(author, article.id, "Lonely comment")
    with pytest.raises(Forbidden):
        await service.delete(replier, parent.id)
    await service.delete(author, parent.id)
    await service.delete(author, parent.id)  # twice is fine
    await service.delete(moderator, leaf.id)

    thread = await service.thread(article.id)
    assert ids(thread) == [parent.id]
    assert thread[0].placeholder == "[deleted]" and thread[0].body_html == "" and thread[0].author_name == ""
    assert ids(thread[0].replies) == [reply.id]
    assert await service.count(article.id) == 1
    async with db.session() as session:
        stored = await session.get(Comment, parent.id)
        assert stored is not None and stored.body_markdown == "" and stored.status == "deleted"
    with pytest.raises(InvalidInput):
        await service.post(replier, article.id, "Reply to the void", parent_id=parent.id)


async def test_votes_and_concurrent_votes(db: Database, service: CommentService) -> None:
    article = await make_target(db)
    author = await make_user(db)
    comment = await service.post(author, article.id, "Vote on me")
    voter = await make_user(db)
    assert (await service.vote(voter, comment.id, 1)).score == 1
    assert (await service.vote(voter, comment.id, 1)).score == 1  # one vote per reader
    down = await service.vote(voter, comment.id, -1)
    assert (down.score, down.ups, down.downs, down.viewer_vote) == (-1, 0, 1, -1)
    assert (await service.vote(voter, comment.id, 0)).score == 0
    with pytest.raises(Forbidden):
        await service.vote(author, comment.id, 1)
    with pytest.raises(InvalidInput):
        await service.vote(voter, comment.id, 2)

    voters = [await make_user(db) for _ in range(20)]
    values = [1] * 12 + [-1] * 8
    await asyncio.gather(
        *(service.vote(v, comment.id, value) for v, value in zip(voters, values, strict=True))
    )
    # The same reader flipping concurrently must still count once.
    await asyncio.gather(*(service.vote(voter, comment.id, value) for value in (1, -1, 1, 0, 1, -1, 1)))
    async with db.session() as session:
        stored = await session.get(Comment, comment.id)
        rows = (
            await session.execute(select(CommentVote.value).where(CommentVote.comment_id == comment.id))
        ).scalars()
        values_stored = list(rows)
    assert stored is not None
    assert stored.score == sum(values_stored) and stored.ups == values_stored.count(1)
    assert stored.downs == values_stored.count(-1) and len(values_stored) in (20, 21)
    thread = await service.thread(article.id, viewer=voters[0])
    assert thread[0].viewer_vote == 1 and thread[0].score == stored.score


async def test_posting_is_idempotent_under_concurrency(db: Database, service: CommentService) -> None:
    article, other = await make_target(db), await make_target(db)
    user = await make_user(db)
    results = await asyncio.gather(
        *(service.post(user, article.id, "Only once, please", client_token="tok-123") for _ in range(10))
    )
    assert len({view.id for view in results}) == 1
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Comment)) == 1
    again = await service.post(user, article.id, "Only once, please", client_token="tok-123")
    assert again.id == results[0].id
    with pytest.raises(Conflict):
        await service.post(user, other.id, "Another article", client_token="tok-123")
    # Tokens are per account.
    someone = await make_user(db)
    assert (await service.post(someone, article.id, "Mine", client_token="tok-123")).id != results[0].id
    with pytest.raises(InvalidInput):
        await service.post(user, article.id, "x", client_token="bad token with spaces")


async def test_racing_inserts_with_one_token_store_once(
    db: Database, service: CommentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request misses the early look-up (as when all arrive at once on PostgreSQL), so the
    unique (user, token) constraint and ON CONFLICT DO NOTHING alone must keep it to one row."""
    from tidings.comments import repo

    article, user = await make_target(db), await make_user(db)
    real_by_token = repo.by_token
    seen: set[asyncio.Task[object]] = set()

    async def late_by_token(session: object, user_id: int, token: str) -> Comment | None:
        task = asyncio.current_task()
        assert task is not None
        if task not in seen:
            seen.add(task)
            return None
        return await real_by_token(session, user_id, token)  # type: ignore[arg-type]

    monkeypatch.setattr(repo, "by_token", late_by_token)
    results = await asyncio.gather(
        *(service.post(user, article.id, "Race", client_token="same") for _ in range(10))
    )
    assert len({view.id for view in results}) == 1
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Comment)) == 1


async def test_body_limits(db: Database, service: CommentService) -> None:
    article, user = await make_target(db), await make_user(db)
    for empty in ("", "   \n\t", "\x00\x01"):
        with pytest.raises(InvalidInput) as refused:
            await service.post(user, article.id, empty)
        assert refused.value.code == "comment_empty"
    with pytest.raises(InvalidInput) as long:
        await service.post(user, article.id, "x" * 10_001)
    assert long.value.code == "comment_too_long"


async def test_spam_is_held_and_shown_to_author_and_moderators(db: Database, service: CommentService) -> None:
    article = await make_target(db)
    newcomer = await make_user(db, age=timedelta(hours=1))
    reader, moderator = await make_user(db), await make_user(db, "moderator")
    held = await service.post(newcomer, article.id, "Great deals at https://spam.example/")
    assert held.status == "held" and held.hold_reasons == []  # reasons are for moderators
    assert await service.thread(article.id) == [] and await service.thread(article.id, viewer=reader) == []
    assert ids(await service.thread(article.id, viewer=newcomer)) == [held.id]
    mod_view = (await service.thread(article.id, viewer=moderator))[0]
    assert [r.code for r in mod_view.hold_reasons] == ["links_new_account"] and mod_view.hold_reasons[0].text
    assert await service.count(article.id) == 0

    queue = await service.queue(moderator)
    assert [item.comment.id for item in queue] == [held.id]
    assert [r.code for r in queue[0].hold_reasons] == ["links_new_account"] and queue[0].report_count == 0
    await service.restore(moderator, held.id)
    assert await service.count(article.id) == 1 and await service.queue(moderator) == []

    # Moderators are not held; the same text on two other articles is.
    assert (
        await service.post(moderator, article.id, "See https://a.example https://b.example " * 3)
    ).status == "visible"
    spam = "Visit my channel for the real story behind the news"
    others = [await make_target(db) for _ in range(2)]
    for target in others:
        assert (await service.post(reader, target.id, spam)).status == "visible"
    third = await service.post(await make_user(db), article.id, spam)
    assert third.status == "held"
    assert "duplicate_elsewhere" in [r.code for r in (await service.queue(moderator))[0].hold_reasons]


async def test_new_account_rate_hold(db: Database, service: CommentService, clock: Clock) -> None:
    article = await make_target(db)
    newcomer = await make_user(db, age=timedelta(hours=2))
    statuses = []
    for n in range(7):
        statuses.append(
            (await service.post(newcomer, article.id, f"Comment number {n} about the budget")).status
        )
        clock.advance(seconds=30)
    assert statuses == ["visible"] * 5 + ["held"] * 2


async def test_reports_queue_hide_restore(db: Database, service: CommentService, clock: Clock) -> None:
    article = await make_target(db)
    author, moderator = await make_user(db), await make_user(db, "moderator")
    reporters = [await make_user(db) for _ in range(2)]
    first = await service.post(author, article.id, "Rude remark")
    clock.advance(minutes=1)
    second = await service.post(author, article.id, "Another remark")
    with pytest.raises(Forbidden):
        await service.report(author, first.id, "self")
    await service.report(reporters[0], second.id, "off topic")
    clock.advance(minutes=1)
    for reporter in reporters:
        await service.report(reporter, first.id, "insulting")
    await service.report(reporters[0], first.id, "again")  # one report per reader

    queue = await service.queue(moderator)
    assert [item.comment.id for item in queue] == [second.id, first.id]  # oldest report first
    assert queue[1].report_count == 2 and [r.reason for r in queue[1].reports] == ["insulting", "insulting"]
    assert queue[1].comment.open_reports == 2 and queue[1].article.title == article.title

    await service.hide(moderator, first.id, "personal attack")
    assert [item.comment.id for item in await service.queue(moderator)] == [second.id]
    assert ids(await service.thread(article.id)) == [second.id]
    hidden = next(v for v in await service.thread(article.id, viewer=moderator) if v.id == first.id)
    assert hidden.status == "hidden" and hidden.hidden_reason == "personal attack"
    async with db.session() as session:
        open_reports = await session.scalar(
            select(func.count()).select_from(CommentReport).where(CommentReport.resolved_at.is_(None))
        )
    assert open_reports == 1

    await service.restore(moderator, second.id)  # dismisses its report
    await service.restore(moderator, first.id)
    assert await service.queue(moderator) == [] and await service.count(article.id) == 2
    await service.delete(author, first.id)
    with pytest.raises(Conflict):
        await service.hide(moderator, first.id, "too late")


async def test_ban_hides_held_comments_and_stops_the_account(db: Database, service: CommentService) -> None:
    article = await make_target(db)
    moderator, admin = await make_user(db, "moderator"), await make_user(db, "admin")
    troll = await make_user(db, age=timedelta(hours=1))
    fine = await service.post(troll, article.id, "A fine first comment")
    held = await service.post(troll, article.id, "Buy at https://spam.example/")
    assert (fine.status, held.status) == ("visible", "held")
    assert await service.ban(moderator, troll.id, "spam") == 1
    async with db.session() as session:
        stored = await session.get(Comment, held.id)
        banned = await session.get(User, troll.id)
    assert stored is not None and stored.status == "hidden" and stored.hidden_reason == "banned: spam"
    assert banned is not None and banned.banned_at is not None and banned.banned_reason == "spam"
    for attempt in (
        service.post(troll, article.id, "I am back"),
        service.vote(troll, fine.id, 1),
        service.report(troll, fine.id, "x"),
        service.edit(troll, fine.id, "edited"),
    ):
        with pytest.raises(Forbidden):
            await attempt
    await service.delete(troll, fine.id)  # people may still remove what they wrote

    other_mod = await make_user(db, "moderator")
    with pytest.raises(Forbidden):
        await service.ban(moderator, other_mod.id, "rival")
    with pytest.raises(Forbidden):
        await service.ban(moderator, admin.id, "coup")
    with pytest.raises(Forbidden):
        await service.ban(moderator, moderator.id, "oops")
    assert await service.ban(admin, other_mod.id, "abuse of powers") == 0
    with pytest.raises(Forbidden):  # a banned moderator moderates nothing
        await service.hide(other_mod, fine.id, "x")
    with pytest.raises(NotFound):
        await service.ban(admin, 999_999, "nobody")
    await service.unban(moderator, troll.id)
    assert (await service.post(troll, article.id, "Sorry about that")).status == "visible"


async def test_readers_cannot_moderate(db: Database, service: CommentService) -> None:
    article = await make_target(db)
    reader, victim = await make_user(db), await make_user(db)
    comment = await service.post(victim, article.id, "Innocent comment")
    # A forged object claiming admin: only the id is trusted, the role comes from the database.
    forged = User(display_name="Mallory", role="admin")
    forged.id = reader.id
    for actor in (reader, forged, reader.id):
        for attempt in (
            service.hide(actor, comment.id, "x"),
            service.restore(actor, comment.id),
            service.ban(actor, victim.id, "x"),
            service.unban(actor, victim.id),
            service.queue(actor),
            service.edit(actor, comment.id, "Rewritten"),
            service.delete(actor, comment.id),
        ):
            with pytest.raises(Forbidden):
                await attempt
    for anonymous_attempt in (
        service.hide(None, comment.id),
        service.queue(None),
        service.vote(None, comment.id, 1),
    ):
        with pytest.raises(Unauthenticated):
            await anonymous_attempt
    assert await service.count(article.id) == 1
    async with db.session() as session:
        assert (await session.get(User, victim.id)).banned_at is None  # type: ignore[union-attr]


async def test_story_threads_aggregate_articles(db: Database, service: CommentService, clock: Clock) -> None:
    first, second, elsewhere = await make_target(db), await make_target(db), await make_target(db)
    async with db.transaction() as session:
        await session.execute(
            update(Article).where(Article.id.in_([first.id, second.id])).values(story_id="story-1")
        )
    user = await make_user(db)
    a = await service.post(user, first.id, "On the first article")
    clock.advance(minutes=1)
    b = await service.post(user, second.id, "On the second article")
    reply = await service.post(user, second.id, "A reply", parent_id=b.id)
    await service.post(user, elsewhere.id, "Not in the story")

    threads = await service.story_threads("story-1", sort="new")
    assert ids(threads) == [b.id, a.id]
    assert threads[0].article is not None and threads[0].article.title == second.title
    assert threads[1].article is not None and threads[1].article.id == first.id
    assert threads[0].article.source_name and ids(threads[0].replies) == [reply.id]
    assert await service.story_count("story-1") == 3 and await service.story_count("nope") == 0
    with pytest.raises(NotFound):
        await service.story_threads("nope")


async def test_sorting_best_and_new(db: Database, service: CommentService, clock: Clock) -> None:
    article = await make_target(db)
    author = await make_user(db)
    old = await service.post(author, article.id, "Old comment")
    clock.advance(minutes=1)
    popular = await service.post(author, article.id, "Popular comment")
    clock.advance(minutes=1)
    new = await service.post(author, article.id, "Newest comment")
    for _ in range(3):
        await service.vote(await make_user(db), popular.id, 1)
    await service.vote(await make_user(db), new.id, -1)
    assert ids(await service.thread(article.id, sort="best")) == [popular.id, old.id, new.id]
    assert ids(await service.thread(article.id, sort="new")) == [new.id, popular.id, old.id]
    with pytest.raises(InvalidInput):
        await service.thread(article.id, sort="random")


async def test_injection_like_strings_are_stored_verbatim_and_rendered_escaped(
    db: Database, service: CommentService
) -> None:
    article, user = await make_target(db), await make_user(db)
    nasty = "Robert'); DROP TABLE comments;-- <script>alert(1)</script> ' OR '1'='1 \\x00 %s {0}"
    comment = await service.post(user, article.id, nasty)
    assert comment.body_markdown == nasty
    assert comment.body_html == (
        "<p>Robert'); DROP TABLE comments;-- &lt;script&gt;alert(1)&lt;/script&gt; ' OR '1'='1 \\x00 %s {0}</p>"
    )
    assert (await service.thread(article.id, viewer=user))[0].body_markdown == nasty
    with pytest.raises(NotFound):
        await service.thread("x' OR '1'='1")
    await service.report(await make_user(db), comment.id, "'; DELETE FROM users; --")
    assert await service.count(article.id) == 1
