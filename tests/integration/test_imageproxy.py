"""The image proxy end to end: a real SafeFetcher against a local HTTP server, the app in-process.

Every test image is generated here with Pillow (or zlib for the decompression bombs), so no
binary fixture is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from PIL import ExifTags, Image, ImageCms

from tidings.config import Settings
from tidings.ingest.fetcher import SafeFetcher
from tidings.web.imagecache import ImageCache
from tidings.web.imageproxy import (
    ALLOWED_WIDTHS,
    JPEG,
    ImageTooLarge,
    UnsupportedImage,
    image_router,
    image_signature,
    negotiate_format,
    render_image,
    sign_image_url,
)

WEBP_ACCEPT = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"  # what Chrome sends for <img>
OLD_ACCEPT = "image/png,image/*;q=0.8,*/*;q=0.5"  # a browser without WebP
SECRET_COMMENT = b"secret-comment-do-not-leak"
CAMERA_MAKE = "SpyCam-9000"
HUGE_BODY_BYTES = 16 * 1024 * 1024

# --------------------------------------------------------------------------- generated images


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


Colour = str | tuple[int, ...]


def halves(size: tuple[int, int], left: Colour, right: Colour, mode: str = "RGB") -> Image.Image:
    """Left half one colour, right half another: orientation and resizing stay checkable by eye."""
    image = Image.new(mode, size, left)
    image.paste(Image.new(mode, (size[0] - size[0] // 2, size[1]), right), (size[0] // 2, 0))
    return image


def photo_with_metadata() -> bytes:
    """A 1200×800 JPEG stored sideways (orientation 6) with GPS, camera make, ICC and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = halves((1200, 800), "red", "blue")
    return encode(image, "JPEG", quality=90, exif=exif, icc_profile=icc, comment=SECRET_COMMENT)


def large_noisy_jpeg() -> bytes:
    """4000×3000 of smooth noise: seconds of CPU to render, the test of a responsive event loop."""
    noise = Image.effect_noise((400, 300), 80).convert("RGB")
    return encode(noise.resize((4000, 3000), Image.Resampling.BILINEAR), "JPEG", quality=85)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (200, 100), colour) for colour in ("red", "lime", "blue")]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


@functools.cache  # the 30000² one takes ~1.5 s of zlib: made once per session
def one_colour_png(width: int, height: int) -> bytes:
    """A 1-bit PNG of any size, written with zlib so no pixel buffer of that size is ever made.

    All-zero rows compress about 1000:1: the 30000×30000 one is ~110 KB on the wire, 900 MB decoded.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    rows_per_block = 500
    blocks = [compressor.compress(row * rows_per_block) for _ in range(height // rows_per_block)]
    blocks.append(compressor.compress(row * (height % rows_per_block)))
    blocks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(blocks)) + chunk(b"IEND", b"")
    )


EVIL_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" onload="alert(1)">'
    b"<script>alert(document.cookie)</script><rect width='100' height='100'/></svg>"
)
HTML_PAGE = b"<!doctype html><html><body><script>alert(1)</script><img src=x></body></html>"

# --------------------------------------------------------------------------- upstream server


@dataclass(frozen=True)
class Route:
    content_type: str
    body: bytes = b""
    status: int = 200
    delay: float = 0.0
    stream_bytes: int = 0  # > 0: send this many bytes with no Content-Length instead of `body`


@dataclass
class Upstream:
    base_url: str
    routes: dict[str, Route]
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return self.base_url + path


def _handler_for(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            upstream.hits[self.path] += 1
            route = upstream.routes.get(self.path, Route("text/plain", b"not found", status=404))
            if route.delay:
                time.sleep(route.delay)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if not route.stream_bytes:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                if route.stream_bytes:
                    self._stream(route.stream_bytes)
                else:
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the proxy hung up on purpose (size cap)

        def _stream(self, size: int) -> None:
            block = b"\xff" * 65536
            for _ in range(size // len(block)):
                self.wfile.write(block)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    photo = photo_with_metadata()
    routes = {
        "/photo.jpg": Route("image/jpeg", photo),
        "/slow.jpg": Route("image/jpeg", photo, delay=0.3),
        "/landscape.jpg": Route("image/jpeg", encode(halves((1200, 800), "red", "blue"), "JPEG")),
        "/logo.png": Route(
            "image/png", encode(halves((100, 80), (0, 0, 0, 0), (0, 200, 0, 255), "RGBA"), "PNG")
        ),
        "/large.jpg": Route("image/jpeg", large_noisy_jpeg()),
        "/anim.gif": Route("image/gif", animated_gif()),
        "/pic.webp": Route("image/webp", encode(halves((500, 300), "yellow", "purple"), "WEBP")),
        "/evil.svg": Route("image/svg+xml", EVIL_SVG),
        "/page.html": Route("text/html", HTML_PAGE),
        "/disguised.jpg": Route("image/jpeg", HTML_PAGE),  # lies about its type
        "/bomb.png": Route("image/png", one_colour_png(30000, 30000)),
        "/bomb49.png": Route("image/png", one_colour_png(7000, 7000)),  # under Pillow's own limit
        "/huge.jpg": Route("image/jpeg", stream_bytes=HUGE_BODY_BYTES),
        "/gone.jpg": Route("text/plain", b"gone", status=404),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Upstream(base_url=f"http://127.0.0.1:{server.server_address[1]}", routes=routes)
    server.RequestHandlerClass = _handler_for(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------- app under test


def make_settings(data_dir: Path, *, allow_hosts: list[str] | None = None) -> Settings:
    return Settings(
        data_dir=data_dir,
        secret_key="image-proxy-test-key",  # type: ignore[arg-type]
        allow_hosts=["127.0.0.1", "localhost"] if allow_hosts is None else allow_hosts,
        per_host_delay=0.0,
        per_host_concurrency=8,
        connect_timeout=2.0,
        read_timeout=5.0,
        total_timeout=10.0,
    )


@dataclass
class Proxy:
    client: httpx.AsyncClient
    key: bytes
    upstream: Upstream
    settings: Settings

    async def get(
        self,
        path: str,
        width: int = 320,
        quality: int = 75,
        *,
        accept: str = WEBP_ACCEPT,
        if_none_match: str | None = None,
    ) -> httpx.Response:
        signed = sign_image_url(self.key, self.upstream.url(path), width, quality)
        headers = {"Accept": accept}
        if if_none_match is not None:
            headers["If-None-Match"] = if_none_match
        return await self.client.get(signed, headers=headers)


@pytest.fixture
async def proxy(tmp_path: Path, upstream: Upstream) -> AsyncIterator[Proxy]:
    async with proxy_app(make_settings(tmp_path), upstream) as running:
        yield running


@contextlib.asynccontextmanager
async def proxy_app(
    settings: Settings, upstream: Upstream, cache: ImageCache | None = None
) -> AsyncIterator[Proxy]:
    """An app holding only the image router, over a real SafeFetcher."""
    upstream.hits.clear()
    fetcher = SafeFetcher(settings)
    app = FastAPI()
    app.include_router(image_router(settings, fetcher=fetcher, cache=cache))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://tidings.test"
        ) as client:
            yield Proxy(client, settings.signing_key(), upstream, settings)
    finally:
        await fetcher.aclose()


def decoded(response: httpx.Response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body == {
        "ok": False,
        "error": {"code": code, "message": body["error"]["message"]},
        "status": status,
    }
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def is_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(actual, expected, strict=True))


# --------------------------------------------------------------------------- formats and sizes


async def test_webp_when_accepted_with_immutable_caching_headers(proxy: Proxy) -> None:
    response = await proxy.get("/landscape.jpg", 640)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"] == "Accept"
    assert response.headers["etag"].startswith('"') and not response.headers["etag"].startswith("W/")
    assert response.headers["x-content-type-options"] == "nosniff"
    image = decoded(response)
    assert image.format == "WEBP"
    assert image.size == (640, 427)  # 1200×800 scaled, aspect ratio kept


async def test_jpeg_when_webp_not_accepted(proxy: Proxy) -> None:
    response = await proxy.get("/landscape.jpg", 160, accept=OLD_ACCEPT)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    image = decoded(response)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (160, 107))
    assert is_close(pixel(image, (10, 50)), (255, 0, 0))
    assert is_close(pixel(image, (150, 50)), (0, 0, 255))


@pytest.mark.parametrize("width", ALLOWED_WIDTHS)
async def test_every_allowed_width_is_respected_and_never_upscaled(proxy: Proxy, width: int) -> None:
    image = decoded(await proxy.get("/landscape.jpg", width))
    assert image.width == min(width, 1200)
    assert abs(image.height - image.width * 800 / 1200) <= 1


async def test_small_image_is_not_upscaled(proxy: Proxy) -> None:
    image = decoded(await proxy.get("/logo.png", 1280))
    assert image.size == (100, 80)


async def test_orientation_applied_and_all_metadata_stripped(proxy: Proxy) -> None:
    for accept in (WEBP_ACCEPT, OLD_ACCEPT):
        response = await proxy.get("/photo.jpg", 320, accept=accept)
        assert response.status_code == 200
        image = decoded(response)
        # Stored 1200×800 with orientation 6 (rotate 90° clockwise): shown 800×1200, left half on top.
        assert image.size == (320, 480)
        assert is_close(pixel(image, (160, 60)), (255, 0, 0))
        assert is_close(pixel(image, (160, 420)), (0, 0, 255))
        assert len(image.getexif()) == 0
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        for name in ("exif", "icc_profile", "comment", "xmp"):
            assert name not in image.info
        for secret in (
            SECRET_COMMENT,
            CAMERA_MAKE.encode(),
            b"Exif\x00\x00",
            b"ICC_PROFILE",
            b"ICCP",
            b"EXIF",
        ):
            assert secret not in response.content


async def test_transparent_png_keeps_alpha_in_webp_and_is_flattened_on_white_in_jpeg(proxy: Proxy) -> None:
    webp = decoded(await proxy.get("/logo.png", 160))
    assert webp.mode == "RGBA"
    assert pixel(webp, (10, 40))[3] == 0 and pixel(webp, (90, 40))[3] == 255

    jpeg = decoded(await proxy.get("/logo.png", 160, accept=OLD_ACCEPT))
    assert jpeg.mode == "RGB"
    assert is_close(pixel(jpeg, (10, 40)), (255, 255, 255), 8)
    assert is_close(pixel(jpeg, (90, 40)), (0, 200, 0))


async def test_gif_first_frame_and_webp_input(proxy: Proxy) -> None:
    gif = decoded(await proxy.get("/anim.gif", 160))
    assert gif.size == (160, 80) and getattr(gif, "n_frames", 1) == 1
    assert is_close(pixel(gif.convert("RGB"), (80, 40)), (255, 0, 0))

    webp = decoded(await proxy.get("/pic.webp", 320, accept=OLD_ACCEPT))
    assert webp.format == "JPEG" and webp.size == (320, 192)


def test_accept_negotiation() -> None:
    assert negotiate_format("image/webp").pillow_name == "WEBP"
    assert negotiate_format("IMAGE/WEBP;q=0.5, */*").pillow_name == "WEBP"
    assert negotiate_format("image/webp;q=0, image/*") is JPEG
    assert negotiate_format("image/*,*/*") is JPEG
    assert negotiate_format(None) is JPEG


# --------------------------------------------------------------------------- signature and parameters


async def test_bad_or_missing_signature_is_refused_before_any_fetch(proxy: Proxy) -> None:
    url = proxy.upstream.url("/photo.jpg")
    good = image_signature(proxy.key, url, 320, 75)
    forged = image_signature(b"another key", url, 320, 75)
    attempts = [
        {"url": url, "w": "320", "q": "75", "s": forged},
        {"url": url, "w": "320", "q": "75"},
        {"url": url, "w": "320", "q": "75", "s": ""},
        {"url": url, "w": "320", "q": "75", "s": good[:-1]},
        {"url": url, "w": "640", "q": "75", "s": good},  # signed for another width
        {"url": url, "w": "320", "q": "85", "s": good},  # signed for another quality
        {"url": url + "?x", "w": "320", "q": "75", "s": good},  # signed for another URL
        {"url": url, "w": "320", "q": "75", "s": good + "é"},
        {},
    ]
    for params in attempts:
        assert_error(await proxy.client.get("/img", params=params), 403, "bad_signature")
    assert sum(proxy.upstream.hits.values()) == 0


async def test_width_not_allowed_is_400_even_when_signed(proxy: Proxy) -> None:
    url = proxy.upstream.url("/photo.jpg")
    for width in ("300", "0", "99999999", "-320", "abc"):
        params = {"url": url, "w": width, "q": "75", "s": image_signature(proxy.key, url, width, 75)}
        assert_error(await proxy.client.get("/img", params=params), 400, "bad_request")
    with pytest.raises(ValueError):
        sign_image_url(proxy.key, url, 300)
    assert sum(proxy.upstream.hits.values()) == 0


async def test_quality_is_clamped_to_the_whitelist(proxy: Proxy) -> None:
    url = proxy.upstream.url("/landscape.jpg")
    assert "q=85" in sign_image_url(proxy.key, url, 320, 100)
    params = {"url": url, "w": "320", "q": "60", "s": image_signature(proxy.key, url, 320, 60)}
    assert (await proxy.client.get("/img", params=params, headers={"Accept": WEBP_ACCEPT})).status_code == 200
    # q=60 was served as q=50: the same rendition, so the cache answers and upstream is not asked again.
    assert (await proxy.get("/landscape.jpg", 320, quality=50)).status_code == 200
    assert proxy.upstream.hits["/landscape.jpg"] == 1


def test_signed_url_round_trips_unusual_urls() -> None:
    url = "https://example.org/a b/ç.jpg?x=1&s=2#frag"
    signed = sign_image_url(b"k", url, 640)
    parsed = httpx.URL("http://t" + signed).params
    assert parsed["url"] == url and parsed["w"] == "640" and parsed["q"] == "75"
    assert parsed["s"] == image_signature(b"k", url, 640, 75)


# --------------------------------------------------------------------------- hostile upstream content


@pytest.mark.parametrize("path", ["/evil.svg", "/page.html", "/disguised.jpg"])
async def test_svg_and_html_are_never_served(proxy: Proxy, path: str) -> None:
    response = await proxy.get(path, 320)
    assert_error(response, 422, "unsupported_image")
    assert b"<script" not in response.content and b"<svg" not in response.content


@pytest.mark.parametrize("path", ["/bomb.png", "/bomb49.png"])
async def test_decompression_bomb_is_refused_quickly(proxy: Proxy, path: str) -> None:
    response = await proxy.get(path, 320)
    # Refused from the header's dimensions, before any pixel is decoded (no timing assertion: the
    # error code is only produced by that early check).
    assert_error(response, 422, "image_too_large")


def test_bomb_is_refused_without_decoding() -> None:
    for size in (30000, 7000):
        with pytest.raises(ImageTooLarge):
            render_image(one_colour_png(size, size), width=320, quality=75, output=JPEG)
    with pytest.raises(UnsupportedImage):
        render_image(b"\x89PNG\r\n\x1a\n truncated", width=320, quality=75, output=JPEG)


def test_sixteen_bit_and_cmyk_images_render() -> None:
    grey16 = Image.new("I;16", (400, 200))
    grey16.putdata([(x * 160) % 65536 for x in range(400)] * 200)
    out = Image.open(io.BytesIO(render_image(encode(grey16, "PNG"), width=160, quality=75, output=JPEG)))
    assert out.size == (160, 80) and out.mode == "RGB"
    darkest, brightest = cast(tuple[int, int], out.getchannel("R").getextrema())  # one band: (min, max)
    assert brightest > 200 and darkest < 50  # 16-bit values scaled to 8 bits, not clipped to white

    cmyk = Image.new("CMYK", (400, 200), (0, 255, 255, 0))  # red in CMYK
    out = Image.open(io.BytesIO(render_image(encode(cmyk, "JPEG"), width=160, quality=75, output=JPEG)))
    assert out.mode == "RGB" and is_close(pixel(out, (80, 40)), (255, 0, 0), 50)


def test_non_srgb_profile_is_converted_then_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pillow can only build sRGB, LAB and XYZ profiles: an sRGB one renamed stands in for Display P3,
    # which is enough to take the conversion path (the pixels must then come out unchanged).
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    renamed = srgb.replace("sRGB built-in".encode("utf-16-be"), "Wide gamut x1".encode("utf-16-be"))
    assert renamed != srgb
    conversions: list[object] = []
    real_convert = ImageCms.profileToProfile

    def spy(*args: Any, **kwargs: Any) -> Any:
        conversions.append(args)
        return real_convert(*args, **kwargs)

    monkeypatch.setattr(ImageCms, "profileToProfile", spy)
    source = encode(Image.new("RGB", (300, 200), (200, 30, 60)), "PNG", icc_profile=renamed)
    out = Image.open(io.BytesIO(render_image(source, width=160, quality=85, output=JPEG)))
    assert len(conversions) == 1
    assert "icc_profile" not in out.info
    assert is_close(pixel(out, (20, 20)), (200, 30, 60), 12)


async def test_body_over_the_input_cap_is_refused(proxy: Proxy) -> None:
    assert_error(await proxy.get("/huge.jpg", 320), 502, "too_large")


async def test_upstream_404_is_a_404(proxy: Proxy) -> None:
    assert_error(await proxy.get("/gone.jpg", 320), 404, "upstream_not_found")


async def test_loopback_is_blocked_when_not_allow_listed(tmp_path: Path, upstream: Upstream) -> None:
    async with proxy_app(make_settings(tmp_path, allow_hosts=[]), upstream) as strict:
        for url in (upstream.url("/photo.jpg"), "http://localhost:9/x.png", "http://169.254.169.254/latest"):
            signed = sign_image_url(strict.key, url, 320)
            assert_error(await strict.client.get(signed), 502, "blocked_url")
        assert_error(
            await strict.client.get(sign_image_url(strict.key, "file:///etc/passwd", 320)), 502, "blocked_url"
        )
    assert sum(upstream.hits.values()) == 0


async def test_rendering_does_not_block_the_event_loop(proxy: Proxy, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decode/resize/encode run in worker threads, never on the event loop's thread.

    Checked by where the work runs rather than by timing, which flakes on a loaded machine.
    """
    from tidings.web import imageproxy

    loop_thread = threading.get_ident()
    render_threads: list[int] = []
    real_render = imageproxy.render_image

    def spying_render(*args: Any, **kwargs: Any) -> bytes:
        render_threads.append(threading.get_ident())
        return real_render(*args, **kwargs)

    monkeypatch.setattr(imageproxy, "render_image", spying_render)
    responses = await asyncio.gather(*(proxy.get("/large.jpg", width) for width in (1280, 960, 640)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert render_threads and loop_thread not in render_threads


# --------------------------------------------------------------------------- caching


async def test_cache_hit_does_not_refetch_and_survives_a_restart(tmp_path: Path, upstream: Upstream) -> None:
    settings = make_settings(tmp_path)
    async with proxy_app(settings, upstream) as first:
        a = await first.get("/landscape.jpg", 480)
        b = await first.get("/landscape.jpg", 480)
        assert a.content == b.content and a.headers["etag"] == b.headers["etag"]
        assert upstream.hits["/landscape.jpg"] == 1
        jpeg = await first.get("/landscape.jpg", 480, accept=OLD_ACCEPT)  # another rendition: fetched
        assert jpeg.headers["content-type"] == "image/jpeg"
        assert upstream.hits["/landscape.jpg"] == 2
    assert any((tmp_path / "imgcache").rglob("*"))

    async with proxy_app(settings, upstream) as second:  # a fresh process over the same data dir
        again = await second.get("/landscape.jpg", 480)
        assert again.status_code == 200 and again.content == a.content
        assert upstream.hits["/landscape.jpg"] == 0


async def test_concurrent_identical_requests_share_one_fetch(proxy: Proxy) -> None:
    responses = await asyncio.gather(*(proxy.get("/slow.jpg", 640) for _ in range(6)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert proxy.upstream.hits["/slow.jpg"] == 1


async def test_if_none_match_gives_304(proxy: Proxy) -> None:
    first = await proxy.get("/pic.webp", 320)
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await proxy.get("/pic.webp", 320, if_none_match=header)
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await proxy.get("/pic.webp", 320, if_none_match='"stale"')).status_code == 200
    assert proxy.upstream.hits["/pic.webp"] == 1


async def test_cache_stays_under_its_bound_through_the_proxy(tmp_path: Path, upstream: Upstream) -> None:
    cache = ImageCache(tmp_path / "small-cache", max_bytes=60_000)
    async with proxy_app(make_settings(tmp_path), upstream, cache) as bounded:
        for width in ALLOWED_WIDTHS:
            assert (await bounded.get("/photo.jpg", width)).status_code == 200
        assert cache.total_bytes <= 60_000
        on_disk = sum(p.stat().st_size for p in cache.root.rglob("*") if p.is_file())
        assert on_disk == cache.total_bytes
