"""How alike two articles are: the measure related articles and story clustering will build on.

Today: the cosine of the default embedder over the article's title and full text, after repairing
mojibake (UTF-8 read as Latin-1/CP-1252, which scraped pages and some feeds produce and which
otherwise reads as a foreign language). Measured on the SemEval-2022 dev pairs
(benchmarks/similarity.py), this single signal was not beaten by the hybrids tried so far: title +
lead alone 0.702, the mean of ~600-character chunks 0.710, TF-IDF 0.537, and weighted mixes of
these at most 0.7226, against 0.723 for the full text. Hybrid signals that could still add (named
entities, numbers and dates in common, time apart) belong to the understanding issue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from tidings.ai.embeddings import Embedder

_MOJIBAKE_HINT = re.compile("[ÃÂÄÅÐÑØ][\u0080-\u00ff\u0100-\u017f\u2010-\u203a]")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 bytes decoded as Latin-1/CP-1252, when that is clearly what happened."""
    if not _MOJIBAKE_HINT.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec, errors="strict").decode("utf-8", errors="strict")
        except UnicodeError:
            continue
    # Mixed damage: repair what can be repaired, keep the rest.
    return text.encode("cp1252", errors="ignore").decode("utf-8", errors="replace").replace("\ufffd", "")


def article_vectors(embedder: Embedder, articles: Sequence[tuple[str | None, str]]) -> np.ndarray:
    """One L2-normalised vector per (title, text), embedded in one batched call."""
    texts = [repair_mojibake(f"{title}. {text}" if title else text) or " " for title, text in articles]
    return embedder.embed(texts)


def article_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Similarity of two article vectors (higher = more alike; cosine, as vectors are normalised)."""
    return float(a @ b)
