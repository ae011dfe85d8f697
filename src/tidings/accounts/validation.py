"""What an email address, a display name and a token name may be, and their canonical forms.

Inputs come from forms and the CLI as arbitrary Unicode: NFKC folds look-alike forms (full-width
letters, compatibility characters) so one person cannot register the same address twice in two
spellings, and control or format characters are refused outright (PostgreSQL rejects NUL in text,
and invisible characters make names that impersonate others).
"""

from __future__ import annotations

import re
import unicodedata

from tidings.errors import InvalidInput

MAX_EMAIL = 254  # RFC 5321's path limit
MAX_NAME = 80
# Deliberately loose: one @, something on each side, a dot in the domain. Mail delivery is the only
# real check, and there is no mail yet; this only catches typos like a missing @.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
RESERVED_NAMES = frozenset({"deleted user", "tidings", "admin", "administrator", "moderator"})


class InvalidEmail(InvalidInput):
    """That is not an email address."""

    code = "invalid_email"


class InvalidName(InvalidInput):
    """The name is empty, too long, reserved or has invisible characters."""

    code = "invalid_name"


def normalize_email(raw: str) -> str:
    email = unicodedata.normalize("NFKC", raw).strip().lower()
    if len(email) > MAX_EMAIL or _has_control(email) or not _EMAIL.fullmatch(email):
        raise InvalidEmail("enter an email address like name@example.org")
    return email


def normalize_name(raw: str, *, max_length: int = MAX_NAME, reserved: bool = True) -> str:
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not name:
        raise InvalidName("enter a name")
    if len(name) > max_length:
        raise InvalidName(f"names are limited to {max_length} characters")
    if _has_control(name):
        raise InvalidName("names cannot contain control or invisible characters")
    if reserved and name.casefold() in RESERVED_NAMES:
        raise InvalidName("that name is reserved")
    return name


def _has_control(text: str) -> bool:
    # Cc (controls, NUL included), Cf (format: zero-width and bidi overrides), Cs, Co, Cn.
    return any(unicodedata.category(char).startswith("C") for char in text)
