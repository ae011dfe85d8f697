"""Main-text extraction benchmark: bare trafilatura vs. Tidings' `extract_article`, same run, same pages.

Usage::

    .venv/bin/python -m benchmarks.extraction --data /work/shared/data/extraction/trafilatura-eval \
        [--limit N] [--jobs 2]

Prints one JSON line. The metric is trafilatura's own (tests/eval_common.py in its repository), micro-averaged
over the corpus: per page, TP = "with" segments found as substrings of the whitespace-normalised output,
FN = "with" segments missing, FP = "without" segments found. A crash counts as empty output.

`pages_per_s` is pages divided by the summed per-page extraction time of that extractor (so it is a
per-core rate, comparable between the two extractors whatever --jobs is). Both extractors run on each page
back to back in the same worker, so machine noise hits them alike.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path

import trafilatura

from tidings.errors import ExtractionError
from tidings.extract.article import extract_article

_WHITESPACE = re.compile(r"\s+")


@dataclass(slots=True)
class EvalPage:
    url: str
    path: Path
    with_segments: list[str]
    without_segments: list[str]


@dataclass(slots=True)
class Score:
    true_positives: int = 0
    false_negatives: int = 0
    false_positives: int = 0
    seconds: float = 0.0
    pages: int = 0
    crashes: int = 0

    def add(self, other: Score) -> None:
        self.true_positives += other.true_positives
        self.false_negatives += other.false_negatives
        self.false_positives += other.false_positives
        self.seconds += other.seconds
        self.pages += other.pages
        self.crashes += other.crashes

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 0.0

    @property
    def f1(self) -> float:
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / denominator if denominator else 0.0

    def summary(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "pages_per_s": round(self.pages / self.seconds, 2) if self.seconds else 0.0,
            "crashes": self.crashes,
        }


@dataclass(slots=True)
class PageResult:
    url: str
    scores: dict[str, Score] = field(default_factory=dict)


def normalise_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def score_output(page: EvalPage, output: str) -> Score:
    """Score one output with trafilatura's substring metric."""
    normalised = normalise_whitespace(output)
    found_with = sum(1 for segment in page.with_segments if normalise_whitespace(segment) in normalised)
    found_without = sum(1 for segment in page.without_segments if normalise_whitespace(segment) in normalised)
    return Score(
        true_positives=found_with,
        false_negatives=len(page.with_segments) - found_with,
        false_positives=found_without,
        pages=1,
    )


def load_pages(data_dir: Path, limit: int | None = None) -> list[EvalPage]:
    """Read evaldata.json; the HTML file is looked up in cache/ first, then eval/ (as trafilatura does)."""
    annotations = json.loads((data_dir / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url in sorted(annotations):
        entry = annotations[url]
        path = _resolve_html(data_dir, entry["file"])
        if path is None:
            continue
        pages.append(EvalPage(url, path, list(entry["with"]), list(entry["without"])))
    return pages[:limit] if limit else pages


def _resolve_html(data_dir: Path, file_name: str) -> Path | None:
    for folder in ("cache", "eval"):
        candidate = data_dir / "html" / folder / f"{file_name}.gz"
        if candidate.exists():
            return candidate
    return None


def baseline_text(html: bytes, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def tidings_text(html: bytes, url: str) -> str:
    try:
        return extract_article(html, url=url).text
    except ExtractionError:
        return ""


EXTRACTORS: dict[str, Callable[[bytes, str], str]] = {"baseline": baseline_text, "tidings": tidings_text}


def _timed_score(name: str, page: EvalPage, html: bytes) -> Score:
    started = time.perf_counter()
    crashed = False
    try:
        output = EXTRACTORS[name](html, page.url)
    except Exception:  # a crash is scored as empty output, like the upstream evaluation does
        output, crashed = "", True
    elapsed = time.perf_counter() - started
    score = score_output(page, output)
    score.seconds = elapsed
    score.crashes = int(crashed)
    return score


def evaluate_page(page: EvalPage) -> PageResult:
    html = gzip.decompress(page.path.read_bytes())
    result = PageResult(page.url)
    for name in EXTRACTORS:
        result.scores[name] = _timed_score(name, page, html)
    return result


def _quiet_worker() -> None:
    # Both libraries log a warning per discarded page; thousands of lines would drown the JSON result.
    logging.disable(logging.WARNING)


def run_all(pages: list[EvalPage], jobs: int) -> Iterable[PageResult]:
    if jobs <= 1:
        _quiet_worker()
        yield from map(evaluate_page, pages)
        return
    with Pool(jobs, initializer=_quiet_worker) as pool:
        yield from pool.imap_unordered(evaluate_page, pages, chunksize=4)


def benchmark(pages: list[EvalPage], jobs: int) -> dict[str, object]:
    totals = {name: Score() for name in EXTRACTORS}
    for result in run_all(pages, jobs):
        for name, score in result.scores.items():
            totals[name].add(score)
    baseline, tidings = totals["baseline"], totals["tidings"]
    baseline_rate = baseline.pages / baseline.seconds if baseline.seconds else 0.0
    tidings_rate = tidings.pages / tidings.seconds if tidings.seconds else 0.0
    return {
        "pages": len(pages),
        "baseline": baseline.summary(),
        "tidings": tidings.summary(),
        "f1_ratio": round(tidings.f1 / baseline.f1, 4) if baseline.f1 else None,
        "speed_ratio": round(tidings_rate / baseline_rate, 4) if baseline_rate else None,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="trafilatura-eval folder (has evaldata.json)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages (sorted by URL)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.data / "evaldata.json").is_file():
        print(f"{args.data}/evaldata.json not found (pass the trafilatura-eval folder with --data)", file=sys.stderr)
        return 2
    pages = load_pages(args.data, args.limit)
    if not pages:
        print(f"no evaluation pages found under {args.data}", file=sys.stderr)
        return 1
    print(json.dumps(benchmark(pages, args.jobs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
