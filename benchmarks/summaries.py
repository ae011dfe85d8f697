"""Extractive summaries against the BBC News Summary reference summaries (ROUGE-1/2/L F-measure).

    python -m benchmarks.summaries --data ../shared/data/summaries/bbc-news-summary [--embeddings]

Reads DIR/bbc_news_summary.jsonl.gz (first line of each article is the headline, passed as the
title; the rest is the text). Scores 3-sentence summaries by Tidings (`summarize`, no embeddings),
and in the same run lead-3 and random-3 (seeded) against the reference summaries. The references are
long (~40% of the article), so the comparison is at equal length: three sentences for every system.

ROUGE is implemented here: tokens are lowercased alphanumeric runs ([a-z0-9]+), no stemming and no
stopword removal; ROUGE-N F1 over clipped n-gram counts; ROUGE-L F1 over the longest common
subsequence of the whole (sentence-joined) summary and reference (bit-parallel LCS). Prints one JSON
line. `--split even|odd` scores one half (the weights were tuned on the even half). `--embeddings`
adds the variant with USE sentence vectors on the first `--embedding-articles` articles, with lead-3
on the same subset for comparison; embedding time is excluded from its latency.
"""

from __future__ import annotations

import os

# "On one core": OpenBLAS otherwise spreads even a 50x50 similarity product over threads, which on a
# busy machine costs milliseconds of spinning for microseconds of work. Must precede importing numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import gzip
import json
import random
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tidings.ai.extractive import summarize
from tidings.ai.sentences import split_sentences

_TOKEN = re.compile(r"[a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _f1(overlap: int, candidate: int, reference: int) -> float:
    if not overlap or not candidate or not reference:
        return 0.0
    precision, recall = overlap / candidate, overlap / reference
    return 2 * precision * recall / (precision + recall)


def rouge_n(candidate: list[str], reference: list[str], n: int) -> float:
    cand = Counter(tuple(candidate[i : i + n]) for i in range(len(candidate) - n + 1))
    ref = Counter(tuple(reference[i : i + n]) for i in range(len(reference) - n + 1))
    overlap = sum((cand & ref).values())
    return _f1(overlap, sum(cand.values()), sum(ref.values()))


def lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence by the bit-parallel algorithm (Hyyrö 2004): one big-int op per token."""
    masks: dict[str, int] = {}
    for j, token in enumerate(b):
        masks[token] = masks.get(token, 0) | (1 << j)
    full = (1 << len(b)) - 1
    v = full
    for token in a:
        match = masks.get(token)
        if match is not None:
            u = v & match
            v = ((v + u) | (v - u)) & full
    return len(b) - bin(v).count("1")


def rouge_l(candidate: list[str], reference: list[str]) -> float:
    return _f1(lcs_length(candidate, reference), len(candidate), len(reference))


def scores(candidate: str, reference: str) -> dict[str, float]:
    c, r = rouge_tokens(candidate), rouge_tokens(reference)
    return {"rouge1": rouge_n(c, r, 1), "rouge2": rouge_n(c, r, 2), "rougeL": rouge_l(c, r)}


def mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.fmean(r[key] for r in rows), 4) for key in ("rouge1", "rouge2", "rougeL")}


def load(data: Path) -> list[dict[str, Any]]:
    with gzip.open(data / "bbc_news_summary.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def headline_and_text(article: str) -> tuple[str, str]:
    headline, _, text = article.partition("\n")
    return headline.strip(), text.strip()


def ms_per_1000_words(articles: list[tuple[str, str]], repeats: int = 3) -> float:
    """Latency on ~1,000-word articles: every BBC article of 900-1,100 words, best of `repeats`."""
    sized = [(h, t) for h, t in articles if 900 <= len(t.split()) <= 1100]
    if not sized:  # glue articles together rather than report nothing
        words = " ".join(t for _, t in articles).split()
        sized = [("", " ".join(words[i : i + 1000])) for i in range(0, 10_000, 1000)]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for headline, text in sized:
            summarize(headline, text, language="en", n=3)
        best = min(best, (time.perf_counter() - started) / len(sized))
    return best * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", choices=("all", "even", "odd"), default="all")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--embeddings", action="store_true")
    parser.add_argument("--embedding-articles", type=int, default=300)
    args = parser.parse_args(argv)
    rows = load(args.data)
    if args.split != "all":
        rows = rows[args.split == "odd" :: 2]
    rng = random.Random(args.seed)
    results: dict[str, list[dict[str, float]]] = {"tidings": [], "lead3": [], "random3": []}
    articles: list[tuple[str, str]] = []
    elapsed = 0.0
    for row in rows:
        headline, text = headline_and_text(row["article"])
        articles.append((headline, text))
        reference = row["summary"]
        started = time.perf_counter()
        summary = summarize(headline, text, language="en", n=3)
        elapsed += time.perf_counter() - started
        sentences = split_sentences(text, "en")
        randoms = sorted(rng.sample(range(len(sentences)), min(3, len(sentences))))
        results["tidings"].append(scores(" ".join(s.text for s in summary), reference))
        results["lead3"].append(scores(" ".join(sentences[:3]), reference))
        results["random3"].append(scores(" ".join(sentences[i] for i in randoms), reference))
    output: dict[str, Any] = {name: mean_scores(values) for name, values in results.items()}
    output |= {
        "articles": len(rows),
        "split": args.split,
        "rouge": "F1; lowercased [a-z0-9]+ tokens, no stemming; ROUGE-L = LCS of joined summary",
        "ms_per_summary": round(elapsed / len(rows) * 1000, 3),
        "ms_per_summary_1000_words": round(ms_per_1000_words(articles), 3),
    }
    if args.embeddings:
        output |= embedding_variant(rows[: args.embedding_articles])
    print(json.dumps(output))


def embedding_variant(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from tidings.ai.embeddings import UniversalSentenceEncoder

    embedder = UniversalSentenceEncoder(threads=1, batch_size=64)
    with_vectors: list[dict[str, float]] = []
    without: list[dict[str, float]] = []
    lead: list[dict[str, float]] = []
    elapsed = 0.0
    embedding_seconds = 0.0
    for row in rows:
        headline, text = headline_and_text(row["article"])
        sentences = split_sentences(text, "en")
        started = time.perf_counter()
        vectors = embedder.embed(sentences)
        embedding_seconds += time.perf_counter() - started
        started = time.perf_counter()
        summary = summarize(headline, text, language="en", n=3, vectors=vectors)
        elapsed += time.perf_counter() - started
        with_vectors.append(scores(" ".join(s.text for s in summary), row["summary"]))
        plain = summarize(headline, text, language="en", n=3)
        without.append(scores(" ".join(s.text for s in plain), row["summary"]))
        lead.append(scores(" ".join(sentences[:3]), row["summary"]))
    return {
        "embeddings": {
            "articles": len(rows),
            "tidings_embeddings": mean_scores(with_vectors),
            "tidings": mean_scores(without),
            "lead3": mean_scores(lead),
            "ms_per_summary_excluding_embedding": round(elapsed / len(rows) * 1000, 3),
            "ms_embedding_per_article": round(embedding_seconds / len(rows) * 1000, 1),
        }
    }


if __name__ == "__main__":
    main()
