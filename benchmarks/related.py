"""Related-articles vector index at scale: HNSW (tidings.search.vectorindex) against an exact numpy scan.

    python -m benchmarks.related --n 1000000
    python -m benchmarks.related --n 20000 --sweep-ef 32,64,256       # quick smoke run, ef trade-off
    python -m benchmarks.related --n 200000 --isotropic                # the hard, unrealistic case

No data set is needed (--data is accepted for uniformity and ignored): the vectors are synthetic, shaped
like article embeddings, because uniform random vectors have no neighbourhood structure and make any ANN
index look either useless or trivially perfect. About n/50 "story" clusters (log-normal sizes: many small
stories, a few big ones, so many queries have neighbours outside their own story) sit around n/1000
"topic" centres; everything shares one mean direction and varies along a power-law spectrum. The shape
(EMBEDDING_LIKE) was calibrated on ~3k real news articles embedded with the default embedder, and a 3k
sample of the 1M synthetic set matches them: mean pairwise cosine 0.18 (real 0.18), norm of the mean
0.43 (0.43), 90% of the variance in 39% of the dimensions (38%), nearest-neighbour cosine 0.60 (0.72).
--isotropic drops the shared direction and the spectrum (every direction equally likely, mutually
orthogonal topics): much harder for a graph index, and unlike any real embedding. Queries are held-out
draws from the same distribution.

Builds an HnswIndex with multi-threaded add_items in batches of --batch (vectors are generated in chunks,
so memory stays at about the index itself), then times search(k=10) one query at a time (p50/p99), and
measures recall@10 against the exact top-10 of an ExactIndex over the same vectors, whose per-query scan
latency is reported as the same-run baseline. Prints one JSON line; progress goes to stderr.
rss_mb is the process's peak RSS after the HNSW build and queries (before the exact baseline is loaded);
peak_rss_mb includes the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tidings.search.vectorindex import (
    DEFAULT_EF,
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_M,
    ExactIndex,
    HnswIndex,
)

K = 10


def unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@dataclass(frozen=True)
class Shape:
    """How the synthetic vectors spread: see the module docstring."""

    spectrum: str  # "embedding": power law with a soft cut-off, like real sentence embeddings; "flat"
    mean_sq: float  # squared norm of the direction all vectors share (anisotropy)
    topic_sq: float  # variance of topic centres around it
    story_sq: float  # variance of story centres around their topic
    spread_sq: tuple[float, float]  # range of a story's own variance around its centre


# Calibrated on 2,998 real news articles (BBC News Summary + Wikinews, title + lead) embedded with the
# default embedder (USE multilingual, 512-d): mean pairwise cosine 0.18, participation ratio of the
# covariance spectrum 88 (of 512), eigenvalues ~ rank^-0.65 with a faster fall-off past rank ~200.
EMBEDDING_LIKE = Shape("embedding", mean_sq=0.18, topic_sq=0.32, story_sq=0.2, spread_sq=(0.15, 0.45))
# Every direction equally likely, no shared mean: the hardest case for a graph index (1000 topic centres
# at 1M are mutually orthogonal), far from what real embeddings look like.
ISOTROPIC = Shape("flat", mean_sq=0.0, topic_sq=0.5, story_sq=0.5, spread_sq=(0.36, 1.44))


def variances(shape: Shape, dim: int) -> np.ndarray:
    if shape.spectrum == "flat":
        return np.full(dim, 1.0 / dim)
    rank = np.arange(1, dim + 1)
    spectrum = rank**-0.65 * np.exp(-rank / (0.4 * dim))
    return spectrum / spectrum.sum()


@dataclass
class Corpus:
    """Story centres, spreads and popularity: enough to draw any number of vectors in chunks."""

    centres: np.ndarray
    spreads: np.ndarray
    weights: np.ndarray
    scales: np.ndarray  # per-dimension standard deviation of a unit-variance draw

    @classmethod
    def make(cls, n: int, dim: int, seed: int, shape: Shape = EMBEDDING_LIKE) -> Corpus:
        rng = np.random.default_rng([seed, 0])
        scales = np.sqrt(variances(shape, dim)).astype(np.float32)
        stories = max(1, n // 50)
        topics = max(1, stories // 20)
        shared = unit(rng.standard_normal((1, dim), dtype=np.float32))[0] * np.sqrt(shape.mean_sq)
        topic_centres = shared + np.sqrt(shape.topic_sq) * cls._draw(rng, topics, scales)
        centres = topic_centres[rng.integers(0, topics, stories)] + np.sqrt(shape.story_sq) * cls._draw(
            rng, stories, scales
        )
        spreads = np.sqrt(rng.uniform(*shape.spread_sq, stories)).astype(np.float32)
        weights = rng.lognormal(0.0, 1.0, stories)
        return cls(centres.astype(np.float32), spreads, weights / weights.sum(), scales)

    @staticmethod
    def _draw(rng: np.random.Generator, count: int, scales: np.ndarray) -> np.ndarray:
        """Gaussian vectors with expected squared norm 1, shaped by the spectrum."""
        return rng.standard_normal((count, len(scales)), dtype=np.float32) * scales

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        story = rng.choice(len(self.centres), size=count, p=self.weights)
        return unit(
            self.centres[story] + self.spreads[story, np.newaxis] * self._draw(rng, count, self.scales)
        )

    def chunks(self, n: int, batch: int, seed: int) -> Iterator[tuple[list[str], np.ndarray]]:
        """The same n vectors on every call (one seeded generator per chunk), with 32-hex-digit ids."""
        for number, start in enumerate(range(0, n, batch)):
            count = min(batch, n - start)
            ids = [f"{i:032x}" for i in range(start, start + count)]
            yield ids, self.sample(count, np.random.default_rng([seed, 1, number]))


def percentiles_ms(seconds: list[float]) -> tuple[float, float]:
    p50, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 99])
    return round(float(p50), 3), round(float(p99), 3)


def peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed_searches(index: HnswIndex | ExactIndex, queries: np.ndarray) -> tuple[list[list[str]], list[float]]:
    for query in queries[:10]:  # warm caches and lazily allocated search structures
        index.search(query, K)
    found, seconds = [], []
    for query in queries:
        started = time.perf_counter()
        hits = index.search(query, K)
        seconds.append(time.perf_counter() - started)
        found.append([id for id, _ in hits])
    return found, seconds


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def build_hnsw(args: argparse.Namespace, corpus: Corpus) -> tuple[HnswIndex, float]:
    index = HnswIndex(
        args.dim,
        M=args.m,
        ef_construction=args.ef_construction,
        ef=args.ef,
        capacity=args.n,
        num_threads=args.threads,
    )
    build_s, done = 0.0, 0
    for ids, vectors in corpus.chunks(args.n, args.batch, args.seed):
        started = time.perf_counter()
        index.upsert(ids, vectors)
        build_s += time.perf_counter() - started
        done += len(ids)
        progress(f"hnsw: {done}/{args.n} vectors in {build_s:.0f}s")
    return index, build_s


def build_exact(args: argparse.Namespace, corpus: Corpus) -> ExactIndex:
    index = ExactIndex(args.dim, capacity=args.n)
    for ids, vectors in corpus.chunks(args.n, args.batch, args.seed):
        index.upsert(ids, vectors)
    return index


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, help="ignored: the vectors are synthetic")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--exact-queries", type=int, default=200, help="queries timed on the exact scan")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--m", type=int, default=DEFAULT_M)
    parser.add_argument("--ef-construction", type=int, default=DEFAULT_EF_CONSTRUCTION)
    parser.add_argument("--ef", type=int, default=DEFAULT_EF)
    parser.add_argument("--sweep-ef", default="", help="comma-separated ef values also measured, e.g. 32,128")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--isotropic", action="store_true", help="flat spectrum, no shared direction")
    args = parser.parse_args(argv)

    shape = ISOTROPIC if args.isotropic else EMBEDDING_LIKE
    corpus = Corpus.make(args.n, args.dim, args.seed, shape)
    queries = corpus.sample(args.queries, np.random.default_rng([args.seed, 2]))

    hnsw, build_s = build_hnsw(args, corpus)
    found, seconds = timed_searches(hnsw, queries)
    hnsw_rss = peak_rss_mb()
    progress("hnsw queries done; building the exact baseline")

    exact = build_exact(args, corpus)
    truth = [[id for id, _ in hits] for hits in exact.search_many(queries, K)]
    _, exact_seconds = timed_searches(exact, queries[: args.exact_queries])

    sweep = []
    for ef in (int(value) for value in args.sweep_ef.split(",") if value):
        hnsw.ef = ef
        swept, swept_seconds = timed_searches(hnsw, queries)
        p50, p99 = percentiles_ms(swept_seconds)
        sweep.append({"ef": ef, "p50_ms": p50, "p99_ms": p99, "recall_at_10": round(recall(swept, truth), 4)})

    p50, p99 = percentiles_ms(seconds)
    exact_p50, exact_p99 = percentiles_ms(exact_seconds)
    result: dict[str, Any] = {
        "n": args.n,
        "dim": args.dim,
        "data": "isotropic" if args.isotropic else "embedding-like",
        "queries": args.queries,
        "stories": len(corpus.centres),
        "M": args.m,
        "ef_construction": args.ef_construction,
        "ef": args.ef,
        "threads": args.threads,
        "build_s": round(build_s, 1),
        "inserts_per_s": round(args.n / build_s),
        "p50_ms": p50,
        "p99_ms": p99,
        "recall_at_10": round(recall(found, truth), 4),
        "rss_mb": hnsw_rss,
        "exact_p50_ms": exact_p50,
        "exact_p99_ms": exact_p99,
        "exact_queries": len(exact_seconds),
        "peak_rss_mb": peak_rss_mb(),
    }
    if sweep:
        result["sweep"] = sweep
    print(json.dumps(result))


if __name__ == "__main__":
    main()
