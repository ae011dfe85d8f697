from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from tidings.articles.related import hybrid_score, pick_related
from tidings.stories.repo import story_score

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@dataclass
class Row:
    id: str
    source_id: int
    published_at: datetime


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_hybrid_score_prefers_similar_recent_and_tagged() -> None:
    assert hybrid_score(cosine=0.8, shared_tags=0, days_apart=0) > hybrid_score(
        cosine=0.5, shared_tags=0, days_apart=0
    )
    assert hybrid_score(cosine=0.6, shared_tags=2, days_apart=1) > hybrid_score(
        cosine=0.6, shared_tags=0, days_apart=1
    )
    assert hybrid_score(cosine=0.6, shared_tags=0, days_apart=0) > hybrid_score(
        cosine=0.6, shared_tags=0, days_apart=30
    )


def test_pick_related_caps_sources_skips_unrelated_and_avoids_redundancy() -> None:
    rows = [Row(f"a{i}", source_id=1, published_at=NOW) for i in range(4)] + [
        Row("b", source_id=2, published_at=NOW),
        Row("c", source_id=3, published_at=NOW),
        Row("far", source_id=4, published_at=NOW),
    ]
    similarity = {"a0": 0.9, "a1": 0.89, "a2": 0.88, "a3": 0.87, "b": 0.7, "c": 0.69, "far": 0.1}
    vectors = {
        "a0": _unit(1, 0, 0),
        "a1": _unit(1, 0.01, 0),
        "a2": _unit(1, 0, 0.01),
        "a3": _unit(1, 0.02, 0),
        "b": _unit(0, 1, 0),
        "c": _unit(0.2, 0.2, 1),
        "far": _unit(0, 0, -1),
    }
    picked = pick_related(rows, anchor=NOW, similarity=similarity, shared={}, vector_of=vectors.get, limit=5)
    ids = [row.id for row in picked]
    assert sum(1 for i in ids if i.startswith("a")) == 2  # at most two per publisher
    assert "far" not in ids  # below the similarity floor, no shared hashtags
    assert {"b", "c"} <= set(ids)
    # A hashtag in common rescues a candidate the vectors alone would not show.
    rescued = pick_related(
        rows, anchor=NOW, similarity=similarity, shared={"far": 3}, vector_of=vectors.get, limit=6
    )
    assert "far" in [row.id for row in rescued]


def test_story_score_rewards_sources_over_volume_and_decays() -> None:
    diverse = story_score(sources=6, articles=6, last=NOW, now=NOW)
    prolific = story_score(sources=1, articles=12, last=NOW, now=NOW)
    assert diverse > prolific
    assert story_score(sources=6, articles=6, last=NOW - timedelta(hours=12), now=NOW) < diverse / 1.9
