"""The `tidings` command. Thin: parse arguments, build the runtime, call a service, print."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tidings.cli_stories import stories_app, understand_pending
from tidings.cli_users import users_app
from tidings.config import Settings
from tidings.errors import TidingsError

app = typer.Typer(help="Tidings: a self-hostable, multilingual news aggregator.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
sources_app = typer.Typer(help="Publishers and their feeds.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sources_app, name="sources")
app.add_typer(stories_app, name="stories")
app.add_typer(users_app, name="users")

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, rich_tracebacks=False)],
    )
    # Migration plumbing and per-request client logs say nothing a user needs at INFO.
    for noisy in ("alembic", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


def _run(coro_factory: Callable[[], Awaitable[T]], *, migrate: Settings | None = None) -> T:
    """Run a coroutine; turn domain errors into a clear message and exit code 1, not a traceback.

    With `migrate`, bring the schema up to date first (Alembic runs its own event loop, so this
    happens before ours starts).
    """
    if migrate is not None:
        from tidings.db.migrate import upgrade

        upgrade(migrate)
    try:
        return asyncio.run(coro_factory())  # type: ignore[arg-type]
    except TidingsError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def _runtime(settings: Settings) -> Any:
    from tidings.runtime import Runtime

    return Runtime.build(settings)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    scheduler: Annotated[bool, typer.Option(help="Poll feeds in this process.")] = True,
) -> None:
    """Run the site, the scheduler and the ingestion workers in one process."""
    import uvicorn

    from tidings.db.migrate import upgrade
    from tidings.web.app import create_app

    settings = _settings()
    upgrade(settings)
    application = create_app(settings, run_scheduler=scheduler and settings.scheduler_enabled)
    console.print(f"Tidings on http://{host or settings.host}:{port or settings.port}  (data: {settings.data_dir})")
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_level="info")


@app.command()
def worker(
    threads: Annotated[int | None, typer.Option(help="Polls in flight in this process.")] = None,
) -> None:
    """Poll feeds handed out through the Redis queue (distributed mode, TIDINGS_QUEUE_URL)."""
    import signal
    import threading

    import dramatiq
    from dramatiq.asyncio import get_event_loop_thread

    from tidings.db.migrate import upgrade
    from tidings.workers.queue import POLL_QUEUE, FeedQueue

    settings = _settings()
    if not settings.queue_url:
        err_console.print("[red]error:[/red] set TIDINGS_QUEUE_URL (e.g. redis://127.0.0.1:6379/0)")
        raise typer.Exit(2)
    upgrade(settings)
    queue = FeedQueue.build(settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    consumer = dramatiq.Worker(queue.broker, queues={POLL_QUEUE}, worker_threads=threads or settings.worker_threads)
    consumer.start()
    console.print(f"worker polling from {settings.queue_url} ({consumer.worker_threads} threads); Ctrl-C stops")
    stop.wait()
    loop_thread = get_event_loop_thread()
    if loop_thread is not None:
        loop_thread.run_coroutine(queue.close_worker_runtime())
    consumer.stop()
    queue.close()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply schema migrations (SQLite or PostgreSQL, from TIDINGS_DATABASE_URL)."""
    from tidings.db.migrate import upgrade

    settings = _settings()
    upgrade(settings, revision)
    console.print(f"database at {revision}")


@sources_app.command("add")
def sources_add(url: Annotated[str, typer.Argument(help="A feed URL, or a homepage to discover feeds on.")]) -> None:
    """Add a feed (or discover one from a homepage)."""
    settings = _settings()

    async def go() -> Any:
        async with _runtime(settings) as rt:
            return await rt.sources.add_from_url(url)

    added = _run(go, migrate=settings)
    console.print(f"added feed #{added.feed_id} [bold]{added.title or added.url}[/bold] ({added.source_name})")


@sources_app.command("list")
def sources_list() -> None:
    """List feeds with their health."""
    from tidings.ingest import repo

    settings = _settings()

    async def go() -> Any:
        async with _runtime(settings) as rt, rt.sessionmaker() as session:
            return await repo.list_sources_with_feeds(session)

    sources = _run(go, migrate=settings)
    table = Table("source", "feed", "status", "errors", "interval", "last polled", "next poll")
    for source in sources:
        for feed in source.feeds:
            status = "[red]disabled[/red]" if feed.disabled else ("[yellow]failing[/yellow]" if feed.error_count else "ok")
            table.add_row(
                source.name,
                feed.url,
                status,
                str(feed.error_count) + (f" ({feed.last_error_code})" if feed.last_error_code else ""),
                f"{feed.interval_seconds // 60} min",
                feed.last_polled_at.strftime("%Y-%m-%d %H:%M") if feed.last_polled_at else "never",
                feed.next_poll_at.strftime("%Y-%m-%d %H:%M"),
            )
    console.print(table)


@sources_app.command("import-opml")
def sources_import_opml(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Import feeds from an OPML file."""
    settings = _settings()

    async def go() -> Any:
        async with _runtime(settings) as rt:
            return await rt.sources.import_opml(path.read_bytes())

    report = _run(go, migrate=settings)
    console.print(f"imported {report.added} feeds, {report.skipped} already present, {len(report.errors)} errors")
    for error in report.errors:
        err_console.print(f"  [yellow]{error}[/yellow]")


@sources_app.command("export-opml")
def sources_export_opml(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Export every feed as OPML."""
    settings = _settings()

    async def go() -> str:
        async with _runtime(settings) as rt:
            return await rt.sources.export_opml()

    opml = _run(go, migrate=settings)
    if output is None:
        sys.stdout.write(opml)
    else:
        output.write_text(opml, encoding="utf-8")


@app.command()
def crawl(once: Annotated[bool, typer.Option("--once", help="Poll everything due, then exit.")] = False) -> None:
    """Poll every due feed once, with a progress bar and a summary table."""
    if not once:
        err_console.print("use `tidings crawl --once`, or `tidings serve` for continuous polling")
        raise typer.Exit(2)
    settings = _settings()

    async def go() -> list[Any]:
        async with _runtime(settings) as rt:
            if settings.load_default_sources:
                await rt.sources.load_defaults_if_empty()
            total = await rt.scheduler.count_due()
            with Progress(
                TextColumn("[bold]crawling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
            ) as progress:
                task = progress.add_task("crawl", total=total)
                outcomes = await rt.scheduler.run_once(on_outcome=lambda _o: progress.advance(task))
            if settings.understanding_enabled:
                await understand_pending(rt)
            return outcomes

    outcomes = _run(go, migrate=settings)
    _print_crawl_summary(outcomes)


def _print_crawl_summary(outcomes: list[Any]) -> None:
    counts = Counter(o.outcome for o in outcomes)
    table = Table("feeds polled", "ok", "not modified", "errors", "new articles")
    table.add_row(
        str(len(outcomes)),
        str(counts["ok"]),
        str(counts["not_modified"]),
        str(counts["error"]),
        str(sum(o.new_articles for o in outcomes)),
    )
    console.print(table)
    failures = [o for o in outcomes if o.outcome == "error"]
    if failures:
        errors = Table("failing feed", "error")
        for o in failures[:50]:
            errors.add_row(o.url, o.error or "")
        console.print(errors)


@app.command()
def extract(
    target: Annotated[str, typer.Argument(help="A local HTML file, or an http(s) URL (fetched safely).")],
    output_format: Annotated[str, typer.Option("--format", help="json or text")] = "json",
) -> None:
    """Print the article extracted from a page."""
    from tidings.extract.article import extract_article

    if output_format not in ("json", "text"):
        err_console.print("--format must be json or text")
        raise typer.Exit(2)
    settings = _settings()
    path = Path(target)
    if target.startswith(("http://", "https://")):
        html, url = _run(lambda: _fetch_page(settings, target))
    elif path.is_file():
        html, url = path.read_bytes(), None
    else:
        err_console.print(f"[red]error:[/red] no such file, and not an http(s) URL: {target}")
        raise typer.Exit(1)
    try:
        article = extract_article(html, url=url)
    except TidingsError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if output_format == "json":
        sys.stdout.write(json.dumps(article.to_json_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        header = "\n".join(x for x in (article.title, article.author, str(article.published or "")) if x)
        sys.stdout.write(f"{header}\n\n{article.text}\n")


async def _fetch_page(settings: Settings, url: str) -> tuple[bytes, str]:
    from tidings.ingest.fetcher import SafeFetcher

    async with SafeFetcher(settings) as fetcher:
        result = await fetcher.fetch(url, accept="text/html,application/xhtml+xml")
    return result.content, result.url


def main() -> None:
    app()
