"""Lockout bookkeeping for email addresses that have no account.

Real accounts count failures in `users.failed_logins` / `users.locked_until`. If unknown addresses
were never locked, "locked after five tries" would itself reveal which addresses have accounts; so
they get the same treatment here, in memory (nothing to store for a non-account; a restart merely
forgets a few counters, as the per-client rate limit still applies).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

MAX_TRACKED = 50_000


class PhantomLockout:
    def __init__(self, *, max_failures: int, lockout: timedelta) -> None:
        self.max_failures = max_failures
        self.lockout = lockout
        self._state: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()

    def locked_until(self, key: str, now: datetime) -> datetime | None:
        _, until = self._state.get(key, (0, None))
        return until if until is not None and until > now else None

    def fail(self, key: str, now: datetime) -> datetime | None:
        """Count one failure; the end of the lockout it starts, if it starts one."""
        failures, until = self._state.pop(key, (0, None))
        if until is not None and until <= now:
            failures = 0
        failures += 1
        locked = None
        if failures >= self.max_failures:
            failures, locked = 0, now + self.lockout
        self._state[key] = (failures, locked)
        if len(self._state) > MAX_TRACKED:
            self._state.popitem(last=False)
        return locked
