"""Ingestion benchmark: the full pipeline against the local publisher, beside bare trafilatura.

    python -m benchmarks.ingest --data ../shared/data/corpus/wikinews-en-2019-2020
    python -m benchmarks.ingest --data ../shared/data/corpus/wikinews-en-2019-2020 --feeds 10000

Default mode: serve the corpus locally (publisher in its own process), run poll → fetch → extract →
store on a fresh SQLite database, and in the same run time bare `trafilatura.extract` on the same
pages. `--feeds N`: N feeds on the publisher, half of them answering 304; a first round fills the
database, the second (measured) round polls every feed again.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import insert, update

from benchmarks.publisher import Publisher, load_corpus
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.migrate import upgrade
from tidings.ingest import repo
from tidings.ingest.models import Feed
from tidings.runtime import Runtime


class PeakMemory:
    """Samples RSS of this process plus its children (the extraction pool), keeping the peak."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self.main_peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = me.memory_info().rss
            self.main_peak_bytes = max(self.main_peak_bytes, total)
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def main_peak_mb(self) -> float:
        """This process alone: where memory grows with the number of feeds."""
        return round(self.main_peak_bytes / 2**20, 1)

    @property
    def peak_mb(self) -> float:
        own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return round(max(self.peak_bytes, own_peak) / 2**20, 1)


def bench_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "allow_hosts": ["127.0.0.1"],
        "per_host_delay": 0.0,
        "load_default_sources": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


def baseline_extract_rate(pages: list[tuple[str, bytes]]) -> float:
    import trafilatura

    started = time.perf_counter()
    for url, html in pages:
        trafilatura.extract(html, url=url)
    return len(pages) / (time.perf_counter() - started)


def download_pages(publisher: Publisher, articles: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    with httpx.Client(timeout=30) as client:
        urls = [publisher.article_url(a["id"]) for a in articles]
        return [(url, client.get(url).content) for url in urls]


async def run_pipeline(settings: Settings, feed_urls: list[str]) -> tuple[int, float, float]:
    async with Runtime.build(settings) as rt:
        for url in feed_urls:
            await rt.sources.add_from_url(url)
        warm_started = time.perf_counter()
        await rt.extractor.warm_up()  # process start-up is a one-off, not throughput
        startup = time.perf_counter() - warm_started
        started = time.perf_counter()
        outcomes = await rt.scheduler.run_once()
        seconds = time.perf_counter() - started
        errors = [o for o in outcomes if o.outcome == "error"]
        if errors:
            print(f"warning: {len(errors)} feeds failed, e.g. {errors[0].error}", file=sys.stderr)
        async with rt.sessionmaker() as session:
            stored = await repo.count_articles(session)
    return stored, seconds, startup


def articles_mode(data: Path, feeds_per_source: int, concurrency: int, repeat: int) -> dict[str, Any]:
    """Median of `repeat` runs of each side: a few seconds per run is noisy on a shared machine."""
    articles = load_corpus(data)
    baselines, runs = [], []
    with (
        Publisher(articles, feeds_per_source=feeds_per_source, subprocess=True) as publisher,
        PeakMemory() as memory,
    ):
        pages = download_pages(publisher, articles)
        for _ in range(repeat):
            baselines.append(baseline_extract_rate(pages))
            with tempfile.TemporaryDirectory() as tmp:
                settings = bench_settings(Path(tmp), per_host_concurrency=concurrency, global_concurrency=32)
                upgrade(settings)
                runs.append(asyncio.run(run_pipeline(settings, publisher.feed_urls("rss"))))
    stored, seconds, startup = sorted(runs, key=lambda run: run[1])[len(runs) // 2]
    baseline = statistics.median(baselines)
    rate = stored / seconds
    return {
        "mode": "articles",
        "articles": stored,
        "corpus_articles": len(articles),
        "seconds": round(seconds, 2),
        "articles_per_s": round(rate, 1),
        "baseline_extract_per_s": round(baseline, 1),
        "ratio": round(rate / baseline, 3),
        "runs": repeat,
        "extract_workers_startup_s": round(startup, 2),
        "per_host_concurrency": concurrency,
        "peak_rss_mb": memory.peak_mb,
    }


async def add_poll_feeds(rt: Runtime, base_url: str, count: int) -> None:
    async with rt.sessionmaker() as session, session.begin():
        source = await repo.create_source(session, name="Poll benchmark", homepage_url=base_url + "/")
        now = utcnow()
        rows = [
            {
                "source_id": source.id,
                "url": f"{base_url}/poll/{n}.rss",
                "interval_seconds": 1800,
                "next_poll_at": now,
                "error_count": 0,
                "disabled": False,
                "created_at": now,
            }
            for n in range(count)
        ]
        for start in range(0, len(rows), 1000):
            await session.execute(insert(Feed), rows[start : start + 1000])


async def make_all_due(rt: Runtime) -> None:
    async with rt.sessionmaker() as session, session.begin():
        await session.execute(update(Feed).values(next_poll_at=utcnow()))


async def run_polls(settings: Settings, base_url: str, count: int) -> dict[str, Any]:
    async with Runtime.build(settings) as rt:
        await add_poll_feeds(rt, base_url, count)
        warm_started = time.perf_counter()
        first = await rt.scheduler.run_once()
        warm_seconds = time.perf_counter() - warm_started
        await make_all_due(rt)
        started = time.perf_counter()
        second = await rt.scheduler.run_once()
        seconds = time.perf_counter() - started
        async with rt.sessionmaker() as session:
            stored = await repo.count_articles(session)
            sources = await repo.count_sources(session)
    outcomes = [o.outcome for o in second]
    return {
        "feeds": count,
        "first_round_s": round(warm_seconds, 2),
        "first_round_errors": sum(o.outcome == "error" for o in first),
        "polls": len(second),
        "seconds": round(seconds, 2),
        "polls_per_s": round(len(second) / seconds, 1),
        "not_modified": outcomes.count("not_modified"),
        "ok": outcomes.count("ok"),
        "errors": outcomes.count("error"),
        "articles_stored": stored,
        "sources": sources,
    }


async def bare_httpx_polls(base_url: str, count: int, concurrency: int) -> float:
    """The floor under our polling: plain httpx conditional GETs, no guard, no parsing, no database."""
    urls = [f"{base_url}/poll/{n}.rss" for n in range(count)]
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def poll(n: int, url: str) -> None:
            async with semaphore:
                await client.get(url, headers={"If-None-Match": f'"poll-{n}"'})

        started = time.perf_counter()
        await asyncio.gather(*(poll(n, url) for n, url in enumerate(urls)))
        return count / (time.perf_counter() - started)


def feeds_mode(data: Path, count: int, concurrency: int) -> dict[str, Any]:
    articles = load_corpus(data)
    with (
        Publisher(articles, poll_feeds=count, subprocess=True) as publisher,
        tempfile.TemporaryDirectory() as tmp,
        PeakMemory() as memory,
    ):
        settings = bench_settings(
            Path(tmp), fetch_articles=False, global_concurrency=concurrency, per_host_concurrency=concurrency
        )
        upgrade(settings)
        result = asyncio.run(run_polls(settings, publisher.base_url, count))
        baseline = asyncio.run(bare_httpx_polls(publisher.base_url, count, concurrency=concurrency))
    result["mode"] = "feeds"
    result["concurrency"] = concurrency
    result["baseline_bare_httpx_polls_per_s"] = round(baseline, 1)
    result["ratio_to_bare_httpx"] = round(result["polls_per_s"] / baseline, 3)
    result["peak_rss_mb"] = memory.main_peak_mb
    result["peak_rss_with_workers_mb"] = memory.peak_mb
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="a corpus directory (articles.jsonl)")
    parser.add_argument("--feeds", type=int, default=0, help="polling mode with this many feeds")
    parser.add_argument("--feeds-per-source", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (per host)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side in articles mode (median)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.feeds:
        result = feeds_mode(args.data, args.feeds, args.concurrency)
    else:
        result = articles_mode(args.data, args.feeds_per_source, args.concurrency, args.repeat)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
