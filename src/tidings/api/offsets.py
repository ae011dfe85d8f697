"""Opaque offset cursors for short lists the API pages over in memory (sources)."""

from __future__ import annotations

import base64

from tidings.errors import InvalidInput

_PREFIX = "o:"
MAX_OFFSET = 1_000_000


def encode_offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_offset_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid cursor", code="invalid_cursor") from exc
    digits = raw.removeprefix(_PREFIX)
    if (
        not raw.startswith(_PREFIX)
        or not digits.isascii()
        or not digits.isdigit()
        or int(digits) > MAX_OFFSET
    ):
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    return int(digits)
