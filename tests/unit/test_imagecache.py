"""ImageCache: round trips, LRU eviction under the byte bound, rebuild from disk, thread safety."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tidings.web.imagecache import TEMP_PREFIX, ImageCache, image_cache_key


def key(n: int) -> str:
    return image_cache_key(f"https://example.org/{n}.jpg", 320, 75, "WEBP")


def files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_round_trip_and_miss(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    assert cache.get(key(1)) is None
    cache.put(key(1), b"image bytes")
    assert cache.get(key(1)) == b"image bytes"
    assert cache.total_bytes == len(b"image bytes")
    assert not any(p.name.startswith(TEMP_PREFIX) for p in files_in(tmp_path))


def test_key_depends_on_every_part() -> None:
    base = image_cache_key("https://a/x.jpg", 320, 75, "WEBP")
    assert base == image_cache_key("https://a/x.jpg", 320, 75, "webp")
    others = {
        image_cache_key("https://a/y.jpg", 320, 75, "WEBP"),
        image_cache_key("https://a/x.jpg", 640, 75, "WEBP"),
        image_cache_key("https://a/x.jpg", 320, 85, "WEBP"),
        image_cache_key("https://a/x.jpg", 320, 75, "JPEG"),
    }
    assert base not in others and len(others) == 4


def test_replacing_an_entry_keeps_the_total_right(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    cache.put(key(1), b"a" * 100)
    cache.put(key(1), b"b" * 40)
    assert cache.get(key(1)) == b"b" * 40
    assert cache.total_bytes == 40 and len(cache) == 1


def test_lru_eviction_keeps_cache_under_bound(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path, max_bytes=1000)
    for n in range(5):  # 5 × 200 bytes: exactly full
        cache.put(key(n), bytes([n]) * 200)
    assert cache.get(key(0)) is not None  # 0 becomes the most recently used; 1 is now the oldest
    cache.put(key(5), b"x" * 300)  # needs 300 bytes: evicts 1 and 2

    assert cache.total_bytes <= 1000
    assert sum(p.stat().st_size for p in files_in(tmp_path)) == cache.total_bytes
    assert cache.get(key(1)) is None and cache.get(key(2)) is None
    for survivor in (0, 3, 4, 5):
        assert cache.get(key(survivor)) is not None


def test_many_puts_never_exceed_bound(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path, max_bytes=10_000)
    for n in range(300):
        cache.put(key(n), os.urandom(50 + n % 700))
        assert cache.total_bytes <= 10_000
    assert sum(p.stat().st_size for p in files_in(tmp_path)) == cache.total_bytes


def test_entry_larger_than_bound_is_not_stored(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path, max_bytes=100)
    cache.put(key(1), b"k" * 60)
    cache.put(key(2), b"x" * 101)
    assert cache.get(key(2)) is None
    assert cache.get(key(1)) == b"k" * 60  # and it did not evict the rest for nothing


def test_index_is_rebuilt_from_disk_in_mtime_order(tmp_path: Path) -> None:
    first = ImageCache(tmp_path, max_bytes=1000)
    for n in range(3):
        first.put(key(n), bytes([n]) * 300)
    # Entry 0 was used last as far as the file system knows, then 2, then 1.
    for n, mtime in ((0, 1_700_000_300), (1, 1_700_000_100), (2, 1_700_000_200)):
        os.utime(first.root / key(n)[:2] / key(n), (mtime, mtime))
    leftover = first.root / key(0)[:2] / f"{TEMP_PREFIX}crashed"
    leftover.write_bytes(b"half a write")

    second = ImageCache(tmp_path, max_bytes=1000)
    assert len(second) == 3 and second.total_bytes == 900
    assert not leftover.exists()
    second.put(key(3), b"z" * 300)  # evicts the oldest by mtime: 1, not 0
    assert key(1) not in second
    assert key(0) in second and second.get(key(0)) == bytes([0]) * 300


def test_lowered_bound_evicts_at_start_up(tmp_path: Path) -> None:
    first = ImageCache(tmp_path, max_bytes=1000)
    for n in range(4):
        first.put(key(n), b"q" * 200)
    second = ImageCache(tmp_path, max_bytes=450)
    assert second.total_bytes <= 450 and len(second) == 2
    assert len(files_in(tmp_path)) == 2


def test_file_removed_behind_its_back_is_a_miss(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    cache.put(key(1), b"data")
    (cache.root / key(1)[:2] / key(1)).unlink()
    assert cache.get(key(1)) is None
    assert cache.total_bytes == 0 and key(1) not in cache


def test_empty_file_is_a_miss_and_removed(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    cache.put(key(1), b"data")
    path = cache.root / key(1)[:2] / key(1)
    path.write_bytes(b"")  # what a crash between write and flush can leave
    assert cache.get(key(1)) is None
    assert not path.exists()


def test_entry_written_by_another_process_is_adopted(tmp_path: Path) -> None:
    ours, theirs = ImageCache(tmp_path, max_bytes=1000), ImageCache(tmp_path, max_bytes=1000)
    theirs.put(key(7), b"shared")
    assert ours.get(key(7)) == b"shared"
    assert ours.total_bytes == len(b"shared")


def test_path_like_keys_are_refused(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    with pytest.raises(ValueError):
        cache.put("../../etc/passwd", b"x")


def test_concurrent_threads_keep_index_and_disk_consistent(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path, max_bytes=20_000)
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for n in range(200):
                k = key((offset * 7 + n) % 60)  # threads overlap on the same keys on purpose
                cache.put(k, bytes([n % 256]) * (100 + n % 300))
                data = cache.get(k)
                assert data is None or len(set(data)) == 1  # never a mix of two writes
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert cache.total_bytes <= 20_000
    on_disk = files_in(tmp_path)
    assert not any(p.name.startswith(TEMP_PREFIX) for p in on_disk)
    # A concurrent eviction may remove a file that a racing put just re-published, never the reverse:
    # every file on disk is accounted for, so the disk never exceeds the bound.
    assert sum(p.stat().st_size for p in on_disk) <= 20_000
