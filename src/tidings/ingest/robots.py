"""robots.txt: fetched through the same guarded, polite path as everything else, cached per origin.

Unavailable robots.txt policy:

* 4xx (typically 404): the site has no rules, everything is allowed (RFC 9309 §2.3.1.3).
* 5xx, timeouts, connection failures, oversized files: also *allowed*, deliberately diverging from
  RFC 9309 §2.3.1.4 (which says "assume complete disallow"). Tidings polls feeds that publishers
  publish in order to be polled, and fetches the articles those feeds link to, at a low rate; a
  flaky robots.txt must not silently stop a subscription. Such verdicts are cached briefly
  (`FAILURE_TTL_S`) so a real robots.txt is honoured as soon as the server recovers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.robotparser import RobotFileParser

import httpx

from tidings.ingest.errors import FetchError, HTTPStatusError

if TYPE_CHECKING:
    from tidings.ingest.fetcher import FetchResult

logger = logging.getLogger(__name__)

USER_AGENT_TOKEN = "Tidings"  # noqa: S105 - a robots.txt product token, not a secret
TTL_S = 24 * 3600.0
FAILURE_TTL_S = 3600.0
MAX_ENTRIES = 10_000
# RFC 9309 §2.5: crawlers must parse at least 500 KiB; beyond that we treat the file as unavailable.
MAX_ROBOTS_BYTES = 512 * 1024

RobotsFetch = Callable[[str], Awaitable["FetchResult"]]


class _Rules:
    """Parsed rules of one origin; `parser=None` means "everything allowed"."""

    __slots__ = ("expires_at", "parser")

    def __init__(self, parser: RobotFileParser | None, expires_at: float) -> None:
        self.parser = parser
        self.expires_at = expires_at

    def allows(self, url: str) -> bool:
        return self.parser is None or self.parser.can_fetch(USER_AGENT_TOKEN, url)


class RobotsCache:
    """Bounded LRU of robots.txt rules per `scheme://host:port`, with a TTL."""

    def __init__(
        self,
        fetch: RobotsFetch,
        *,
        ttl: float = TTL_S,
        failure_ttl: float = FAILURE_TTL_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._max_entries = max_entries
        self._clock = clock
        self._rules: OrderedDict[str, _Rules] = OrderedDict()
        # One robots.txt download per origin even when 50 article fetches ask at once.
        self._pending: dict[str, asyncio.Future[_Rules]] = {}

    def __len__(self) -> int:
        return len(self._rules)

    async def allows(self, url: httpx.URL) -> bool:
        return (await self._rules_for(url)).allows(str(url))

    async def _rules_for(self, url: httpx.URL) -> _Rules:
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        while True:
            rules = self._rules.get(origin)
            if rules is not None and rules.expires_at > self._clock():
                self._rules.move_to_end(origin)
                return rules
            pending = self._pending.get(origin)
            if pending is None:
                return await self._download_once(origin)
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                # The task downloading it was cancelled, not us: try again (likely become the downloader).
                current = asyncio.current_task()
                if pending.cancelled() and current is not None and not current.cancelling():
                    continue
                raise

    async def _download_once(self, origin: str) -> _Rules:
        future: asyncio.Future[_Rules] = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            rules = await self._download(origin)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: there may be no waiter, avoid the asyncio warning
            raise
        finally:
            del self._pending[origin]
        self._store(origin, rules)
        future.set_result(rules)
        return rules

    def _store(self, origin: str, rules: _Rules) -> None:
        self._rules[origin] = rules
        self._rules.move_to_end(origin)
        while len(self._rules) > self._max_entries:
            self._rules.popitem(last=False)

    async def _download(self, origin: str) -> _Rules:
        robots_url = f"{origin}/robots.txt"
        now = self._clock()
        try:
            result = await self._fetch(robots_url)
        except HTTPStatusError as exc:
            if exc.upstream_status is not None and 400 <= exc.upstream_status < 500:
                logger.debug("%s: HTTP %s, no rules", robots_url, exc.upstream_status)
                return _Rules(None, now + self._ttl)
            logger.info(
                "%s unavailable (HTTP %s): allowing, see module docstring", robots_url, exc.upstream_status
            )
            return _Rules(None, now + self._failure_ttl)
        except FetchError as exc:
            logger.info("%s unavailable (%s): allowing, see module docstring", robots_url, exc.code)
            return _Rules(None, now + self._failure_ttl)
        return _Rules(parse_robots(result.content), now + self._ttl)


def parse_robots(content: bytes) -> RobotFileParser:
    parser = RobotFileParser()
    # Undecodable bytes cannot match ASCII paths anyway; replacing keeps the rest of the file.
    parser.parse(content.decode("utf-8", errors="replace").splitlines())
    return parser
