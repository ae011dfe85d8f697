"""Near-duplicate detection on the BBC corpus' duplicate groups, and on MSRP sentence pairs.

    python -m benchmarks.duplicates --data ../shared/data/summaries/bbc-news-summary
    python -m benchmarks.duplicates --data DIR --msrp ../shared/data/paraphrase/msrp --scale 0

BBC (DIR/bbc_news_summary.jsonl.gz, DIR/derived_duplicate_groups.json): every article is indexed
(title = its first line, text = the rest) and queried; detected pairs are scored against the
labelled pairs. The labels miss one kind of copy: 35 pairs whose body is identical word for word
under an edited headline (the groups were derived on headline + body). They are added here by that
exact rule, as relation "same_body_new_headline"; figures against the labels alone are reported
too. Pairs detected outside that truth are listed with their exact 5-shingle Jaccard for audit.
Baselines in the same run: a hash of the normalised text, and the exact 5-shingle Jaccard >= 0.8
over all pairs. Timings: fingerprints per second; ms per query on the BBC index and, with
--scale N (default 100000), on an index grown with N synthetic articles (random mixes of BBC
sentences, which share sentences with the real ones and so give the LSH real candidates to check).

MSRP (--msrp, default DIR/../../paraphrase/msrp when present): test pairs, Quality 1 = paraphrase.
is_near_duplicate is a copy detector, not a paraphrase detector: expect low recall; the figure shows
how far rewording goes before a copy stops counting. Baseline: rapidfuzz token_set_ratio at the
threshold that maximises F1 on the MSRP train file.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import itertools
import json
import random
import re
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from tidings.stories.duplicates import NearDuplicateIndex, fingerprint, is_near_duplicate

WORD = re.compile(r"\w+")
Pair = tuple[str, str]


def pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def shingles(text: str, size: int = 5) -> set[str]:
    tokens = words(text)
    return {" ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}


def load_bbc(directory: Path) -> dict[str, tuple[str, str]]:
    articles = {}
    with gzip.open(directory / "bbc_news_summary.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            title, _, body = row["article"].partition("\n")
            articles[row["id"]] = (title.strip(), body.strip())
    return articles


def truth_pairs(
    directory: Path, articles: dict[str, tuple[str, str]]
) -> tuple[dict[Pair, str], dict[Pair, str]]:
    """(labelled pairs, labelled + same-body pairs), each mapped to its relation."""
    groups = json.loads((directory / "derived_duplicate_groups.json").read_text(encoding="utf-8"))
    labelled = {pair(a, b): g["relation"] for g in groups for a, b in itertools.combinations(g["ids"], 2)}
    by_body: dict[str, list[str]] = defaultdict(list)
    for article_id, (_, body) in articles.items():
        by_body[" ".join(words(body))].append(article_id)
    completed = dict(labelled)
    for ids in by_body.values():
        for a, b in itertools.combinations(sorted(ids), 2):
            completed.setdefault(pair(a, b), "same_body_new_headline")
    return labelled, completed


def scores(detected: Iterable[Hashable], truth: Iterable[Hashable]) -> dict[str, float]:
    found, real = set(detected), set(truth)
    hits = len(found & real)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(real) if real else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "pairs": len(found),
    }


def all_pair_jaccard(sets: dict[str, set[str]]) -> dict[Pair, float]:
    """Exact Jaccard of every pair sharing a shingle (all other pairs are 0): brute force, indexed."""
    postings: dict[str, list[str]] = defaultdict(list)
    for article_id, items in sets.items():
        for item in items:
            postings[item].append(article_id)
    shared: dict[Pair, int] = defaultdict(int)
    for ids in postings.values():
        for a, b in itertools.combinations(ids, 2):
            shared[pair(a, b)] += 1
    return {p: n / (len(sets[p[0]]) + len(sets[p[1]]) - n) for p, n in shared.items()}


def synthetic_texts(articles: dict[str, tuple[str, str]], count: int, seed: int = 7) -> list[tuple[str, str]]:
    sentences = [s for _, body in articles.values() for s in re.split(r"(?<=[.!?])\s+", body) if len(s) > 40]
    rng = random.Random(seed)
    return [
        (rng.choice(sentences)[:60], " ".join(rng.sample(sentences, rng.randint(6, 16))))
        for _ in range(count)
    ]


def query_all(index: NearDuplicateIndex, fingerprints: dict[str, Any]) -> tuple[set[Pair], list[float]]:
    detected: set[Pair] = set()
    times = []
    for article_id, fp in fingerprints.items():
        started = time.perf_counter()
        matches = index.query(fp, exclude=article_id)
        times.append((time.perf_counter() - started) * 1000)
        detected.update(pair(article_id, m.article_id) for m in matches)
    return detected, times


def bbc(directory: Path, scale: int) -> dict[str, Any]:
    articles = load_bbc(directory)
    labelled, truth = truth_pairs(directory, articles)

    started = time.perf_counter()
    fingerprints = {article_id: fingerprint(title, body) for article_id, (title, body) in articles.items()}
    fingerprint_rate = len(articles) / (time.perf_counter() - started)
    index = NearDuplicateIndex()
    for article_id, fp in fingerprints.items():
        index.add(article_id, fp)
    detected, times = query_all(index, fingerprints)

    by_hash: dict[str, list[str]] = defaultdict(list)
    for article_id, (_, body) in articles.items():
        by_hash[hashlib.sha1(" ".join(words(body)).encode()).hexdigest()].append(article_id)
    exact_hash = {pair(a, b) for ids in by_hash.values() for a, b in itertools.combinations(ids, 2)}
    jaccard = all_pair_jaccard({article_id: shingles(body) for article_id, (_, body) in articles.items()})
    jaccard_08 = {p for p, j in jaccard.items() if j >= 0.8}

    relations = sorted(set(truth.values()))
    same_title = [p for p, r in labelled.items() if r == "same_title_text_differs"]
    result: dict[str, Any] = {
        "articles": len(articles),
        "truth_pairs": len(truth),
        "truth_pairs_by_relation": {r: sum(rel == r for rel in truth.values()) for r in relations},
        "tidings": scores(detected, truth),
        "tidings_vs_labels_only": scores(detected, labelled),
        "tidings_recall_by_relation": {
            r: round(
                sum(p in detected for p, rel in truth.items() if rel == r)
                / sum(rel == r for rel in truth.values()),
                4,
            )
            for r in relations
        },
        "tidings_recall_same_title_jaccard_ge_0.5": round(
            sum(p in detected for p in same_title if jaccard.get(p, 0) >= 0.5)
            / max(1, sum(jaccard.get(p, 0) >= 0.5 for p in same_title)),
            4,
        ),
        "same_title_pairs_jaccard_lt_0.5": sum(jaccard.get(p, 0) < 0.5 for p in same_title),
        "missed": sorted([*p, round(jaccard.get(p, 0), 3)] for p in truth if p not in detected),
        "unlabelled_detections": sorted(
            [*p, round(jaccard.get(p, 0), 3)] for p in detected if p not in truth
        ),
        "exact_hash": scores(exact_hash, truth),
        "shingle_jaccard_0.8": scores(jaccard_08, truth),
        "fingerprints_per_s": round(fingerprint_rate),
        "query_ms_mean": round(statistics.fmean(times), 3),
        "query_ms_p99": round(sorted(times)[int(0.99 * (len(times) - 1))], 3),
    }
    if scale:
        started = time.perf_counter()
        extra = [fingerprint(title, text) for title, text in synthetic_texts(articles, scale)]
        result["scale_fingerprints_per_s"] = round(scale / (time.perf_counter() - started))
        memory_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        for n, fp in enumerate(extra):
            index.add(f"synthetic/{n}", fp)
        result["scale_adds_per_s"] = round(scale / (time.perf_counter() - started))
        # Peak RSS grows with the index alone here (the fingerprints exist already): the LSH's
        # own cost per article, on top of the ~0.6 KB fingerprint it keeps.
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - memory_before
        result["scale_index_size"] = len(index)
        result["scale_lsh_kb_per_article"] = round(grown / scale, 2)
        scaled, times = query_all(index, fingerprints)
        result["scale_query_ms_mean"] = round(statistics.fmean(times), 3)
        result["scale_query_ms_p99"] = round(sorted(times)[int(0.99 * (len(times) - 1))], 3)
        result["scale_false_detections"] = sum(
            1 for p in scaled if p[0].startswith("synthetic/") or p[1].startswith("synthetic/")
        )
    return result


def read_msrp(path: Path) -> list[tuple[int, str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)
        return [(int(row[0]), row[3], row[4]) for row in rows if len(row) == 5]


def msrp(directory: Path) -> dict[str, Any]:
    test = read_msrp(directory / "msr_paraphrase_test.txt")
    truth = {n for n, (label, _, _) in enumerate(test) if label == 1}
    detected = {
        n for n, (_, a, b) in enumerate(test) if is_near_duplicate(fingerprint(None, a), fingerprint(None, b))
    }
    result: dict[str, Any] = {"pairs": len(test), "positives": len(truth), "tidings": scores(detected, truth)}

    def token_set(rows: list[tuple[int, str, str]]) -> list[float]:
        return [fuzz.token_set_ratio(a.lower(), b.lower()) for _, a, b in rows]

    train_path = directory / "msr_paraphrase_train.txt"
    if train_path.exists():
        train = read_msrp(train_path)
        train_truth = {n for n, (label, _, _) in enumerate(train) if label == 1}
        train_scores = token_set(train)
        threshold = max(
            range(50, 101),
            key=lambda t: scores({n for n, s in enumerate(train_scores) if s >= t}, train_truth)["f1"],
        )
        test_scores = token_set(test)
        result["token_set_ratio_threshold"] = threshold
        result["token_set_ratio"] = scores({n for n, s in enumerate(test_scores) if s >= threshold}, truth)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="the bbc-news-summary directory")
    parser.add_argument("--msrp", type=Path, default=None, help="the msrp directory")
    parser.add_argument(
        "--scale", type=int, default=100_000, help="synthetic articles for the timing at scale"
    )
    args = parser.parse_args(argv)
    msrp_directory = args.msrp or args.data / ".." / ".." / "paraphrase" / "msrp"
    result: dict[str, Any] = {"bbc": bbc(args.data, args.scale)}
    if (msrp_directory / "msr_paraphrase_test.txt").exists():
        result["msrp"] = msrp(msrp_directory)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
