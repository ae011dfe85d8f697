"""Validators for HTTP caching, shared by pages, feeds and the image proxy."""

from __future__ import annotations

import hashlib


def strong_etag(body: bytes) -> str:
    """A strong ETag: a hash of the exact bytes sent."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): a `W/` prefix does not prevent a match."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag in (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
