"""Where CPU-heavy ingestion work runs: article extraction and feed parsing.

It must stay off the event loop, which in `tidings serve` also answers web requests. A process
pool uses every core (the GIL would serialise threads); the inline runner, a thread, suits tests
and small machines.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tidings.extract.article import ExtractedArticle, extract_article
from tidings.extract.urls import content_hash
from tidings.ingest.parser import ParsedFeed, parse_feed

WARM_UP_PAGE = (
    "<html><body><article><p>"
    + "Warm-up text for the extraction workers. " * 20
    + "</p></article></body></html>"
)


@dataclass(frozen=True, slots=True)
class Extraction:
    article: ExtractedArticle
    content_hash: str  # of article.text, computed in the worker: normalising a long text is not free


@runtime_checkable
class ArticleExtractor(Protocol):
    async def extract(
        self, html: bytes | str, *, url: str | None, fallback_html: str | None = None
    ) -> Extraction: ...

    async def parse_feed(self, content: bytes, *, url: str, content_type: str | None) -> ParsedFeed: ...

    async def warm_up(self) -> None: ...

    def close(self) -> None: ...


class PoolExtractor:
    """Runs extraction and parsing in an executor: processes by default, a thread when processes=0."""

    def __init__(self, processes: int = -1) -> None:
        if processes < 0:
            processes = os.cpu_count() or 1
        self._executor: Executor
        if processes == 0:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        else:
            # forkserver: forking a process that runs an event loop and threads is unsafe.
            context = multiprocessing.get_context("forkserver")
            self._executor = ProcessPoolExecutor(max_workers=processes, mp_context=context)
        self.processes = processes

    async def extract(
        self, html: bytes | str, *, url: str | None, fallback_html: str | None = None
    ) -> Extraction:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _extract, html, url, fallback_html)

    async def parse_feed(self, content: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _parse_feed, content, url, content_type)

    async def warm_up(self) -> None:
        """Start every worker now (each imports trafilatura and its models: seconds), not on first use."""
        workers = max(self.processes, 1)
        await asyncio.gather(*(self.extract(WARM_UP_PAGE, url=None) for _ in range(workers * 2)))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _extract(html: bytes | str, url: str | None, fallback_html: str | None) -> Extraction:
    article = extract_article(html, url=url, fallback_html=fallback_html)
    return Extraction(article=article, content_hash=content_hash(article.text or article.title or ""))


def _parse_feed(content: bytes, url: str, content_type: str | None) -> ParsedFeed:
    return parse_feed(content, url=url, content_type=content_type)
