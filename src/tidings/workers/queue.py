"""Distributed mode: feeds polled by `tidings worker` processes on any number of machines.

With `TIDINGS_QUEUE_URL` set, the scheduler in `tidings serve` still decides which feeds are due
(claiming them with a lease, so nothing is polled twice) but, instead of polling them itself,
sends one message per feed to a Redis-backed Dramatiq queue. Each worker runs the very same
`Poller.poll_feed`, so behaviour does not depend on where a poll runs. Nothing connects at import
time: the broker and its actor are built from Settings.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware.asyncio import AsyncIO

from tidings.config import Settings
from tidings.ingest.service import FeedSnapshot, PollOutcome

log = logging.getLogger(__name__)

POLL_QUEUE = "feeds"
# A poll records its own failures on the feed; a retry would only poll again before the backoff.
MAX_RETRIES = 0


@dataclass
class FeedQueue:
    """The broker plus the `poll_feed` actor, bound to one Settings."""

    settings: Settings
    broker: RedisBroker
    actor: Any

    @classmethod
    def build(cls, settings: Settings) -> FeedQueue:
        if not settings.queue_url:
            raise ValueError("FeedQueue needs TIDINGS_QUEUE_URL")
        broker = RedisBroker(url=settings.queue_url, namespace=settings.queue_namespace)
        broker.add_middleware(AsyncIO())
        runtime_holder = _WorkerRuntime(settings)

        async def poll_feed(feed_id: int) -> None:
            runtime = await runtime_holder.get()
            outcome = await runtime.poller.poll_feed(feed_id)
            log.info("polled feed %s: %s (%d new)", feed_id, outcome.outcome, outcome.new_articles)

        actor = dramatiq.actor(
            poll_feed,
            actor_name="tidings.poll_feed",
            queue_name=POLL_QUEUE,
            broker=broker,
            max_retries=MAX_RETRIES,
        )
        queue = cls(settings=settings, broker=broker, actor=actor)
        queue._runtime_holder = runtime_holder  # type: ignore[attr-defined]
        return queue

    async def enqueue(self, snapshot: FeedSnapshot) -> PollOutcome:
        """The scheduler's `poll` in distributed mode: hand the claimed feed to a worker."""
        await asyncio.to_thread(self.actor.send, snapshot.id)
        return PollOutcome(feed_id=snapshot.id, url=snapshot.url, outcome="queued")

    def pending(self) -> int:
        return int(self.broker.client.llen(f"{self.settings.queue_namespace}:{POLL_QUEUE}"))

    async def close_worker_runtime(self) -> None:
        await self._runtime_holder.close()  # type: ignore[attr-defined]

    def close(self) -> None:
        self.broker.close()


class _WorkerRuntime:
    """One Runtime per worker process, created lazily on Dramatiq's event-loop thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runtime: Any = None
        self._lock = threading.Lock()

    async def get(self) -> Any:
        from tidings.runtime import Runtime  # the runtime imports this module: import it late

        with self._lock:
            if self._runtime is None:
                self._runtime = Runtime.build(self.settings, queue=False)
            return self._runtime

    async def close(self) -> None:
        if self._runtime is not None:
            await self._runtime.aclose()
            self._runtime = None


async def no_flush() -> None:
    """Enqueued polls write nothing here: the worker that runs them records their outcome."""
