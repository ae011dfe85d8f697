"""The CPU-heavy half of understanding an article, run where the embedding model lives.

One call per batch computes everything that needs only the article itself: its vector, its
near-duplicate fingerprint, the wire agency named by its dateline or credit, and its hashtags.
The model is loaded once per worker process (never in the web process: 31 MB of weights and
~40 ms of CPU per article would stall page rendering). Decisions that need the other articles
(which story, which copy is the original) are taken afterwards by the service, in one place.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from tidings.ai.embeddings import Embedder, build_embedder
from tidings.config import Settings


@dataclass(frozen=True, slots=True)
class AnalysisInput:
    article_id: str
    title: str
    text: str
    language: str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hashtag:
    name: str
    kind: str
    score: float


@dataclass(frozen=True, slots=True)
class Analysis:
    article_id: str
    model: str
    dimensions: int
    vector: bytes  # float32, L2-normalised
    fingerprint: bytes
    wire_agency: str | None
    hashtags: list[Hashtag] = field(default_factory=list)


def analyse(embedder: Embedder, inputs: Sequence[AnalysisInput]) -> list[Analysis]:
    # Imported here: the web process imports this module for its dataclasses only.
    from tidings.stories.duplicates import fingerprint
    from tidings.stories.similarity import article_vectors
    from tidings.stories.wire import detect_wire
    from tidings.tags.extract import extract_hashtags

    if not inputs:
        return []
    vectors = article_vectors(embedder, [(item.title, item.text) for item in inputs])
    results = []
    for item, vector in zip(inputs, vectors, strict=True):
        credit = detect_wire(item.text, title=item.title, author=item.author)
        tags = extract_hashtags(item.title, item.text, language=item.language, categories=item.categories)
        results.append(
            Analysis(
                article_id=item.article_id,
                model=embedder.model_name,
                dimensions=int(vector.shape[0]),
                vector=vector.astype("float32").tobytes(),
                fingerprint=fingerprint(item.title, item.text).to_bytes(),
                wire_agency=credit.agency if credit else None,
                hashtags=[Hashtag(name=t.name, kind=t.kind, score=float(t.score)) for t in tags],
            )
        )
    return results


@runtime_checkable
class Analyser(Protocol):
    async def analyse(self, inputs: Sequence[AnalysisInput]) -> list[Analysis]: ...

    def close(self) -> None: ...


# One embedder per worker process, built by the pool's initializer.
_worker_embedder: Embedder | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_embedder
    _worker_embedder = build_embedder(settings)


def _analyse_in_worker(inputs: Sequence[AnalysisInput]) -> list[Analysis]:
    assert _worker_embedder is not None, "analysis worker started without its initializer"
    return analyse(_worker_embedder, inputs)


class PoolAnalyser:
    """Analysis in worker processes (the default), or in one thread when processes=0 (tests)."""

    def __init__(self, settings: Settings, *, processes: int | None = None) -> None:
        processes = settings.analysis_processes if processes is None else processes
        self._executor: Executor
        if processes == 0:
            self._executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="analysis", initializer=_init_worker, initargs=(settings,)
            )
        else:
            # forkserver: forking a process that runs an event loop and threads is unsafe.
            context = multiprocessing.get_context("forkserver")
            self._executor = ProcessPoolExecutor(
                max_workers=processes, mp_context=context, initializer=_init_worker, initargs=(settings,)
            )

    async def analyse(self, inputs: Sequence[AnalysisInput]) -> list[Analysis]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _analyse_in_worker, list(inputs))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class EmbedderAnalyser:
    """Analysis with an embedder this process already holds, in a thread (tests, benchmarks)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")

    async def analyse(self, inputs: Sequence[AnalysisInput]) -> list[Analysis]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, analyse, self._embedder, list(inputs))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
