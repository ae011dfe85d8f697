"""Each real implementation of an external-system Protocol satisfies it, signatures included."""

from __future__ import annotations

import inspect
from pathlib import Path

from tidings.config import Settings
from tidings.extract.runner import ArticleExtractor, PoolExtractor
from tidings.ingest.fetcher import Fetcher, SafeFetcher


def _same_signatures(protocol: type, implementation: type) -> None:
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        expected = inspect.signature(member)
        actual = inspect.signature(getattr(implementation, name))
        assert list(actual.parameters) == list(expected.parameters), name
        assert inspect.iscoroutinefunction(member) == inspect.iscoroutinefunction(
            getattr(implementation, name)
        ), name


async def test_safe_fetcher_is_a_fetcher(tmp_path: Path) -> None:
    fetcher = SafeFetcher(Settings(data_dir=tmp_path))
    try:
        assert isinstance(fetcher, Fetcher)
        _same_signatures(Fetcher, SafeFetcher)
    finally:
        await fetcher.aclose()


def test_pool_extractor_is_an_article_extractor() -> None:
    extractor = PoolExtractor(processes=0)
    try:
        assert isinstance(extractor, ArticleExtractor)
        _same_signatures(ArticleExtractor, PoolExtractor)
    finally:
        extractor.close()
