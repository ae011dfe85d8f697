"""CSRF tokens: synchronizer tokens for signed-in forms, signed double-submit cookies before that.

Signed in, a form's token is an HMAC of the session's own random CSRF secret (stored server-side
with the session), so a new session (sign-in, password change) invalidates every older form token.

Not signed in (the sign-in and sign-up forms, where login CSRF would sign a victim into the
attacker's account), there is no session to hang a secret on: a random value goes into a cookie
and the form carries HMAC(site key, value). An attacker's page can make the browser send the
cookie but cannot read it, so it cannot produce the matching token; and because the token is signed
with the site key, a cookie planted through a sibling subdomain cannot be paired with a token of
the attacker's choosing either (OWASP's "signed double-submit cookie").

Pure functions: the web layer (tidings.web.auth) decides which check a request needs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
ANONYMOUS_COOKIE_BYTES = 32
_SESSION_PURPOSE = b"tidings-csrf-session"
_ANONYMOUS_PURPOSE = b"tidings-csrf-anonymous:"


def session_token(csrf_secret: str) -> str:
    return hmac.new(csrf_secret.encode(), _SESSION_PURPOSE, hashlib.sha256).hexdigest()


def new_anonymous_value() -> str:
    return secrets.token_urlsafe(ANONYMOUS_COOKIE_BYTES)


def anonymous_token(signing_key: bytes, cookie_value: str) -> str:
    return hmac.new(signing_key, _ANONYMOUS_PURPOSE + cookie_value.encode(), hashlib.sha256).hexdigest()


def session_token_valid(csrf_secret: str, token: str | None) -> bool:
    return bool(token) and _same(session_token(csrf_secret), str(token))


def anonymous_token_valid(signing_key: bytes, cookie_value: str | None, token: str | None) -> bool:
    if not cookie_value or not token or len(cookie_value) > 100:
        return False
    return _same(anonymous_token(signing_key, cookie_value), token)


def _same(expected: str, given: str) -> bool:
    # As bytes: compare_digest refuses non-ASCII str, and a hostile token may be anything.
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))
