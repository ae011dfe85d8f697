"""Opaque keyset cursors: (published_at, id) of the last item shown, URL-safe base64."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from tidings.errors import InvalidInput


def encode_cursor(published_at: datetime, article_id: str) -> str:
    raw = json.dumps([published_at.isoformat(), article_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, article_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None or not isinstance(article_id, str) or len(article_id) > 64:
            raise ValueError("bad cursor")
        return moment, article_id
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid cursor") from exc
