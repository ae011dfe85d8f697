"""AccountService on SQLite and PostgreSQL: sign-up, lockout, sessions, password change, deletion,
roles and API tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TypeVar

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.accounts.models import ApiToken, Session, User
from tidings.accounts.passwords import Passwords, default_hasher
from tidings.accounts.service import (
    DELETED_NAME,
    AccountLocked,
    AccountService,
    EmailTaken,
    InvalidCredentials,
)
from tidings.accounts.validation import InvalidEmail
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database, create_engine
from tidings.errors import InvalidInput, NotFound

PASSWORD = "correct horse battery"
T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def cheap() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID))


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(db: Database, settings: Settings, clock: Clock) -> AccountService:
    return AccountService(db, settings, passwords=cheap(), clock=clock)


async def _row(db: Database, model: type[T], key: object) -> T:
    async with db.session() as session:
        row = await session.get(model, key)
    assert row is not None
    return row


async def test_sign_up_normalises_and_refuses_duplicates(accounts: AccountService) -> None:
    user = await accounts.sign_up("  Ann@Example.ORG ", PASSWORD, " Ann  Lee ")
    assert (user.email, user.display_name, user.role) == ("ann@example.org", "Ann Lee", "reader")
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    for variant in ("ann@example.org", "ANN@example.org", "ａｎｎ@example.org"):
        with pytest.raises(EmailTaken):
            await accounts.sign_up(variant, PASSWORD, "Someone")
    with pytest.raises(InvalidEmail):
        await accounts.sign_up("not an email", PASSWORD, "Someone")
    with pytest.raises(InvalidInput):
        await accounts.sign_up("bob@example.org", "short", "Bob")


async def test_wrong_password_and_unknown_email_fail_alike(accounts: AccountService) -> None:
    await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    assert (await accounts.authenticate("ANN@example.org", PASSWORD)).email == "ann@example.org"
    errors = []
    for email, password in [
        ("ann@example.org", "wrong password"),
        ("nobody@example.org", PASSWORD),
        ("junk", "x"),
    ]:
        with pytest.raises(InvalidCredentials) as caught:
            await accounts.authenticate(email, password)
        errors.append((type(caught.value), caught.value.code, caught.value.status, caught.value.message))
    assert len(set(errors)) == 1


async def test_lockout_after_repeated_failures_then_release(
    accounts: AccountService, settings: Settings, clock: Clock, db: Database
) -> None:
    user = await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    for _ in range(settings.max_failed_logins - 1):
        with pytest.raises(InvalidCredentials):
            await accounts.authenticate("ann@example.org", "wrong password")
    with pytest.raises(AccountLocked) as caught:  # the failure that locks says so
        await accounts.authenticate("ann@example.org", "wrong password")
    assert caught.value.retry_after == settings.lockout_minutes * 60
    assert f"{settings.lockout_minutes} minutes" in caught.value.message
    with pytest.raises(AccountLocked):  # even the right password waits
        await accounts.authenticate("ann@example.org", PASSWORD)
    clock.advance(minutes=settings.lockout_minutes, seconds=1)
    assert (await accounts.authenticate("ann@example.org", PASSWORD)).id == user.id
    stored = await _row(db, User, user.id)
    assert stored.failed_logins == 0 and stored.locked_until is None


async def test_unknown_addresses_lock_the_same_way(accounts: AccountService, settings: Settings) -> None:
    """Otherwise "locked" would reveal that an address has an account."""
    for _ in range(settings.max_failed_logins - 1):
        with pytest.raises(InvalidCredentials):
            await accounts.authenticate("nobody@example.org", "wrong password")
    with pytest.raises(AccountLocked) as caught:
        await accounts.authenticate("nobody@example.org", "wrong password")
    assert caught.value.retry_after == settings.lockout_minutes * 60


async def test_a_successful_sign_in_resets_the_failure_count(
    accounts: AccountService, settings: Settings
) -> None:
    await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    for _ in range(3):
        for _ in range(settings.max_failed_logins - 1):
            with pytest.raises(InvalidCredentials):
                await accounts.authenticate("ann@example.org", "wrong password")
        await accounts.authenticate("ann@example.org", PASSWORD)


async def test_weak_hashes_are_upgraded_on_sign_in(
    accounts: AccountService, db: Database, settings: Settings
) -> None:
    user = await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    stronger = AccountService(db, settings, passwords=Passwords(default_hasher()))
    await stronger.authenticate("ann@example.org", PASSWORD)
    stored = await _row(db, User, user.id)
    assert isinstance(stored, User) and stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert (await accounts.authenticate("ann@example.org", PASSWORD)).id == user.id


async def test_sessions_resolve_rotate_expire_and_end(
    accounts: AccountService, clock: Clock, db: Database
) -> None:
    user = await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    signed = await accounts.sign_in("ann@example.org", PASSWORD)
    stored = await _row(db, Session, signed.session.id)
    assert isinstance(stored, Session) and stored.id != signed.token and len(stored.id) == 64  # only the hash
    found = await accounts.resolve_session(signed.token)
    assert found is not None and found[0].id == user.id
    assert await accounts.resolve_session("forged") is None
    assert await accounts.resolve_session("x" * 10_000) is None

    rotated = await accounts.rotate_session(signed.token)
    assert rotated is not None and rotated.token != signed.token
    assert rotated.session.csrf_secret != signed.session.csrf_secret
    assert await accounts.resolve_session(signed.token) is None
    assert await accounts.resolve_session(rotated.token) is not None

    # A sign-in replacing a session the browser held ends that one (no fixation).
    again = await accounts.sign_in("ann@example.org", PASSWORD, replacing=rotated.token)
    assert await accounts.resolve_session(rotated.token) is None

    clock.advance(days=31)
    assert await accounts.resolve_session(again.token) is None
    fresh = await accounts.sign_in("ann@example.org", PASSWORD)  # also sweeps expired rows
    assert [s.id for s in await accounts.sessions_of(user.id)] == [fresh.session.id]
    await accounts.sign_out(fresh.token)
    assert await accounts.resolve_session(fresh.token) is None


async def test_last_seen_is_written_at_most_every_few_minutes(
    accounts: AccountService, clock: Clock, db: Database
) -> None:
    await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    signed = await accounts.sign_in("ann@example.org", PASSWORD)
    first = signed.session.last_seen_at
    clock.advance(minutes=1)
    await accounts.resolve_session(signed.token)
    assert (await _row(db, Session, signed.session.id)).last_seen_at == first
    clock.advance(minutes=5)
    await accounts.resolve_session(signed.token)
    assert (await _row(db, Session, signed.session.id)).last_seen_at == clock.now


async def test_changing_the_password_ends_every_other_session(accounts: AccountService) -> None:
    user = await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    laptop = await accounts.sign_in("ann@example.org", PASSWORD)
    phone = await accounts.sign_in("ann@example.org", PASSWORD)
    with pytest.raises(InvalidCredentials):
        await accounts.change_password(user, "wrong password", "new password 1", current_token=laptop.token)
    assert await accounts.resolve_session(phone.token) is not None
    renewed = await accounts.change_password(user, PASSWORD, "new password 1", current_token=laptop.token)
    assert await accounts.resolve_session(phone.token) is None
    assert await accounts.resolve_session(laptop.token) is None  # rotated, not kept
    assert await accounts.resolve_session(renewed.token) is not None
    with pytest.raises(InvalidCredentials):
        await accounts.authenticate("ann@example.org", PASSWORD)
    await accounts.authenticate("ann@example.org", "new password 1")


async def test_deleting_anonymises_and_keeps_the_row(accounts: AccountService, db: Database) -> None:
    user = await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    signed = await accounts.sign_in("ann@example.org", PASSWORD)
    token, _ = await accounts.create_api_token(user, "phone")
    seen: list[int] = []

    async def hook(session: AsyncSession, deleted: User) -> None:
        assert deleted.deleted_at is not None
        seen.append(deleted.id)

    accounts.deletion_hooks.append(hook)
    with pytest.raises(InvalidCredentials):
        await accounts.delete_account(user, "wrong password")
    await accounts.delete_account(user, PASSWORD)
    assert seen == [user.id]
    stored = await _row(db, User, user.id)
    assert isinstance(stored, User)
    assert (stored.email, stored.password_hash, stored.display_name) == (None, None, DELETED_NAME)
    assert stored.is_deleted
    assert await accounts.resolve_session(signed.token) is None
    assert await accounts.resolve_api_token(token) is None
    async with db.session() as session:
        assert (await session.execute(select(ApiToken))).scalars().all() == []
    with pytest.raises(InvalidCredentials):
        await accounts.authenticate("ann@example.org", PASSWORD)
    again = await accounts.sign_up("ann@example.org", PASSWORD, "Ann")  # the address is free again
    assert again.id != user.id


async def test_roles_and_bans(accounts: AccountService) -> None:
    user = await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    signed = await accounts.sign_in("ann@example.org", PASSWORD)
    assert not user.has_role("moderator") and user.has_role("reader")
    with pytest.raises(InvalidInput):
        await accounts.set_role(user.id, "superuser")
    promoted = await accounts.set_role(user.id, "moderator")
    assert promoted.has_role("moderator") and not promoted.has_role("admin")
    assert await accounts.resolve_session(signed.token) is None  # new powers, new session
    banned = await accounts.ban(user.id, "  spam  ")
    assert banned.is_banned and banned.banned_reason == "spam"
    assert not (await accounts.unban(user.id)).is_banned
    with pytest.raises(NotFound):
        await accounts.set_role(9999, "admin")


async def test_api_tokens(accounts: AccountService, db: Database) -> None:
    ann = await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    bob = await accounts.sign_up("bob@example.org", PASSWORD, "Bob")
    token, row = await accounts.create_api_token(ann, " my phone ")
    assert token.startswith("tid_") and row.name == "my phone"
    assert token not in row.token_hash
    found = await accounts.resolve_api_token(token)
    assert found is not None and found.id == ann.id
    assert (await _row(db, ApiToken, row.id)).last_used_at is not None
    assert await accounts.resolve_api_token("tid_forged") is None
    assert await accounts.resolve_api_token(token[4:]) is None
    with pytest.raises(NotFound):
        await accounts.revoke_api_token(bob.id, row.id)  # not Bob's to revoke
    await accounts.revoke_api_token(ann.id, row.id)
    assert await accounts.resolve_api_token(token) is None
    listed = await accounts.api_tokens(ann.id)
    assert [t.id for t in listed] == [row.id] and listed[0].revoked_at is not None


@pytest.mark.parametrize(
    "hostile",
    ["' OR '1'='1", "x'; DROP TABLE users; --", '\\" OR ""="', "ann@example.org' --", "%' OR 1=1 #"],
)
async def test_injection_like_input_is_just_data(accounts: AccountService, hostile: str) -> None:
    await accounts.sign_up("ann@example.org", PASSWORD, "Ann")
    with pytest.raises(InvalidCredentials):
        await accounts.authenticate(hostile, hostile)
    with pytest.raises(InvalidCredentials):
        await accounts.authenticate("ann@example.org", hostile)
    user = await accounts.sign_up(f"o'neil{len(hostile)}@example.org", hostile + " pass", hostile)
    assert user.display_name == hostile
    assert (await accounts.authenticate(user.email or "", hostile + " pass")).id == user.id
    assert len(await accounts.list_users()) == 2
