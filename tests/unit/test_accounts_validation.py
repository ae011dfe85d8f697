"""Email and name normalisation, CSRF tokens and the lockout of addresses without an account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tidings.accounts import csrf
from tidings.accounts.lockout import PhantomLockout
from tidings.accounts.validation import InvalidEmail, InvalidName, normalize_email, normalize_name
from tidings.web.routes.accounts import safe_next


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ann@Example.ORG", "ann@example.org"),
        ("  ann@example.org\n", "ann@example.org"),
        ("ａｎｎ@ｅｘａｍｐｌｅ.ｏｒｇ", "ann@example.org"),  # full-width letters fold to the same address
        ("o'brien+news@example.co.kr", "o'brien+news@example.co.kr"),
    ],
)
def test_emails_are_normalised(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ann",
        "ann@",
        "@example.org",
        "ann@example",
        "a b@example.org",
        "ann@exa\x00mple.org",
        "x" * 250 + "@e.org",
    ],
)
def test_bad_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_names() -> None:
    assert normalize_name("  Kim   Min-jun ") == "Kim Min-jun"
    assert normalize_name("山田 太郎") == "山田 太郎"
    for bad in ("", "   ", "x" * 81, "evil\u202eresu", "zero\u200bwidth", "nul\x00", "Deleted User", "ADMIN"):
        with pytest.raises(InvalidName):
            normalize_name(bad)
    assert normalize_name("admin", reserved=False) == "admin"


def test_session_csrf_tokens() -> None:
    token = csrf.session_token("secret-a")
    assert csrf.session_token_valid("secret-a", token)
    assert not csrf.session_token_valid("secret-b", token)
    assert not csrf.session_token_valid("secret-a", None)
    assert not csrf.session_token_valid("secret-a", "")
    assert not csrf.session_token_valid("secret-a", "한국어" + token)  # non-ASCII never raises


def test_anonymous_csrf_tokens_are_bound_to_the_cookie_and_the_site_key() -> None:
    value = csrf.new_anonymous_value()
    token = csrf.anonymous_token(b"site-key", value)
    assert csrf.anonymous_token_valid(b"site-key", value, token)
    assert not csrf.anonymous_token_valid(b"other-key", value, token)
    assert not csrf.anonymous_token_valid(b"site-key", csrf.new_anonymous_value(), token)
    assert not csrf.anonymous_token_valid(b"site-key", None, token)
    assert not csrf.anonymous_token_valid(b"site-key", value, None)
    assert not csrf.anonymous_token_valid(b"site-key", value, value)  # the raw cookie is not a token


def test_phantom_lockout() -> None:
    lockout = PhantomLockout(max_failures=3, lockout=timedelta(minutes=15))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert lockout.fail("k", now) is None
    assert lockout.fail("k", now) is None
    until = lockout.fail("k", now)
    assert until == now + timedelta(minutes=15)
    assert lockout.locked_until("k", now + timedelta(minutes=14)) == until
    assert lockout.locked_until("k", now + timedelta(minutes=16)) is None
    assert lockout.fail("k", now + timedelta(minutes=16)) is None  # counting starts again
    assert lockout.locked_until("other", now) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/en/article/abc", "/en/article/abc"),
        ("/en/search?q=x", "/en/search?q=x"),
        (None, "/en/account"),
        ("", "/en/account"),
        ("https://evil.example/", "/en/account"),
        ("//evil.example/", "/en/account"),
        ("/\\evil.example/", "/en/account"),
        ("/en/\r\nSet-Cookie: x=1", "/en/account"),
        ("/" + "a" * 3000, "/en/account"),
    ],
)
def test_next_stays_on_this_site(value: str | None, expected: str) -> None:
    assert safe_next(value, "en") == expected
