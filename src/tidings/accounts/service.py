"""AccountService: sign-up, sign-in with lockout, server-side sessions, roles, API tokens, deletion.

Sessions are server-side rows, not signed cookies: signing out, changing a password or changing a
role takes effect at once, everywhere. The cookie holds a random token; the row's id is its hash.
Every sign-in gets a new session (no fixation: a token planted before sign-in is never promoted).

Failures that could tell an attacker whether an address has an account look the same either way:
one message ("the email or password is wrong"), one status, the same argon2 work (a decoy hash for
unknown addresses) and the same lockout (accounts/lockout.py). Sign-up is the exception every
site without mail verification has: it must say that an address is taken; the per-client sign-up
limit bounds how many addresses one can test that way.

Deleting an account keeps the row, anonymised: content pointing at `users.id` (comments) stays and
is shown as by a deleted user. Other domains that must do more register `deletion_hooks`, run in
the same transaction as the anonymisation.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tidings.accounts import repo
from tidings.accounts.lockout import PhantomLockout
from tidings.accounts.models import ROLES, ApiToken, Session, User
from tidings.accounts.passwords import Passwords, check_password_rules
from tidings.accounts.validation import normalize_email, normalize_name
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database
from tidings.errors import Conflict, InvalidInput, NotFound, RateLimited, TidingsError

DELETED_NAME = "deleted user"  # stored on anonymised rows; pages translate it (User.is_deleted)
TOKEN_BYTES = 32
API_TOKEN_PREFIX = "tid_"  # noqa: S105 (a prefix, not a secret): recognisable in logs and by scanners
MAX_TOKEN_LENGTH = 100  # longer cookies or bearer values are not ours: refused before hashing
MAX_API_TOKENS = 50
# Writes per request are what SQLite can least afford: "last seen" moves at most this often.
TOUCH_EVERY = timedelta(minutes=5)

DeletionHook = Callable[[AsyncSession, User], Awaitable[None]]


class InvalidCredentials(TidingsError):
    """The email or password is wrong."""

    code = "invalid_credentials"
    status = 401


class AccountLocked(RateLimited):
    """Too many wrong passwords: sign-in is paused for this account."""

    code = "account_locked"


class EmailTaken(Conflict):
    """An account with this email already exists."""

    code = "email_taken"


@dataclass(frozen=True)
class SignedIn:
    """A new session. `token` goes into the cookie and is never stored or shown again."""

    token: str
    session: Session
    user: User


class AccountService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        passwords: Passwords | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.passwords = passwords or Passwords()
        self.session_lifetime = timedelta(days=settings.session_days)
        self.max_failures = settings.max_failed_logins
        self.lockout = timedelta(minutes=settings.lockout_minutes)
        self.clock = clock
        self.phantoms = PhantomLockout(max_failures=self.max_failures, lockout=self.lockout)
        self.deletion_hooks: list[DeletionHook] = []

    # --- users

    async def sign_up(self, email: str, password: str, display_name: str) -> User:
        email = normalize_email(email)
        name = normalize_name(display_name)
        check_password_rules(password)
        password_hash = await self.passwords.hash(password)
        return await self._insert_user(email, name, password_hash, "reader")

    async def create_user(
        self, email: str, password: str, display_name: str, *, role: str = "reader", check_name: bool = True
    ) -> User:
        """For the CLI: any role, and names the sign-up form reserves (`--name admin`)."""
        _check_role(role)
        email = normalize_email(email)
        name = normalize_name(display_name, reserved=check_name)
        check_password_rules(password)
        return await self._insert_user(email, name, await self.passwords.hash(password), role)

    async def _insert_user(self, email: str, name: str, password_hash: str, role: str) -> User:
        user = User(
            email=email, display_name=name, password_hash=password_hash, role=role, created_at=self.clock()
        )
        try:
            async with self.db.transaction() as session:
                if await repo.user_by_email(session, email) is not None:
                    raise EmailTaken("an account with this email already exists")
                session.add(user)
        except IntegrityError:  # a concurrent sign-up with the same address won the race
            raise EmailTaken("an account with this email already exists") from None
        return user

    async def get_user(self, user_id: int) -> User:
        async with self.db.session() as session:
            user = await session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return user

    async def user_by_email(self, email: str) -> User | None:
        async with self.db.session() as session:
            return await repo.user_by_email(session, normalize_email(email))

    async def list_users(self, *, limit: int = 1000) -> Sequence[User]:
        async with self.db.session() as session:
            return await repo.users(session, limit=limit)

    # --- passwords and lockout

    async def authenticate(self, email: str, password: str) -> User:
        """The account these credentials open. InvalidCredentials or AccountLocked otherwise,
        identical for addresses with and without an account."""
        now = self.clock()
        try:
            normalized = normalize_email(email)
        except InvalidInput:
            normalized = None
        async with self.db.session() as session:
            user = await repo.user_by_email(session, normalized) if normalized else None
        if user is None:
            key = repo.token_hash(normalized or email)
            _raise_if_locked(self.phantoms.locked_until(key, now), now)
            await self.passwords.verify(None, password)
            _raise_if_locked(self.phantoms.fail(key, now), now)
            raise InvalidCredentials("the email or password is wrong")
        await self._check_password(user, password, now)
        return user

    async def _check_password(self, user: User, password: str, now: datetime) -> None:
        """Verify a known user's password, counting failures toward the lockout."""
        _raise_if_locked(user.locked_until, now)
        if not await self.passwords.verify(user.password_hash, password):
            until = None
            async with self.db.transaction() as session:
                # Counted in SQL, not read-modify-write: parallel guesses must each count.
                failures = (
                    await session.execute(
                        update(User)
                        .where(User.id == user.id)
                        .values(failed_logins=User.failed_logins + 1)
                        .returning(User.failed_logins)
                    )
                ).scalar_one()
                if failures >= self.max_failures:
                    until, failures = now + self.lockout, 0
                    await session.execute(
                        update(User).where(User.id == user.id).values(failed_logins=0, locked_until=until)
                    )
            # Raised after the commit: an exception inside the block would roll the lockout back.
            user.failed_logins, user.locked_until = failures, until or user.locked_until
            _raise_if_locked(until, now)
            raise InvalidCredentials("the email or password is wrong")
        assert user.password_hash is not None  # verify() is False for accounts without one
        upgraded = (
            await self.passwords.hash(password) if self.passwords.needs_rehash(user.password_hash) else None
        )
        if user.failed_logins or user.locked_until or upgraded:
            values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
            if upgraded:
                values["password_hash"] = upgraded
            async with self.db.transaction() as session:
                await session.execute(update(User).where(User.id == user.id).values(**values))
            user.failed_logins, user.locked_until = 0, None
            if upgraded:
                user.password_hash = upgraded

    async def change_password(
        self, user: User, current: str, new: str, *, current_token: str | None
    ) -> SignedIn:
        """Set a new password after checking the current one. Every session of the account ends
        (a thief's included); the caller's is replaced by the returned new one."""
        check_password_rules(new)
        await self._check_password(user, current, self.clock())
        password_hash = await self.passwords.hash(new)
        async with self.db.transaction() as session:
            await session.execute(update(User).where(User.id == user.id).values(password_hash=password_hash))
            await repo.delete_sessions_of(session, user.id)
        user.password_hash = password_hash
        return await self.create_session(user, replacing=current_token)

    async def delete_account(self, user: User, password: str) -> None:
        """Anonymise the account after checking its password: no email, no password, no sessions
        or tokens, a neutral name. The row stays so that what it wrote stays attributed."""
        await self._check_password(user, password, self.clock())
        await self.anonymise(user.id)

    async def anonymise(self, user_id: int) -> None:
        async with self.db.transaction() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"no user {user_id}")
            user.email = None
            user.password_hash = None
            user.display_name = DELETED_NAME
            user.role = "reader"
            user.deleted_at = self.clock()
            user.failed_logins, user.locked_until = 0, None
            await repo.delete_sessions_of(session, user_id)
            await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
            for hook in self.deletion_hooks:
                await hook(session, user)

    # --- roles and bans

    async def set_role(self, user_id: int, role: str) -> User:
        """Change a role. The account's sessions end: its next sign-in is a new session with the new
        powers, never an old session id carried across a privilege change."""
        _check_role(role)
        async with self.db.transaction() as session:
            user = await self._live_user(session, user_id)
            if user.role != role:
                user.role = role
                await repo.delete_sessions_of(session, user_id)
        return user

    async def ban(self, user_id: int, reason: str) -> User:
        async with self.db.transaction() as session:
            user = await self._live_user(session, user_id)
            user.banned_at = self.clock()
            user.banned_reason = reason.strip()[:2000] or None
        return user

    async def unban(self, user_id: int) -> User:
        async with self.db.transaction() as session:
            user = await self._live_user(session, user_id)
            user.banned_at, user.banned_reason = None, None
        return user

    async def _live_user(self, session: AsyncSession, user_id: int) -> User:
        user = await session.get(User, user_id)
        if user is None or user.is_deleted:
            raise NotFound(f"no user {user_id}")
        return user

    # --- sessions

    async def sign_in(self, email: str, password: str, *, replacing: str | None = None) -> SignedIn:
        user = await self.authenticate(email, password)
        return await self.create_session(user, replacing=replacing)

    async def create_session(self, user: User, *, replacing: str | None = None) -> SignedIn:
        """A new session; `replacing` (the token the browser held before) is ended in the same step."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.clock()
        row = Session(
            id=repo.token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.session_lifetime,
            csrf_secret=secrets.token_hex(32),
        )
        async with self.db.transaction() as session:
            if replacing:
                await repo.delete_session(session, repo.token_hash(replacing))
            await repo.delete_expired_sessions(session, now)
            session.add(row)
        return SignedIn(token=token, session=row, user=user)

    async def resolve_session(self, token: str) -> tuple[User, Session] | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        now = self.clock()
        async with self.db.session() as session:
            found = await repo.session_with_user(session, repo.token_hash(token), now)
        if found is None:
            return None
        row, user = found
        if now - row.last_seen_at >= TOUCH_EVERY:
            async with self.db.transaction() as session:
                await repo.touch_session(session, row.id, now)
            row.last_seen_at = now
        return user, row

    async def rotate_session(self, token: str) -> SignedIn | None:
        """The same sign-in under a new id (and a new CSRF secret); the old id stops working."""
        found = await self.resolve_session(token)
        if found is None:
            return None
        return await self.create_session(found[0], replacing=token)

    async def sign_out(self, token: str) -> None:
        if token and len(token) <= MAX_TOKEN_LENGTH:
            async with self.db.transaction() as session:
                await repo.delete_session(session, repo.token_hash(token))

    async def sessions_of(self, user_id: int) -> Sequence[Session]:
        async with self.db.session() as session:
            return await repo.sessions_of(session, user_id)

    # --- API tokens

    async def create_api_token(self, user: User, name: str) -> tuple[str, ApiToken]:
        """A new bearer token for the API; the caller shows `token` once, only its hash is kept."""
        name = normalize_name(name, reserved=False)
        token = API_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        row = ApiToken(token_hash=repo.token_hash(token), user_id=user.id, name=name, created_at=self.clock())
        async with self.db.transaction() as session:
            live = [t for t in await repo.api_tokens_of(session, user.id) if t.revoked_at is None]
            if len(live) >= MAX_API_TOKENS:
                raise InvalidInput(
                    f"at most {MAX_API_TOKENS} tokens: revoke one first", code="too_many_tokens"
                )
            session.add(row)
        return token, row

    async def resolve_api_token(self, token: str) -> User | None:
        if not token.startswith(API_TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            return None
        now = self.clock()
        async with self.db.session() as session:
            found = await repo.api_token_with_user(session, repo.token_hash(token))
        if found is None:
            return None
        row, user = found
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            async with self.db.transaction() as session:
                await session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        return user

    async def api_tokens(self, user_id: int) -> Sequence[ApiToken]:
        async with self.db.session() as session:
            return await repo.api_tokens_of(session, user_id)

    async def revoke_api_token(self, user_id: int, token_id: int) -> None:
        async with self.db.transaction() as session:
            row = await session.get(ApiToken, token_id)
            if row is None or row.user_id != user_id:  # someone else's token is as good as none
                raise NotFound(f"no token {token_id}")
            if row.revoked_at is None:
                row.revoked_at = self.clock()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: choose one of {', '.join(ROLES)}", code="invalid_role")


def _raise_if_locked(until: datetime | None, now: datetime) -> None:
    if until is not None and until > now:
        seconds = max(1, math.ceil((until - now).total_seconds()))
        minutes = -(-seconds // 60)
        raise AccountLocked(
            f"too many failed sign-ins: try again in {minutes} minute{'s' if minutes != 1 else ''}",
            retry_after=seconds,
        )
