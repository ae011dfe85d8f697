from datetime import UTC, datetime, timedelta

import pytest

from tidings.ingest.repo import slugify
from tidings.ingest.schedule import (
    ScheduleBounds,
    backoff_delay,
    interval_from_entries,
    next_interval,
    should_disable,
)

BOUNDS = ScheduleBounds(minimum=300, maximum=86400, default=1800, max_backoff=86400, max_errors=5)
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_interval_is_half_the_median_publishing_gap() -> None:
    hourly = [NOW - timedelta(hours=h) for h in range(10)]
    assert interval_from_entries(hourly, BOUNDS) == 1800


def test_interval_clamped_to_bounds() -> None:
    every_minute = [NOW - timedelta(minutes=m) for m in range(10)]
    weekly = [NOW - timedelta(days=7 * w) for w in range(5)]
    assert interval_from_entries(every_minute, BOUNDS) == 300
    assert interval_from_entries(weekly, BOUNDS) == 86400


def test_too_few_dates_says_nothing() -> None:
    assert interval_from_entries([NOW, None, NOW - timedelta(hours=1)], BOUNDS) is None


def test_without_dates_adapts_multiplicatively() -> None:
    assert next_interval(current=1800, bounds=BOUNDS, new_entries=3) == 900
    assert next_interval(current=1800, bounds=BOUNDS, new_entries=0) == 2700
    assert next_interval(current=400, bounds=BOUNDS, new_entries=5) == 300  # never under the minimum


def test_cache_control_and_ttl_are_lower_bounds() -> None:
    assert next_interval(current=1800, bounds=BOUNDS, new_entries=1, observed=600, max_age=3600) == 3600
    assert next_interval(current=1800, bounds=BOUNDS, new_entries=1, observed=600, ttl_minutes=120) == 7200


@pytest.mark.parametrize(("errors", "expected"), [(1, 1800), (2, 3600), (3, 7200), (10, 86400)])
def test_exponential_backoff_is_capped(errors: int, expected: int) -> None:
    assert backoff_delay(error_count=errors, interval=1800, bounds=BOUNDS, retry_after=None) == expected


def test_retry_after_wins_when_longer() -> None:
    assert backoff_delay(error_count=1, interval=1800, bounds=BOUNDS, retry_after=7200) == 7200
    assert backoff_delay(error_count=1, interval=1800, bounds=BOUNDS, retry_after=10**9) == 86400


def test_disable_after_max_errors() -> None:
    assert not should_disable(4, BOUNDS)
    assert should_disable(5, BOUNDS)


@pytest.mark.parametrize(
    ("name", "slug"),
    [("The Mainichi", "the-mainichi"), ("Le Monde — International", "le-monde-international"), ("연합뉴스", "연합뉴스"), ("", "source")],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
