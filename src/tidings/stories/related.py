"""The in-memory vector index behind related articles, kept in step with the database.

Vectors are stored in `article_features`; this index is a cache of them for nearest-neighbour
search (exact numpy scan while small, HNSW when large: search/vectorindex.py), saved next to the
database with the point in time it has caught up to, so a restart only reads what is new. Any
process can hold one: it catches up from the database, so the web process needs no model and
`tidings serve` shares one instance between the understanding step and the pages.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from tidings.db.engine import Database
from tidings.search.vectorindex import VectorIndex, open_index
from tidings.stories import repo

log = logging.getLogger(__name__)

CATCH_UP_BATCH = 2_000
CATCH_UP_OVERLAP = timedelta(minutes=1)


class RelatedIndex:
    def __init__(self, *, model: str, path: Path | None, hnsw_threshold: int = 20_000) -> None:
        self.model = model
        self._path = path
        self._hnsw_threshold = hnsw_threshold
        self._index: VectorIndex | None = None
        self._cursor: datetime | None = None
        self._dirty = False
        self._load()

    def __len__(self) -> int:
        return len(self._index) if self._index is not None else 0

    def __contains__(self, article_id: object) -> bool:
        return self._index is not None and article_id in self._index

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        if not len(ids):
            return
        if self._index is None:
            self._index = open_index(None, int(vectors.shape[1]), hnsw_threshold=self._hnsw_threshold)
        self._index.upsert(ids, vectors)
        self._dirty = True

    def remove(self, ids: Collection[str]) -> None:
        if self._index is not None and ids:
            self._index.remove(ids)
            self._dirty = True

    def vector(self, article_id: str) -> np.ndarray | None:
        return self._index.vector(article_id) if self._index is not None else None

    def search(self, vector: np.ndarray, k: int, *, exclude: Collection[str] = ()) -> list[tuple[str, float]]:
        if self._index is None or not len(self._index):
            return []
        return self._index.search(vector, k, exclude=exclude)

    def clear(self) -> None:
        """Forget everything (the next catch-up reads every stored vector again)."""
        self._index, self._cursor, self._dirty = None, None, False
        if self._path is not None:
            self._meta_path.unlink(missing_ok=True)

    async def catch_up(self, db: Database, *, on_progress: Callable[[int], None] | None = None) -> int:
        """Add the vectors stored since the last catch-up (by any process). Returns how many."""
        added = 0
        # Look back a little: a transaction that committed late may carry an earlier timestamp.
        # Re-adding a vector only replaces it.
        after = self._cursor - CATCH_UP_OVERLAP if self._cursor is not None else None
        while True:
            async with db.session() as session:
                rows = await repo.vectors_after(session, model=self.model, after=after, limit=CATCH_UP_BATCH)
            if not rows:
                return added
            vectors = np.vstack([np.frombuffer(row.vector, dtype=np.float32) for row in rows])
            self.upsert([row.article_id for row in rows], vectors)
            self._cursor = after = rows[-1].created_at
            added += len(rows)
            if on_progress is not None:
                on_progress(len(rows))
            if len(rows) < CATCH_UP_BATCH:
                return added

    def save(self) -> None:
        """Persist the index and how far it has caught up (atomic writes; a no-op when unchanged)."""
        if self._path is None or self._index is None or not self._dirty:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._index.save(self._path)
        meta = {
            "model": self.model,
            "dimensions": self._index.dimensions,
            "cursor": self._cursor.isoformat() if self._cursor else None,
        }
        temporary = self._meta_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(meta), encoding="utf-8")
        temporary.replace(self._meta_path)
        self._dirty = False

    @property
    def _meta_path(self) -> Path:
        assert self._path is not None
        return self._path.with_name(self._path.name + ".meta.json")

    def _load(self) -> None:
        if self._path is None or not self._meta_path.exists():
            return
        try:
            meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
            if meta.get("model") != self.model:
                log.info("related index at %s is for another model; rebuilding from the database", self._path)
                return
            self._index = open_index(self._path, int(meta["dimensions"]), hnsw_threshold=self._hnsw_threshold)
            self._cursor = datetime.fromisoformat(meta["cursor"]) if meta.get("cursor") else None
        except (OSError, ValueError, KeyError) as exc:
            # A damaged cache is rebuilt from the database, never fatal.
            log.warning("related index at %s unreadable (%s); rebuilding from the database", self._path, exc)
            self._index, self._cursor = None, None
