"""Accounts: users, their server-side sessions and their API tokens.

Sessions and API tokens store only the SHA-256 of the secret the client holds, so a copy of the
database (a backup, a leaked dump) cannot be replayed as a login. A deleted account keeps its row
(anonymised) so that content referring to `users.id`, comments in particular, stays attributed to
"deleted user" instead of vanishing or pointing nowhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow

ROLES = ("reader", "moderator", "admin")
# Higher rank includes the powers of the lower ones (an admin can moderate).
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Lowercased and NFKC-normalised (accounts/service.py); NULL once the account is deleted, so
    # the address can sign up again and is not kept after the person left.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    # NULL for deleted accounts: nothing can authenticate as them.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="reader")  # reader | moderator | admin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    banned_reason: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


class Session(Base):
    __tablename__ = "sessions"

    # sha256 hex of the cookie's random token.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Random per session; CSRF tokens are an HMAC of it (accounts/csrf.py), so rotating the session
    # also invalidates every form token issued before.
    csrf_secret: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 hex of the token, which is shown to its owner once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
