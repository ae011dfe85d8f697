"""The AI features behind one service: summaries, key points, story briefs, answers, translation.

Two modes, one interface. Extractive (always available, no model): every output is made of
sentences quoted verbatim from the coverage, so every statement is attributable by construction.
Generative (when an OpenAI-compatible chat endpoint is configured): the model writes from
numbered source sentences and every sentence it writes must cite one that supports it
(ai/grounded.py); when it fails, is slow, or cites nothing, the extractive result is shown with a
visible note. Results are cached per (target, feature, language, model, content hash).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from tidings.ai import extractive
from tidings.ai.grounded import GroundedOutput, SourceSentence, grounded_answer
from tidings.ai.models import AIResult
from tidings.ai.retrieval import SentenceIndex
from tidings.ai.sentences import split_sentences
from tidings.articles.views import ArticleDetail
from tidings.db.engine import Database
from tidings.errors import TidingsError
from tidings.ingest.models import Article, Source

log = logging.getLogger(__name__)

EXTRACTIVE_MODEL = "extractive-v1"
MAX_QUESTION_CHARS = 300
MAX_STORY_ARTICLES = 40
# Sentences handed to a model: enough to answer from, few enough for a small context window.
MAX_PROMPT_SENTENCES = 40


class FeatureUnavailable(TidingsError):
    code = "feature_unavailable"
    status = 409


@dataclass(frozen=True, slots=True)
class Citation:
    number: int
    article_id: str
    source_name: str | None
    text: str


@dataclass(frozen=True, slots=True)
class CitedSentence:
    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AnswerView:
    question: str
    found: bool
    sentences: tuple[CitedSentence, ...]
    citations: tuple[Citation, ...]
    mode: str  # extractive | generative
    note: str | None = None  # a constant the UI translates (e.g. why the model's answer is not shown)


@dataclass(frozen=True, slots=True)
class Insights:
    summary: tuple[CitedSentence, ...]
    key_points: tuple[str, ...]
    citations: tuple[Citation, ...]
    mode: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class BriefSentence:
    text: str
    article_id: str
    source_name: str


@dataclass(frozen=True, slots=True)
class Brief:
    sentences: tuple[BriefSentence, ...]
    mode: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StreamEvent:
    kind: str  # delta | done
    text: str = ""
    answer: AnswerView | None = None


@dataclass
class _Document:
    article_id: str
    source_name: str
    title: str
    text: str
    language: str | None
    sentences: list[str] = field(default_factory=list)


class AIService:
    def __init__(self, db: Database, *, provider: Any | None = None, timeout: float = 30.0) -> None:
        self.db = db
        self.provider = provider  # a ChatProvider (ai/llm.py) or None: extractive only
        self.timeout = timeout  # for a whole model answer, after which the extractive one is shown

    @property
    def mode(self) -> str:
        return "generative" if self.provider is not None else "extractive"

    @property
    def model(self) -> str:
        return str(getattr(self.provider, "model", EXTRACTIVE_MODEL)) if self.provider else EXTRACTIVE_MODEL

    @property
    def can_translate(self) -> bool:
        return self.provider is not None

    # --- articles ----------------------------------------------------------------------------

    async def insights(self, article: ArticleDetail, *, language: str, generative: bool = False) -> Insights:
        """Summary (3 sentences) and key points of one article, cached.

        Extractive unless `generative` is asked for and a model is configured: the article page
        renders the extractive version at once and fetches the model's version separately, so a
        slow model never holds up the page."""
        generative = generative and self.provider is not None
        model = self.model if generative else EXTRACTIVE_MODEL
        key = _key(f"article:{article.id}", "insights", language, model, _digest(article.text))
        cached = await self._cached(key)
        if cached is not None:
            return _insights_from(cached)
        document = _document_of(article)
        result = await asyncio.to_thread(_extractive_insights, document)
        if generative:
            result = await self._generative_summary(document, result, language=language)
            if result.mode != "generative":
                return result  # a fallback is not cached: the model may be back next time
        await self._store(key, f"article:{article.id}", "insights", language, asdict(result))
        return result

    async def ask_article(self, article: ArticleDetail, question: str, *, language: str) -> AnswerView:
        question = _clean_question(question)
        return await self._ask([_document_of(article)], question, language=language)

    def stream_article_answer(
        self, article: ArticleDetail, question: str, *, language: str
    ) -> AsyncIterator[StreamEvent]:
        return self._stream([_document_of(article)], _clean_question(question), language=language)

    async def translate(self, article: ArticleDetail, *, language: str) -> AsyncIterator[str]:
        """The article in the reader's language, streamed. Only with a configured model."""
        if self.provider is None:
            raise FeatureUnavailable("translation needs a configured AI model")
        from tidings.ai.grounded import build_messages

        sources = _numbered([_document_of(article)], limit=MAX_PROMPT_SENTENCES)
        messages = build_messages("translate", sources, language=language)
        return self.provider.stream(messages, max_tokens=1200)

    # --- stories ------------------------------------------------------------------------------

    async def brief(self, story_id: str, *, language: str) -> Brief:
        """The story's key sentences across its sources, each attributed (extractive, so the same in
        every UI language: cached once for all of them)."""
        documents = await self._story_documents(story_id)
        if not documents:
            return Brief((), self.mode)
        digest = _digest("|".join(sorted(f"{d.article_id}:{len(d.text)}" for d in documents)))
        language = "any"
        key = _key(f"story:{story_id}", "brief", language, EXTRACTIVE_MODEL, digest)
        cached = await self._cached(key)
        if cached is not None:
            return Brief(
                tuple(BriefSentence(**s) for s in cached["sentences"]), cached["mode"], cached.get("note")
            )
        sentences = await asyncio.to_thread(_extractive_brief, documents)
        result = Brief(tuple(sentences), "extractive")
        await self._store(key, f"story:{story_id}", "brief", language, asdict(result))
        return result

    async def warm_briefs(self, story_ids: set[str]) -> None:
        """Compute briefs of stories that just changed, in the background, so their pages are ready."""
        for story_id in story_ids:
            try:
                await self.brief(story_id, language="any")
            except Exception:  # a cache warm-up must never break the pipeline that calls it
                log.exception("story brief for %s failed; it will be computed on first view", story_id)

    async def ask_story(self, story_id: str, question: str, *, language: str) -> AnswerView:
        return await self._ask(
            await self._story_documents(story_id), _clean_question(question), language=language
        )

    def stream_story_answer(
        self, documents: list[_Document], question: str, *, language: str
    ) -> AsyncIterator[StreamEvent]:
        return self._stream(documents, _clean_question(question), language=language)

    async def story_documents(self, story_id: str) -> list[_Document]:
        return await self._story_documents(story_id)

    # --- internals ----------------------------------------------------------------------------

    async def _ask(self, documents: list[_Document], question: str, *, language: str) -> AnswerView:
        index = await asyncio.to_thread(_index_of, documents)
        extractive_answer = await asyncio.to_thread(_extractive_answer, documents, question, index)
        if self.provider is None or not documents:
            return extractive_answer
        sources = _numbered(documents, limit=MAX_PROMPT_SENTENCES, question=question, index=index)
        result = await self._ask_model("answer", question, sources, extractive_answer, language=language)
        return _answer_from_grounded(question, result, sources, extractive_answer)

    async def _stream(
        self, documents: list[_Document], question: str, *, language: str
    ) -> AsyncIterator[StreamEvent]:
        index = await asyncio.to_thread(_index_of, documents)
        extractive_answer = await asyncio.to_thread(_extractive_answer, documents, question, index)
        if self.provider is None or not documents:
            yield StreamEvent("done", answer=extractive_answer)
            return
        from tidings.ai.grounded import Delta, stream_grounded

        sources = _numbered(documents, limit=MAX_PROMPT_SENTENCES, question=question, index=index)
        async for event in stream_grounded(
            self.provider,
            task="answer",
            question=question,
            sources=sources,
            extractive=lambda: extractive_answer,
            language=language,
            timeout=self.timeout,
        ):
            if isinstance(event, Delta):
                yield StreamEvent("delta", text=event.text)
            else:
                yield StreamEvent(
                    "done", answer=_answer_from_grounded(question, event.result, sources, extractive_answer)
                )

    async def _generative_summary(
        self, document: _Document, fallback: Insights, *, language: str
    ) -> Insights:
        sources = _numbered([document], limit=MAX_PROMPT_SENTENCES)
        result = await self._ask_model("summary", None, sources, fallback, language=language)
        output: GroundedOutput | None = getattr(result, "output", None)
        if output is None or output.fallback or not output.kept:
            return Insights(
                fallback.summary, fallback.key_points, fallback.citations, "extractive", result.note
            )
        cited, citations = _cited(output, sources)
        return Insights(cited, fallback.key_points, citations, "generative", result.note)

    async def _ask_model(
        self, task: Any, question: str | None, sources: list[SourceSentence], fallback: Any, *, language: str
    ) -> Any:
        return await grounded_answer(
            self.provider,
            task=task,
            question=question,
            sources=sources,
            extractive=lambda: fallback,
            language=language,
            timeout=self.timeout,
        )

    async def _story_documents(self, story_id: str) -> list[_Document]:
        query = (
            select(Article.id, Article.title, Article.text, Article.language, Source.name)
            .join(Source, Source.id == Article.source_id)
            .where(Article.story_id == story_id, Article.duplicate_of.is_(None))
            .order_by(Article.published_at)
            .limit(MAX_STORY_ARTICLES)
        )
        async with self.db.session() as session:
            rows = (await session.execute(query)).all()
        return [
            _Document(
                article_id=r.id, source_name=r.name, title=r.title, text=r.text or "", language=r.language
            )
            for r in rows
        ]

    async def _cached(self, key: str) -> dict[str, Any] | None:
        async with self.db.session() as session:
            row = await session.get(AIResult, key)
            return dict(row.payload) if row is not None else None

    async def _store(
        self, key: str, target: str, feature: str, language: str, payload: dict[str, Any]
    ) -> None:
        model = self.model if payload.get("mode") == "generative" else EXTRACTIVE_MODEL
        try:
            async with self.db.transaction() as session:
                if await session.get(AIResult, key) is None:
                    session.add(
                        AIResult(
                            key=key,
                            target=target,
                            feature=feature,
                            language=language,
                            model=model,
                            payload=json.loads(json.dumps(payload)),
                        )
                    )
        except Exception:  # a concurrent render stored it first: the cache is an optimisation
            return


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _clean_question(question: str) -> str:
    return " ".join(question.split())[:MAX_QUESTION_CHARS]


def _document_of(article: ArticleDetail) -> _Document:
    return _Document(article.id, article.source.name, article.title, article.text, article.language)


def _sentences(document: _Document) -> list[str]:
    if not document.sentences:
        document.sentences = split_sentences(document.text, document.language)
    return document.sentences


def _extractive_insights(document: _Document) -> Insights:
    sentences = _sentences(document)
    summary = extractive.summarize(document.title, document.text, language=document.language, n=3)
    picked = {s.index for s in summary}
    points = extractive.key_points(document.title, document.text, language=document.language, n=5)
    citations = tuple(
        Citation(number, document.article_id, document.source_name, s.text)
        for number, s in enumerate(summary, start=1)
    )
    return Insights(
        summary=tuple(CitedSentence(s.text, (n,)) for n, s in enumerate(summary, start=1)),
        key_points=tuple(p.text for p in points if p.index not in picked or len(sentences) <= 3),
        citations=citations,
        mode="extractive",
    )


def _extractive_brief(documents: list[_Document]) -> list[BriefSentence]:
    sources = [
        extractive.Source(d.article_id, d.source_name, d.title, d.language, d.text, None) for d in documents
    ]
    return [BriefSentence(s.text, s.article_id, s.source_name) for s in extractive.story_brief(sources, n=5)]


def _index_of(documents: Sequence[_Document]) -> SentenceIndex:
    """One BM25 index over the documents' sentences, shared by the quoted answer and the prompt."""
    index = SentenceIndex()
    for document in documents:
        index.add(document.article_id, _sentences(document))
    return index


def _extractive_answer(documents: list[_Document], question: str, index: SentenceIndex) -> AnswerView:
    if not question or not documents:
        return AnswerView(question, False, (), (), "extractive", None)
    names = {d.article_id: d.source_name for d in documents}
    result = extractive.answer(question, index, sources=names)
    citations = tuple(Citation(c.number, c.article_id, c.source_name, c.text) for c in result.citations)
    sentences = tuple(CitedSentence(c.text, (c.number,)) for c in result.citations)
    return AnswerView(question, result.found, sentences, citations, "extractive")


def _numbered(
    documents: Sequence[_Document],
    *,
    limit: int,
    question: str | None = None,
    index: SentenceIndex | None = None,
) -> list[SourceSentence]:
    """The sentences a model may use, numbered from 1: for a question, the best matches first."""
    rows: list[tuple[str, str, str]] = []
    if question:
        if index is None:  # not `or`: an empty index has len() 0 and would be rebuilt
            index = _index_of(documents)
        by_id = {d.article_id: d for d in documents}
        for doc_id, position, _ in index.search(question, limit):
            rows.append((doc_id, by_id[doc_id].source_name, _sentences(by_id[doc_id])[position]))
    if not rows:
        per_document = max(limit // max(len(documents), 1), 3)
        for document in documents:
            rows += [
                (document.article_id, document.source_name, s) for s in _sentences(document)[:per_document]
            ]
    return [
        SourceSentence(number=n, text=text, article_id=article_id, source_name=name)
        for n, (article_id, name, text) in enumerate(rows[:limit], start=1)
    ]


def _cited(
    output: GroundedOutput, sources: Sequence[SourceSentence]
) -> tuple[tuple[CitedSentence, ...], tuple[Citation, ...]]:
    by_number = {s.number: s for s in sources}
    used: dict[int, int] = {}  # source number → display number
    sentences = []
    for sentence in output.kept:
        numbers = []
        for cited in sentence.citations:
            if cited in by_number:
                used.setdefault(cited, len(used) + 1)
                numbers.append(used[cited])
        sentences.append(CitedSentence(_strip_markers(sentence.text), tuple(numbers)))
    citations = tuple(
        Citation(display, by_number[n].article_id, by_number[n].source_name, by_number[n].text)
        for n, display in sorted(used.items(), key=lambda item: item[1])
    )
    return tuple(sentences), citations


def _strip_markers(text: str) -> str:
    from tidings.ai.grounded import strip_citations

    return strip_citations(text)


def _answer_from_grounded(
    question: str, result: Any, sources: Sequence[SourceSentence], fallback: AnswerView
) -> AnswerView:
    output: GroundedOutput | None = getattr(result, "output", None)
    if output is None or output.fallback or not output.kept:
        return AnswerView(
            question, fallback.found, fallback.sentences, fallback.citations, "extractive", result.note
        )
    sentences, citations = _cited(output, sources)
    return AnswerView(question, True, sentences, citations, "generative", result.note)


def _insights_from(payload: dict[str, Any]) -> Insights:
    return Insights(
        summary=tuple(CitedSentence(s["text"], tuple(s["citations"])) for s in payload["summary"]),
        key_points=tuple(payload["key_points"]),
        citations=tuple(Citation(**c) for c in payload["citations"]),
        mode=payload["mode"],
        note=payload.get("note"),
    )
