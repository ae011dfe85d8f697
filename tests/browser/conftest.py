"""A live Tidings for the browser: the local publisher, crawled by the real pipeline, served by uvicorn.

Playwright drives Debian's chromium (/usr/bin/chromium, installed by scripts/test); the tests skip
with a clear reason when it is absent. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from benchmarks.publisher import Publisher, fixture_corpus
from tests.conftest import REPO_ROOT, base_settings

from tidings.config import Settings
from tidings.db.migrate import upgrade
from tidings.ingest.models import Article
from tidings.runtime import Runtime
from tidings.web.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO_ROOT / "test-artifacts"


@dataclass
class LiveSite:
    base_url: str
    articles: list[Article]
    settings: Settings | None = None  # for tests that prepare data (accounts, roles) beside the UI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _crawl(settings: Settings, publisher: Publisher) -> list[Article]:
    from sqlalchemy import select

    async with Runtime.build(settings) as rt:
        for url in publisher.feed_urls("rss"):
            await rt.sources.add_from_url(url)
        await rt.scheduler.run_once()
        async with rt.db.session() as session:
            return list((await session.scalars(select(Article).order_by(Article.published_at.desc()))).all())


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread
# while it is started, which would break every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    if CHROMIUM is None:
        pytest.skip("chromium not installed (scripts/test installs Debian's chromium)")
    with Publisher(fixture_corpus()) as publisher:
        settings = base_settings(tmp_path_factory.mktemp("live"))
        upgrade(settings)
        articles = asyncio.run(_crawl(settings, publisher))
        assert articles, "the crawler stored nothing"
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, run_scheduler=False), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            yield LiveSite(base_url=f"http://127.0.0.1:{port}", articles=articles, settings=settings)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(live_site: LiveSite) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
