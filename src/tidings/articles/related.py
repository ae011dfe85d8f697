"""Related articles: same topic, recent, diverse sources, never the article's own copies.

Candidates come from two places: the nearest vectors (embedding similarity, which also finds the
same event reported in another language) and articles sharing hashtags. Each is scored on a
hybrid of the two plus closeness in time, then picked greedily with maximal marginal relevance so
the list does not show five near-identical takes, and with at most two per publisher. Articles of
the same story are left to the separate "more in this story" list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

# Weights of the hybrid score; embedding similarity carries the topic, hashtags confirm it.
W_EMBEDDING = 0.6
W_TAGS = 0.25
W_RECENCY = 0.15
RECENCY_HALF_LIFE_DAYS = 7.0
MMR_LAMBDA = 0.75
MAX_PER_SOURCE = 2
# Below this cosine a neighbour is not related, just the least unrelated thing in the index.
MIN_EMBEDDING_SIMILARITY = 0.35


def hybrid_score(*, cosine: float, shared_tags: int, days_apart: float) -> float:
    tags = min(shared_tags / 3, 1.0)
    recency = 0.5 ** (days_apart / RECENCY_HALF_LIFE_DAYS)
    return W_EMBEDDING * cosine + W_TAGS * tags + W_RECENCY * recency


def pick_related(
    rows: Sequence[Any],
    *,
    anchor: datetime,
    similarity: dict[str, float],
    shared: dict[str, int],
    vector_of: Callable[[str], np.ndarray | None],
    limit: int,
) -> list[Any]:
    """Rows (with .id, .source_id, .published_at) in the order to show them."""
    scored = []
    for row in rows:
        cosine = similarity.get(row.id, 0.0)
        if cosine < MIN_EMBEDDING_SIMILARITY and not shared.get(row.id):
            continue
        days_apart = abs((row.published_at - anchor).total_seconds()) / 86400
        scored.append(
            (hybrid_score(cosine=cosine, shared_tags=shared.get(row.id, 0), days_apart=days_apart), row)
        )
    scored.sort(key=lambda pair: pair[0], reverse=True)
    picked: list[Any] = []
    picked_vectors: list[np.ndarray] = []
    per_source: Counter[int] = Counter()
    candidates = scored[: limit * 6]
    while candidates and len(picked) < limit:
        best_index, best_value = -1, float("-inf")
        for index, (score, row) in enumerate(candidates):
            if per_source[row.source_id] >= MAX_PER_SOURCE:
                continue
            redundancy = _max_similarity(vector_of(row.id), picked_vectors)
            value = MMR_LAMBDA * score - (1 - MMR_LAMBDA) * redundancy
            if value > best_value:
                best_index, best_value = index, value
        if best_index < 0:
            break
        _, row = candidates.pop(best_index)
        picked.append(row)
        per_source[row.source_id] += 1
        vector = vector_of(row.id)
        if vector is not None:
            picked_vectors.append(vector)
    return picked


def _max_similarity(vector: np.ndarray | None, others: list[np.ndarray]) -> float:
    if vector is None or not others:
        return 0.0
    return float(np.max(np.vstack(others) @ vector))
