"""Extractive AI features that need no language model: summaries, key points, story briefs, cited answers.

Why extractive: every sentence shown is a verbatim sentence of a named article, so nothing can be
invented, each output points back to its source (sentence index), it runs in milliseconds on a CPU,
and it works in every language the sentence splitter and tokeniser handle. A generative model can be
layered on later; `supports()` is there to check its sentences against the cited ones.

Scoring is news-aware: the lead carries the story (a position prior), central sentences restate what
the article is about (cosine to the centroid and TextRank, over sentence embeddings when given, over
term vectors otherwise), the headline names the topic (title overlap), and maximal marginal relevance
keeps near-repeats out. Sentence indexes refer to `split_sentences(text, language)`, which is also
the order of the per-sentence `vectors` callers may pass.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tidings.ai.retrieval import STOPWORDS, SentenceIndex, tokenize
from tidings.ai.sentences import split_sentences

NOT_FOUND = "The coverage does not say."  # constant on purpose: the UI translates it

# Answer relevance floor: the idf-weighted share of the question's terms a sentence must contain
# (or, with embeddings, its cosine to the question) before it may be offered as an answer.
# Names in the question (capitalised words after its first) must mostly occur in the cited article:
# "Who won the Tokyo marathon?" is not answered by a sentence about the Chicago marathon.
COVERAGE_FLOOR = 0.4
COSINE_FLOOR = 0.55
NAME_FLOOR = 0.5


@dataclass(frozen=True)
class Sentence:
    index: int  # into split_sentences(text, language)
    text: str


@dataclass(frozen=True)
class Source:
    article_id: str
    source_name: str
    title: str
    language: str | None
    text: str
    published_at: datetime | None


@dataclass(frozen=True)
class AttributedSentence:
    text: str
    article_id: str
    source_name: str
    index: int


@dataclass(frozen=True)
class Citation:
    number: int
    article_id: str
    sentence_index: int
    text: str
    source_name: str | None


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]
    found: bool


@dataclass(frozen=True)
class _Weights:
    lead: float  # position prior, exp(-index / lead_decay)
    lead_decay: float
    centroid: float
    textrank: float
    title: float
    length: float
    informative: float  # numbers and capitalised names: what bullets should carry
    redundancy: float  # MMR penalty on the max similarity to what is already chosen


# Tuned on the even-numbered half of the BBC News Summary set and checked on the odd half (see
# benchmarks/summaries.py); key points lean less on the lead and more on facts.
SUMMARY_WEIGHTS = _Weights(
    lead=0.3,
    lead_decay=3.0,
    centroid=0.7,
    textrank=0.4,
    title=0.15,
    length=0.5,
    informative=0.05,
    redundancy=0.3,
)
KEY_POINT_WEIGHTS = _Weights(
    lead=0.15,
    lead_decay=6.0,
    centroid=0.6,
    textrank=0.3,
    title=0.1,
    length=0.4,
    informative=0.25,
    redundancy=0.6,
)
_DUPLICATE = 0.8  # similarity above which two sentences say the same thing: never both

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<=\s)[A-Z][\w'-]+")
_CONNECTIVE = re.compile(
    r"^(?:But|And|However|Meanwhile|Also|So|Still|Yet|Moreover|Furthermore)\b,?\s+(?=\S)"
)


# --- summaries and key points ------------------------------------------------------------------------


def summarize(
    title: str | None, text: str, *, language: str | None, n: int = 3, vectors: np.ndarray | None = None
) -> list[Sentence]:
    """The `n` sentences that best summarise the article, in article order."""
    sentences = split_sentences(text, language)
    chosen = _select(title, sentences, vectors, n, SUMMARY_WEIGHTS)
    return [Sentence(i, sentences[i]) for i in sorted(chosen)]


def key_points(
    title: str | None, text: str, *, language: str | None, n: int = 5, vectors: np.ndarray | None = None
) -> list[Sentence]:
    """Up to `n` informative, mutually distinct sentences as bullets, in article order.

    The only edit is dropping a leading connective ("However, ", "But ") that makes no sense out of
    context; the text is otherwise verbatim and `index` points at the original sentence.
    """
    sentences = split_sentences(text, language)
    # Questions and very short lines make poor bullets; they stay eligible only if nothing else is.
    eligible = [
        i
        for i, s in enumerate(sentences)
        if not s.rstrip("\"'”’»」 ").endswith(("?", "？")) and _words(s) >= 5
    ]
    chosen = _select(title, sentences, vectors, n, KEY_POINT_WEIGHTS, eligible=eligible or None)
    return [Sentence(i, _drop_connective(sentences[i])) for i in sorted(chosen)]


def _drop_connective(sentence: str) -> str:
    rest = _CONNECTIVE.sub("", sentence, count=1)
    return rest[0].upper() + rest[1:] if rest != sentence and rest else sentence


def _words(sentence: str) -> int:
    # CJK has no spaces: about 1.5 characters carry what one English word does.
    return max(len(sentence.split()), int(sum(1 for c in sentence if "\u3040" <= c <= "\ud7af") / 1.5))


def _select(
    title: str | None,
    sentences: list[str],
    vectors: np.ndarray | None,
    n: int,
    weights: _Weights,
    *,
    eligible: list[int] | None = None,
) -> list[int]:
    if vectors is not None and len(vectors) != len(sentences):
        raise ValueError(f"{len(vectors)} vectors for {len(sentences)} sentences")
    if n <= 0 or not sentences:
        return []
    tokens = [tokenize(s) for s in sentences]
    similarity, centrality, textrank = _graph(tokens, vectors)
    scores = _scores(title, sentences, tokens, centrality, textrank, weights)
    return _mmr(scores, similarity, n, weights.redundancy, eligible=eligible)


def _term_matrix(token_lists: Sequence[list[str]]) -> np.ndarray:
    """Row-normalised binary term vectors; terms weighted by sqrt(in-document frequency).

    Without a background corpus there is no global idf, and a within-document idf would punish the
    very words the article keeps repeating; frequency weighting makes those the centroid instead.
    """
    vocabulary: dict[str, int] = {}
    for tokens in token_lists:
        for token in tokens:
            vocabulary.setdefault(token, len(vocabulary))
    matrix = np.zeros((len(token_lists), max(len(vocabulary), 1)), dtype=np.float32)
    for row, tokens in enumerate(token_lists):
        if tokens:
            matrix[row, [vocabulary[t] for t in set(tokens)]] = 1.0
    weight = np.sqrt(matrix.sum(axis=0))
    matrix *= weight
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


def _graph(tokens: list[list[str]], vectors: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise similarity, cosine to the centroid and TextRank, lexical and (averaged in) embedding."""
    lexical = _term_matrix(tokens)
    similarity = lexical @ lexical.T
    centroid = lexical.sum(axis=0)
    centrality = lexical @ (centroid / max(float(np.linalg.norm(centroid)), 1e-9))
    if vectors is not None and len(vectors):
        dense = np.asarray(vectors, dtype=np.float32)
        dense = dense / np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-9)
        mean = dense.sum(axis=0)
        dense_centrality = dense @ (mean / max(float(np.linalg.norm(mean)), 1e-9))
        similarity = 0.5 * similarity + 0.5 * np.clip(dense @ dense.T, 0.0, 1.0)
        centrality = 0.5 * centrality + 0.5 * dense_centrality
    return similarity, centrality, _textrank(similarity)


def _textrank(similarity: np.ndarray, damping: float = 0.85, iterations: int = 30) -> np.ndarray:
    n = len(similarity)
    if n < 3:
        return np.ones(n, dtype=np.float32)
    weights = similarity.astype(np.float32, copy=True)
    np.fill_diagonal(weights, 0.0)
    out = weights.sum(axis=1, keepdims=True)
    # A sentence sharing nothing with the others links to all of them uniformly (standard dangling-node
    # handling); otherwise its rank leaks away and the few connected sentences look overly central.
    transition = np.where(out > 0, weights / np.maximum(out, 1e-9), 1.0 / n)
    rank = np.full(n, 1.0 / n, dtype=np.float32)
    for _ in range(iterations):
        rank = (1 - damping) / n + damping * (transition.T @ rank)
    return rank / max(float(rank.max()), 1e-9)


def _scores(
    title: str | None,
    sentences: list[str],
    tokens: list[list[str]],
    centrality: np.ndarray,
    textrank: np.ndarray,
    weights: _Weights,
) -> np.ndarray:
    n = len(sentences)
    position = np.exp(-np.arange(n, dtype=np.float32) / weights.lead_decay)
    title_terms = set(tokenize(title)) if title else set()
    title_overlap = np.asarray(
        [len(title_terms & set(t)) / len(title_terms) if title_terms else 0.0 for t in tokens],
        dtype=np.float32,
    )
    words = np.asarray([_words(s) for s in sentences], dtype=np.float32)
    # Short lines (captions, datelines, "He declined.") say little; very long ones are run-ons.
    length = np.minimum(words / 20.0, 1.0) - np.maximum(words - 60.0, 0.0) / 60.0
    informative = np.asarray(
        [min(len(_NUMBER.findall(s)) + len(_NAME.findall(s)), 4) / 4 for s in sentences], dtype=np.float32
    )
    return (
        weights.lead * position
        + weights.centroid * _unit(centrality)
        + weights.textrank * textrank
        + weights.title * title_overlap
        + weights.length * length
        + weights.informative * informative
    )


def _unit(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else values


def _mmr(
    scores: np.ndarray,
    similarity: np.ndarray,
    n: int,
    redundancy: float,
    *,
    eligible: list[int] | None = None,
    groups: np.ndarray | None = None,
    group_penalty: float = 0.0,
) -> list[int]:
    """Greedy maximal marginal relevance: score minus `redundancy` x similarity to the chosen ones.

    `groups` (e.g. the source of each sentence) adds `group_penalty` per sentence already chosen
    from the same group, which spreads a story brief across outlets.
    """
    candidates = np.zeros(len(scores), dtype=bool)
    candidates[eligible if eligible is not None else slice(None)] = True
    closest = np.zeros(len(scores), dtype=np.float32)
    used = np.zeros(len(scores), dtype=np.float32)
    chosen: list[int] = []
    while len(chosen) < n and candidates.any():
        marginal = scores - redundancy * closest - group_penalty * used
        marginal = np.where(candidates, marginal, -np.inf)
        best = int(np.argmax(marginal))
        chosen.append(best)
        candidates[best] = False
        closest = np.maximum(closest, similarity[best])
        candidates &= closest < _DUPLICATE
        if groups is not None:
            used += groups == groups[best]
    return chosen


# --- story briefs ------------------------------------------------------------------------------------


def story_brief(
    sources: Sequence[Source], *, n: int = 5, vectors_by_article: Mapping[str, np.ndarray] | None = None
) -> list[AttributedSentence]:
    """The `n` sentences that best cover a story across its articles, most important first.

    Centrality is measured across sources (a sentence that other outlets corroborate scores high),
    redundancy across sources is penalised (a wire copy's repeat is never picked twice), and each
    further pick from an outlet already quoted costs a little, so the brief spreads over outlets.
    Embeddings are used only when every article has them (rows aligned with each article's
    `split_sentences`), since mixing the two scales would favour whichever articles have vectors.
    `published_at` is not scored: recency is the story view's concern, importance is this one's.
    """
    rows: list[tuple[int, int, str]] = []  # (source number, sentence index, text)
    per_source: list[list[str]] = []
    for number, source in enumerate(sources):
        sentences = split_sentences(source.text, source.language)
        per_source.append(sentences)
        rows.extend((number, i, s) for i, s in enumerate(sentences))
    if not rows or n <= 0:
        return []
    tokens = [tokenize(text) for _, _, text in rows]
    owner = np.asarray([r[0] for r in rows])
    position = np.asarray([r[1] for r in rows], dtype=np.float32)
    vectors: np.ndarray | None = None
    if vectors_by_article and all(s.article_id in vectors_by_article for s in sources):
        parts = [np.asarray(vectors_by_article[s.article_id], dtype=np.float32) for s in sources]
        if all(len(p) == len(sents) for p, sents in zip(parts, per_source, strict=True)):
            vectors = np.vstack([p for p in parts if len(p)])
    similarity, centrality, _ = _graph(tokens, vectors)
    if len(sources) > 1:
        centrality = _corroboration(similarity, owner, len(sources))
    title_overlap = np.zeros(len(rows), dtype=np.float32)
    for number, source in enumerate(sources):
        title_terms = set(tokenize(source.title))
        if title_terms:
            for row in np.flatnonzero(owner == number):
                title_overlap[row] = len(title_terms & set(tokens[row])) / len(title_terms)
    words = np.asarray([_words(r[2]) for r in rows], dtype=np.float32)
    scores = (
        0.3 * np.exp(-position / 4.0)
        + 0.5 * _unit(centrality)
        + 0.1 * title_overlap
        + 0.2 * (np.minimum(words / 20.0, 1.0) - np.maximum(words - 60.0, 0.0) / 60.0)
    )
    chosen = _mmr(scores, similarity, n, 0.6, groups=owner, group_penalty=0.08)
    return [
        AttributedSentence(
            rows[i][2], sources[rows[i][0]].article_id, sources[rows[i][0]].source_name, rows[i][1]
        )
        for i in chosen
    ]


def _corroboration(similarity: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """Per sentence, the mean over the other articles of its best match there.

    An article that is a copy of another (most of its sentences matched at >= 0.9) does not count
    as corroborating it: ten outlets running one wire story are one source, not ten.
    """
    best = np.zeros((len(owner), count), dtype=np.float32)  # best match of each row in each article
    for number in range(count):
        mask = owner == number
        if mask.any():
            best[:, number] = similarity[:, mask].max(axis=1)
    support = np.zeros(len(owner), dtype=np.float32)
    for number in range(count):
        rows = owner == number
        if not rows.any():
            continue
        others = [
            other
            for other in range(count)
            if other != number and (owner == other).any() and float(np.mean(best[rows, other] >= 0.9)) < 0.8
        ]
        if others:
            support[rows] = best[np.ix_(rows, others)].mean(axis=1)
    return support


# --- cited answers -----------------------------------------------------------------------------------


def answer(
    question: str,
    index: SentenceIndex,
    *,
    doc_ids: Collection[str] | None = None,
    k: int = 3,
    question_vector: np.ndarray | None = None,
    sources: Mapping[str, str] | None = None,
) -> Answer:
    """A short answer of 1-`k` verbatim retrieved sentences, each followed by its citation marker.

    Retrieved text is data, never instructions: sentences are only quoted, so an article saying
    "Ignore previous instructions" can at most appear as a cited quote. When no sentence clears the
    relevance floor the answer says so (`found=False`, text `NOT_FOUND`) instead of guessing.
    """
    hits = index.search(question, max(k * 4, 10), question_vector=question_vector, doc_ids=doc_ids)
    terms = list(dict.fromkeys(tokenize(question)))
    idf = {t: index.idf(t) for t in terms}
    total = sum(idf.values())
    names = {t for name in _NAME.findall(question) for t in tokenize(name)}
    picked: list[tuple[str, int, str, set[str]]] = []
    best_score = 0.0
    for doc_id, position, score in hits:
        text = index.sentence(doc_id, position)
        sentence_terms = set(tokenize(text))
        coverage = sum(v for t, v in idf.items() if t in sentence_terms) / total if total else 0.0
        cosine = 0.0
        if question_vector is not None:
            vector = index.vector(doc_id, position)
            cosine = float(vector @ np.asarray(question_vector, np.float32)) if vector is not None else 0.0
        if coverage < COVERAGE_FLOOR and cosine < COSINE_FLOOR:
            continue
        if names and sum(index.contains(doc_id, t) for t in names) < NAME_FLOOR * len(names):
            continue
        if picked and score < 0.6 * best_score:
            break  # what follows is much weaker than the best answer sentence
        if any(_jaccard(sentence_terms, other) > 0.5 for *_, other in picked):
            continue  # the same fact again, e.g. from a wire copy
        best_score = max(best_score, score)
        picked.append((doc_id, position, text, sentence_terms))
        if len(picked) >= k:
            break
    if not picked:
        return Answer(NOT_FOUND, [], found=False)
    citations = [
        Citation(number, doc_id, position, text, (sources or {}).get(doc_id))
        for number, (doc_id, position, text, _) in enumerate(picked, start=1)
    ]
    return Answer(" ".join(f"{c.text} [{c.number}]" for c in citations), citations, found=True)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _numbers(text: str) -> set[str]:
    # "1,000" and "1000" are the same number; "3.5" keeps its decimal point.
    return {re.sub(r",(?=\d{3}\b)", "", n) for n in _NUMBER.findall(text)}


def supports(claim: str, source_sentence: str) -> float:
    """How well `source_sentence` supports `claim`, in [0, 1], from overlap alone.

    Mostly the share of the claim's content terms found in the source, with its capitalised names
    weighing extra. A number in the claim that the source lacks caps the score at 0.3 (a wrong figure
    is the typical unsupported claim), and a negation on one side only takes it below 0.5.
    """
    claim_terms = set(tokenize(claim))
    if not claim_terms:
        return 0.0
    source_terms = set(tokenize(source_sentence))
    lexical = len(claim_terms & source_terms) / len(claim_terms)
    names = {m.lower() for m in _NAME.findall(f" {claim}")} - STOPWORDS  # " " lets the first word count
    source_words = set(re.findall(r"[\w'-]+", source_sentence.lower()))
    name_share = len(names & source_words) / len(names) if names else 1.0
    score = 0.75 * lexical + 0.25 * name_share
    claim_numbers = _numbers(claim)
    if claim_numbers and not claim_numbers <= _numbers(source_sentence):
        score = min(score, 0.3)
    if _negated(claim) != _negated(source_sentence):
        score *= 0.4
    return float(min(max(score, 0.0), 1.0))


_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|\w+n't)\b", re.IGNORECASE)


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text.replace("’", "'")))
