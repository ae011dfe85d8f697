"""Nearest-neighbour indexes over article embeddings, for "related articles" at any library size.

Related articles are the k stored vectors with the highest cosine similarity to an article's own. Up to
some tens of thousands of articles an exact numpy scan is fast (a few ms), simple and always right, so
that is where every library starts (ExactIndex). A scan costs O(n) per query, though: at a million
384-d vectors it reads 1.5 GB per query. Past a threshold AutoIndex therefore moves the vectors into an
HNSW graph (hnswlib, HnswIndex), which answers in under a millisecond with recall@10 ~0.99 (see
benchmarks/related.py for the numbers behind the defaults below). Callers see one API, VectorIndex.

Vectors are compared by inner product on L2-normalised float32 vectors, which is cosine similarity. Both
indexes normalise what they are given (a zero vector stays zero: similar to nothing), so a score is
always a cosine in [-1, 1].

Persistence sits next to the database, one path per index:

* ExactIndex: a single uncompressed .npz (float32 matrix + fixed-width unicode ids), loaded with
  allow_pickle=False.
* HnswIndex: hnswlib's own binary file at the path, and a JSON sidecar (PATH.ids.json) mapping the
  integer labels hnswlib needs back to our string ids. JSON rather than pickle: loading it cannot run
  code. The sidecar records the index file's size and element count, so a crash between the two renames
  is detected on load (ValueError: rebuild) instead of silently serving the wrong ids.

Both files are written to a temporary name and renamed over the old one, so a reader never sees half a
file. open_index() tells the two formats apart by content (an .npz is a zip), not by name.

Thread safety: hnswlib documents add_items as safe only with other add_items, knn_query only with other
knn_query, and resize_index / mark_deleted / saveIndex as unsafe with anything. Each index therefore has
a readers-writer lock: any number of concurrent searches (hnswlib and numpy release the GIL, so they
really run in parallel), and writes (upsert, remove, resizing) one at a time with no search in flight.
"""

from __future__ import annotations

import json
import os
import threading
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import hnswlib
import numpy as np

# Chosen with benchmarks/related.py (1M synthetic 384-d vectors shaped like real news embeddings, 2 cores):
# recall@10 0.987, p50 0.27 ms, p99 0.7 ms, build 4 minutes with 2 threads. ef=64 still gives 0.975 at
# half the latency, but 128 leaves headroom for data harder than the benchmark's. On isotropic vectors
# (no real embedding looks like that) recall drops well below 0.95: more ef, or a larger M, is the remedy.
DEFAULT_M = 16
DEFAULT_EF_CONSTRUCTION = 100
DEFAULT_EF = 128
DEFAULT_HNSW_THRESHOLD = 20_000

_INITIAL_CAPACITY = 1024
# Below this many vectors per upsert, hnswlib's thread start-up costs more than it saves.
_PARALLEL_ADD_MIN = 1_000
# Bound on the scores matrix of ExactIndex.search_many (floats), so a batch cannot take gigabytes.
_SCORE_BLOCK = 1 << 25
_EXACT_FORMAT = "tidings-exact-v1"
_HNSW_FORMAT = "tidings-hnsw-v1"


@runtime_checkable
class VectorIndex(Protocol):
    """String ids -> unit vectors, searched by cosine similarity. Implementations are thread-safe."""

    @property
    def dimensions(self) -> int:
        """Length of every vector stored and searched."""
        ...

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add vectors (rows of an (n, dimensions) array); an id already present has its vector replaced."""
        ...

    def remove(self, ids: Iterable[str]) -> None:
        """Forget these ids; unknown ids are ignored."""
        ...

    def search(self, vector: np.ndarray, k: int, *, exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        """At most k (id, cosine similarity) pairs, best first, never an excluded or removed id."""
        ...

    def search_many(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """search() for each row of an (m, dimensions) array, without exclusions."""
        ...

    def vector(self, id: str) -> np.ndarray | None:
        """The stored (normalised) vector of id, or None."""
        ...

    def __len__(self) -> int: ...

    def __contains__(self, id: object) -> bool: ...

    def save(self, path: Path) -> None:
        """Write the index to path atomically (temporary file, then rename)."""
        ...


# --- shared helpers ------------------------------------------------------------------------------------


class _ReadWriteLock:
    """Many readers or one writer. A waiting writer holds back new readers, so a steady stream of
    searches cannot starve ingestion. Not re-entrant: never take it again while holding it."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._condition:
            while self._writing or self._writers_waiting:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._condition.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # A zero vector (an article without text) stays zero rather than becoming NaN.
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _checked_matrix(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != dimensions:
        raise ValueError(f"expected vectors of shape (n, {dimensions}), got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("vectors contain NaN or infinity")
    return _normalised(matrix)


def _checked_query(vector: np.ndarray, dimensions: int) -> np.ndarray:
    query = np.asarray(vector, dtype=np.float32)
    if query.shape != (dimensions,):
        raise ValueError(f"expected a query vector of shape ({dimensions},), got shape {query.shape}")
    return _checked_matrix(query[np.newaxis, :], dimensions)[0]


def _checked_batch(ids: Sequence[str], vectors: np.ndarray, dimensions: int) -> tuple[list[str], np.ndarray]:
    """Validated ids and normalised vectors; of an id given twice, the last vector wins."""
    matrix = _checked_matrix(vectors, dimensions)
    ids = list(ids)
    if len(ids) != matrix.shape[0]:
        raise ValueError(f"got {len(ids)} ids but {matrix.shape[0]} vectors")
    last: dict[str, int] = {}
    for position, id in enumerate(ids):
        if not isinstance(id, str):
            raise TypeError(f"ids must be str, got {type(id).__name__}")
        last[id] = position
    if len(last) == len(ids):
        return ids, matrix
    return list(last), matrix[list(last.values())]


def _checked_k(k: int) -> int:
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return k


def _exclusions(exclude: Collection[str]) -> Collection[str]:
    # A bare string is a Collection of characters; excluding one id is what was meant.
    return (exclude,) if isinstance(exclude, str) else exclude


def _top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first."""
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    candidates = np.argpartition(-scores, k - 1)[:k]
    return candidates[np.argsort(-scores[candidates], kind="stable")]


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`; on success it is fsynced and renamed over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        yield temporary
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def sidecar_path(path: Path) -> Path:
    """Where HnswIndex keeps the id map of the index at `path`."""
    return path.with_name(path.name + ".ids.json")


# --- exact -----------------------------------------------------------------------------------------------


class ExactIndex:
    """Brute force: one contiguous float32 matrix, scored with a single matrix-vector product.

    Rows are packed (removal moves the last row into the hole) so a scan never touches dead rows, and the
    matrix doubles when full so that ingesting one article at a time is amortised O(1) per vector.
    """

    def __init__(self, dimensions: int, *, capacity: int = _INITIAL_CAPACITY) -> None:
        if dimensions < 1:
            raise ValueError(f"dimensions must be >= 1, got {dimensions}")
        self.dimensions = dimensions
        self._matrix = np.zeros((max(capacity, 1), dimensions), dtype=np.float32)
        self._ids: list[str] = []  # row -> id
        self._rows: dict[str, int] = {}  # id -> row
        self._lock = _ReadWriteLock()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, id: object) -> bool:
        return id in self._rows

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        ids, matrix = _checked_batch(ids, vectors, self.dimensions)
        with self._lock.write():
            targets = np.empty(len(ids), dtype=np.int64)
            for position, id in enumerate(ids):
                row = self._rows.get(id)
                if row is None:
                    row = self._rows[id] = len(self._ids)
                    self._ids.append(id)
                targets[position] = row
            self._reserve(len(self._ids))
            self._matrix[targets] = matrix

    def remove(self, ids: Iterable[str]) -> None:
        with self._lock.write():
            for id in ids:
                row = self._rows.pop(id, None)
                if row is None:
                    continue
                last = len(self._ids) - 1
                moved = self._ids.pop()
                if row != last:
                    self._matrix[row] = self._matrix[last]
                    self._ids[row] = moved
                    self._rows[moved] = row

    def search(self, vector: np.ndarray, k: int, *, exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        query = _checked_query(vector, self.dimensions)
        if not _checked_k(k):
            return []
        with self._lock.read():
            scores = self._matrix[: len(self._ids)] @ query
            excluded = [self._rows[id] for id in _exclusions(exclude) if id in self._rows]
            scores[excluded] = -np.inf
            top = _top_rows(scores, min(k, len(scores) - len(excluded)))
            return [(self._ids[row], float(scores[row])) for row in top]

    def search_many(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        queries = _checked_matrix(vectors, self.dimensions)
        if not _checked_k(k):
            return [[] for _ in range(len(queries))]
        results: list[list[tuple[str, float]]] = []
        with self._lock.read():
            stored = self._matrix[: len(self._ids)]
            block = max(1, _SCORE_BLOCK // max(len(stored), 1))
            for start in range(0, len(queries), block):
                scores = queries[start : start + block] @ stored.T
                results.extend(self._best(row, k) for row in scores)
        return results

    def _best(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        return [(self._ids[row], float(scores[row])) for row in _top_rows(scores, min(k, len(scores)))]

    def vector(self, id: str) -> np.ndarray | None:
        with self._lock.read():
            row = self._rows.get(id)
            return None if row is None else self._matrix[row].copy()

    def snapshot(self) -> tuple[list[str], np.ndarray]:
        """A consistent copy of (ids, vectors), e.g. to build another index from."""
        with self._lock.read():
            return list(self._ids), self._matrix[: len(self._ids)].copy()

    def save(self, path: Path) -> None:
        with self._lock.read(), _replacing(Path(path)) as temporary, temporary.open("wb") as file:
            np.savez(
                file,
                format=np.array(_EXACT_FORMAT),
                vectors=self._matrix[: len(self._ids)],
                ids=np.array(self._ids, dtype=str),
            )

    @classmethod
    def load(cls, path: Path) -> ExactIndex:
        with np.load(Path(path), allow_pickle=False) as data:
            if "format" not in data or str(data["format"]) != _EXACT_FORMAT:
                raise ValueError(f"{path} is not a Tidings exact vector index")
            vectors = data["vectors"]
            ids = [str(id) for id in data["ids"]]
        index = cls(vectors.shape[1], capacity=max(len(ids), _INITIAL_CAPACITY))
        index.upsert(ids, vectors)
        return index

    def _reserve(self, rows: int) -> None:
        if rows <= len(self._matrix):
            return
        grown = np.zeros((max(rows, 2 * len(self._matrix)), self.dimensions), dtype=np.float32)
        grown[: len(self._matrix)] = self._matrix
        self._matrix = grown


# --- HNSW ------------------------------------------------------------------------------------------------


class HnswIndex:
    """hnswlib graph in inner-product space over normalised vectors (so distance = 1 - cosine).

    hnswlib wants integer labels; each upsert takes fresh ones (labels are never reused, so a label in a
    result always means the id it was given to). Replacing or removing an id marks its old label deleted;
    the index is created with allow_replace_deleted so later inserts reuse those slots instead of growing
    the file for ever. Capacity doubles (resize_index) as the index grows.

    M and ef_construction are fixed when the graph is built (larger: better recall, slower build, more
    memory); ef is the search beam width and can be changed any time (larger: better recall, slower).
    """

    def __init__(
        self,
        dimensions: int,
        *,
        M: int = DEFAULT_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef: int = DEFAULT_EF,
        capacity: int = _INITIAL_CAPACITY,
        num_threads: int = -1,
        seed: int = 100,
    ) -> None:
        if dimensions < 1:
            raise ValueError(f"dimensions must be >= 1, got {dimensions}")
        graph = hnswlib.Index(space="ip", dim=dimensions)
        graph.init_index(
            max_elements=max(capacity, 1),
            M=M,
            ef_construction=ef_construction,
            random_seed=seed,
            allow_replace_deleted=True,
        )
        graph.set_ef(ef)
        self._attach(graph, dimensions, num_threads, [])

    def _attach(
        self, graph: hnswlib.Index, dimensions: int, num_threads: int, id_of: list[str | None]
    ) -> None:
        self.dimensions = dimensions
        self.num_threads = num_threads  # for bulk upserts and search_many; -1 = all cores
        self._index = graph
        self._id_of = id_of  # label -> id; None once that label is deleted
        self._label_of = {id: label for label, id in enumerate(id_of) if id is not None}  # id -> live label
        self._lock = _ReadWriteLock()

    @property
    def M(self) -> int:
        return int(self._index.M)

    @property
    def ef_construction(self) -> int:
        return int(self._index.ef_construction)

    @property
    def ef(self) -> int:
        return int(self._index.ef)

    @ef.setter
    def ef(self, value: int) -> None:
        with self._lock.write():
            self._index.set_ef(value)

    def __len__(self) -> int:
        return len(self._label_of)

    def __contains__(self, id: object) -> bool:
        return id in self._label_of

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        ids, matrix = _checked_batch(ids, vectors, self.dimensions)
        if not ids:
            return
        with self._lock.write():
            for id in ids:
                self._forget(id)
            labels = np.arange(len(self._id_of), len(self._id_of) + len(ids), dtype=np.uint64)
            self._reserve(len(ids))
            threads = self.num_threads if len(ids) >= _PARALLEL_ADD_MIN else 1
            self._index.add_items(matrix, labels, num_threads=threads, replace_deleted=True)
            self._id_of.extend(ids)
            self._label_of.update(zip(ids, labels.tolist(), strict=True))

    def remove(self, ids: Iterable[str]) -> None:
        with self._lock.write():
            for id in ids:
                self._forget(id)

    def search(self, vector: np.ndarray, k: int, *, exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        query = _checked_query(vector, self.dimensions)
        if not _checked_k(k):
            return []
        exclude = _exclusions(exclude)
        with self._lock.read():
            # hnswlib cannot skip ids itself (its filter calls back into Python for every candidate), so
            # ask for as many extra results as there are excluded ids present, and drop those.
            present = sum(1 for id in exclude if id in self._label_of)
            labels, distances = self._knn(query[np.newaxis, :], k + present, threads=1)
            found = self._named(labels[0], distances[0])
        return [(id, score) for id, score in found if id not in exclude][:k]

    def search_many(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        queries = _checked_matrix(vectors, self.dimensions)
        if not _checked_k(k) or not len(queries):
            return [[] for _ in range(len(queries))]
        with self._lock.read():
            labels, distances = self._knn(queries, k, threads=self.num_threads)
            return [self._named(row, scores) for row, scores in zip(labels, distances, strict=True)]

    def _named(self, labels: np.ndarray, distances: np.ndarray) -> list[tuple[str, float]]:
        """(id, cosine) for one knn_query row; call with the lock held, as labels change on write."""
        pairs = [
            (self._id_of[label], 1.0 - float(distance))
            for label, distance in zip(labels, distances, strict=True)
        ]
        return [(id, score) for id, score in pairs if id is not None]

    def vector(self, id: str) -> np.ndarray | None:
        with self._lock.read():
            label = self._label_of.get(id)
            if label is None:
                return None
            return np.asarray(self._index.get_items([label]), dtype=np.float32)[0]

    def save(self, path: Path) -> None:
        path = Path(path)
        # The sidecar is renamed first (contexts exit in reverse); the size/count check in load() catches
        # a crash between the two renames.
        with self._lock.read(), _replacing(path) as index_file, _replacing(sidecar_path(path)) as ids_file:
            self._index.save_index(str(index_file))
            metadata = {
                "format": _HNSW_FORMAT,
                "space": "ip",
                "dimensions": self.dimensions,
                "ef": self.ef,
                "element_count": int(self._index.element_count),
                "index_bytes": index_file.stat().st_size,
                "ids": self._id_of,
            }
            ids_file.write_text(json.dumps(metadata, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, *, num_threads: int = -1) -> HnswIndex:
        path = Path(path)
        sidecar = sidecar_path(path)
        try:
            metadata = json.loads(sidecar.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{path}: its id map {sidecar.name} is missing; rebuild the index") from None
        if not isinstance(metadata, dict) or metadata.get("format") != _HNSW_FORMAT:
            raise ValueError(f"{sidecar} is not a Tidings HNSW id map")
        if path.stat().st_size != metadata["index_bytes"]:
            raise ValueError(f"{path} does not match its id map {sidecar.name}; rebuild the index")
        dimensions = int(metadata["dimensions"])
        graph = hnswlib.Index(space="ip", dim=dimensions)
        graph.load_index(str(path), allow_replace_deleted=True)
        if int(graph.element_count) != metadata["element_count"]:
            raise ValueError(f"{path} does not match its id map {sidecar.name}; rebuild the index")
        graph.set_ef(int(metadata["ef"]))  # ef is not stored in hnswlib's file
        index = cls.__new__(cls)
        index._attach(graph, dimensions, num_threads, metadata["ids"])
        return index

    def _forget(self, id: str) -> None:
        label = self._label_of.pop(id, None)
        if label is not None:
            self._index.mark_deleted(label)
            self._id_of[label] = None

    def _reserve(self, adding: int) -> None:
        # Slots of deleted elements are reused first (replace_deleted=True), so only the rest needs room.
        used = int(self._index.element_count)
        reusable = used - len(self._label_of)
        needed = used + max(0, adding - reusable)
        capacity = int(self._index.max_elements)
        if needed > capacity:
            self._index.resize_index(max(needed, 2 * capacity))

    def _knn(self, queries: np.ndarray, k: int, *, threads: int) -> tuple[np.ndarray, np.ndarray]:
        """knn_query for min(k, live) neighbours. hnswlib raises when its beam cannot find that many (a
        graph thinned by deletions, k close to the size), so settle for fewer rather than fail."""
        k = min(k, len(self._label_of))
        while k > 0:
            try:
                return self._index.knn_query(queries, k=k, num_threads=threads)
            except RuntimeError:
                k //= 2
        empty = np.empty((len(queries), 0))
        return empty.astype(np.uint64), empty.astype(np.float32)


# --- automatic choice ------------------------------------------------------------------------------------


class AutoIndex:
    """Exact while small, HNSW once it holds more than `hnsw_threshold` vectors; one API throughout.

    The switch happens inside the upsert that crosses the threshold (copying the vectors into a new
    graph, a few seconds at 20k); searches keep using the exact index until the graph is ready. It never
    switches back: shrinking below the threshold again is rare and an HNSW index stays correct.
    """

    def __init__(
        self,
        dimensions: int,
        *,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        path: Path | None = None,
        M: int = DEFAULT_M,
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        ef: int = DEFAULT_EF,
        num_threads: int = -1,
        inner: ExactIndex | HnswIndex | None = None,
    ) -> None:
        if inner is not None and inner.dimensions != dimensions:
            raise ValueError(f"index has {inner.dimensions} dimensions, expected {dimensions}")
        self.hnsw_threshold = hnsw_threshold
        self.path = Path(path) if path is not None else None
        self._hnsw_options: dict[str, Any] = {
            "M": M,
            "ef_construction": ef_construction,
            "ef": ef,
            "num_threads": num_threads,
        }
        self._inner: ExactIndex | HnswIndex = inner if inner is not None else ExactIndex(dimensions)
        self._writing = threading.Lock()  # serialises writes with the switch, so none is lost
        with self._writing:
            self._switch_if_large()

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    @property
    def backend(self) -> str:
        """'exact' or 'hnsw'."""
        return "hnsw" if isinstance(self._inner, HnswIndex) else "exact"

    @property
    def inner(self) -> ExactIndex | HnswIndex:
        return self._inner

    def __len__(self) -> int:
        return len(self._inner)

    def __contains__(self, id: object) -> bool:
        return id in self._inner

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        with self._writing:
            self._inner.upsert(ids, vectors)
            self._switch_if_large()

    def remove(self, ids: Iterable[str]) -> None:
        with self._writing:
            self._inner.remove(ids)

    def search(self, vector: np.ndarray, k: int, *, exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        return self._inner.search(vector, k, exclude=exclude)

    def search_many(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        return self._inner.search_many(vectors, k)

    def vector(self, id: str) -> np.ndarray | None:
        return self._inner.vector(id)

    def save(self, path: Path | None = None) -> None:
        """Save to `path`, or to the path this index was opened with."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path to save the index to")
        with self._writing:
            self._inner.save(target)
            if isinstance(self._inner, ExactIndex):
                # An id map left from an earlier HNSW index at this path would only confuse a reader.
                sidecar_path(target).unlink(missing_ok=True)

    def _switch_if_large(self) -> None:
        inner = self._inner
        if not isinstance(inner, ExactIndex) or len(inner) <= self.hnsw_threshold:
            return
        ids, vectors = inner.snapshot()
        graph = HnswIndex(inner.dimensions, capacity=2 * len(ids), **self._hnsw_options)
        graph.upsert(ids, vectors)
        self._inner = graph


def open_index(
    path: Path | None,
    dimensions: int,
    *,
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
    M: int = DEFAULT_M,
    ef_construction: int = DEFAULT_EF_CONSTRUCTION,
    ef: int | None = None,
    num_threads: int = -1,
) -> AutoIndex:
    """The index saved at `path` (exact or HNSW, whichever is there), or a new empty one.

    `ef`, when given, also applies to a loaded HNSW index; M and ef_construction only to graphs built from
    now on. Raises ValueError when the file holds vectors of another dimension (a different embedder:
    rebuild) or is damaged.
    """
    options: dict[str, Any] = {
        "hnsw_threshold": hnsw_threshold,
        "path": path,
        "M": M,
        "ef_construction": ef_construction,
        "ef": DEFAULT_EF if ef is None else ef,
        "num_threads": num_threads,
    }
    if path is None or not Path(path).exists():
        return AutoIndex(dimensions, **options)
    inner: ExactIndex | HnswIndex
    if zipfile.is_zipfile(path):
        inner = ExactIndex.load(path)
    else:
        inner = HnswIndex.load(path, num_threads=num_threads)
        if ef is not None:
            inner.ef = ef
    if inner.dimensions != dimensions:
        raise ValueError(
            f"{path} holds {inner.dimensions}-dimensional vectors, expected {dimensions}; rebuild the index"
        )
    return AutoIndex(dimensions, inner=inner, **options)


def rebuild_index(
    path: Path | None,
    batches: Iterable[tuple[Sequence[str], np.ndarray]],
    *,
    dimensions: int,
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
    M: int = DEFAULT_M,
    ef_construction: int = DEFAULT_EF_CONSTRUCTION,
    ef: int = DEFAULT_EF,
    num_threads: int = -1,
    on_progress: Callable[[int], None] | None = None,
) -> AutoIndex:
    """Build a fresh index from (ids, vectors) batches and save it over `path` (when given).

    The old file keeps serving until the new one is complete: it is replaced by a rename at the end.
    on_progress(done) is called after each batch with the number of vectors added so far.
    """
    index = AutoIndex(
        dimensions,
        hnsw_threshold=hnsw_threshold,
        path=path,
        M=M,
        ef_construction=ef_construction,
        ef=ef,
        num_threads=num_threads,
    )
    done = 0
    for ids, vectors in batches:
        index.upsert(ids, vectors)
        done += len(ids)
        if on_progress is not None:
            on_progress(done)
    if path is not None:
        index.save(path)
    return index
