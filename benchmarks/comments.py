"""Comments benchmark: many readers reading and commenting at once, and not one comment lost or doubled.

    python -m benchmarks.comments [--seconds 60] [--readers 200] [--databases sqlite,postgres]

For each database (a SQLite file in a temporary directory; a throw-away PostgreSQL database on
127.0.0.1, created and dropped here) the real app runs under uvicorn in its own process, on ~50
articles and `--readers` accounts with API tokens. A separate load-generator process runs one asyncio
client per reader over loopback: read an article page, now and then its comment thread, and every few
requests post a comment through the API (readers pause between requests, `--think` seconds on average,
exponentially distributed; `--think 0` saturates the server instead) with a fresh `Idempotency-Key`, retried with the same key on
a timeout, a dropped connection or a 5xx, as a phone app would. Every acknowledged key is recorded
with the comment id the server returned.

Afterwards the database is checked: `lost` counts acknowledged keys with no stored comment, or whose
stored comment is not the one acknowledged; `duplicated` counts extra rows for one key. `errors`
counts every non-2xx answer and every exception (a retried attempt included). The same client load
read-only against a Starlette hello world (benchmarks/hello_app.py) gives the same-run baseline.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from benchmarks.web import fill_database, uvicorn_server
from tidings.accounts.models import ApiToken, User
from tidings.accounts.repo import token_hash
from tidings.accounts.service import API_TOKEN_PREFIX
from tidings.comments.models import Comment
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database, create_engine
from tidings.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("TIDINGS_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
ARTICLES = 50
POST_EVERY = 4  # one request in four posts a comment
THREAD_EVERY = 5  # one in five reads an article's comment thread
MAX_ATTEMPTS = 8  # per comment: a comment still unacknowledged after this many tries is given up
REQUEST_TIMEOUT = 10.0  # seconds: far above the target p99, so a timeout means a stuck server


# --- setting a database up


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    """Migrated settings and the app's environment for `kind`; a PostgreSQL database is dropped after."""
    env = {
        "TIDINGS_DATA_DIR": str(tmp),
        "TIDINGS_SCHEDULER_ENABLED": "false",
        "TIDINGS_UNDERSTANDING_ENABLED": "false",
        "TIDINGS_LOAD_DEFAULT_SOURCES": "false",
        "TIDINGS_LOG_LEVEL": "WARNING",
    }
    if kind == "sqlite":
        settings = Settings(data_dir=tmp)
        upgrade(settings)
        yield settings, env
        return
    name = f"tidings_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        settings = Settings(data_dir=tmp, database_url=url)
        upgrade(settings)
        yield settings, {**env, "TIDINGS_DATABASE_URL": url}
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(sql: str) -> None:
    engine = create_engine(Settings(database_url=PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def create_readers(settings: Settings, count: int) -> list[tuple[int, str]]:
    """(user id, API token) per reader, inserted directly: sign-in (argon2) is not what is measured.

    The accounts are a month old, as regular commenters are, so the new-account spam rule (more than
    five comments in ten minutes) holds nothing back; held comments would be stored all the same.
    """
    db = Database(create_engine(settings))
    created = utcnow() - timedelta(days=30)
    tokens = [f"{API_TOKEN_PREFIX}bench{n:04d}{uuid.uuid4().hex}" for n in range(count)]
    try:
        async with db.transaction() as session:
            users = [
                {
                    "email": f"reader{n}@bench.example",
                    "display_name": f"Reader {n}",
                    "password_hash": None,
                    "role": "reader",
                    "created_at": created,
                }
                for n in range(count)
            ]
            ids = list((await session.execute(insert(User).returning(User.id), users)).scalars())
            rows = [
                {"token_hash": token_hash(token), "user_id": uid, "name": "bench", "created_at": created}
                for uid, token in zip(ids, tokens, strict=True)
            ]
            await session.execute(insert(ApiToken), rows)
    finally:
        await db.dispose()
    return list(zip(ids, tokens, strict=True))


async def stored_comments(settings: Settings) -> dict[tuple[int, str], list[int]]:
    """Comment ids per (user id, client token), as the database holds them."""
    db = Database(create_engine(settings))
    try:
        async with db.session() as session:
            rows = await session.execute(
                select(Comment.user_id, Comment.client_token, Comment.id).where(
                    Comment.client_token.is_not(None)
                )
            )
            stored: dict[tuple[int, str], list[int]] = {}
            for user_id, token, comment_id in rows:
                stored.setdefault((user_id, token), []).append(comment_id)
            total = (await session.execute(select(func.count()).select_from(Comment))).scalar_one()
    finally:
        await db.dispose()
    if total != sum(len(ids) for ids in stored.values()):  # every benchmark comment carries a key
        stored[(-1, "without-key")] = [-1] * (total - sum(len(ids) for ids in stored.values()))
    return stored


def verify(acknowledged: list[dict[str, Any]], stored: dict[tuple[int, str], list[int]]) -> dict[str, int]:
    """Lost and duplicated comments: each acknowledged key must map to exactly its one stored row."""
    lost = duplicated = 0
    for entry in acknowledged:
        ids = stored.get((entry["user_id"], entry["key"]), [])
        if entry["comment_id"] not in ids:
            lost += 1
    for ids in stored.values():
        duplicated += len(ids) - 1
    acked_keys = {(entry["user_id"], entry["key"]) for entry in acknowledged}
    return {
        "lost": lost,
        "duplicated": duplicated,
        # Stored but never acknowledged (the client gave up first): harmless, reported for the record.
        "unacknowledged": sum(1 for key in stored if key not in acked_keys),
    }


# --- the load generator (its own process)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, every answered request
    post_latencies: list[float] = field(default_factory=list)
    page_latencies: list[float] = field(default_factory=list)
    thread_latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    acknowledged: list[dict[str, Any]] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


async def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    import httpx  # only the load process needs it

    base, seconds, readers = spec["base"], spec["seconds"], spec["readers"]
    tally = Tally()
    # One client (one keep-alive connection) per reader, as each reader's app or browser has: a
    # single client pooling 200 connections spends more CPU picking a connection than the request.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(REQUEST_TIMEOUT, connect=REQUEST_TIMEOUT)
    clients = [httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) for _ in range(readers)]
    try:

        async def timed(
            client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
        ) -> httpx.Response | None:
            started = time.perf_counter()
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                tally.error(type(exc).__name__)
                return None
            elapsed = time.perf_counter() - started
            tally.latencies.append(elapsed)
            if method == "POST":
                tally.post_latencies.append(elapsed)
            elif url.endswith("/comments"):
                tally.thread_latencies.append(elapsed)
            elif "/article/" in url:
                tally.page_latencies.append(elapsed)
            if not response.is_success:
                tally.error(str(response.status_code))
            return response

        think = float(spec.get("think", 0.0))

        async def pause(rng: random.Random) -> None:
            # A person reads between clicks; with no pause, 200 clients are a flood, not readers.
            if think > 0:
                await asyncio.sleep(rng.expovariate(1 / think))

        async def reader(n: int, deadline: float) -> None:
            rng = random.Random(n)
            client = clients[n]
            if spec["hello"]:
                while time.monotonic() < deadline:
                    await timed(client, "GET", "/")
                    await pause(rng)
                return
            user_id, token = spec["users"][n]
            auth = {"Authorization": f"Bearer {token}"}
            articles = spec["articles"]
            step = 0
            while time.monotonic() < deadline:
                step += 1
                article = rng.choice(articles)
                if step % POST_EVERY == 0:
                    await post(client, n, step, user_id, auth, article)
                elif step % THREAD_EVERY == 0:
                    await timed(client, "GET", f"/api/v1/articles/{article}/comments")
                else:
                    await timed(client, "GET", f"/en/article/{article}")
                await pause(rng)

        async def post(
            client: httpx.AsyncClient, n: int, step: int, user_id: int, auth: dict[str, str], article: str
        ) -> None:
            key = f"r{n}-{step}"
            headers = {**auth, "Idempotency-Key": key}
            body = {"body": f"Reader {n}, comment {step}: a considered view on this story."}
            for _attempt in range(MAX_ATTEMPTS):
                response = await timed(
                    client, "POST", f"/api/v1/articles/{article}/comments", json=body, headers=headers
                )
                if response is not None and response.status_code in (200, 201):
                    tally.acknowledged.append(
                        {"user_id": user_id, "key": key, "comment_id": response.json()["id"]}
                    )
                    return
                if response is not None and response.status_code < 500:
                    return  # refused for good (a 4xx): counted as an error, nothing to retry
                await asyncio.sleep(0.05)  # a timeout, dropped connection or 5xx: retry, same key

        started = time.perf_counter()
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(reader(n, deadline) for n in range(readers)))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return {
        "requests": len(tally.latencies),
        "elapsed": elapsed,
        "latencies": tally.latencies,
        "post_latencies": tally.post_latencies,
        "page_latencies": tally.page_latencies,
        "thread_latencies": tally.thread_latencies,
        "errors": tally.errors,
        "error_kinds": tally.error_kinds,
        "acknowledged": tally.acknowledged,
    }


def load_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator in a fresh interpreter, so client and server never share a core's GIL."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec))
        command = [
            sys.executable,
            "-m",
            "benchmarks.comments",
            "--load-spec",
            str(spec_path),
            "--load-out",
            str(out_path),
        ]
        subprocess.run(command, check=True, timeout=spec["seconds"] + 120)
        result: dict[str, Any] = json.loads(out_path.read_text())
        return result


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def summary(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "rps": round(result["requests"] / result["elapsed"], 1),
        "p50_ms": round(percentile(result["latencies"], 50) * 1000, 2),
        "p99_ms": round(percentile(result["latencies"], 99) * 1000, 2),
        "post_p99_ms": round(percentile(result["post_latencies"], 99) * 1000, 2),
        # Where the time goes: article pages (cached), threads and posts (database) separately.
        "page_p50_ms": round(percentile(result.get("page_latencies", []), 50) * 1000, 2),
        "thread_p50_ms": round(percentile(result.get("thread_latencies", []), 50) * 1000, 2),
        "post_p50_ms": round(percentile(result["post_latencies"], 50) * 1000, 2),
        "errors": result["errors"],
    }


# --- one database


def bench_database(kind: str, seconds: int, readers: int, think: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as (settings, env):
        articles = asyncio.run(fill_database(settings, ARTICLES))
        users = asyncio.run(create_readers(settings, readers))
        with uvicorn_server("tidings.web.asgi:app_from_env", env, factory=True) as base:
            import urllib.request

            for article in articles:  # warm-up: the first render of each page
                urllib.request.urlopen(f"{base}/en/article/{article}", timeout=30).read()
            spec = {"base": base, "seconds": seconds, "readers": readers, "hello": False, "think": think}
            result = load_process({**spec, "users": users, "articles": articles})
        stored = asyncio.run(stored_comments(settings))
    checked = verify(result["acknowledged"], stored)
    out = summary(result)
    out.update(
        lost=checked["lost"],
        duplicated=checked["duplicated"],
        comments=len(result["acknowledged"]),
        unacknowledged_stored=checked["unacknowledged"],
    )
    if result["error_kinds"]:
        out["error_kinds"] = result["error_kinds"]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause between one reader's requests, seconds (exponential); 0 = saturate the server",
    )
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--data", type=Path, default=None, help="unused; accepted for a uniform interface")
    parser.add_argument("--load-spec", type=Path, help=argparse.SUPPRESS)  # the load process' own entry
    parser.add_argument("--load-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load_spec is not None:
        _run_load_process(args.load_spec, args.load_out)
        return
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    unknown = set(kinds) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown database: {', '.join(sorted(unknown))}")
    report: dict[str, Any] = {
        kind: bench_database(kind, args.seconds, args.readers, args.think) for kind in kinds
    }
    with uvicorn_server("benchmarks.hello_app:app", {}, factory=False) as base:
        spec = {
            "base": base,
            "seconds": args.seconds,
            "readers": args.readers,
            "hello": True,
            "think": args.think,
        }
        baseline = summary(load_process(spec))
    for kind in kinds:
        report[kind]["ratio"] = round(report[kind]["rps"] / baseline["rps"], 3) if baseline["rps"] else None
    report.update(
        baseline_hello_rps=baseline["rps"],
        baseline_hello_p99_ms=baseline["p99_ms"],
        readers=args.readers,
        seconds=args.seconds,
        think_s=args.think,
    )
    print(json.dumps(report))


def _run_load_process(spec_path: Path, out_path: Path) -> None:
    spec = json.loads(spec_path.read_text())
    try:
        import uvloop  # the client should not be the bottleneck where a faster loop is at hand
    except ImportError:
        result = asyncio.run(run_load(spec))
    else:
        result = uvloop.run(run_load(spec))
    out_path.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
