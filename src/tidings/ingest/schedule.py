"""When to poll a feed next. Pure functions: easy to test, no clock or database inside."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tidings.config import Settings


@dataclass(frozen=True, slots=True)
class ScheduleBounds:
    minimum: int
    maximum: int
    default: int
    max_backoff: int
    max_errors: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ScheduleBounds:
        return cls(
            minimum=settings.min_poll_interval,
            maximum=settings.max_poll_interval,
            default=min(
                max(settings.default_poll_interval, settings.min_poll_interval), settings.max_poll_interval
            ),
            max_backoff=settings.max_backoff,
            max_errors=settings.max_feed_errors,
        )

    def clamp(self, seconds: float) -> int:
        return int(min(max(seconds, self.minimum), self.maximum))


def interval_from_entries(published: Iterable[datetime | None], bounds: ScheduleBounds) -> int | None:
    """Half the median gap between recent entries: a feed that publishes hourly is polled every 30 min.

    Half, not the whole gap, so a new entry waits on average a quarter of the gap before we see it.
    None when the feed gives too few dates to say anything.
    """
    stamps = sorted((p for p in published if p is not None), reverse=True)[:20]
    if len(stamps) < 3:
        return None
    gaps = [(a - b).total_seconds() for a, b in itertools.pairwise(stamps)]
    gaps = [g for g in gaps if g > 0]
    if not gaps:
        return bounds.minimum  # many entries with one timestamp: a busy feed
    return bounds.clamp(statistics.median(gaps) / 2)


def next_interval(
    *,
    current: int,
    bounds: ScheduleBounds,
    new_entries: int,
    observed: int | None = None,
    max_age: int | None = None,
    ttl_minutes: int | None = None,
) -> int:
    """Interval after a successful poll.

    The publishing rhythm observed in the feed wins; without dates we adapt multiplicatively
    (halve when something new arrived, grow by half when nothing did). The publisher's own
    Cache-Control max-age and RSS <ttl> are honoured as lower bounds: polling sooner only
    earns us 304s or stale caches.
    """
    if observed is not None:
        interval: float = observed
    elif new_entries > 0:
        interval = current / 2
    else:
        interval = current * 1.5
    floor = max(max_age or 0, (ttl_minutes or 0) * 60)
    return bounds.clamp(max(interval, floor))


def backoff_delay(
    *, error_count: int, interval: int, bounds: ScheduleBounds, retry_after: float | None
) -> int:
    """Exponential backoff after the N-th consecutive failure, capped, never sooner than Retry-After."""
    exponent = min(max(error_count - 1, 0), 16)
    delay = min(max(interval, bounds.minimum) * (2**exponent), bounds.max_backoff)
    if retry_after is not None:
        delay = max(delay, min(retry_after, bounds.max_backoff))
    return int(delay)


def should_disable(error_count: int, bounds: ScheduleBounds) -> bool:
    return error_count >= bounds.max_errors
