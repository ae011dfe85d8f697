"""Parameters shared by the API's endpoints, validated at the edge so bad input is a 422, never a 500.

The patterns also keep what reaches SQL printable: PostgreSQL rejects a NUL character in any text
parameter with an error, which would otherwise surface as a server error.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from tidings.api.links import PublicLinks
from tidings.extract.urls import ARTICLE_ID_PATTERN as ID_SHAPE
from tidings.web.deps import SettingsDep

ARTICLE_ID_PATTERN = f"^{ID_SHAPE}$"  # anchored: OpenAPI patterns are searched, not matched
# Slugs are slugify() output: word characters in any script (Korean hashtags) and hyphens. The pattern
# only shuts out control characters and "/": `\w` is ASCII-only in the ECMA regexes that OpenAPI
# clients validate with, and would make them refuse real slugs.
SLUG_PATTERN = r"^[^\x00-\x1f\x7f/]+$"
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"  # URL-safe base64, as both cursor kinds are encoded
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"


def get_links(request: Request, settings: SettingsDep) -> PublicLinks:
    return PublicLinks.for_request(request, settings)


LinksDep = Annotated[PublicLinks, Depends(get_links)]

ArticleId = Annotated[
    str, Path(pattern=ARTICLE_ID_PATTERN, description="32 lowercase hex digits.", examples=["0" * 32])
]
Slug = Annotated[
    str,
    Path(
        pattern=SLUG_PATTERN,
        max_length=120,
        description="A slug as the API lists it: lowercase letters of any script, digits, hyphens.",
    ),
]
Language = Annotated[
    str | None,
    Query(
        pattern=LANGUAGE_PATTERN,
        max_length=16,
        description="Only articles in this language (ISO 639-1, e.g. `ko`).",
    ),
]
Cursor = Annotated[
    str | None,
    Query(pattern=CURSOR_PATTERN, max_length=512, description="`next_cursor` of the previous page."),
]
PageLimit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
