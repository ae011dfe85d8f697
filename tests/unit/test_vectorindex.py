"""The related-articles vector indexes: exact and HNSW behave alike, persist, and switch over."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tidings.search.vectorindex import (
    AutoIndex,
    ExactIndex,
    HnswIndex,
    VectorIndex,
    open_index,
    rebuild_index,
    sidecar_path,
)

DIM = 32
N = 2000


def unit_vectors(count: int, seed: int, dim: int = DIM) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def ids_of(hits: list[tuple[str, float]]) -> list[str]:
    return [id for id, _ in hits]


def stored(index: VectorIndex, id: str) -> np.ndarray:
    vector = index.vector(id)
    assert vector is not None
    return vector


def exact() -> ExactIndex:
    return ExactIndex(DIM)


def hnsw() -> HnswIndex:
    # A beam as wide as the index makes HNSW exhaustive, so it must agree with the exact scan.
    return HnswIndex(DIM, ef=N, num_threads=1)


def auto() -> AutoIndex:
    return AutoIndex(DIM, hnsw_threshold=100, ef=N, num_threads=1)


FACTORIES = [exact, hnsw, auto]


@pytest.fixture(params=FACTORIES, ids=lambda factory: factory.__name__)
def make(request: pytest.FixtureRequest) -> Callable[[], VectorIndex]:
    return request.param


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], np.ndarray]:
    return [f"article-{i}" for i in range(N)], unit_vectors(N, seed=1)


def test_every_implementation_satisfies_the_protocol(make: Callable[[], VectorIndex]) -> None:
    index = make()
    assert isinstance(index, VectorIndex)
    assert index.dimensions == DIM


def test_exact_and_hnsw_agree_through_upserts_replacements_and_removals(
    corpus: tuple[list[str], np.ndarray],
) -> None:
    ids, vectors = corpus
    queries = unit_vectors(20, seed=2)
    indexes: list[VectorIndex] = [exact(), hnsw(), auto()]

    def assert_agree() -> None:
        results = [[index.search(q, 10, exclude={ids[3], ids[5]}) for q in queries] for index in indexes]
        for other in results[1:]:
            for expected, got in zip(results[0], other, strict=True):
                assert ids_of(got) == ids_of(expected)
                assert np.allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)
        batches = [index.search_many(queries, 10) for index in indexes]
        for other in batches[1:]:
            assert [ids_of(hits) for hits in other] == [ids_of(hits) for hits in batches[0]]

    for index in indexes:
        index.upsert(ids, vectors)
    assert_agree()

    replaced = unit_vectors(300, seed=3)
    for index in indexes:
        index.upsert(ids[:300], replaced)
        index.remove(ids[300:600])
    assert_agree()
    for index in indexes:
        assert len(index) == N - 300
        assert ids[0] in index
        assert ids[400] not in index
        assert np.allclose(stored(index, ids[0]), replaced[0], atol=1e-6)

    # Removed slots are reused by later inserts; results still agree.
    for index in indexes:
        index.upsert([f"new-{i}" for i in range(200)], unit_vectors(200, seed=4))
    assert_agree()


def test_replacing_an_id_keeps_one_entry_with_the_new_vector(make: Callable[[], VectorIndex]) -> None:
    index = make()
    first, second = unit_vectors(2, seed=5)
    index.upsert(["a", "b"], np.stack([first, second]))
    index.upsert(["a"], second[np.newaxis, :])
    assert len(index) == 2
    assert np.allclose(stored(index, "a"), second, atol=1e-6)
    hits = index.search(second, 5)
    assert sorted(ids_of(hits)) == ["a", "b"]
    assert all(score == pytest.approx(1.0, abs=1e-5) for _, score in hits)


def test_duplicate_ids_in_one_batch_keep_the_last_vector(make: Callable[[], VectorIndex]) -> None:
    index = make()
    vectors = unit_vectors(3, seed=6)
    index.upsert(["a", "b", "a"], vectors)
    assert len(index) == 2
    assert np.allclose(stored(index, "a"), vectors[2], atol=1e-6)


def test_removed_ids_are_gone_and_unknown_ids_are_ignored(
    make: Callable[[], VectorIndex], corpus: tuple[list[str], np.ndarray]
) -> None:
    index = make()
    ids, vectors = corpus
    index.upsert(ids[:50], vectors[:50])
    index.remove([ids[0], "never-added"])
    assert ids[0] not in index
    assert index.vector(ids[0]) is None
    assert ids[0] not in ids_of(index.search(vectors[0], 50))
    assert len(index.search(vectors[0], 50)) == 49


def test_exclude_drops_ids_and_still_returns_k(
    make: Callable[[], VectorIndex], corpus: tuple[list[str], np.ndarray]
) -> None:
    index = make()
    ids, vectors = corpus
    index.upsert(ids[:200], vectors[:200])
    hits = index.search(vectors[7], 10, exclude=ids[7])  # a bare string means that one id
    assert ids[7] not in ids_of(hits)
    assert len(hits) == 10
    top = ids_of(index.search(vectors[7], 5))
    assert not set(top) & set(ids_of(index.search(vectors[7], 5, exclude=top)))
    assert index.search(vectors[7], 10, exclude=ids[:200]) == []


def test_empty_index_and_oversized_k(make: Callable[[], VectorIndex]) -> None:
    index = make()
    query = unit_vectors(1, seed=7)[0]
    assert index.search(query, 10) == []
    assert index.search_many(unit_vectors(2, seed=8), 10) == [[], []]
    assert len(index) == 0
    index.upsert(["a", "b", "c"], unit_vectors(3, seed=9))
    hits = index.search(query, 10)
    assert sorted(ids_of(hits)) == ["a", "b", "c"]
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert index.search(query, 0) == []


def test_vectors_are_normalised_and_zero_vectors_are_harmless(make: Callable[[], VectorIndex]) -> None:
    index = make()
    index.upsert(["long", "zero"], np.array([[3.0] + [0.0] * (DIM - 1), [0.0] * DIM], dtype=np.float32))
    assert np.linalg.norm(stored(index, "long")) == pytest.approx(1.0)
    hits = dict(index.search(np.eye(DIM, dtype=np.float32)[0] * 5, 2))
    assert hits["long"] == pytest.approx(1.0, abs=1e-5)
    assert hits.get("zero", 0.0) == pytest.approx(0.0, abs=1e-5)


def test_wrong_shapes_raise_clear_errors(make: Callable[[], VectorIndex]) -> None:
    index = make()
    with pytest.raises(ValueError, match=rf"shape \(n, {DIM}\), got shape \(2, 16\)"):
        index.upsert(["a", "b"], unit_vectors(2, seed=10, dim=16))
    with pytest.raises(ValueError, match="2 ids but 3 vectors"):
        index.upsert(["a", "b"], unit_vectors(3, seed=10))
    with pytest.raises(ValueError, match=rf"shape \({DIM},\), got shape \(16,\)"):
        index.search(np.ones(16, dtype=np.float32), 3)
    with pytest.raises(ValueError, match=rf"shape \(n, {DIM}\)"):
        index.search_many(np.ones(DIM, dtype=np.float32), 3)
    with pytest.raises(ValueError, match="NaN"):
        index.upsert(["a"], np.full((1, DIM), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.ones(DIM, dtype=np.float32), -1)
    assert len(index) == 0


@pytest.mark.parametrize("kind", [ExactIndex, HnswIndex])
def test_save_and_load_round_trip(
    kind: type[ExactIndex] | type[HnswIndex], tmp_path: Path, corpus: tuple[list[str], np.ndarray]
) -> None:
    ids, vectors = corpus
    index = kind(DIM)
    if isinstance(index, HnswIndex):
        index.ef = N
    index.upsert(ids[:500], vectors[:500])
    index.upsert(ids[:10], vectors[1000:1010])  # replaced: deleted labels must survive the round trip
    index.remove(ids[10:20])
    path = tmp_path / "related.index"
    index.save(path)
    loaded = kind.load(path)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["related.index"] + (["related.index.ids.json"] if kind is HnswIndex else [])
    )
    assert len(loaded) == len(index) == 490
    assert ids[15] not in loaded
    assert np.allclose(stored(loaded, ids[0]), vectors[1000], atol=1e-6)
    for query in unit_vectors(10, seed=11):
        assert ids_of(loaded.search(query, 10)) == ids_of(index.search(query, 10))
    loaded.upsert(ids[10:20], vectors[10:20])  # still writable after loading
    assert len(loaded) == 500


def test_hnsw_load_refuses_an_index_that_does_not_match_its_id_map(tmp_path: Path) -> None:
    index = HnswIndex(DIM)
    index.upsert(["a", "b"], unit_vectors(2, seed=12))
    path = tmp_path / "related.index"
    index.save(path)
    metadata = json.loads(sidecar_path(path).read_text())
    sidecar_path(path).write_text(json.dumps({**metadata, "index_bytes": metadata["index_bytes"] + 1}))
    with pytest.raises(ValueError, match="does not match its id map"):
        HnswIndex.load(path)
    sidecar_path(path).unlink()
    with pytest.raises(ValueError, match="missing"):
        HnswIndex.load(path)


def test_auto_index_switches_to_hnsw_past_the_threshold_and_keeps_results(
    tmp_path: Path, corpus: tuple[list[str], np.ndarray]
) -> None:
    ids, vectors = corpus
    index = AutoIndex(DIM, hnsw_threshold=100, ef=N, num_threads=1)
    index.upsert(ids[:100], vectors[:100])
    assert index.backend == "exact"
    queries = unit_vectors(10, seed=13)
    before = [ids_of(index.search(q, 10, exclude={ids[1]})) for q in queries]
    index.upsert(ids[100:101], vectors[100:101])
    assert index.backend == "hnsw"
    assert len(index) == 101
    index.remove(ids[100:101])
    assert [ids_of(index.search(q, 10, exclude={ids[1]})) for q in queries] == before

    path = tmp_path / "related.index"
    index.save(path)
    reopened = open_index(path, DIM, hnsw_threshold=100, ef=N)
    assert reopened.backend == "hnsw"
    assert isinstance(reopened.inner, HnswIndex)
    assert reopened.inner.ef == N
    assert [ids_of(reopened.search(q, 10, exclude={ids[1]})) for q in queries] == before


def test_open_index_starts_empty_loads_either_format_and_checks_dimensions(
    tmp_path: Path, corpus: tuple[list[str], np.ndarray]
) -> None:
    ids, vectors = corpus
    path = tmp_path / "data" / "related.index"
    fresh = open_index(path, DIM)
    assert (fresh.backend, len(fresh)) == ("exact", 0)
    fresh.upsert(ids[:30], vectors[:30])
    fresh.save()  # to the path it was opened with
    assert open_index(path, DIM).backend == "exact"
    assert len(open_index(path, DIM)) == 30
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]

    graph = HnswIndex(DIM)
    graph.upsert(ids[:40], vectors[:40])
    graph.save(path)
    reopened = open_index(path, DIM)
    assert (reopened.backend, len(reopened)) == ("hnsw", 40)

    with pytest.raises(ValueError, match=f"holds {DIM}-dimensional vectors, expected 16"):
        open_index(path, 16)
    assert open_index(None, DIM).path is None
    with pytest.raises(ValueError, match="no path"):
        open_index(None, DIM).save()


def test_rebuild_index_from_batches_reports_progress_and_saves(
    tmp_path: Path, corpus: tuple[list[str], np.ndarray]
) -> None:
    ids, vectors = corpus
    path = tmp_path / "related.index"
    progress: list[int] = []
    batches = ((ids[start : start + 100], vectors[start : start + 100]) for start in range(0, 300, 100))
    index = rebuild_index(path, batches, dimensions=DIM, hnsw_threshold=150, on_progress=progress.append)
    assert progress == [100, 200, 300]
    assert index.backend == "hnsw"
    loaded = open_index(path, DIM, hnsw_threshold=150)
    assert (loaded.backend, len(loaded)) == ("hnsw", 300)

    # Rebuilding a smaller library over it writes an exact index and drops the stale id map.
    rebuild_index(path, [(ids[:10], vectors[:10])], dimensions=DIM, hnsw_threshold=150)
    assert not sidecar_path(path).exists()
    assert open_index(path, DIM).backend == "exact"


@pytest.mark.parametrize("kind", [ExactIndex, HnswIndex])
def test_concurrent_searches_and_writes_do_not_interfere(
    kind: type[ExactIndex] | type[HnswIndex], corpus: tuple[list[str], np.ndarray]
) -> None:
    ids, vectors = corpus
    index = kind(DIM)
    index.upsert(ids[:500], vectors[:500])
    errors: list[BaseException] = []

    def searcher() -> None:
        try:
            for query in vectors[:200]:
                hits = index.search(query, 5, exclude={ids[0]})
                assert ids[0] not in ids_of(hits)
        except BaseException as error:  # reported to the main thread below
            errors.append(error)

    def writer() -> None:
        try:
            for start in range(500, 1500, 50):
                index.upsert(ids[start : start + 50], vectors[start : start + 50])
                index.remove(ids[start - 400 : start - 350])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=searcher) for _ in range(3)] + [threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(index) == 500
