"""Politeness: how many requests at once, in total and per host, and how often per host.

Order of acquisition, and why:

1. the per-host semaphore: in-flight requests to one server are capped;
2. when a delay is configured, the host's gate, held while sleeping until the host's next start
   time and while waiting for a global slot, so that consecutive starts are spaced exactly;
3. the global semaphore, last: a request waiting for its host never sits on a global slot that a
   request to another host could use.

With `per_host_delay == 0` step 2 is skipped entirely: the hot path is two uncontended semaphore
acquisitions and a dict lookup, no sleeping, no clock reads.

Memory stays bounded with 10,000+ hosts: a host's entry is dropped once nobody uses it and its
delay has elapsed (an entry that is still needed to space the next request is kept).
"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)


class _HostState:
    __slots__ = ("gate", "next_start", "semaphore", "users")

    def __init__(self, per_host_concurrency: int) -> None:
        self.semaphore = asyncio.Semaphore(per_host_concurrency)
        self.gate = asyncio.Lock()
        self.next_start = 0.0  # loop time before which no request to this host may start
        self.users = 0  # tasks holding or waiting for this host's slot


class HostSlot:
    """A granted permission to send one request to `host`; release it exactly once."""

    __slots__ = ("_limiter", "_state", "host")

    def __init__(self, limiter: HostLimiter, host: str, state: _HostState) -> None:
        self._limiter = limiter
        self._state = state
        self.host = host

    async def __aenter__(self) -> HostSlot:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._limiter._release(self.host, self._state)


class HostLimiter:
    def __init__(self, *, global_concurrency: int, per_host_concurrency: int, per_host_delay: float) -> None:
        self._global = asyncio.Semaphore(global_concurrency)
        self._per_host_concurrency = per_host_concurrency
        self._delay = per_host_delay
        self._hosts: dict[str, _HostState] = {}
        # Idle entries that must outlive their last user (delay not yet elapsed) are swept lazily,
        # when the table has doubled since the last sweep: amortised O(1) per request.
        self._sweep_threshold = 1024

    def __len__(self) -> int:
        return len(self._hosts)

    async def acquire(self, host: str) -> HostSlot:
        """Wait until a request to `host` may start; use the result as `async with`."""
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(self._per_host_concurrency)
            if len(self._hosts) > self._sweep_threshold:
                self._sweep()
        state.users += 1
        try:
            await state.semaphore.acquire()
            try:
                if self._delay > 0:
                    await self._wait_for_turn(state)
                else:
                    await self._global.acquire()
            except BaseException:
                state.semaphore.release()
                raise
        except BaseException:
            self._forget_if_idle(host, state)
            raise
        return HostSlot(self, host, state)

    async def _wait_for_turn(self, state: _HostState) -> None:
        loop = asyncio.get_running_loop()
        async with state.gate:
            wait = state.next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._global.acquire()
            state.next_start = loop.time() + self._delay

    def _release(self, host: str, state: _HostState) -> None:
        self._global.release()
        state.semaphore.release()
        self._forget_if_idle(host, state)

    def _forget_if_idle(self, host: str, state: _HostState) -> None:
        state.users -= 1
        if state.users or (self._delay and state.next_start > asyncio.get_running_loop().time()):
            return  # still in use, or still needed to space the next request (the sweep drops it later)
        # Only drop the entry we own: a fresh one may have replaced it after a sweep.
        if self._hosts.get(host) is state:
            del self._hosts[host]

    def _sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        idle = [h for h, s in self._hosts.items() if s.users == 0 and s.next_start <= now]
        for host in idle:
            del self._hosts[host]
        self._sweep_threshold = max(1024, 2 * len(self._hosts))
        logger.debug("host limiter sweep: dropped %d idle hosts, %d remain", len(idle), len(self._hosts))
