"""Walk the shared feed corpora (/work/shared/data/feeds): every file parses or fails cleanly, none hangs.

Corpora: feed-rs and rsparser fixtures (many real publisher captures) and feedparser's conformance
suite (synthetic, deliberately broken cases included). One test per folder; each collects every
escaped exception / hang in that folder and reports them together.
"""

from __future__ import annotations

import functools
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tidings.errors import FeedParseError
from tidings.ingest.discovery import discover_feeds
from tidings.ingest.opml import parse_opml
from tidings.ingest.parser import ParsedFeed, parse_feed

pytestmark = pytest.mark.shared_data

SHARED_FEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "feeds"
NOT_DOCUMENTS = {"README.md", "LICENSE", "LICENSE-MIT"}
PER_FILE_SECONDS = 10.0
REAL_CAPTURE_FOLDERS = ("feed-rs", "rsparser")
# feedparser's encoding tests state the HTTP Content-Type they expect in a header comment.
HEADER_CONTENT_TYPE = re.compile(rb"Header:\s*Content-type:\s*([^\r\n]+)", re.IGNORECASE)


def _documents(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_file() and path.name not in NOT_DOCUMENTS)


def _folders() -> list[Path]:
    if not SHARED_FEEDS.is_dir():
        return []
    return sorted(folder for folder in [SHARED_FEEDS, *SHARED_FEEDS.rglob("*")] if folder.is_dir())


FOLDERS = [folder for folder in _folders() if _documents(folder)]
skip_without_corpus = pytest.mark.skipif(
    not FOLDERS, reason=f"shared feed corpus not found at {SHARED_FEEDS} (needs ../shared/data/feeds)"
)


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """SIGALRM guard so one pathological file fails the test instead of hanging the run."""

    def on_alarm(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _content_type(content: bytes) -> str | None:
    match = HEADER_CONTENT_TYPE.search(content[:600])
    return match.group(1).decode("latin-1").strip() if match else None


@functools.cache  # the per-folder walk and the real-capture census share results
def _check_document(path: Path) -> tuple[str, ParsedFeed | None]:
    """Returns ('parsed' | 'clean_error', feed); raises on anything that escaped."""
    content = path.read_bytes()
    url = f"https://example.com/{path.relative_to(SHARED_FEEDS).as_posix()}"
    if path.suffix == ".opml":
        assert parse_opml(content), "OPML file yielded no outlines"
    if path.suffix == ".html":
        assert discover_feeds(content, base_url=url), "HTML page advertised no feed"
    try:
        feed = parse_feed(content, url=url, content_type=_content_type(content))
    except FeedParseError as error:
        assert str(error), "FeedParseError without a message"
        return "clean_error", None
    for entry in feed.entries:
        assert entry.link.startswith(("http://", "https://")), entry.link
        for moment in (entry.published, entry.updated):
            assert moment is None or moment.utcoffset() is not None
    return "parsed", feed


@skip_without_corpus
@pytest.mark.parametrize(
    "folder", FOLDERS, ids=[folder.relative_to(SHARED_FEEDS).as_posix() or "." for folder in FOLDERS]
)
def test_every_file_parses_or_fails_cleanly(folder: Path) -> None:
    escaped: list[str] = []
    outcomes: dict[str, int] = {"parsed": 0, "clean_error": 0}
    for path in _documents(folder):
        started = time.perf_counter()
        try:
            with time_limit(PER_FILE_SECONDS):
                outcome, _ = _check_document(path)
            outcomes[outcome] += 1
        except (Exception, Hang) as error:
            escaped.append(f"{path.name}: {error.__class__.__name__}: {error}"[:300])
        elapsed = time.perf_counter() - started
        if elapsed > PER_FILE_SECONDS / 2:
            escaped.append(f"{path.name}: took {elapsed:.1f}s")
    assert not escaped, f"{len(escaped)} problem(s) in {folder.name} ({outcomes}):\n" + "\n".join(escaped)


@skip_without_corpus
@pytest.mark.parametrize("corpus", REAL_CAPTURE_FOLDERS)
def test_most_real_captures_yield_entries(corpus: str) -> None:
    feed_files = [
        path
        for path in (SHARED_FEEDS / corpus).rglob("*")
        if path.is_file() and path.name not in NOT_DOCUMENTS and path.suffix not in (".html", ".opml")
    ]
    if not feed_files:
        pytest.skip(f"{corpus} not present in {SHARED_FEEDS}")
    with_entries = []
    for path in feed_files:
        _, feed = _check_document(path)
        if feed is not None and feed.entries:
            with_entries.append(path)
    share = len(with_entries) / len(feed_files)
    # Measured: feed-rs 58/68, rsparser 33/37. The rest are link-less spec examples, a truncated
    # capture, non-feed XML samples and "RSS in JSON" (not JSON Feed) — failures by design.
    assert share >= 0.75, f"only {len(with_entries)}/{len(feed_files)} of {corpus} yielded entries"


@skip_without_corpus
def test_known_real_captures_look_right() -> None:
    expectations = {
        "feed-rs/rss2/rss_2.0_bbc.xml": "rss",
        "feed-rs/rss2/rss_2.0_spiegel.xml": "rss",
        "feed-rs/rss1/rss_1.0_biorxiv.xml": "rdf",
        "feed-rs/atom/atom_mediarss_youtube_1.xml": "atom",
        "rsparser/DaringFireball.json": "json",
        "rsparser/russcox.atom": "atom",
        "rsparser/livemint.xml": "rss",
    }
    present = {name: kind for name, kind in expectations.items() if (SHARED_FEEDS / name).is_file()}
    if not present:
        pytest.skip("none of the known captures are present")
    for name, kind in present.items():
        feed = parse_feed((SHARED_FEEDS / name).read_bytes(), url=f"https://example.com/{name}")
        assert feed.kind == kind, name
        assert feed.entries, name
        assert sum(1 for entry in feed.entries if entry.title) >= len(feed.entries) * 0.9, name
        assert len({entry.link for entry in feed.entries}) >= len(feed.entries) * 0.9, name
