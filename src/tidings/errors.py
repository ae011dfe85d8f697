"""Domain errors. Raised inside services, mapped to one JSON shape / one error page at the edges."""

from __future__ import annotations


class TidingsError(Exception):
    """Base of every error Tidings raises on purpose. `code` is stable and machine-readable."""

    code = "error"
    status = 500

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (extraction and parsing run in worker processes); the
        # default pickling would rebuild them from args alone and lose `code`, `url`, ...
        return (_rebuild_error, (self.__class__, self.args, dict(self.__dict__)))


def _rebuild_error(
    cls: type[TidingsError], args: tuple[object, ...], state: dict[str, object]
) -> TidingsError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class NotFound(TidingsError):
    """The thing asked for does not exist."""

    code = "not_found"
    status = 404


class Unauthenticated(TidingsError):
    """Sign in first: this needs an account."""

    code = "unauthenticated"
    status = 401


class Forbidden(TidingsError):
    """The signed-in account may not do this."""

    code = "forbidden"
    status = 403


class Conflict(TidingsError):
    """The thing already exists."""

    code = "conflict"
    status = 409


class InvalidInput(TidingsError):
    """The input was malformed."""

    code = "invalid_input"
    status = 422


class RateLimited(TidingsError):
    """Too many requests from one client; `retry_after` says when to try again (seconds)."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str = "too many requests", *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FeedError(TidingsError):
    """A feed could not be used. Stored on the feed as data, never allowed to crash a worker."""

    code = "feed_error"
    status = 502


class FeedParseError(FeedError):
    """The document is not a feed we can read."""

    code = "feed_parse_error"


class ExtractionError(TidingsError):
    """No article text could be extracted from the page."""

    code = "extraction_error"
    status = 422
