"""A size-bounded LRU disk cache for the image proxy's output (`DATA_DIR/imgcache`).

Entries are small immutable files named by a hash key, sharded by the key's first two hex digits
so no directory grows past a few thousand files. Recency lives in an in-memory `OrderedDict`
rebuilt from file modification times at start-up; a hit refreshes the file's mtime at most once
per `TOUCH_INTERVAL_S`, so the order survives a restart without a syscall on every hit.

Thread-safe: the proxy calls it from worker threads (`asyncio.to_thread`). Writes go to a temp
file in the same directory and are published with `os.replace`, so a reader never sees a torn
file, even one in another process sharing the directory. Each process keeps its own index: with
several processes on one directory the bound is enforced per process, approximately.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from tidings.config import Settings

__all__ = ["DEFAULT_MAX_BYTES", "ImageCache", "image_cache_key"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
CACHE_DIR_NAME = "imgcache"
TEMP_PREFIX = ".tmp-"
# Refreshing the mtime on every hit would cost a syscall per request for no gain: LRU order only
# needs to be roughly right across restarts.
TOUCH_INTERVAL_S = 3600.0


def image_cache_key(url: str, width: int, quality: int, output_format: str) -> str:
    """Stable key for one rendition of one source image. Hex, so safe as a file name."""
    material = f"{width}\n{quality}\n{output_format.lower()}\n{url}".encode()
    return hashlib.sha256(material).hexdigest()


@dataclass(slots=True)
class _Entry:
    size: int
    touched_at: float  # wall-clock time the file's mtime was last set


class ImageCache:
    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._total = 0
        self.root.mkdir(parents=True, exist_ok=True)
        self._load_index()

    @classmethod
    def for_settings(cls, settings: Settings, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ImageCache:
        return cls(settings.data_dir / CACHE_DIR_NAME, max_bytes=max_bytes)

    @property
    def total_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> bytes | None:
        """The cached bytes, or None. A hit makes the entry the most recently used."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self._forget(key)  # evicted by another process, or deleted by hand
            return None
        if not data:  # a file cut short by a crash: treat as absent rather than serve it
            self._forget(key)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return None
        self._mark_used(key, path, len(data))
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` (replacing any previous value), then evict down to the bound."""
        if not data or len(data) > self.max_bytes:
            return  # an entry that cannot fit would only evict everything else
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        temp_path = self._write_temp(path.parent, data)
        with self._lock:
            # Publishing under the lock keeps the index's sizes equal to the files' when two
            # threads store the same key at once (last publisher = last index update).
            try:
                os.replace(temp_path, path)
            except OSError:
                os.unlink(temp_path)
                raise
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._total -= previous.size
            self._entries[key] = _Entry(len(data), time.time())
            self._total += len(data)
            victims = self._pop_over_bound()
        self._delete(victims)

    def _path(self, key: str) -> Path:
        if len(key) < 3 or not key.isalnum():  # keys are hex digests: refuse anything path-like
            raise ValueError(f"invalid cache key {key!r}")
        return self.root / key[:2] / key

    @staticmethod
    def _write_temp(directory: Path, data: bytes) -> str:
        """Write `data` to a new temp file beside its final place (same file system: atomic rename)."""
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        return temp_name

    def _mark_used(self, key: str, path: Path, size: int) -> None:
        now = time.time()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:  # written by another process sharing the directory: adopt it
                entry = self._entries[key] = _Entry(size, now)
                self._total += size
                victims = self._pop_over_bound()
            else:
                self._entries.move_to_end(key)
                victims = []
            stale = now - entry.touched_at > TOUCH_INTERVAL_S
            if stale:
                entry.touched_at = now
        if stale:
            with contextlib.suppress(OSError):
                os.utime(path)
        self._delete(victims)

    def _forget(self, key: str) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._total -= entry.size

    def _pop_over_bound(self) -> list[str]:
        """Drop least recently used entries from the index until under the bound. Lock held."""
        victims: list[str] = []
        while self._total > self.max_bytes and self._entries:
            key, entry = self._entries.popitem(last=False)
            self._total -= entry.size
            victims.append(key)
        return victims

    def _delete(self, keys: list[str]) -> None:
        # Outside the lock: unlinking is slow on some filesystems and readers must not wait on it.
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                self._path(key).unlink()

    def _load_index(self) -> None:
        """Rebuild the LRU order from the files on disk, oldest mtime first; drop temp leftovers."""
        found: list[tuple[float, str, int]] = []
        for shard in os.scandir(self.root):
            if not shard.is_dir(follow_symlinks=False):
                continue
            for item in os.scandir(shard.path):
                if item.name.startswith(TEMP_PREFIX):  # a write interrupted by a crash
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(item.path)
                    continue
                if not item.is_file(follow_symlinks=False):
                    continue
                stat = item.stat(follow_symlinks=False)
                found.append((stat.st_mtime, item.name, stat.st_size))
        found.sort()
        with self._lock:
            for mtime, key, size in found:
                self._entries[key] = _Entry(size, mtime)
                self._total += size
            victims = self._pop_over_bound()  # the bound may have been lowered since last run
        self._delete(victims)
        logger.debug("image cache: %d entries, %d bytes in %s", len(self._entries), self._total, self.root)
