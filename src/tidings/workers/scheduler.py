"""Decides which feeds are due and polls them, a bounded number at a time.

Claiming a feed pushes its next_poll_at forward by a lease, so two schedulers (two processes, or
a tick that overlaps a slow poll) never poll one feed twice; a crash just lets the lease expire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.ingest import repo
from tidings.ingest.service import FeedSnapshot, PollOutcome, snapshot_from_row

log = logging.getLogger(__name__)

PollFn = Callable[[FeedSnapshot], Awaitable[PollOutcome]]
FlushFn = Callable[[], Awaitable[None]]
OutcomeHook = Callable[[PollOutcome], None]

# Longer than any single poll can take (feed + article pages, each under total_timeout).
LEASE_SECONDS = 15 * 60
IDLE_SLEEP_MAX = 30.0
MAINTENANCE_EVERY = timedelta(hours=1)


class Scheduler:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        poll: PollFn,
        flush: FlushFn,
        due_to_flush: Callable[[], bool] = lambda: True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.poll = poll
        self.flush = flush
        self.due_to_flush = due_to_flush
        self.clock = clock
        self.concurrency = settings.global_concurrency
        self.polls_done = 0
        self.running = False
        self.last_tick: datetime | None = None
        self._last_maintenance: datetime | None = None

    async def count_due(self) -> int:
        async with self.db.session() as session:
            return await repo.count_due_feeds(session, now=self.clock())

    async def run_once(self, *, on_outcome: OutcomeHook | None = None) -> list[PollOutcome]:
        """Poll every feed due now, then return (what `tidings crawl --once` does)."""
        outcomes: list[PollOutcome] = []
        pending: set[asyncio.Task[PollOutcome]] = set()
        cutoff = self.clock()
        exhausted = False
        while True:
            if not exhausted and len(pending) < self.concurrency:
                claimed = await self._claim(self.concurrency * 2 - len(pending), now=cutoff)
                exhausted = not claimed
                pending |= {asyncio.create_task(self.poll(snapshot)) for snapshot in claimed}
            if not pending:
                await self.flush()
                return outcomes
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if self.due_to_flush():
                await self.flush()
            for task in done:
                outcome = task.result()
                outcomes.append(outcome)
                self.polls_done += 1
                if on_outcome is not None:
                    on_outcome(outcome)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The long-running loop inside `tidings serve`."""
        pending: set[asyncio.Task[PollOutcome]] = set()
        log.info("scheduler started (concurrency %d)", self.concurrency)
        self.running = True
        try:
            while not stop.is_set():
                self.last_tick = self.clock()
                await self._maybe_maintain()
                free = self.concurrency - len(pending)
                claimed = await self._claim(free, now=self.last_tick) if free > 0 else []
                pending |= {asyncio.create_task(self.poll(snapshot)) for snapshot in claimed}
                wait_for = await self._idle_seconds() if not claimed else 0.05
                waiters: set[asyncio.Future[object]] = set(pending)
                stop_task = asyncio.ensure_future(stop.wait())
                waiters.add(stop_task)
                done, _ = await asyncio.wait(waiters, timeout=wait_for, return_when=asyncio.FIRST_COMPLETED)
                stop_task.cancel()
                for task in [t for t in pending if t in done]:
                    pending.discard(task)
                    self.polls_done += 1
                    self._report(task)
                if self.due_to_flush():
                    await self.flush()
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await self.flush()
            self.running = False
            log.info("scheduler stopped")

    def _report(self, task: asyncio.Task[PollOutcome]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:  # poll_feed records its own errors; this is a last line of defence
            log.error("poll task failed: %r", exc)

    async def _claim(self, limit: int, *, now: datetime) -> list[FeedSnapshot]:
        if limit <= 0:
            return []
        async with self.db.transaction() as session:
            claimed = await repo.claim_due_feeds(session, now=now, limit=limit, lease_seconds=LEASE_SECONDS)
        return [snapshot_from_row(row) for row in claimed]

    async def _idle_seconds(self) -> float:
        async with self.db.session() as session:
            next_due = await repo.next_due_time(session)
        if next_due is None:
            return IDLE_SLEEP_MAX
        return min(max((next_due - self.clock()).total_seconds(), 0.05), IDLE_SLEEP_MAX)

    async def _maybe_maintain(self) -> None:
        now = self.clock()
        if self._last_maintenance and now - self._last_maintenance < MAINTENANCE_EVERY:
            return
        self._last_maintenance = now
        cutoff = now - timedelta(days=self.settings.fetch_log_retention_days)
        async with self.db.transaction() as session:
            removed = await repo.prune_fetch_logs(session, older_than=cutoff)
        if removed:
            log.info("pruned %d old fetch log rows", removed)
