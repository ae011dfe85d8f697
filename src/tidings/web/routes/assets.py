"""Static files (`/static/...`), served from memory with fingerprinted URLs.

The directory is small (one stylesheet, two scripts, a few icons), so every file is read once at
start-up: serving is a dictionary lookup, and only files that existed then can ever be served (no
path from the URL reaches the filesystem). Pages link `/static/x?v=<hash of x>`; a URL that names the
current hash is immutable and cached for a year, any other gets a short lifetime.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response

from tidings.errors import NotFound

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=300"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    version: str  # a hash of the bytes: the `?v=` of URLs and the ETag


class StaticAssets:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._files: dict[str, StaticFile] = {}
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.name.startswith(".") and path.suffix != ".md":
                body = path.read_bytes()
                content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
                self._files[path.relative_to(directory).as_posix()] = StaticFile(
                    body=body,
                    content_type=content_type or "application/octet-stream",
                    version=hashlib.blake2b(body, digest_size=6).hexdigest(),
                )

    def url(self, name: str) -> str:
        """The fingerprinted URL of a static file; a typo fails the render rather than a browser."""
        return f"/static/{name}?v={self._files[name].version}"

    def get(self, name: str) -> StaticFile | None:
        return self._files.get(name)

    def names(self) -> list[str]:
        return list(self._files)


def add_assets_routes(router: APIRouter, assets: StaticAssets) -> None:

    @router.get("/static/{name:path}", include_in_schema=False)
    async def static_file(name: str, request: Request) -> Response:
        found = assets.get(name)
        if found is None:
            raise NotFound(f"no static file {name}")
        etag = f'"{found.version}"'
        immutable = request.query_params.get("v") == found.version
        headers = {
            "ETag": etag,
            "Cache-Control": IMMUTABLE if immutable else SHORT_LIVED,
            "X-Content-Type-Options": "nosniff",
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=found.content_type, headers=headers)
