"""Password hashing: argon2id, verified off the event loop, with a decoy for unknown accounts.

Argon2id with RFC 9106's "low memory" parameters (t=3, 64 MiB, p=4; argon2-cffi's defaults, spelt
out so a library upgrade cannot change them silently). Hashes carry their parameters, so raising
them later only means new hashes: `needs_rehash` tells the sign-in to upgrade a stored one.

Hashing takes tens of milliseconds of CPU and 64 MiB: it runs in a thread (argon2-cffi releases the
GIL) behind a semaphore, so a burst of sign-ins can neither stall every other request nor take the
process's memory. An unknown email is checked against a decoy hash at the same cost, so the answer
takes as long whether or not the account exists.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tidings.errors import InvalidInput

MIN_LENGTH = 8  # NIST SP 800-63B: at least 8, no composition rules
MAX_LENGTH = 1024  # a bound on the work one request can ask for, far above any passphrase
CONCURRENT_HASHES = 4


class WeakPassword(InvalidInput):
    """The password is too short or too long."""

    code = "weak_password"


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"passwords need at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"passwords are limited to {MAX_LENGTH} characters")


def default_hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=3, memory_cost=64 * 1024, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
    )


class Passwords:
    """Hash and verify without blocking the loop. One per AccountService (the semaphore binds to the
    loop that first waits on it, so it must not be shared across event loops)."""

    def __init__(self, hasher: PasswordHasher | None = None, *, concurrency: int = CONCURRENT_HASHES) -> None:
        self.hasher = hasher or default_hasher()
        self._slots = asyncio.Semaphore(concurrency)
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; a missing hash (unknown or deleted account) is checked
        against the decoy, costs the same, and is always False."""
        if stored_hash is None:
            await self._check(await self._decoy_hash(), password)
            return False
        return await self._check(stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    async def _check(self, stored_hash: str, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(_verify, self.hasher, stored_hash, password)

    async def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = await self.hash(secrets.token_urlsafe(24))
        return self._decoy


def _verify(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except VerifyMismatchError:
        return False
    except (VerificationError, InvalidHashError):  # a corrupt stored hash matches nothing
        return False
