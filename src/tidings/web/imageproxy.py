"""The image proxy: `GET /img?url=…&w=…&q=…&s=…` serves a shrunk, metadata-free copy of a remote image.

Why proxy at all: readers' browsers never contact publishers' servers (no IP, referrer or cookie
leaks, no tracking pixels), and images arrive at the size they are shown. The upstream bytes are
never passed through: they are decoded by Pillow (a short list of raster formats only) and
re-encoded, so an SVG carrying script or an HTML page posing as an image cannot reach a browser.

Only URLs this instance signed are served (HMAC over url, width and quality), so the endpoint is
no open proxy; and every fetch goes through the `Fetcher`, so the SSRF guard applies. Renditions
are immutable (the URL names them completely) and cached on disk by `ImageCache`.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import io
import logging
import os
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError, features

from tidings.config import Settings
from tidings.errors import TidingsError
from tidings.ingest.fetcher import Fetcher, FetchError, FetchTimeoutError, HTTPStatusError
from tidings.web.httpcache import etag_matches, strong_etag
from tidings.web.imagecache import ImageCache, image_cache_key

__all__ = [
    "ALLOWED_QUALITIES",
    "ALLOWED_WIDTHS",
    "JPEG",
    "WEBP",
    "ImageProxy",
    "ImageProxyError",
    "OutputFormat",
    "clamp_quality",
    "image_router",
    "image_signature",
    "negotiate_format",
    "render_image",
    "sign_image_url",
]

logger = logging.getLogger(__name__)

ALLOWED_WIDTHS = (160, 320, 480, 640, 960, 1280)
ALLOWED_QUALITIES = (50, 75, 85)
DEFAULT_QUALITY = 75
MAX_INPUT_BYTES = 15 * 1024 * 1024
# Checked on the header's dimensions before any pixel is decoded: 40 Mpx is a 7300×5500 photo,
# and decoding it as RGBA already takes 160 MB.
MAX_INPUT_PIXELS = 40_000_000
MAX_URL_LENGTH = 4096
SIGNATURE_BYTES = 16  # 128 bits of HMAC-SHA256: unforgeable, and keeps URLs short
# Formats Pillow may even try. Everything else (SVG, HTML, TIFF, PSD, EPS...) is refused unread.
_AVIF = ("AVIF",) if features.check("avif") else ()  # Pillow 11.2+ built with libavif
INPUT_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "GIF", "WEBP", *_AVIF)
UPSTREAM_ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.9,image/*;q=0.5"
IMMUTABLE = "public, max-age=31536000, immutable"
# libwebp's default effort. Measured on a 640×480 photo: method 2 encodes ~2× faster for ~4% more
# bytes, method 6 ~3× slower for ~4% fewer. Each rendition is encoded once and served many times.
WEBP_METHOD = 4
# Proxied bytes are images we produced, but defence in depth costs two headers.
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
_ROTATING_ORIENTATIONS = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height


@dataclass(frozen=True, slots=True)
class OutputFormat:
    pillow_name: str
    content_type: str


WEBP = OutputFormat("WEBP", "image/webp")
JPEG = OutputFormat("JPEG", "image/jpeg")


class ImageProxyError(TidingsError):
    """The image cannot be served."""

    code = "image_error"
    status = 400


class InvalidSignature(ImageProxyError):
    """The image URL is not signed by this site."""

    code = "bad_signature"
    status = 403


class InvalidImageRequest(ImageProxyError):
    """The image request is malformed."""

    code = "bad_request"
    status = 400


class UnsupportedImage(ImageProxyError):
    """The upstream resource is not an image we can decode."""

    code = "unsupported_image"
    status = 422


class ImageTooLarge(ImageProxyError):
    """The image has too many pixels."""

    code = "image_too_large"
    status = 422


# --- signing


def image_signature(key: bytes, url: str, width: int | str, quality: int | str) -> str:
    """URL-safe base64 of the truncated HMAC-SHA256 of (width, quality, url).

    Width and quality are decimal integers (no newline), so putting the URL last makes the
    message unambiguous whatever the URL contains.
    """
    message = f"{width}\n{quality}\n{url}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_image_url(key: bytes, url: str, width: int, quality: int = DEFAULT_QUALITY) -> str:
    """The path and query of the proxied image: `/img?url=...&w=...&q=...&s=...`."""
    if width not in ALLOWED_WIDTHS:
        raise ValueError(f"width {width} is not one of {ALLOWED_WIDTHS}")
    quality = clamp_quality(quality)  # sign the canonical value: one URL, one cache entry
    signature = image_signature(key, url, width, quality)
    return "/img?" + urlencode({"url": url, "w": width, "q": quality, "s": signature})


def clamp_quality(quality: int) -> int:
    """The allowed quality nearest to `quality` (ties go down): a handful of renditions per image."""
    return min(ALLOWED_QUALITIES, key=lambda allowed: (abs(allowed - quality), allowed))


@dataclass(frozen=True, slots=True)
class ImageRequest:
    url: str
    width: int
    quality: int


def parse_image_request(params: Mapping[str, str], key: bytes) -> ImageRequest:
    """Check the signature over the raw parameters first, then their values."""
    url, width, quality, signature = (params.get(name, "") for name in ("url", "w", "q", "s"))
    if not (url and width and quality and signature):
        raise InvalidSignature("Missing url, w, q or s")
    expected = image_signature(key, url, width, quality).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise InvalidSignature()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidImageRequest("URL too long")
    parsed_width = _parse_int(width, "w")
    if parsed_width not in ALLOWED_WIDTHS:
        raise InvalidImageRequest(f"w must be one of {', '.join(map(str, ALLOWED_WIDTHS))}")
    return ImageRequest(url=url, width=parsed_width, quality=clamp_quality(_parse_int(quality, "q")))


def _parse_int(value: str, name: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise InvalidImageRequest(f"{name} must be a positive integer")
    return int(value)


def negotiate_format(accept: str | None) -> OutputFormat:
    """WebP when the client names it with a non-zero q, else JPEG (which every client reads).

    `image/*` and `*/*` do not count: old browsers send them without reading WebP.
    """
    for media_range in (accept or "").split(","):
        media_type, *params = media_range.split(";")
        if media_type.strip().lower() == "image/webp" and _q_value(params) > 0:
            return WEBP
    return JPEG


def _q_value(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


# --- rendering (CPU-bound: runs in a worker thread)


def render_image(data: bytes, *, width: int, quality: int, output: OutputFormat) -> bytes:
    """Decode `data`, shrink it to at most `width` pixels wide, re-encode it without metadata.

    Raises `UnsupportedImage` or `ImageTooLarge`; never returns upstream bytes unchanged.
    """
    with _open_checked(data) as source:
        try:
            image = _decode_shrunk(source, width)
            image = _to_srgb(image)
            image = _to_output_mode(image, output)
            return _encode(image, output, quality)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:  # what Pillow raises on bad data
            raise UnsupportedImage(f"Cannot decode image: {exc}") from exc


def _open_checked(data: bytes) -> Image.Image:
    """Open (header only) an image of an allowed format and refuse it if it has too many pixels."""
    try:
        image = Image.open(io.BytesIO(data), formats=INPUT_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"Image too large: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UnsupportedImage(f"Not a supported image ({', '.join(INPUT_FORMATS)})") from exc
    image_width, image_height = image.size
    if image_width * image_height > MAX_INPUT_PIXELS:
        image.close()
        raise ImageTooLarge(f"Image has {image_width}×{image_height} pixels, more than {MAX_INPUT_PIXELS}")
    return image


def _decode_shrunk(source: Image.Image, width: int) -> Image.Image:
    """Decode, shrink to the target size, then apply EXIF orientation.

    The target is computed for the image as displayed (after orientation) but the shrink happens
    before the transposition, so only the small image is rotated.
    """
    orientation = source.getexif().get(ExifTags.Base.Orientation, 1)
    target = _stored_target_size(source.size, width, rotated=orientation in _ROTATING_ORIENTATIONS)
    if source.format == "JPEG" and target != source.size:
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale in the DCT domain: much faster, less memory.
        source.draft(source.mode, target)
    source.load()
    image = _to_resizable_mode(source)
    if image.size != target:
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    ImageOps.exif_transpose(image, in_place=True)  # reads the EXIF that convert/resize carried over
    return image


def _stored_target_size(stored: tuple[int, int], width: int, *, rotated: bool) -> tuple[int, int]:
    """Size to shrink the stored pixels to so that, once oriented, the image is `width` wide at most."""
    stored_width, stored_height = stored
    shown_width, shown_height = (stored_height, stored_width) if rotated else (stored_width, stored_height)
    if shown_width > width:  # never upscale
        shown_height = max(1, round(shown_height * width / shown_width))
        shown_width = width
    return (shown_height, shown_width) if rotated else (shown_width, shown_height)


def _to_resizable_mode(image: Image.Image) -> Image.Image:
    """A mode LANCZOS resizes well: Pillow would resize "P" and "1" with NEAREST, and 16-bit poorly."""
    if image.mode in ("RGB", "L") and "transparency" in image.info:  # tRNS colour key
        return image.convert("RGBA")
    if image.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):  # 16-bit PNG grey: keep 8 bits
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("PA", "RGBa", "La") or image.has_transparency_data:
        return image.convert("RGBA")
    return image.convert("RGB")


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels to sRGB before the ICC profile is dropped, so wide-gamut photos keep their colours.

    Done after the shrink: far fewer pixels to transform.
    """
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "L", "CMYK"):
        return image
    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(source_profile).lower():
            return image  # already sRGB (the common case): nothing to do
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source_profile, _srgb_profile(), outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        logger.debug("ignoring unusable ICC profile: %s", exc)
        return image
    return converted if converted is not None else image


def _to_output_mode(image: Image.Image, output: OutputFormat) -> Image.Image:
    """RGB, or RGBA for WebP when some pixel is actually transparent. JPEG gets alpha flattened on white."""
    if image.mode == "LA":
        image = image.convert("RGBA")
    if image.mode != "RGBA":
        return image if image.mode == "RGB" else image.convert("RGB")
    alpha = image.getchannel("A")
    if alpha.getextrema() == (255, 255):
        return image.convert("RGB")  # an opaque alpha channel only costs bytes
    if output is WEBP:
        return image
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=alpha)
    return background


def _encode(image: Image.Image, output: OutputFormat, quality: int) -> bytes:
    # Savers fall back on `info` for EXIF, ICC, XMP and comments: emptying it strips them all.
    image.info = {}
    buffer = io.BytesIO()
    if output is WEBP:
        image.save(buffer, "WEBP", quality=quality, method=WEBP_METHOD)
    else:
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


# --- HTTP


class ImageProxy:
    """Serves `/img` requests: verify, look up the cache, else fetch, render and store once."""

    def __init__(
        self, key: bytes, *, fetcher: Fetcher, cache: ImageCache, render_slots: int | None = None
    ) -> None:
        self._key = key
        self._fetcher = fetcher
        self._cache = cache
        # Each render may hold ~160 MB of pixels: bound them to the cores, which is all they can use.
        self._render_slots = asyncio.Semaphore(render_slots or os.cpu_count() or 2)
        self._inflight: dict[str, asyncio.Task[bytes]] = {}

    async def handle(self, request: Request) -> Response:
        try:
            image_request = parse_image_request(request.query_params, self._key)
            output = negotiate_format(request.headers.get("accept"))
            body = await self.rendition(image_request, output)
        except ImageProxyError as exc:
            return error_response(exc.code, exc.message, exc.status)
        except FetchError as exc:
            return _fetch_error_response(exc)
        return image_response(body, output, request.headers.get("if-none-match"))

    async def rendition(self, image_request: ImageRequest, output: OutputFormat) -> bytes:
        url, width, quality = image_request.url, image_request.width, image_request.quality
        key = image_cache_key(url, width, quality, output.pillow_name)
        cached = await asyncio.to_thread(self._cache.get, key)
        if cached is not None:
            return cached
        return await self._coalesced(key, lambda: self._produce(key, image_request, output))

    async def _coalesced(self, key: str, produce: Callable[[], Coroutine[Any, Any, bytes]]) -> bytes:
        """One fetch and render for N concurrent requests of the same rendition.

        The work runs in its own task and waiters are shielded from it, so a client hanging up
        cancels neither the work nor the other waiters.
        """
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(produce())
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._finished, key))
        return await asyncio.shield(task)

    def _finished(self, key: str, task: asyncio.Task[bytes]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here so that an error nobody awaited anymore is not logged as lost

    async def _produce(self, key: str, image_request: ImageRequest, output: OutputFormat) -> bytes:
        url, width, quality = image_request.url, image_request.width, image_request.quality
        fetched = await self._fetcher.fetch(url, accept=UPSTREAM_ACCEPT, max_bytes=MAX_INPUT_BYTES)
        # The Content-Type is not checked: servers often get it wrong, and Pillow's sniffing over
        # a fixed list of formats is what decides. Upstream bytes are never served as they came.
        async with self._render_slots:
            body = await asyncio.to_thread(
                render_image, fetched.content, width=width, quality=quality, output=output
            )
        try:
            await asyncio.to_thread(self._cache.put, key, body)
        except OSError as exc:  # a full or read-only disk must not fail the request
            logger.warning("image cache write failed: %s", exc)
        return body


def image_router(settings: Settings, *, fetcher: Fetcher, cache: ImageCache | None = None) -> APIRouter:
    """`GET /img`. `cache` defaults to `DATA_DIR/imgcache` bounded at 512 MB."""
    cache = cache if cache is not None else ImageCache.for_settings(settings)
    proxy = ImageProxy(settings.signing_key(), fetcher=fetcher, cache=cache)
    router = APIRouter()

    @router.get("/img", include_in_schema=False)
    async def proxied_image(request: Request) -> Response:
        return await proxy.handle(request)

    return router


def image_response(body: bytes, output: OutputFormat, if_none_match: str | None) -> Response:
    etag = strong_etag(body)
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "Vary": "Accept", **SAFETY_HEADERS}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=output.content_type, headers=headers)


def error_response(code: str, message: str, status: int) -> JSONResponse:
    """The house error shape. Built here because the router may be mounted in an app without its handler."""
    return JSONResponse(
        {"ok": False, "error": {"code": code, "message": message}, "status": status},
        status_code=status,
        headers={"Cache-Control": "no-store", "Vary": "Accept"},
    )


def _fetch_error_response(exc: FetchError) -> JSONResponse:
    """Upstream 404/410 stays a 404, a timeout is a 504, any other failure (blocked, too large...) a 502."""
    if isinstance(exc, HTTPStatusError) and exc.upstream_status in (404, 410):
        return error_response("upstream_not_found", "The image does not exist upstream", 404)
    if isinstance(exc, FetchTimeoutError):
        return error_response(exc.code, exc.message, 504)
    logger.info("image fetch failed for %s: %s", exc.url, exc.message)
    return error_response(exc.code, exc.message, 502)
