"""`tidings stories ...`: run the understanding step by hand, re-embed, rebuild the related index."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

stories_app = typer.Typer(help="Stories, wire copies, related articles and hashtags.", no_args_is_help=True)


def _progress(label: str) -> Progress:
    from tidings.cli import console

    return Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


async def understand_pending(rt: Any, label: str = "understanding") -> int:
    """Embed, de-duplicate, cluster and tag every article not yet understood, with a progress bar."""
    total = await rt.understanding.pending()
    if not total:
        return 0
    with _progress(label) as progress:
        task = progress.add_task(label, total=total)
        done = await rt.understanding.run_until_idle(on_progress=lambda n: progress.advance(task, n))
    await rt.understanding.maintain()
    return int(done)


@stories_app.command("understand")
def understand() -> None:
    """Understand every stored article that has not been yet (what `serve` does in the background)."""
    from tidings.cli import _run, _runtime, _settings, console

    settings = _settings()

    async def go() -> int:
        async with _runtime(settings) as rt:
            return await understand_pending(rt)

    console.print(f"{_run(go, migrate=settings)} articles understood")


@stories_app.command("reembed")
def reembed(
    everything: Annotated[
        bool, typer.Option("--all", help="Re-embed every article, not only those of another model.")
    ] = False,
) -> None:
    """Compute vectors again with the configured embedder (after changing TIDINGS_EMBEDDINGS_*)."""
    from tidings.cli import _run, _runtime, _settings, console

    settings = _settings()

    async def go() -> tuple[int, int]:
        async with _runtime(settings) as rt:
            dropped = await rt.understanding.forget_other_models(everything=everything)
            rt.related.clear()
            return dropped, await understand_pending(rt, "re-embedding")

    dropped, done = _run(go, migrate=settings)
    console.print(f"{dropped} stale vectors dropped, {done} articles embedded")


@stories_app.command("rebuild-index")
def rebuild_index() -> None:
    """Rebuild the related-articles vector index from the vectors stored in the database."""
    from tidings.cli import _run, _runtime, _settings, console

    settings = _settings()

    async def go() -> int:
        async with _runtime(settings) as rt:
            rt.related.clear()
            with _progress("indexing") as progress:
                task = progress.add_task("indexing", total=None)
                added = await rt.related.catch_up(rt.db, on_progress=lambda n: progress.advance(task, n))
            rt.related.save()
            return int(added)

    console.print(f"{_run(go, migrate=settings)} vectors indexed")
