"""How soon a stored article is in its story: the understanding step as `tidings serve` runs it.

    python -m benchmarks.understanding --data ../shared/data/corpus/meantime-wikinews

Stores the corpus's articles one at a time into a fresh SQLite database (as a poll would), with
the background understanding task running exactly as in `tidings serve` (analysis in its own
process, woken by `notify()`), and times each article from its commit to the moment its story
is recorded. The same-run baseline is the bare embedding time of one article by the same model.
The issue's target: a new article is in its story within 5 s of being stored. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tidings.ai.embeddings import UniversalSentenceEncoder
from tidings.config import Settings
from tidings.db.migrate import upgrade
from tidings.extract.urls import article_id, content_hash
from tidings.ingest.models import Article, Source
from tidings.runtime import Runtime
from tidings.stories.similarity import article_vectors


def load(path: Path, limit: int) -> list[dict[str, Any]]:
    rows = [
        json.loads(line)
        for line in (path / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    return rows[:limit]


async def run(rows: list[dict[str, Any]], data_dir: Path, gap: float) -> dict[str, Any]:
    settings = Settings(
        data_dir=data_dir, load_default_sources=False, log_level="WARNING", analysis_processes=1
    )
    upgrade(settings)
    rt = Runtime.build(settings)
    task = asyncio.create_task(rt.understanding.run_forever())
    latencies: list[float] = []
    try:
        async with rt.db.transaction() as session:
            source = Source(name="Wikinews", slug="wikinews", homepage_url="https://wikinews.org/")
            session.add(source)
        # Warm the analysis process (model load) before timing, as a running site has.
        await rt.understanding.analyser.analyse([])
        base = datetime(2026, 11, 23, tzinfo=UTC)
        for n, row in enumerate(rows):
            url = f"https://wikinews.org/{row['id']}"
            article = Article(
                id=article_id(url),
                canonical_url=url,
                url=url,
                source_id=source.id,
                title=row["title"],
                published_at=base + timedelta(minutes=n),
                language=row.get("lang"),
                text=row["text"],
                html="",
                content_hash=content_hash(row["text"]),
                word_count=len(row["text"].split()),
                categories=[],
            )
            async with rt.db.transaction() as session:
                session.add(article)
            stored = time.perf_counter()
            rt.understanding.notify()
            while True:
                async with rt.db.session() as session:
                    story = await session.scalar(select(Article.story_id).where(Article.id == article.id))
                if story:
                    break
                if time.perf_counter() - stored > 60:
                    raise RuntimeError(f"article {row['id']} not in a story after 60 s")
                await asyncio.sleep(0.01)
            latencies.append(time.perf_counter() - stored)
            await asyncio.sleep(gap)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await rt.aclose()
    latencies.sort()
    return {
        "articles": len(latencies),
        "story_latency_p50_s": round(statistics.median(latencies), 3),
        "story_latency_p99_s": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 3),
        "story_latency_max_s": round(latencies[-1], 3),
    }


def baseline_embed_seconds(rows: list[dict[str, Any]]) -> float:
    embedder = UniversalSentenceEncoder()
    article_vectors(embedder, [(rows[0]["title"], rows[0]["text"])])  # warm
    started = time.perf_counter()
    for row in rows:
        article_vectors(embedder, [(row["title"], row["text"])])
    return (time.perf_counter() - started) / len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between two stored articles")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = load(args.data, args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run(rows, Path(tmp), args.gap))
    embed = baseline_embed_seconds(rows[:20])
    result["baseline_embed_one_article_s"] = round(embed, 4)
    result["p50_over_embed"] = round(result["story_latency_p50_s"] / embed, 2)
    result["target_s"] = 5.0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
