"""News-specific boilerplate rules applied to trafilatura's XML body (before HTML/text serialisation)."""

from __future__ import annotations

from lxml.etree import _Element


def clean_body(body: _Element) -> _Element:
    return body
