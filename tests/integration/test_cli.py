"""The `tidings` command, end to end, against the local publisher and a SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.publisher import Publisher, fixture_corpus
from typer.testing import CliRunner

from tidings.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def publisher() -> Iterator[Publisher]:
    with Publisher(fixture_corpus()) as pub:
        yield pub


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIDINGS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TIDINGS_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("TIDINGS_PER_HOST_DELAY", "0")
    monkeypatch.setenv("TIDINGS_EXTRACT_PROCESSES", "0")
    monkeypatch.setenv("TIDINGS_LOAD_DEFAULT_SOURCES", "false")
    monkeypatch.setenv("TIDINGS_LOG_LEVEL", "WARNING")
    return tmp_path


def test_add_list_crawl_export_import(env: Path, publisher: Publisher) -> None:
    result = runner.invoke(app, ["sources", "add", publisher.base_url + "/"])
    assert result.exit_code == 0, result.output
    assert "added feed" in result.output

    result = runner.invoke(app, ["crawl", "--once"])
    assert result.exit_code == 0, result.output
    assert "new articles" in result.output

    result = runner.invoke(app, ["sources", "list"])
    assert result.exit_code == 0 and "ok" in result.output

    opml = env / "out.opml"
    result = runner.invoke(app, ["sources", "export-opml", "-o", str(opml)])
    assert result.exit_code == 0 and "xmlUrl" in opml.read_text()

    result = runner.invoke(app, ["sources", "import-opml", str(opml)])
    assert result.exit_code == 0 and "imported 0 feeds, 1 already present" in result.output


def test_adding_a_non_feed_is_a_clear_error(env: Path, publisher: Publisher) -> None:
    result = runner.invoke(app, ["sources", "add", publisher.base_url + "/robots.txt"])
    assert result.exit_code == 1
    assert "no feed found" in result.output


def test_ssrf_guard_applies_to_the_cli(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_ALLOW_HOSTS", "")
    result = runner.invoke(app, ["sources", "add", "http://169.254.169.254/latest/meta-data/"])
    assert result.exit_code == 1
    assert "error" in result.output.lower()


def test_extract_a_local_file_as_json(env: Path, publisher: Publisher, tmp_path: Path) -> None:
    import httpx

    article = fixture_corpus()[0]
    page = tmp_path / "page.html"
    page.write_bytes(httpx.get(publisher.article_url(article["id"])).content)
    result = runner.invoke(app, ["extract", str(page), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"title", "author", "published", "language", "image", "text"} <= data.keys()
    assert data["text"] and data["title"]


def test_extract_a_url_as_text(env: Path, publisher: Publisher) -> None:
    article = fixture_corpus()[0]
    result = runner.invoke(app, ["extract", publisher.article_url(article["id"]), "--format", "text"])
    assert result.exit_code == 0, result.output
    assert article["title"].split()[0] in result.stdout


def test_extract_missing_file(env: Path) -> None:
    result = runner.invoke(app, ["extract", "/nonexistent/page.html"])
    assert result.exit_code == 1


def test_crawl_understands_then_stories_commands(env: Path, publisher: Publisher) -> None:
    assert runner.invoke(app, ["sources", "add", publisher.base_url + "/"]).exit_code == 0
    result = runner.invoke(app, ["crawl", "--once"])
    assert result.exit_code == 0, result.output
    # crawl --once ran the understanding step: nothing is left pending.
    result = runner.invoke(app, ["stories", "understand"])
    assert result.exit_code == 0 and "0 articles understood" in result.output

    result = runner.invoke(app, ["stories", "rebuild-index"])
    assert result.exit_code == 0, result.output
    indexed = int(result.output.split(" vectors indexed")[0].split()[-1])
    assert indexed > 0 and (env / "related.index").exists()

    result = runner.invoke(app, ["stories", "reembed", "--all"])
    assert result.exit_code == 0, result.output
    assert f"{indexed} stale vectors dropped, {indexed} articles embedded" in result.output
