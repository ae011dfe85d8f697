"""Cheap signals beside the embedding for story clustering: names and numbers; average linkage.

Two reports of one event share proper names ("Airbus", "A380", "GM") and figures ("9,000",
"1.100") that a sentence embedding blurs. Measured on MEANTIME's four-language translations, the
IDF-weighted share of an article's names found in another report is 0.69 for the same article in
another language and 0.20 for the other stories most similar to it; for numbers, 0.89 against 0.09.
They are found with regular expressions only (no tagger, no model, well under a millisecond per
article): capitalised words that do not merely open a sentence, acronyms and codes ("EADS",
"A380", "iPhone"), and digit groups with separators removed, so that "1,100" (en) and "1.100"
(es) are one number. Scripts without capital letters (Japanese, Korean) yield numbers only,
which is why these signals may only add to a match, never be required for one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# Words (apostrophes end one: "Boeing's" is Boeing, "dell'Aeronautica" is Aeronautica) and numbers.
_TOKEN = re.compile(r"[^\W\d_][\w\-]*|\d[\d.,]*\d|\d")
_OPENS_SENTENCE = re.compile(r"(?:^|[.!?:;\"“”«»()。！？]\s*)$")
_CODE = re.compile(r"(?=.*\d)(?=.*[^\W\d_])")  # letters and digits: A380, G8, COVID-19
_SEPARATORS = re.compile(r"[.,]")
MIN_NUMBER_DIGITS = 2  # "3 people" says little; amounts, years and counts say more
MAX_SIGNAL_CHARS = 20_000  # who and what are in the first pages


@dataclass(frozen=True, slots=True)
class Signals:
    entities: frozenset[str]
    numbers: frozenset[str]


def extract_signals(title: str | None, text: str | None) -> Signals:
    """Names (lower-cased) and numbers (digits only) of an article; the title when there is no text.

    The body rather than the title: English headlines capitalise every word.
    """
    body = (text or "")[:MAX_SIGNAL_CHARS] or (title or "")
    entities: set[str] = set()
    numbers: set[str] = set()
    for match in _TOKEN.finditer(body):
        token = match.group()
        lower = token.lower()
        if token[0].isdigit():
            digits = _SEPARATORS.sub("", token).lstrip("0")
            if len(digits) >= MIN_NUMBER_DIGITS:
                numbers.add(digits)
        elif token == lower or len(token) < 2:
            continue  # lower-case words, and scripts without case
        elif token.isupper() or _CODE.match(token) or token[1:] != lower[1:]:
            entities.add(lower)  # acronyms, codes, inner capitals (McCain, iPhone)
        elif not _OPENS_SENTENCE.search(body, max(0, match.start() - 3), match.start()):
            entities.add(lower)  # a capital that only opens a sentence says nothing ("The", "El")
    return Signals(frozenset(entities), frozenset(numbers))


class DocumentFrequency:
    """Online document frequencies, so rare shared names weigh more than "US" or "2008".

    Every `horizon` documents all counts are halved and names seen once forgotten: the memory of a
    long-running worker stays bounded and the weights follow what the news is about lately.
    """

    def __init__(self, horizon: int = 100_000) -> None:
        self.documents = 0
        self.horizon = horizon
        self._counts: Counter[str] = Counter()

    def add(self, terms: Iterable[str]) -> None:
        self.documents += 1
        self._counts.update(terms)
        if self.documents >= self.horizon:
            self.documents //= 2
            self._counts = Counter({t: c // 2 for t, c in self._counts.items() if c >= 2})

    def idf(self, term: str) -> float:
        return math.log((1 + self.documents) / (1 + self._counts[term])) + 1.0


def overlap(
    terms: frozenset[str], story_terms: Counter[str], members: int, frequency: DocumentFrequency
) -> float:
    """Mean over the story's members of the IDF-weighted share of the article's terms they use.

    A mean, not "found anywhere in the story": a big story uses every name of its topic, and the
    bonus would otherwise grow with the story and pull in everything near it.
    """
    if not terms or not members:
        return 0.0
    total = shared = 0.0
    for term in terms:
        weight = frequency.idf(term)
        total += weight
        shared += weight * min(story_terms[term], members) / members
    return shared / total


def average_linkage_split(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    """Average-linkage clustering down to two groups: (labels 0/1, mean similarity between them).

    O(n³) in numpy, so callers cap n; stories that need splitting are small in practice.
    """
    n = len(vectors)
    if n < 2:
        return np.zeros(n, dtype=np.int8), 1.0
    similarity = (vectors @ vectors.T).astype(np.float64)
    sizes = np.ones(n)
    alive = np.ones(n, dtype=bool)
    group = np.arange(n)
    work = similarity.copy()
    np.fill_diagonal(work, -np.inf)
    for _ in range(n - 2):
        flat = int(np.argmax(work))
        i, j = divmod(flat, n)
        # Lance-Williams update for average linkage: the merged row is the size-weighted mean.
        merged = (work[i] * sizes[i] + work[j] * sizes[j]) / (sizes[i] + sizes[j])
        work[i, :] = merged
        work[:, i] = merged
        work[i, i] = -np.inf
        work[j, :] = -np.inf
        work[:, j] = -np.inf
        sizes[i] += sizes[j]
        alive[j] = False
        group[group == j] = i
    first, second = np.flatnonzero(alive)
    labels = (group == second).astype(np.int8)
    between = float(similarity[np.ix_(group == first, group == second)].mean())
    return labels, between
