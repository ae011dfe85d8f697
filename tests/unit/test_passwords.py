"""Password hashing: argon2id with the documented parameters, rehash on upgrade, a decoy for unknowns."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError

from tidings.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    Passwords,
    WeakPassword,
    check_password_rules,
    default_hasher,
)


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(str(hash))
        return super().verify(hash, password)


def test_default_parameters_are_argon2id_rfc9106_low_memory() -> None:
    stored = default_hasher().hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


async def test_hash_and_verify() -> None:
    passwords = Passwords(cheap_hasher())
    stored = await passwords.hash("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify(stored, "correct horse battery")
    assert not await passwords.verify(stored, "correct horse batterY")
    assert not await passwords.verify("not a hash", "correct horse battery")
    assert await passwords.hash("same") != await passwords.hash("same")  # salted


async def test_unknown_accounts_are_checked_against_a_decoy_at_the_same_cost() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher)
    assert not await passwords.verify(None, "anything")
    assert not await passwords.verify(None, "anything else")
    # One argon2 verification each, against the same decoy hash made with the same parameters.
    assert len(hasher.verified) == 2 and hasher.verified[0] == hasher.verified[1]
    assert hasher.verified[0].startswith("$argon2id$v=19$m=8,t=1,p=1$")
    with pytest.raises(VerifyMismatchError):
        hasher.verify(hasher.verified[0], "anything")


async def test_weaker_hashes_need_a_rehash() -> None:
    weak = await Passwords(cheap_hasher()).hash("correct horse battery")
    strong = Passwords(default_hasher())
    assert strong.needs_rehash(weak)
    assert not strong.needs_rehash(await strong.hash("correct horse battery"))
    assert strong.needs_rehash("garbage")


def test_password_rules() -> None:
    check_password_rules("x" * MIN_LENGTH)
    check_password_rules("パスワード한국어🙂🙂🙂")
    with pytest.raises(WeakPassword):
        check_password_rules("x" * (MIN_LENGTH - 1))
    with pytest.raises(WeakPassword):
        check_password_rules("x" * (MAX_LENGTH + 1))
