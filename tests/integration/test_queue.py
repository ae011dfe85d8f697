"""Distributed mode over a real Redis: the scheduler enqueues due feeds, a Dramatiq worker polls them.

Skipped (loudly, with the reason) only when no Redis answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
from benchmarks.publisher import Publisher, fixture_corpus
from dramatiq.asyncio import get_event_loop_thread
from sqlalchemy import func, select

from tidings.config import Settings
from tidings.ingest.models import Article, Feed
from tidings.runtime import Runtime
from tidings.workers.queue import POLL_QUEUE, FeedQueue

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_answers(), reason="no Redis server answers on 127.0.0.1:6379")


@pytest.fixture(scope="module")
def publisher() -> Iterator[Publisher]:
    with Publisher(fixture_corpus()) as pub:
        yield pub


@pytest.fixture
def queue_settings(settings: Settings) -> Settings:
    # A namespace of its own: parallel runs and leftovers never mix.
    return settings.model_copy(update={"queue_url": REDIS_URL, "queue_namespace": f"tidings-test-{uuid.uuid4().hex}"})


async def _wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_scheduler_enqueues_and_a_worker_polls(queue_settings: Settings, publisher: Publisher) -> None:
    rt = Runtime.build(queue_settings)
    assert rt.queue is not None
    consumer = None
    try:
        added = await rt.sources.add_from_url(publisher.feed_urls("rss")[0])
        outcomes = await rt.scheduler.run_once()
        assert [o.outcome for o in outcomes] == ["queued"]
        assert rt.queue.pending() == 1
        assert await rt.scheduler.count_due() == 0  # claimed with a lease: not handed out twice

        consumer = dramatiq.Worker(rt.queue.broker, queues={POLL_QUEUE}, worker_threads=1)
        consumer.start()

        async def polled() -> bool:
            async with rt.db.session() as session:
                last_success = await session.scalar(select(Feed.last_success_at).where(Feed.id == added.feed_id))
            return last_success is not None

        await _wait_until(polled)
        async with rt.db.session() as session:
            stored = await session.scalar(select(func.count()).select_from(Article))
        assert stored and stored > 0
        assert rt.queue.pending() == 0
    finally:
        if consumer is not None:
            loop_thread = get_event_loop_thread()
            if loop_thread is not None and rt.queue is not None:
                loop_thread.run_coroutine(rt.queue.close_worker_runtime())
            consumer.stop()
        if rt.queue is not None:
            rt.queue.broker.client.delete(*rt.queue.broker.client.keys(f"{queue_settings.queue_namespace}*") or ["-"])
        await rt.aclose()


def test_queue_needs_a_url(settings: Settings) -> None:
    with pytest.raises(ValueError, match="QUEUE_URL"):
        FeedQueue.build(settings)
    assert Runtime.build(settings).queue is None
