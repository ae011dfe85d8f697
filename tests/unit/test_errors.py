"""Errors keep their details across process boundaries (extraction and parsing run in workers)."""

import pickle

from tidings.errors import FeedParseError, NotFound
from tidings.ingest.fetcher import HTTPStatusError


def test_domain_errors_survive_pickling_with_their_code() -> None:
    error = FeedParseError("not a feed: got an HTML page", code="html_page")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is FeedParseError
    assert (again.code, again.message, again.status) == ("html_page", "not a feed: got an HTML page", 502)


def test_fetch_errors_keep_upstream_details() -> None:
    error = HTTPStatusError(
        "HTTP 503", url="https://example.org/feed", status=503, retry_after=120.0, code="http_503"
    )
    again = pickle.loads(pickle.dumps(error))
    assert (again.url, again.upstream_status, again.retry_after, again.code) == (
        "https://example.org/feed",
        503,
        120.0,
        "http_503",
    )
    assert again.status == 502  # what our own edge answers


def test_plain_errors_still_pickle() -> None:
    assert pickle.loads(pickle.dumps(NotFound("no article"))).message == "no article"
