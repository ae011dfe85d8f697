"""Sentence retrieval for cited answers: tokenisation and a BM25 index with numpy postings.

Why our own BM25 rather than the database's full-text search: answers are composed from sentences,
not articles, and must be filtered to one story's articles, optionally re-ranked by embeddings, in
well under 300 ms at 100k sentences. The index keeps one posting list per term (sentence ids and term
frequencies in compact arrays) so a query touches only the postings of its own terms, scored
vectorised in numpy, never a Python loop over all sentences.

Tokenisation is shared with the extractive summariser: Latin-script and other spaced scripts give
lowercased words (stopwords dropped, a light English-style suffix stemmer so "rescuers" matches
"rescuer" and "collapsed" matches "collapse"); Chinese, Japanese and Korean runs give overlapping
character bigrams, which need no dictionary and match well across word-boundary ambiguity.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Collection, Sequence
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+|[^\W_]+")
_CJK_RUN = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_ASCII_WORD = re.compile(r"^[a-z]+$")


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Function words of the languages Tidings reads most, plus question words: they carry no topic, and
# dropping them keeps posting lists short (what makes queries fast) and question words from matching.
STOPWORDS = _wordset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours out over own same she should
    so some such than that the their theirs them then there these they this those through to too under
    until up very was we were what when where which while who whom whose why will with would you your
    yours yourself s t d ll m re ve said says say told according mr mrs ms did didn doesn don isn wasn
    won wouldn couldn shouldn aren weren hasn haven hadn also however many much one two may might must
    shall
    der die das den dem des ein eine einer eines einem einen und oder aber doch auch als wie im in ist
    sind war waren wird werden wurde wurden hat haben hatte nicht mit von zu zum zur für auf aus bei
    nach vor über unter durch sich sie er es wir ihr ich man dass so noch nur schon sehr am an
    le la les un une des du de et ou mais est sont était été être a ont avait il elle ils elles nous vous
    on ce cette ces qui que quoi dont où dans pour par sur avec sans en au aux ne pas plus se son sa ses
    leur leurs selon
    el los las una unos unas del al y o pero es son era fue ser han ha había lo que en por para con sin
    su sus se como más según este esta estos estas
    il lo gli uno della delle dei degli nel nella nei negli per con non sono era è ha hanno che di da
    come più questo questa
    het een en of maar is zijn was waren wordt werd heeft hebben had niet met van voor op aan bij door
    dat die deze dit ook naar om als
    """
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper for ASCII words: plurals, -ing, -ed, trailing e (Porter step 1 only)."""
    if len(word) <= 3 or not _ASCII_WORD.match(word):
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    else:
        return word[:-1] if word.endswith("e") and len(word) > 3 else word
    # "stopped" -> "stopp" -> "stop"; "making" -> "mak" = stem("make")
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def tokenize(text: str) -> list[str]:
    """Index terms of `text`: stemmed content words, and character bigrams for CJK runs."""
    tokens: list[str] = []
    for run in _WORD.findall(text.lower()):
        if _CJK_RUN.match(run):
            if len(run) == 1:
                tokens.append(run)
            else:
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif run not in STOPWORDS and (len(run) > 1 or run.isdigit()):
            tokens.append(stem(run))
    return tokens


class SentenceIndex:
    """BM25 over sentences grouped by document, with an optional embedding re-rank.

    Adding a document id again replaces its sentences (the old ones are tombstoned). Vectors, when
    given, are one L2-normalised row per sentence, aligned with the sentences passed to `add`.
    """

    K1 = 1.2
    B = 0.75
    RERANK_POOL = 50  # BM25 candidates re-scored with embeddings
    DENSE_LIMIT = 5000  # with a doc filter up to this many sentences, every one is scored densely

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._sentence_doc: array[int] = array("i")  # sentence id -> document number
        self._sentence_pos: array[int] = array("i")  # sentence id -> index within its document
        self._lengths: array[int] = array("i")
        self._alive: array[int] = array("b")
        self._docs: dict[str, int] = {}
        self._doc_names: list[str] = []
        self._doc_spans: dict[int, tuple[int, int]] = {}
        self._postings: dict[str, tuple[array[int], array[int]]] = {}
        self._vectors: dict[int, np.ndarray] = {}  # document number -> its sentence vectors
        self._total_length = 0
        self._live_count = 0
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return self._live_count

    def add(self, doc_id: str, sentences: Sequence[str], vectors: np.ndarray | None = None) -> None:
        if vectors is not None and len(vectors) != len(sentences):
            raise ValueError("one vector per sentence is required")
        if doc_id in self._docs:
            self._remove(self._docs[doc_id])
        doc = len(self._doc_names)
        self._docs[doc_id] = doc
        self._doc_names.append(doc_id)
        first = len(self._texts)
        for position, sentence in enumerate(sentences):
            sid = len(self._texts)
            self._texts.append(sentence)
            counts: dict[str, int] = {}
            tokens = tokenize(sentence)
            for token in tokens:
                counts[token] = counts.get(token, 0) + 1
            for token, count in counts.items():
                posting = self._postings.get(token)
                if posting is None:
                    posting = self._postings[token] = (array("i"), array("i"))
                posting[0].append(sid)
                posting[1].append(count)
            self._sentence_doc.append(doc)
            self._sentence_pos.append(position)
            self._lengths.append(len(tokens))
            self._alive.append(1)
            self._total_length += len(tokens)
        self._live_count += len(sentences)
        self._doc_spans[doc] = (first, len(self._texts))
        if vectors is not None and len(sentences):
            self._vectors[doc] = np.asarray(vectors, dtype=np.float32)
        self._arrays = None

    def _remove(self, doc: int) -> None:
        start, stop = self._doc_spans.pop(doc)
        for sid in range(start, stop):
            self._alive[sid] = 0
            self._total_length -= self._lengths[sid]
        self._live_count -= stop - start
        self._vectors.pop(doc, None)

    def sentence(self, doc_id: str, index: int) -> str:
        start, stop = self._doc_spans[self._docs[doc_id]]
        if not 0 <= index < stop - start:
            raise IndexError(index)
        return self._texts[start + index]

    def vector(self, doc_id: str, index: int) -> np.ndarray | None:
        vectors = self._vectors.get(self._docs[doc_id])
        return None if vectors is None else vectors[index]

    def contains(self, doc_id: str, term: str) -> bool:
        """Whether any sentence of the document has `term` (postings are in sentence-id order)."""
        posting = self._postings.get(term)
        span = self._doc_spans.get(self._docs.get(doc_id, -1))
        if posting is None or span is None:
            return False
        ids = np.frombuffer(posting[0], dtype=np.int32)
        at = int(np.searchsorted(ids, span[0]))
        return at < len(ids) and int(ids[at]) < span[1]

    def idf(self, term: str) -> float:
        """BM25's (always positive) idf; unseen terms get the highest value."""
        posting = self._postings.get(term)
        df = len(posting[0]) if posting else 0
        n = max(self._live_count, 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _numpy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Built lazily after adds, so bulk loading stays cheap; np.frombuffer shares the arrays' memory.
        if self._arrays is None:
            self._arrays = (
                np.frombuffer(self._sentence_doc, dtype=np.int32).copy(),
                np.frombuffer(self._lengths, dtype=np.int32).astype(np.float32),
                np.frombuffer(self._alive, dtype=np.int8).astype(bool),
            )
        return self._arrays

    def search(
        self,
        question: str,
        k: int,
        *,
        question_vector: np.ndarray | None = None,
        doc_ids: Collection[str] | None = None,
    ) -> list[tuple[str, int, float]]:
        """Best `k` sentences as (doc id, sentence index, score), best first.

        The score is BM25; with a question vector and stored sentence vectors, the top BM25
        candidates (plus, within `doc_ids`, every sentence with a vector, so a question in another
        language still finds them) are re-ranked by 0.5 * BM25/max BM25 + 0.5 * cosine.
        """
        if k <= 0 or not self._live_count:
            return []
        sentence_doc, lengths, alive = self._numpy()
        allowed: np.ndarray | None = None
        if doc_ids is not None:
            allowed = np.asarray(sorted({self._docs[d] for d in doc_ids if d in self._docs}), dtype=np.int32)
            if not len(allowed):
                return []
        terms = list(dict.fromkeys(tokenize(question)))
        average = self._total_length / max(self._live_count, 1) or 1.0
        ids_parts: list[np.ndarray] = []
        score_parts: list[np.ndarray] = []
        for term in terms:
            posting = self._postings.get(term)
            if posting is None:
                continue
            ids = np.frombuffer(posting[0], dtype=np.int32)
            tf = np.frombuffer(posting[1], dtype=np.int32).astype(np.float32)
            norm = self.K1 * (1 - self.B + self.B * lengths[ids] / average)
            ids_parts.append(ids)
            score_parts.append(self.idf(term) * tf * (self.K1 + 1) / (tf + norm))
        candidates = np.zeros(0, dtype=np.int64)
        scores = np.zeros(0, dtype=np.float32)
        if ids_parts:
            all_ids = np.concatenate(ids_parts)
            all_scores = np.concatenate(score_parts)
            candidates, inverse = np.unique(all_ids, return_inverse=True)
            scores = np.bincount(inverse, weights=all_scores).astype(np.float32)
            keep = alive[candidates]
            if allowed is not None:
                keep &= np.isin(sentence_doc[candidates], allowed)
            candidates, scores = candidates[keep], scores[keep]
        use_vectors = question_vector is not None and bool(self._vectors)
        pool = max(k, self.RERANK_POOL) if use_vectors else k
        if len(candidates) > pool:
            top = np.argpartition(-scores, pool - 1)[:pool]
            candidates, scores = candidates[top], scores[top]
        if use_vectors:
            assert question_vector is not None
            candidates, scores = self._rerank(
                candidates, scores, np.asarray(question_vector, np.float32), allowed
            )
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            (
                self._doc_names[sentence_doc[candidates[i]]],
                self._sentence_pos[int(candidates[i])],
                float(scores[i]),
            )
            for i in order
            if scores[i] > 0
        ]

    def _rerank(
        self, candidates: np.ndarray, scores: np.ndarray, question: np.ndarray, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        pool = [candidates.astype(np.int64)]
        if allowed is not None:
            # A story's articles are few: score all their sentences densely, so a question in another
            # language (no shared words) still finds them. Not for a filter spanning the whole corpus.
            spans = [
                self._doc_spans[d] for d in allowed.tolist() if d in self._vectors and d in self._doc_spans
            ]
            if sum(stop - start for start, stop in spans) <= self.DENSE_LIMIT:
                pool.extend(np.arange(start, stop, dtype=np.int64) for start, stop in spans)
        ids = np.unique(np.concatenate(pool))
        lexical = np.zeros(len(ids), dtype=np.float32)
        lexical[np.searchsorted(ids, candidates)] = scores
        top = float(scores.max()) if len(scores) else 0.0
        cosine = np.zeros(len(ids), dtype=np.float32)
        for i, sid in enumerate(ids.tolist()):
            vectors = self._vectors.get(self._sentence_doc[sid])
            if vectors is not None:
                cosine[i] = float(vectors[self._sentence_pos[sid]] @ question)
        return ids, 0.5 * lexical / (top or 1.0) + 0.5 * np.maximum(cosine, 0.0)
