"""Online story clustering: joining, time, merge, split, restore; names and numbers; real languages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tidings.stories.clustering import (
    Assignment,
    ClusteringParams,
    StoryChange,
    StoryClusterer,
    StoryItem,
    central_article,
)
from tidings.stories.signals import DocumentFrequency, average_linkage_split, extract_signals

T0 = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
DIM = 8


def vec(*components: float) -> np.ndarray:
    """A unit vector from its first few components (the rest zero)."""
    vector = np.zeros(DIM, dtype=np.float32)
    vector[: len(components)] = components
    return vector / np.linalg.norm(vector)


def at_cosine(base: np.ndarray, cosine: float, towards: int) -> np.ndarray:
    """A unit vector whose cosine with the unit vector `base` is `cosine` (axis `towards` ⟂ base)."""
    other = np.zeros(DIM, dtype=np.float32)
    other[towards] = 1.0
    return (cosine * base + np.sqrt(1 - cosine**2) * other).astype(np.float32)


def item(
    article_id: str,
    vector: np.ndarray,
    hours: float = 0.0,
    *,
    language: str | None = "en",
    text: str = "",
    source: str | None = "Example News",
) -> StoryItem:
    return StoryItem(article_id, vector, T0 + timedelta(hours=hours), article_id, text, language, source)


E1, E2, E3 = vec(1), vec(0, 1), vec(0, 0, 1)


def test_a_close_article_joins_and_an_unrelated_one_starts_a_story() -> None:
    clusterer = StoryClusterer()
    assert clusterer.add(item("a", E1)) == Assignment("a", True, 0.0)
    joined = clusterer.add(item("b", at_cosine(E1, 0.9, 5), hours=2))
    assert (joined.story_id, joined.is_new) == ("a", False) and joined.score > 0.8
    new = clusterer.add(item("c", E2, hours=3))
    assert (new.story_id, new.is_new) == ("c", True)
    assert clusterer.story_of("b") == "a" and clusterer.story_of("c") == "c"
    assert clusterer.story_of("unknown") is None
    state = clusterer.stories()["a"]
    assert state.members == ["a", "b"]
    assert state.first_published == T0 and state.last_published == T0 + timedelta(hours=2)
    assert state.languages == {"en": 2} and state.sources == {"Example News": 2}
    assert np.isclose(np.linalg.norm(state.centroid), 1.0)
    # Adding the same article again changes nothing.
    assert clusterer.add(item("b", E2)) == Assignment("a", False, 1.0)


def test_the_best_story_wins() -> None:
    clusterer = StoryClusterer()
    clusterer.add(item("a", E1))
    clusterer.add(item("b", E2))
    assert clusterer.add(item("c", vec(0.3, 1))).story_id == "b"


def test_time_window_and_time_penalty() -> None:
    clusterer = StoryClusterer()
    clusterer.add(item("a", E1))
    # Identical content, but out of the 7-day window: a new story.
    assert clusterer.add(item("late", E1, hours=8 * 24)).is_new
    # Close enough on the same day, too far apart after five days.
    close = at_cosine(E1, 0.8, 5)
    assert clusterer.add(item("same-day", close, hours=3)).story_id == "a"
    clusterer = StoryClusterer()
    clusterer.add(item("a", E1))
    assert clusterer.add(item("five-days", close, hours=5 * 24)).is_new
    # Out-of-order arrivals: an article older than the story is judged by the same gap.
    assert clusterer.add(item("earlier", E1, hours=-2)).story_id == "a"
    assert clusterer.stories()["a"].members == ["earlier", "a"]


def test_names_and_numbers_shared_with_the_story_add_a_bonus() -> None:
    text = "The Airbus A380 flew for Singapore Airlines with 471 passengers; EADS paid 1,100 million."
    other = "Shares in Lagos rose after Dangote raised 2,750 million, the Nigerian exchange said on Friday."
    vector = at_cosine(E1, 0.62, 5)  # below the join threshold on its own
    with_names = StoryClusterer()
    with_names.add(item("a", E1, text=text))
    assert with_names.add(item("b", vector, hours=1, text=text.replace("1,100", "1.100"))).story_id == "a"
    without = StoryClusterer()
    without.add(item("a", E1, text=text))
    assert without.add(item("b", vector, hours=1, text=other)).is_new


def test_an_article_in_a_language_the_story_lacks_gets_the_language_gap_back() -> None:
    vector = at_cosine(E1, 0.64, 5)  # what close translations into Japanese score with this model
    clusterer = StoryClusterer()
    clusterer.add(item("en", E1))
    assert clusterer.add(item("ja", vector, hours=1, language="ja")).story_id == "en"
    clusterer = StoryClusterer()
    clusterer.add(item("en", E1))
    assert clusterer.add(item("en-2", vector, hours=1, language="en")).is_new


def test_maintain_merges_converged_stories_into_the_older_one() -> None:
    clusterer = StoryClusterer()
    clusterer.restore(
        [
            (item("b1", at_cosine(E1, 0.95, 5), hours=1), "b1"),
            (item("b2", at_cosine(E1, 0.95, 6), hours=2), "b1"),
            (item("a1", E1), "a1"),
            (item("a2", at_cosine(E1, 0.95, 7), hours=1), "a1"),
            (item("z", E3), "z"),
        ]
    )
    assert set(clusterer.stories()) == {"a1", "b1", "z"}
    changes = clusterer.maintain()
    assert changes == [StoryChange("merge", "b1", ["b1", "b2"], "a1")]
    assert set(clusterer.stories()) == {"a1", "z"}
    assert clusterer.stories()["a1"].members == ["a1", "a2", "b1", "b2"]
    assert clusterer.story_of("b2") == "a1"
    assert clusterer.maintain() == []  # nothing changed since


def test_maintain_splits_a_story_that_chained_two_events() -> None:
    clusterer = StoryClusterer()
    clusterer.restore(
        [
            (item("a1", E1), "a1"),
            (item("a2", at_cosine(E1, 0.95, 5), hours=1), "a1"),
            (item("b1", E2, hours=2), "a1"),
            (item("b2", at_cosine(E2, 0.95, 6), hours=3), "a1"),
        ]
    )
    assert clusterer.maintain() == [StoryChange("split", "a1", ["b1", "b2"], "b1")]
    assert clusterer.stories()["a1"].members == ["a1", "a2"]
    assert clusterer.stories()["b1"].members == ["b1", "b2"]
    assert clusterer.story_of("b2") == "b1"
    # A new article about the second event now joins the split-off story.
    assert clusterer.add(item("b3", E2, hours=4)).story_id == "b1"


def test_a_coherent_story_is_not_split() -> None:
    clusterer = StoryClusterer()
    clusterer.restore([(item(f"a{i}", at_cosine(E1, 0.85, 3 + i), hours=i), "a0") for i in range(5)])
    assert clusterer.maintain() == []


def test_maintain_forgets_stories_out_of_the_window() -> None:
    clusterer = StoryClusterer()
    clusterer.add(item("old", E1))
    clusterer.add(item("recent", E2, hours=6 * 24))
    assert clusterer.maintain(T0 + timedelta(days=7, hours=1)) == []
    assert set(clusterer.stories()) == {"recent"}
    assert clusterer.story_of("old") is None
    assert clusterer.maintain(T0 + timedelta(days=30)) == [] and clusterer.stories() == {}


def test_restore_rebuilds_the_state_new_articles_join() -> None:
    clusterer = StoryClusterer()
    clusterer.restore(
        [
            (item("a2", at_cosine(E1, 0.9, 5), hours=1, language="ko", source="Yonhap"), "a1"),
            (item("a1", E1, language="en", source="AP"), "a1"),
            (item("c1", E2, hours=2), "c1"),
        ]
    )
    state = clusterer.stories()["a1"]
    assert state.members == ["a1", "a2"] and state.languages == {"en": 1, "ko": 1}
    assert state.sources == {"AP": 1, "Yonhap": 1} and state.first_published == T0
    assert clusterer.story_of("a2") == "a1" and clusterer.story_of("c1") == "c1"
    assert clusterer.add(item("a3", at_cosine(E1, 0.9, 6), hours=3)).story_id == "a1"
    # Restoring what is already known is a no-op.
    clusterer.restore([(item("a1", E2), "c1")])
    assert clusterer.story_of("a1") == "a1"


def test_central_article_is_the_member_closest_to_the_centroid() -> None:
    clusterer = StoryClusterer()
    clusterer.restore(
        [
            (item("edge-1", vec(1, 0.5)), "edge-1"),
            (item("middle", vec(1, 0.1), hours=1), "edge-1"),
            (item("edge-2", vec(1, -0.4), hours=2), "edge-1"),
        ]
    )
    assert central_article(clusterer.stories()["edge-1"]) == "middle"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        StoryClusterer().add(StoryItem("a", E1, datetime(2024, 1, 1), "t", "x"))


def test_thousands_of_active_stories_are_a_matrix_lookup() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((3000, 64)).astype(np.float32)
    clusterer = StoryClusterer(ClusteringParams(candidates=8))
    clusterer.restore([(item(f"s{i}", v, hours=i / 100), f"s{i}") for i, v in enumerate(vectors)])
    assert len(clusterer.stories()) == 3000
    target = vectors[1234] + 0.1 * rng.standard_normal(64).astype(np.float32)
    assert clusterer.add(item("new", target, hours=31)).story_id == "s1234"


def test_signals_are_names_and_numbers_across_latin_languages_only_numbers_without_case() -> None:
    en = extract_signals(
        "T", "The Airbus A380 landed. McCain said Boeing's iPhone cost 1,100 dollars in 2008."
    )
    assert {"airbus", "a380", "mccain", "boeing", "iphone"} <= en.entities
    assert "the" not in en.entities and {"1100", "2008"} <= en.numbers
    es = extract_signals("T", "El Airbus A380 aterrizó con 1.100 pasajeros de la aerolínea dell'Emirates.")
    assert {"airbus", "a380", "emirates"} <= es.entities and "el" not in es.entities and "1100" in es.numbers
    ja = extract_signals("T", "台風が沖縄を直撃し、20万戸が停電した。2024年")
    assert ja.entities == frozenset() and {"20", "2024"} <= ja.numbers
    assert extract_signals("Only A Title", "").entities == {"title"}


def test_document_frequencies_stay_bounded() -> None:
    frequency = DocumentFrequency(horizon=100)
    for i in range(250):
        frequency.add({"us", f"name{i}"})
    assert frequency.documents < 100 and len(frequency._counts) < 60
    assert frequency.idf("name249") > frequency.idf("us")


def test_average_linkage_split_finds_two_groups() -> None:
    vectors = np.vstack([E1, at_cosine(E1, 0.9, 5), E2, at_cosine(E2, 0.9, 6)])
    labels, between = average_linkage_split(vectors)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert between < 0.2


def test_real_embedder_groups_one_event_across_english_japanese_and_korean() -> None:
    from tidings.ai.embeddings import UniversalSentenceEncoder
    from tidings.stories.similarity import article_vectors

    articles = [
        ("typhoon-en", "en", "Typhoon hits Okinawa, thousands evacuated",
         "A powerful typhoon made landfall on Okinawa on Monday, forcing thousands of residents to "
         "evacuate and cutting power to 200,000 homes."),
        ("chips-en", "en", "Samsung reports record quarterly profit",
         "Samsung Electronics said its operating profit tripled in the third quarter on strong "
         "demand for memory chips used in AI servers."),
        ("typhoon-ja", "ja", "台風が沖縄を直撃、数千人が避難",
         "強い台風が月曜日に沖縄に上陸し、数千人の住民が避難を余儀なくされ、20万戸が停電した。"),
        ("chips-ko", "ko", "삼성전자, 분기 사상 최대 이익",
         "삼성전자는 AI 서버용 메모리 반도체 수요 호조로 3분기 영업이익이 세 배로 늘었다고 밝혔다."),
        ("typhoon-ko", "ko", "태풍 오키나와 강타, 수천 명 대피",
         "강력한 태풍이 월요일 오키나와에 상륙해 주민 수천 명이 대피했고 20만 가구가 정전됐다."),
        ("chips-ja", "ja", "サムスン電子、四半期で過去最高益",
         "サムスン電子は、AIサーバー向けメモリー半導体の需要が強く、第3四半期の営業利益が3倍になったと発表した。"),
    ]  # fmt: skip
    vectors = article_vectors(UniversalSentenceEncoder(), [(title, text) for _, _, title, text in articles])
    clusterer = StoryClusterer()
    for minutes, ((article_id, language, title, text), vector) in enumerate(
        zip(articles, vectors, strict=True)
    ):
        clusterer.add(
            StoryItem(article_id, vector, T0 + timedelta(minutes=20 * minutes), title, text, language)
        )
    clusterer.maintain()
    stories = clusterer.stories()
    assert set(stories) == {"typhoon-en", "chips-en"}
    assert set(stories["typhoon-en"].members) == {"typhoon-en", "typhoon-ja", "typhoon-ko"}
    assert set(stories["chips-en"].languages) == {"en", "ja", "ko"}


@pytest.mark.shared_data
def test_meantime_carmaker_crisis_translations_end_up_together(shared_data: Path) -> None:
    """A dense stretch of MEANTIME: January–June 2009 (GM and Chrysler, markets), 84 articles."""
    from benchmarks.stories import items, run_tidings, score

    from tidings.ai.embeddings import UniversalSentenceEncoder
    from tidings.stories.similarity import article_vectors

    path = shared_data / "corpus" / "meantime-wikinews" / "articles.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows = sorted((r for r in rows if "2009-01-01" <= r["date"] <= "2009-06-30"), key=lambda r: r["date"])
    vectors = article_vectors(UniversalSentenceEncoder(threads=2), [(r["title"], r["text"]) for r in rows])
    predicted, _ = run_tidings(items(rows, vectors), ClusteringParams())
    result = score(predicted, rows)
    # Measured 0.950 (p 0.905, r 1.0) and 0.827: the misses are joins of same-week follow-ups.
    assert result["translation"]["r"] >= 0.98 and result["translation"]["f1"] >= 0.9
    assert result["story"]["f1"] >= 0.78
