"""Hashtag extraction (tidings.tags.extract) on Wikinews articles, by proxy: no gold hashtags exist.

    python -m benchmarks.hashtags --data ../shared/data/corpus/wikinews-en-2019-2020

Reads DIR/articles.jsonl (title, text, lang) and, by default, the MEANTIME translations next to it
(../meantime-wikinews/articles.jsonl: 120 Wikinews stories, each in en/es/it/nl, one
`translation_group` per story). Prints one JSON line with, per corpus:

* title_entity_share: share of articles with a person/place/organisation hashtag named in the
  title (any alias form, or a person's surname, counts) — hashtags should catch what the
  headline is about;
* mean_tags, share_3_or_more; ms_mean, ms_p95 (wall time per article, after one warm-up call);

and for MEANTIME, the mean Jaccard overlap of hashtag slugs between two translations of the same
story (alias normalisation should make them meet across languages) against a baseline of raw
YAKE top-5 lower-cased keyphrases, and the same two overlaps for random pairs of different
stories (should be near 0). Feed categories are not passed: MEANTIME's `category` is the same in
all four translations and would inflate the overlap.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

import yake

from tidings.tags import aliases
from tidings.tags.extract import HashtagCandidate, extract_hashtags
from tidings.tags.repo import tag_slug

RANDOM_PAIRS = 720


def read_articles(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def names_title(tag: HashtagCandidate, title: str) -> bool:
    forms = {tag.name, *aliases.FORMS_OF.get(tag.name, ())}
    if tag.kind == "person" and len(tag.name.split()) > 1:
        forms.add(tag.name.split()[-1])
    title_key = aliases.padded_words(title)
    return any(
        aliases.padded_words(form) in title_key or (not form.isascii() and form in title) for form in forms
    )


def tag_all(articles: list[dict[str, Any]]) -> tuple[list[list[HashtagCandidate]], list[float]]:
    extract_hashtags("Warm-up", "Warm up the extractors once.", language="en")
    tags, millis = [], []
    for article in articles:
        started = time.perf_counter()
        tags.append(extract_hashtags(article.get("title"), article["text"], language=article.get("lang")))
        millis.append((time.perf_counter() - started) * 1000)
    return tags, millis


def summary(
    articles: list[dict[str, Any]], tags: list[list[HashtagCandidate]], millis: list[float]
) -> dict[str, Any]:
    titled = [
        any(t.kind != "topic" and names_title(t, a.get("title") or "") for t in ts)
        for a, ts in zip(articles, tags, strict=True)
    ]
    return {
        "articles": len(articles),
        "title_entity_share": round(sum(titled) / len(articles), 3),
        "mean_tags": round(statistics.mean(len(ts) for ts in tags), 2),
        "share_3_or_more": round(sum(len(ts) >= 3 for ts in tags) / len(articles), 3),
        "ms_mean": round(statistics.mean(millis), 2),
        "ms_p95": round(sorted(millis)[int(0.95 * (len(millis) - 1))], 2),
    }


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def overlaps(articles: list[dict[str, Any]], sets: list[set[str]]) -> dict[str, float]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, article in enumerate(articles):
        groups[article["translation_group"]].append(index)
    same = [jaccard(sets[i], sets[j]) for members in groups.values() for i, j in combinations(members, 2)]
    rng = random.Random(0)
    different: list[float] = []
    while len(different) < RANDOM_PAIRS:
        i, j = rng.randrange(len(articles)), rng.randrange(len(articles))
        if articles[i]["translation_group"] != articles[j]["translation_group"]:
            different.append(jaccard(sets[i], sets[j]))
    return {
        "same_story": round(statistics.mean(same), 3),
        "different_stories": round(statistics.mean(different), 3),
    }


def yake_top5(articles: list[dict[str, Any]]) -> list[set[str]]:
    extractors: dict[str, yake.KeywordExtractor] = {}
    result = []
    for article in articles:
        language = article.get("lang") or "en"
        extractor = extractors.setdefault(language, yake.KeywordExtractor(lan=language, n=3, top=5))
        text = f"{article.get('title') or ''}.\n{article['text'][:2000]}"
        result.append({phrase.lower() for phrase, _ in extractor.extract_keywords(text)})
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="folder with articles.jsonl")
    parser.add_argument(
        "--meantime", type=Path, default=None, help="MEANTIME folder (default: DATA/../meantime-wikinews)"
    )
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    articles = read_articles(args.data / "articles.jsonl")
    tags, millis = tag_all(articles)
    result[args.data.name] = summary(articles, tags, millis)

    meantime_dir = args.meantime or args.data.parent / "meantime-wikinews"
    if (meantime_dir / "articles.jsonl").is_file():
        meantime = read_articles(meantime_dir / "articles.jsonl")
        tags, millis = tag_all(meantime)
        block = summary(meantime, tags, millis)
        block["by_language"] = {
            language: summary(
                [a for a in meantime if a["lang"] == language],
                [t for a, t in zip(meantime, tags, strict=True) if a["lang"] == language],
                [m for a, m in zip(meantime, millis, strict=True) if a["lang"] == language],
            )["title_entity_share"]
            for language in sorted({a["lang"] for a in meantime})
        }
        hashtag_sets = [{tag_slug(t.name) for t in ts} for ts in tags]
        block["translation_jaccard"] = overlaps(meantime, hashtag_sets)
        block["yake_top5_translation_jaccard"] = overlaps(meantime, yake_top5(meantime))
        result[meantime_dir.name] = block
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
