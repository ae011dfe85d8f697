"""Article similarity against human judgements (SemEval-2022 Task 8 dev pairs).

    python -m benchmarks.similarity --data ../shared/data/similarity/semeval2022-dev

Reads DIR/pairs.jsonl; prints one JSON line: Pearson correlation between similarity and the
human `overall` score (1 = same story ... 4 = unrelated; sign-corrected so higher is better) for
Tidings' article similarity (tidings.stories.similarity), and, in the same run, for TF-IDF cosine
and for the raw cosine of the default embedder over the full texts; plus Tidings per language pair.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from tidings.ai.embeddings import UniversalSentenceEncoder
from tidings.stories.similarity import article_similarity, article_vectors

TOKEN = re.compile(r"[^\W_]{2,}|\d+", re.UNICODE)


def tfidf_cosine(a: Counter[str], b: Counter[str], document_frequency: Counter[str], documents: int) -> float:
    def weight(term: str, count: int) -> float:
        return (1 + math.log(count)) * math.log((1 + documents) / (1 + document_frequency[term]))

    common = a.keys() & b.keys()
    norm_a = math.sqrt(sum(weight(t, c) ** 2 for t, c in a.items()))
    norm_b = math.sqrt(sum(weight(t, c) ** 2 for t, c in b.items()))
    if not common or not norm_a or not norm_b:
        return 0.0
    return sum(weight(t, a[t]) * weight(t, b[t]) for t in common) / (norm_a * norm_b)


def pearson(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 3:
        return float("nan")
    return float(np.corrcoef(np.asarray(xs), np.asarray(ys))[0, 1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    pairs = [
        json.loads(line)
        for line in (args.data / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    truth = [-float(p["overall"]) for p in pairs]  # higher = more similar

    texts = [p["text1"] for p in pairs] + [p["text2"] for p in pairs]
    terms = [Counter(TOKEN.findall(t.lower())) for t in texts]
    document_frequency: Counter[str] = Counter()
    for counter in terms:
        document_frequency.update(counter.keys())
    n = len(pairs)
    tfidf = [tfidf_cosine(terms[i], terms[n + i], document_frequency, len(texts)) for i in range(n)]

    embedder = UniversalSentenceEncoder(threads=2)
    started = time.perf_counter()
    raw = embedder.embed(texts)
    raw_scores = [float(raw[i] @ raw[n + i]) for i in range(n)]
    vectors = article_vectors(embedder, [(None, t) for t in texts])
    tidings = [article_similarity(vectors[i], vectors[n + i]) for i in range(n)]
    seconds = time.perf_counter() - started

    by_pair: dict[str, list[int]] = defaultdict(list)
    for index, p in enumerate(pairs):
        by_pair["-".join(sorted((p["lang1"], p["lang2"])))].append(index)
    result: dict[str, Any] = {
        "pairs": n,
        "tidings_pearson": round(pearson(tidings, truth), 4),
        "tfidf_pearson": round(pearson(tfidf, truth), 4),
        "raw_embedder_pearson": round(pearson(raw_scores, truth), 4),
        "embedder": embedder.model_name,
        "cross_lingual_tidings_pearson": round(
            pearson(
                [tidings[i] for i, p in enumerate(pairs) if p["lang1"] != p["lang2"]],
                [truth[i] for i, p in enumerate(pairs) if p["lang1"] != p["lang2"]],
            ),
            4,
        ),
        "by_language_pair": {
            key: {
                "pairs": len(ix),
                "tidings": round(pearson([tidings[i] for i in ix], [truth[i] for i in ix]), 3),
            }
            for key, ix in sorted(by_pair.items(), key=lambda kv: -len(kv[1]))
            if len(ix) >= 10
        },
        "embed_seconds": round(seconds, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
