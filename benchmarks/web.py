"""Web benchmark: the real app on a database of 10,000+ articles against a Starlette hello world.

    python -m benchmarks.web [--articles 10000] [--duration 10] [--connections 32]

Both run under uvicorn with the same production settings (one worker, no access log, uvloop and
httptools when installed) in their own process; wrk (Debian's package) drives each for the same
duration from another process, sending `Accept-Encoding: gzip, deflate, br` as browsers do. Article pages are requested across 1,000 articles in en/ko/ja, after
a warm-up pass. Prints one JSON line: article_page_rps, p50_ms, p99_ms, baseline_rps, ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database, create_engine
from tidings.db.migrate import upgrade
from tidings.extract.urls import article_id, content_hash
from tidings.ingest.models import Article, Source
from tidings.tags.models import ArticleTag, Tag

WORDS = [
    "government",
    "council",
    "minister",
    "election",
    "budget",
    "storm",
    "typhoon",
    "market",
    "shares",
    "trade",
    "talks",
    "summit",
    "police",
    "court",
    "report",
    "vaccine",
    "hospital",
    "school",
    "railway",
    "airport",
    "energy",
    "climate",
    "science",
    "research",
]
LANGUAGES = ("en", "ko", "ja")


async def fill_database(settings: Settings, count: int) -> list[str]:
    rng = random.Random(42)
    db = Database(create_engine(settings))
    now = utcnow()
    ids: list[str] = []
    try:
        async with db.transaction() as session:
            sources = [
                Source(name=f"Publisher {n}", slug=f"publisher-{n}", homepage_url=f"https://pub{n}.example/")
                for n in range(40)
            ]
            session.add_all(sources)
            tags = [Tag(slug=w, name=w.title(), kind="topic") for w in WORDS]
            session.add_all(tags)
            await session.flush()
            source_ids = [s.id for s in sources]
            tag_ids = [t.id for t in tags]
        for start in range(0, count, 1000):
            rows, tag_rows = [], []
            for n in range(start, min(start + 1000, count)):
                url = f"https://pub{n % 40}.example/news/{n}"
                text = "\n\n".join(" ".join(rng.choices(WORDS, k=60)).capitalize() + "." for _ in range(8))
                aid = article_id(url)
                ids.append(aid)
                rows.append(
                    {
                        "id": aid,
                        "canonical_url": url,
                        "url": url,
                        "source_id": source_ids[n % 40],
                        "title": " ".join(rng.choices(WORDS, k=8)).capitalize(),
                        "author": "Staff",
                        "published_at": now - timedelta(minutes=n),
                        "fetched_at": now,
                        "language": LANGUAGES[n % 3],
                        "image_url": f"https://pub{n % 40}.example/img/{n}.jpg",
                        "summary": None,
                        "text": text,
                        "html": "".join(f"<p>{p}</p>" for p in text.split("\n\n")),
                        "content_hash": content_hash(text),
                        "word_count": 480,
                        "categories": [],
                        "body_origin": "page",
                    }
                )
                for tag_id in rng.sample(tag_ids, 3):
                    tag_rows.append({"article_id": aid, "tag_id": tag_id, "origin": "feed", "weight": 1.0})
            async with db.transaction() as session:
                await session.execute(insert(Article), rows)
                await session.execute(insert(ArticleTag), tag_rows)
    finally:
        await db.dispose()
    return ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(target: str, env: dict[str, str], *, factory: bool) -> Any:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", "--workers", "1"]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz" if factory else base + "/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{target} did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


# Both apps get the header every browser sends; the hello world simply ignores it.
LUA_PATHS = """
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def run_wrk(base: str, paths: list[str], *, duration: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA_PATHS % ", ".join(json.dumps(p) for p in paths))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, base]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    return parse_wrk(output)


def parse_wrk(output: str) -> dict[str, float]:
    def millis(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    latencies = {
        pct: millis(value, unit) for pct, value, unit in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", output)
    }
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": latencies.get("50", 0.0),
        "p99_ms": latencies.get("99", 0.0),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--data", type=Path, default=None, help="unused; accepted for a uniform interface")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "TIDINGS_DATA_DIR": tmp,
            "TIDINGS_SCHEDULER_ENABLED": "false",
            "TIDINGS_LOAD_DEFAULT_SOURCES": "false",
            "TIDINGS_LOG_LEVEL": "WARNING",
        }
        settings = Settings(data_dir=Path(tmp))
        upgrade(settings)
        ids = asyncio.run(fill_database(settings, args.articles))
        rng = random.Random(7)
        paths = [f"/{rng.choice(LANGUAGES)}/article/{aid}" for aid in rng.sample(ids, min(1000, len(ids)))]
        with uvicorn_server("tidings.web.asgi:app_from_env", env, factory=True) as base:
            for path in paths:  # warm-up: first render of each page
                urllib.request.urlopen(base + path, timeout=10).read()
            app = run_wrk(base, paths, duration=args.duration, connections=args.connections)
        with uvicorn_server("benchmarks.hello_app:app", {}, factory=False) as base:
            baseline = run_wrk(base, ["/"], duration=args.duration, connections=args.connections)
    print(
        json.dumps(
            {
                "articles": args.articles,
                "article_page_rps": round(app["rps"], 1),
                "p50_ms": round(app["p50_ms"], 2),
                "p99_ms": round(app["p99_ms"], 2),
                "non_2xx": int(app["non_2xx"]),
                "baseline_rps": round(baseline["rps"], 1),
                "ratio": round(app["rps"] / baseline["rps"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
