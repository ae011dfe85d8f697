"""Opaque keyset cursors: (published_at, id) of the last item shown, URL-safe base64."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from tidings.errors import InvalidInput
from tidings.extract.urls import ARTICLE_ID

# Anything outside these years is forged: it would overflow date arithmetic in the database.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def encode_cursor(published_at: datetime, article_id: str) -> str:
    raw = json.dumps([published_at.isoformat(), article_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, article_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None or not isinstance(article_id, str) or not ARTICLE_ID.fullmatch(article_id):
            raise ValueError("bad cursor")
        moment = moment.astimezone(UTC)
        if not EARLIEST <= moment <= LATEST:
            raise ValueError("cursor date out of range")
        return moment, article_id
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid cursor", code="invalid_cursor") from exc
