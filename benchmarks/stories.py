"""Story clustering against human judgements: MEANTIME story groups, SemEval-2022 same-story pairs.

    python -m benchmarks.stories --data ../shared/data/corpus/meantime-wikinews
    python -m benchmarks.stories --data ../shared/data/corpus/meantime-wikinews --grid

MEANTIME (DIR/articles.jsonl: 120 Wikinews stories, each in en/es/it/nl): the articles go to
tidings.stories.clustering in date order (ties keep file order), with maintain() whenever the
simulated clock moves on, as the live pipeline runs it every few minutes; the final stories are
scored with BCubed precision/recall/F1 against `translation_group` (the four language versions of
one article) and against `story_group` (stories linked by shared events; an article outside every
group is its own translation group). Each article gets what the pipeline hands the clusterer: a
full-text vector (tidings.stories.similarity, cached in the temp directory by file hash) and the
first 1,500 characters of text. In the same run, two baselines: single-pass TF-IDF and a naive
single pass over the raw embedder vectors (join the most similar cluster when the cosine to its
centroid reaches a threshold; no time, no names), each at the best threshold of a 0.05-step grid
by the mean of its two MEANTIME F1s, which favours them.

SemEval-2022 Task 8 dev pairs (--pairs, by default next to the corpus; skipped if absent): MEANTIME
only has translations, which are far more alike than two outlets' own reports of one event
(cosine 0.88 against a median of about 0.70), so a threshold tuned on it alone would never group
real coverage. Every pair is fed to one clusterer on its own day; "same story" pairs (overall ≤ 1.5)
should end up together and "different" ones (≥ 2.5) apart. The baselines are judged at their
MEANTIME threshold. Also times add() and maintain() with 5,000 synthetic active stories.
Prints one JSON line.

Two targets cannot both be met on MEANTIME by any clustering: perfect translation groups score
0.846 against story groups, and putting a group of k translation groups together lowers
translation precision by exactly what it adds to story recall (4(k−1)/480 each), so translation
F1 ≥ 0.95 and story F1 ≥ 0.90 meet only with 11 of the 32 possible joins made and no error at all.
Most story groups are storylines over months (Steve Jobs' leave, resignation and death), which a
news site shows as separate stories, and two articles of one story group are less alike (cosine
0.61 on average) than such an article and its most similar article outside the group (median
0.74): embeddings alone cannot find these groups.

How the defaults were chosen (`--grid` prints every point, one JSON line each). Fixed from how
news behaves, not tuned: a 7-day window and a time penalty of at most 0.2, half of it after 2
days. Grid: join threshold 0.60–0.80 × centroid/nearest-member mix 0, 0.5, 1 × name/number bonus
off, 0.1/0.05, 0.2/0.1 × cross-lingual allowance 0, 0.1, 0.15, 0.2; merge threshold = join + 0.1.
Criterion: the mean of MEANTIME translation F1 and SemEval pair F1. The chosen point (0.70, 0.5,
0.2/0.1, 0.15) scores 0.885, 0.003 below the grid's best (0.65 with no centroid term, so nothing
stops a big story from chaining, and only 0.952 on translations); no neighbour, one step along one
axis, is more than 0.026 lower: a plateau, not a peak. The allowance lies between the language
gap of MEANTIME's translations (0.12: they score 0.88, not 1.0) and the larger one of Japanese and
Korean (0.25–0.35 on the tests' translations). The merge and split bars (0.80, 0.55) are average
linkage, set above and well below the join bar so that one cannot undo the other.
Tried and dropped: subtracting each language's mean vector (learnt online) separated MEANTIME's
translations better but changed neither score.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Before numpy loads: the clusterer's matrix-vector products are far too small to gain from
    # BLAS threads, and on a busy machine waking the threads dominates the timings.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import hashlib
import itertools
import json
import math
import re
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tidings.ai.embeddings import UniversalSentenceEncoder
from tidings.stories.clustering import ClusteringParams, StoryClusterer, StoryItem
from tidings.stories.similarity import article_vectors

TOKEN = re.compile(r"[^\W_]{2,}|\d+", re.UNICODE)
TEXT_CHARS = 1500  # what the pipeline passes as StoryItem.text (repo.recent_facts' text_start)
BASELINE_THRESHOLDS = [round(0.05 * i, 2) for i in range(2, 20)]


def load(path: Path) -> list[dict[str, Any]]:
    rows = [
        json.loads(line)
        for line in (path / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    return sorted(rows, key=lambda row: row["date"])  # stable: ties keep file order


def cached_vectors(path: Path, rows: list[dict[str, Any]]) -> np.ndarray:
    embedder = UniversalSentenceEncoder(threads=2)
    digest = hashlib.sha256((path / "articles.jsonl").read_bytes() + embedder.model_name.encode()).hexdigest()
    order = hashlib.sha256("\n".join(r["id"] for r in rows).encode()).hexdigest()
    cache = Path(tempfile.gettempdir()) / f"tidings-stories-{digest[:16]}-{order[:8]}.npy"
    if cache.exists():
        return np.load(cache)
    vectors = article_vectors(embedder, [(r["title"], r["text"]) for r in rows])
    np.save(cache, vectors)
    return vectors


def bcubed(predicted: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    clusters: dict[str, set[int]] = defaultdict(set)
    classes: dict[str, set[int]] = defaultdict(set)
    for i, (p, g) in enumerate(zip(predicted, gold, strict=True)):
        clusters[p].add(i)
        classes[g].add(i)
    precision = recall = 0.0
    for p, g in zip(predicted, gold, strict=True):
        common = len(clusters[p] & classes[g])
        precision += common / len(clusters[p])
        recall += common / len(classes[g])
    precision, recall = precision / len(gold), recall / len(gold)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"p": round(precision, 4), "r": round(recall, 4), "f1": round(f1, 4)}


def score(predicted: Sequence[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    translation = [r["translation_group"] for r in rows]
    story = [r["story_group"] or r["translation_group"] for r in rows]
    return {"translation": bcubed(predicted, translation), "story": bcubed(predicted, story)}


def mean_f1(result: dict[str, Any]) -> float:
    return (result["translation"]["f1"] + result["story"]["f1"]) / 2


def items(rows: list[dict[str, Any]], vectors: np.ndarray) -> list[StoryItem]:
    return [
        StoryItem(
            article_id=r["id"],
            vector=vectors[i],
            published_at=datetime.fromisoformat(r["date"]).replace(tzinfo=UTC),
            title=r["title"],
            text=r["text"][:TEXT_CHARS],
            language=r["lang"],
            source=r["source"],
        )
        for i, r in enumerate(rows)
    ]


def run_tidings(stream: list[StoryItem], params: ClusteringParams) -> tuple[list[str], float]:
    """Final story of every article, applying assignments and maintain() changes like a database."""
    clusterer = StoryClusterer(params)
    story_of: dict[str, str] = {}
    spent = 0.0
    clock = None
    for item in stream:
        if clock is not None and item.published_at > clock:
            for change in clusterer.maintain(clock):
                for article_id in change.article_ids:
                    story_of[article_id] = change.into or change.story_id
        clock = item.published_at
        started = time.perf_counter()
        assignment = clusterer.add(item)
        spent += time.perf_counter() - started
        story_of[item.article_id] = assignment.story_id
    for change in clusterer.maintain(clock):
        for article_id in change.article_ids:
            story_of[article_id] = change.into or change.story_id
    return [story_of[item.article_id] for item in stream], spent / max(len(stream), 1)


def single_pass(vectors: np.ndarray, threshold: float) -> list[str]:
    """Naive online clustering: join the nearest centroid if its cosine reaches the threshold."""
    sums: list[np.ndarray] = []
    labels: list[str] = []
    for vector in vectors:
        if sums:
            centroids = np.vstack(sums)
            similarity = centroids @ vector / np.maximum(np.linalg.norm(centroids, axis=1), 1e-9)
            best = int(np.argmax(similarity))
            if similarity[best] >= threshold:
                sums[best] = sums[best] + vector
                labels.append(str(best))
                continue
        sums.append(vector.astype(np.float64))
        labels.append(str(len(sums) - 1))
    return labels


def tfidf_vectors(texts: list[str]) -> np.ndarray:
    terms = [Counter(TOKEN.findall(text.lower())) for text in texts]
    frequency: Counter[str] = Counter()
    for counter in terms:
        frequency.update(counter.keys())
    vocabulary = {t: i for i, t in enumerate(t for t, df in frequency.items() if df >= 2)}
    matrix = np.zeros((len(texts), len(vocabulary)), dtype=np.float32)
    for row, counter in enumerate(terms):
        for term, count in counter.items():
            if term in vocabulary:
                idf = math.log((1 + len(texts)) / (1 + frequency[term]))
                matrix[row, vocabulary[term]] = (1 + math.log(count)) * idf
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


def best_baseline(
    vectors: np.ndarray, rows: list[dict[str, Any]], pairs: list[dict[str, Any]], pair_vectors: np.ndarray
) -> dict[str, Any]:
    """The single pass at its best threshold; SemEval pairs judged by the same threshold."""
    results = [{"threshold": t, **score(single_pass(vectors, t), rows)} for t in BASELINE_THRESHOLDS]
    best = max(results, key=mean_f1)
    if pairs:
        n = len(pairs)
        joined = [float(pair_vectors[i] @ pair_vectors[n + i]) >= best["threshold"] for i in range(n)]
        best["semeval_pairs"] = pair_figures(pairs, joined)
    return best


def add_latency(stories: int = 5000, dimensions: int = 512, trials: int = 300) -> dict[str, float]:
    """add() and maintain() with `stories` active synthetic stories of 3 articles each."""
    rng = np.random.default_rng(0)
    topics = rng.standard_normal((stories, dimensions)).astype(np.float32)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    words = ["Airbus", "Boeing", "Seoul", "Tokyo", "NATO", "Apple", "Reuters", "Berlin", "Lagos", "Lima"]

    def item(index: int, topic: np.ndarray, minutes: float) -> StoryItem:
        vector = topic + 0.6 * rng.standard_normal(dimensions).astype(np.float32)
        text = " ".join(rng.choice(words, 12)) + f" said {rng.integers(10, 10_000)} on Monday. " * 8
        return StoryItem(f"a{index}", vector, start + timedelta(minutes=minutes), "Title", text, "en", "s")

    clusterer = StoryClusterer()
    pairs = [
        (item(s * 3 + j, topics[s], s + j), f"a{s * 3}") for s in range(stories) for j in range(3)
    ]  # restore, as at startup: 15,000 articles in 5,000 stories over ~3.5 days
    clusterer.restore(pairs)
    timings = []
    for t in range(trials):
        topic = topics[rng.integers(stories)] if t % 2 else rng.standard_normal(dimensions).astype(np.float32)
        new = item(100_000 + t, topic, stories + t)
        started = time.perf_counter()
        clusterer.add(new)
        timings.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    clusterer.maintain()
    return {
        "add_ms_at_5000_stories": round(statistics.median(timings), 2),
        "add_ms_p95_at_5000_stories": round(sorted(timings)[int(0.95 * len(timings))], 2),
        "maintain_ms_at_5000_stories": round((time.perf_counter() - started) * 1000, 1),
    }


def load_pairs(path: Path) -> tuple[list[dict[str, Any]], np.ndarray]:
    """SemEval-2022 Task 8 pairs and their text vectors (cached like the corpus's)."""
    pairs = [
        json.loads(line) for line in (path / "pairs.jsonl").read_text(encoding="utf-8").splitlines() if line
    ]
    embedder = UniversalSentenceEncoder(threads=2)
    digest = hashlib.sha256((path / "pairs.jsonl").read_bytes() + embedder.model_name.encode()).hexdigest()
    cache = Path(tempfile.gettempdir()) / f"tidings-stories-pairs-{digest[:16]}.npy"
    if cache.exists():
        return pairs, np.load(cache)
    texts = [(None, p["text1"]) for p in pairs] + [(None, p["text2"]) for p in pairs]
    vectors = article_vectors(embedder, texts)
    np.save(cache, vectors)
    return pairs, vectors


def pair_decisions(
    pairs: list[dict[str, Any]], vectors: np.ndarray, params: ClusteringParams
) -> dict[str, Any]:
    """Does the second article of a pair join the first one's story? Against the human judgement.

    Each pair gets its own day, 30 days after the previous pair's, so pairs never meet; one
    clusterer sees them all, so names' frequencies are learnt as in live use.
    Same story: `overall` ≤ 1.5 (1 = very similar); different: ≥ 2.5; in between is not counted.
    """
    clusterer = StoryClusterer(params)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    n = len(pairs)
    joined = []
    for i, pair in enumerate(pairs):
        day = start + timedelta(days=30 * i)
        for side in (0, 1):
            text, lang = pair[f"text{side + 1}"], pair[f"lang{side + 1}"]
            item = StoryItem(
                f"{i}-{side}", vectors[side * n + i], day, "", text[:TEXT_CHARS], lang, f"s{side}"
            )
            clusterer.add(item)
        joined.append(clusterer.story_of(f"{i}-0") == clusterer.story_of(f"{i}-1"))
        clusterer.maintain(day)
    return pair_figures(pairs, joined)


def pair_figures(pairs: list[dict[str, Any]], joined: list[bool]) -> dict[str, Any]:
    same = [j for j, p in zip(joined, pairs, strict=True) if p["overall"] <= 1.5]
    different = [j for j, p in zip(joined, pairs, strict=True) if p["overall"] >= 2.5]
    cross = [
        j for j, p in zip(joined, pairs, strict=True) if p["overall"] <= 1.5 and p["lang1"] != p["lang2"]
    ]
    recall, false_joins = sum(same) / len(same), sum(different) / len(different)
    precision = sum(same) / max(sum(same) + sum(different), 1)
    return {
        "same_story_pairs": len(same),
        "different_pairs": len(different),
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "f1": round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4),
        "cross_lingual_recall": round(sum(cross) / max(len(cross), 1), 4),
        "false_join_rate": round(false_joins, 4),
    }


def grid(
    stream: list[StoryItem], rows: list[dict[str, Any]], pairs: list[dict[str, Any]], vectors: np.ndarray
) -> None:
    base = ClusteringParams()
    for bonus, cross_lingual, weight, threshold in itertools.product(
        ((0.0, 0.0), (0.1, 0.05), (0.2, 0.1)),
        (0.0, 0.1, 0.15, 0.2),
        (0.0, 0.5, 1.0),
        (0.60, 0.65, 0.70, 0.75, 0.80),
    ):
        params = replace(
            base,
            entity_weight=bonus[0],
            number_weight=bonus[1],
            cross_lingual=cross_lingual,
            centroid_weight=weight,
            join_threshold=threshold,
            merge_threshold=threshold + (base.merge_threshold - base.join_threshold),
        )
        point = {
            "bonus": bonus,
            "cross_lingual": cross_lingual,
            "centroid_weight": weight,
            "threshold": threshold,
        }
        meantime = score(run_tidings(stream, params)[0], rows)
        semeval = pair_decisions(pairs, vectors, params) if pairs else None
        print(json.dumps({**point, "meantime": meantime, "semeval_pairs": semeval}), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument(
        "--pairs",
        type=Path,
        help="SemEval-2022 dev pairs (default: DATA/../../similarity/semeval2022-dev, skipped if absent)",
    )
    parser.add_argument("--grid", action="store_true", help="print the parameter grid instead")
    args = parser.parse_args(argv)
    rows = load(args.data)
    vectors = cached_vectors(args.data, rows)
    stream = items(rows, vectors)
    pairs_dir = args.pairs or args.data.parent.parent / "similarity" / "semeval2022-dev"
    pairs, pair_vectors = load_pairs(pairs_dir) if (pairs_dir / "pairs.jsonl").exists() else ([], np.zeros(0))
    if args.grid:
        grid(stream, rows, pairs, pair_vectors)
        return
    params = ClusteringParams()
    predicted, seconds_per_article = run_tidings(stream, params)
    result: dict[str, Any] = {
        "tidings": score(predicted, rows),
        "tfidf": best_baseline(
            tfidf_vectors([f"{r['title']} {r['text']}" for r in rows]),
            rows,
            pairs,
            tfidf_vectors([p["text1"] for p in pairs] + [p["text2"] for p in pairs])
            if pairs
            else np.zeros(0),
        ),
        "raw_embedding": best_baseline(vectors, rows, pairs, pair_vectors),
        "perfect_translation_groups": score([r["translation_group"] for r in rows], rows),
        "semeval_pairs": pair_decisions(pairs, pair_vectors, params) if pairs else None,
        "articles": len(rows),
        "stories_found": len(set(predicted)),
        "seconds_per_article_ms": round(seconds_per_article * 1000, 3),
        **add_latency(),
        "params": asdict(params),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
