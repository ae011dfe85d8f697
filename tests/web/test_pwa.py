"""The installable app: manifest, service worker, offline pages, fingerprinted static files."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import AsyncIterator

import httpx
import lxml.html
from PIL import Image

from tidings.config import Settings
from tidings.web.app import create_app
from tidings.web.routes.assets import StaticAssets


@contextlib.asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, run_scheduler=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


async def test_manifest_is_valid_json_with_icons_that_exist(settings: Settings) -> None:
    async with client_for(settings) as client:
        response = await client.get("/manifest.webmanifest")
        manifest = response.json()
        icons = [(icon, await client.get(icon["src"])) for icon in manifest["icons"]]
    assert response.headers["content-type"].startswith("application/manifest+json")
    assert manifest["name"] == "Tidings" and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert {icon["sizes"] for icon, _ in icons} == {"192x192", "512x512"}
    assert any(icon.get("purpose") == "maskable" for icon, _ in icons)
    for icon, fetched in icons:
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
        width, height = Image.open(io.BytesIO(fetched.content)).size
        assert f"{width}x{height}" == icon["sizes"]


async def test_service_worker_is_javascript_at_the_root_and_precaches_a_working_shell(
    settings: Settings,
) -> None:
    async with client_for(settings) as client:
        worker = await client.get("/sw.js")
        shell = re.search(r"const SHELL = (\[.*?\]);", worker.text)
        assert shell is not None
        shell_urls = [url.strip('"') for url in shell.group(1).strip("[]").split(", ")]
        fetched = [await client.get(url) for url in shell_urls]
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["cache-control"] == "no-cache"
    assert "const MAX_SAVED_PAGES = 30;" in worker.text
    assert {"/en/offline", "/ko/offline", "/ja/offline"} <= set(shell_urls)
    assert any(url.startswith("/static/css/site.css?v=") for url in shell_urls)
    assert all(response.status_code == 200 for response in fetched)


async def test_offline_page_is_localised(settings: Settings) -> None:
    async with client_for(settings) as client:
        pages = {lang: await client.get(f"/{lang}/offline") for lang in ("en", "ko", "ja")}
    headings = {
        lang: lxml.html.fromstring(page.text).xpath("//h1")[0].text_content() for lang, page in pages.items()
    }
    assert headings == {"en": "You are offline", "ko": "오프라인 상태입니다", "ja": "オフラインです"}


async def test_static_files_are_fingerprinted_and_immutable(settings: Settings) -> None:
    assets = StaticAssets()
    url = assets.url("css/site.css")
    async with client_for(settings) as client:
        current = await client.get(url)
        unversioned = await client.get("/static/css/site.css")
        not_modified = await client.get(url, headers={"If-None-Match": current.headers["etag"]})
        missing = await client.get("/static/js/missing.js")
        htmx = await client.get(assets.url("js/htmx.min.js"))
        app_js = await client.get(assets.url("js/app.js"))
    assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert current.headers["content-type"].startswith("text/css")
    assert unversioned.headers["cache-control"] == "public, max-age=300"
    assert not_modified.status_code == 304
    assert missing.status_code == 404
    assert assets.get("../pages.py") is None and assets.get("css/../../pages.py") is None  # only known files
    assert htmx.headers["content-type"].startswith("text/javascript") and b"htmx" in htmx.content
    assert b'serviceWorker" in navigator' in app_js.content and b"beforeinstallprompt" in app_js.content


async def test_pages_link_the_manifest_scripts_and_an_install_block_without_dead_buttons(
    settings: Settings,
) -> None:
    async with client_for(settings) as client:
        doc = lxml.html.fromstring((await client.get("/ko/offline")).text)
    assert doc.xpath('//link[@rel="manifest"]/@href') == ["/manifest.webmanifest"]
    scripts = doc.xpath("//script[@src]")
    assert scripts and all(script.get("defer") is not None for script in scripts)
    assert all(script.get("src").startswith("/static/") for script in scripts)  # no CDN
