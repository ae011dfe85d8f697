"""Cited extractive answers over English Wikinews: faithfulness, hit rate and latency at 100k sentences.

    python -m benchmarks.answers --data ../shared/data/corpus/wikinews-en-2019-2020 [--embeddings]

Reads DIR/articles.jsonl. Questions are built automatically for the first `--articles` (100)
articles, two kinds per article:
- "title": the headline itself, as a reader would ask about the story;
- "cloze": a lead sentence (first five) with a number masked as "how many" or a mid-sentence
  capitalised name masked as "who/what", ending in "?".
Each is answered with `answer()` over a `SentenceIndex` of all articles, and scored:
- citation faithfulness: the share of answer sentences whose cited sentence supports them
  (`supports() >= 0.5`; 1.0 by construction for extractive answers, measured anyway), and the share
  of answers that cite at all;
- hit rate: the share of questions whose answer cites the article the question was built from;
- not-found: the share of hand-written off-corpus questions answered `found=False` (OFF_CORPUS was
  used to choose the relevance floor; HELD_OUT was written afterwards);
- latency: p50/p99 ms of `answer()` with the corpus replicated under varied doc ids to >= 100k
  sentences (`--sentences`), over all documents and filtered to a 5-article story.
Prints one JSON line. `--embeddings` adds the hit rate with USE question and sentence vectors.
"""

from __future__ import annotations

import os

# One core, as in production workers: multithreaded BLAS only spins on a busy machine. Before numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from tidings.ai.extractive import Answer, answer, supports
from tidings.ai.retrieval import SentenceIndex
from tidings.ai.sentences import split_sentences

_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME = re.compile(r"(?<=[a-z,] )(?:[A-Z][a-z]+)(?: [A-Z][a-z]+)*")
_MARKER = re.compile(r"\s*\[(\d+)\]")

# Questions the 2019-2020 Wikinews corpus cannot answer: the honest reply is "not found".
OFF_CORPUS = [
    "What colour is the king of Narnia's favourite dragon?",
    "How many moons does the planet Zorbatron have?",
    "Who won the 1987 underwater chess championship in Lesotho?",
    "When did the Atlantis hyperloop open to passengers?",
    "Which recipe did the Quokka bakery in Reykjavik win a prize for?",
    "Why did the Martian parliament ban bagpipes?",
    "How tall is the invisible tower of Ulaanbaatar?",
    "What did the penguin ambassador say at the tulip summit?",
    "Who is the drummer of the band Glass Octopus?",
    "How much does a ticket to the lunar opera cost?",
    "How many people died in the Lisbon volcano eruption?",
    "What did the mayor of Reykjavik say about the new football stadium?",
    "Who won the Tokyo marathon in 2019?",
    "Why did Apple recall the iPhone batteries?",
    "When will the Berlin airport open?",
    "How much did the Louvre pay for the stolen painting?",
    "Who is the new coach of the New Zealand rugby team?",
    "What caused the Sydney train crash?",
]
# Written after COVERAGE_FLOOR and NAME_FLOOR were chosen on OFF_CORPUS: an unbiased check.
HELD_OUT = [
    "How many passengers were on the ferry that sank near Manila?",
    "What did the Danish finance minister say about bitcoin?",
    "Who designed the new bridge in Rotterdam?",
    "How much snow fell in Denver last winter?",
    "Why was the Cannes film festival jury chairman replaced?",
    "What is the name of the panda born at the Vienna zoo?",
    "When did Nigeria launch its first satellite?",
    "Which airline ordered forty seaplanes from Iceland?",
]


def cloze(sentence: str) -> str | None:
    """A question from a sentence: mask a number as "how many" or a name as "who"; None if neither."""
    number = _NUMBER.search(sentence)
    if number and not re.fullmatch(r"(19|20)\d\d", number.group()):
        masked = sentence[: number.start()] + "how many" + sentence[number.end() :]
    else:
        name = _NAME.search(sentence)
        if not name:
            return None
        masked = sentence[: name.start()] + "who" + sentence[name.end() :]
    return masked.rstrip(" .!\"'”") + "?"


def build_questions(articles: list[dict[str, Any]], count: int) -> list[tuple[str, str, str]]:
    """(kind, question, article id) for the first `count` articles."""
    questions: list[tuple[str, str, str]] = []
    for article in articles[:count]:
        questions.append(("title", article["title"], article["id"]))
        for sentence in split_sentences(article["text"], "en")[:5]:
            question = cloze(sentence)
            if question and len(question.split()) >= 6:
                questions.append(("cloze", question, article["id"]))
                break
    return questions


def answer_sentences(result: Answer) -> list[tuple[str, int]]:
    """Split an answer's text back into (sentence, citation number) pairs at its markers."""
    pairs: list[tuple[str, int]] = []
    start = 0
    for marker in _MARKER.finditer(result.text):
        pairs.append((result.text[start : marker.start()].strip(), int(marker.group(1))))
        start = marker.end()
    return pairs


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--embeddings", action="store_true")
    args = parser.parse_args(argv)
    articles = [
        json.loads(line)
        for line in (args.data / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    sentences = {a["id"]: split_sentences(a["text"], "en") for a in articles}
    sources = {a["id"]: "Wikinews" for a in articles}
    index = SentenceIndex()
    for article_id, article_sentences in sentences.items():
        index.add(article_id, article_sentences)
    questions = build_questions(articles, args.articles)

    supported = total_sentences = citing = hits = found = 0
    by_kind: dict[str, list[int]] = {}
    for kind, question, article_id in questions:
        result = answer(question, index, sources=sources)
        found += result.found
        citing += bool(result.citations)
        hit = any(c.article_id == article_id for c in result.citations)
        hits += hit
        by_kind.setdefault(kind, []).append(hit)
        numbered = {c.number: c for c in result.citations}
        for text, number in answer_sentences(result):
            total_sentences += 1
            supported += number in numbered and supports(text, numbered[number].text) >= 0.5
    off_corpus = [answer(q, index) for q in OFF_CORPUS]
    held_out = [answer(q, index) for q in HELD_OUT]

    output: dict[str, Any] = {
        "questions": len(questions),
        "questions_by_kind": {kind: len(v) for kind, v in by_kind.items()},
        "citation_faithfulness": round(supported / max(total_sentences, 1), 4),
        "answer_sentences": total_sentences,
        "answers_citing": round(citing / len(questions), 4),
        "answers_found": round(found / len(questions), 4),
        "hit_rate": round(hits / len(questions), 4),
        "hit_rate_by_kind": {kind: round(statistics.fmean(v), 4) for kind, v in by_kind.items()},
        "off_corpus_not_found": round(sum(not a.found for a in off_corpus) / len(off_corpus), 4),
        "held_out_off_corpus_not_found": round(sum(not a.found for a in held_out) / len(held_out), 4),
    }
    output |= latency(sentences, questions, args.sentences)
    if args.embeddings:
        output |= embedding_hit_rate(sentences, questions, sources)
    print(json.dumps(output))


def latency(
    sentences: dict[str, list[str]], questions: list[tuple[str, str, str]], target: int
) -> dict[str, Any]:
    """answer() latency with the corpus copied under varied doc ids until `target` sentences."""
    index = SentenceIndex()
    copy = 0
    started = time.perf_counter()
    while len(index) < target:
        for article_id, article_sentences in sentences.items():
            index.add(f"{article_id}#{copy}", article_sentences)
        copy += 1
    build_seconds = time.perf_counter() - started
    answer("warm up the numpy arrays", index)
    timings: list[float] = []
    filtered: list[float] = []
    ids = list(sentences)
    for number, (_, question, article_id) in enumerate(questions):
        started = time.perf_counter()
        answer(question, index)
        timings.append((time.perf_counter() - started) * 1000)
        story = [f"{article_id}#0"] + [f"{ids[(number + j) % len(ids)]}#1" for j in range(1, 5)]
        started = time.perf_counter()
        answer(question, index, doc_ids=story)
        filtered.append((time.perf_counter() - started) * 1000)
    return {
        "latency_sentences_indexed": len(index),
        "index_build_s": round(build_seconds, 2),
        "answer_ms_p50": round(percentile(timings, 50), 2),
        "answer_ms_p99": round(percentile(timings, 99), 2),
        "answer_ms_p50_story_filter": round(percentile(filtered, 50), 2),
        "answer_ms_p99_story_filter": round(percentile(filtered, 99), 2),
    }


def embedding_hit_rate(
    sentences: dict[str, list[str]], questions: list[tuple[str, str, str]], sources: dict[str, str]
) -> dict[str, Any]:
    from tidings.ai.embeddings import UniversalSentenceEncoder

    embedder = UniversalSentenceEncoder(threads=1, batch_size=64)
    index = SentenceIndex()
    started = time.perf_counter()
    for article_id, article_sentences in sentences.items():
        index.add(article_id, article_sentences, embedder.embed(article_sentences))
    embed_seconds = time.perf_counter() - started
    question_vectors = embedder.embed([q for _, q, _ in questions])
    hits = 0
    supported = total = 0
    for (_, question, article_id), vector in zip(questions, question_vectors, strict=True):
        result = answer(question, index, question_vector=vector, sources=sources)
        hits += any(c.article_id == article_id for c in result.citations)
        numbered = {c.number: c for c in result.citations}
        for text, number in answer_sentences(result):
            total += 1
            supported += number in numbered and supports(text, numbered[number].text) >= 0.5
    off = [
        answer(q, index, question_vector=v)
        for q, v in zip(OFF_CORPUS, embedder.embed(OFF_CORPUS), strict=True)
    ]
    return {
        "embeddings": {
            "hit_rate": round(hits / len(questions), 4),
            "citation_faithfulness": round(supported / max(total, 1), 4),
            "off_corpus_not_found": round(sum(not a.found for a in off) / len(off), 4),
            "embedding_s": round(embed_seconds, 1),
        }
    }


if __name__ == "__main__":
    main()
