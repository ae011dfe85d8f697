"""Per-client rate limits for expensive or abusable requests (questions to the AI, later sign-ins).

A sliding window per key, in memory: one process serves the site in the default set-up; behind
several processes each enforces its own share, which still bounds the total.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.requests import Request

from tidings.errors import RateLimited

MAX_KEYS = 50_000  # beyond this the least recently seen clients are forgotten


class RateLimiter:
    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        what: str = "questions",
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.what = what  # named in the error message: "too many questions", "too many sign-in attempts"
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, key: str) -> None:
        """Count one request for `key`; raise RateLimited when it is over the limit."""
        now = self._clock()
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        self._hits[key] = hits
        if len(self._hits) > MAX_KEYS:
            self._hits.popitem(last=False)
        if len(hits) >= self.limit:
            retry_after = max(1, int(hits[0] + self.window - now) + 1)
            raise RateLimited(
                f"too many {self.what}: try again in {retry_after} seconds", retry_after=retry_after
            )
        hits.append(now)


def client_key(request: Request) -> str:
    """The client's address as the server saw it (a proxy in front should set it via uvicorn's
    --forwarded-allow-ips; the header is never trusted on its own)."""
    return request.client.host if request.client else "unknown"
