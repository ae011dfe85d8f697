"""Errors of the outbound HTTP path.

They live apart from `fetcher.py` so that the SSRF guard and the network backend can raise them
without importing the fetcher; `fetcher.py` re-exports every one of them.
"""

from __future__ import annotations

from tidings.errors import TidingsError


class FetchError(TidingsError):
    """The URL could not be fetched.

    `upstream_status` is the publisher's HTTP status when there was one; `status` stays the status
    our own edge answers with (502: the upstream failed us). `retry_after` is the delay in seconds
    the server asked for.
    """

    code = "fetch_error"
    status = 502

    def __init__(
        self,
        message: str = "",
        *,
        url: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.url = url
        self.upstream_status = status
        self.retry_after = retry_after


class BlockedURLError(FetchError):
    """The URL points somewhere we must not go (private network, bad scheme, metadata service)."""

    code = "blocked_url"


class ResponseTooLargeError(FetchError):
    """The response is larger than allowed (raw or once decompressed)."""

    code = "too_large"


class TooManyRedirectsError(FetchError):
    """Too many redirects."""

    code = "too_many_redirects"


class FetchTimeoutError(FetchError):
    """The server was too slow (connect, read, or the whole fetch)."""

    code = "timeout"


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str = "",
        *,
        url: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(
            message or f"HTTP {status}",
            url=url,
            status=status,
            retry_after=retry_after,
            code=code or f"http_{status}",
        )


class RobotsDisallowedError(FetchError):
    """robots.txt disallows this URL for our user agent."""

    code = "robots_disallowed"


class FetchConnectError(FetchError):
    """No connection could be made (DNS failure, refused, TLS error)."""

    code = "connect_error"
