"""Reading a posted HTML form: bounded in size, url-encoded only, never an exception on odd bytes.

Starlette's form parser reads urlencoded bodies without a size limit and multipart into temporary
files; the site's forms are small urlencoded posts (browsers and htmx send that by default), so this
reads at most MAX_FORM_BYTES and nothing else. A repeated field keeps its first value. The result is
cached on the request, so the CSRF check and the route both read the same form.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

from tidings.errors import InvalidInput, TidingsError

MAX_FORM_BYTES = 64 * 1024
URLENCODED = "application/x-www-form-urlencoded"


class FormTooLarge(TidingsError):
    """The form is larger than any form of this site."""

    code = "form_too_large"
    status = 413


async def read_form(request: Request) -> dict[str, str]:
    cached: dict[str, str] | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != URLENCODED:
        raise InvalidInput(f"forms must be sent as {URLENCODED}", code="unsupported_form")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise FormTooLarge(f"forms are limited to {MAX_FORM_BYTES // 1024} KiB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge(f"forms are limited to {MAX_FORM_BYTES // 1024} KiB")
    form: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, value)
    request.state.form = form
    return form
