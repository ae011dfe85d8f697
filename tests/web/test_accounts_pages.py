"""The account pages through the ASGI app, on SQLite and PostgreSQL: sign-up, sign-in, sign-out,
cookies, CSRF on every form, lockout and rate limits, password change, deletion, API tokens, roles."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import select
from tests.web.test_pages import running

from tidings.accounts.models import User
from tidings.accounts.service import AccountService
from tidings.config import Settings
from tidings.web.auth import api_user

PASSWORD = "correct horse battery"
WRONG = "The email or password is wrong."
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')
HOSTILE = [
    "' OR '1'='1",
    '"; DROP TABLE users; --',
    "admin'--@example.org",
    "\x00\x01\x1b[31m",
    "%00%27%22",
    "<script>alert(1)</script>",
    "\u202etxt.exe",
    "🙂" * 300,
    "x" * 70_000,
]


# argon2 at its real cost would dominate these tests; tests/unit/test_passwords.py covers it.
pytestmark = pytest.mark.usefixtures("cheap_hashing")


@contextlib.asynccontextmanager
async def site(
    settings: Settings, *, https: bool = False
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    if https:
        settings = settings.model_copy(update={"base_url": "https://news.example.org"})
    async with running(settings) as (app, client):
        if https:
            client = new_client(app, https=True)
        yield app, client


def new_client(app: FastAPI, *, https: bool = False) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="https://test" if https else "http://test")


def accounts_of(app: FastAPI) -> AccountService:
    service: AccountService = app.state.runtime.accounts
    return service


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    match = CSRF_INPUT.search(response.text)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


async def sign_up(
    client: httpx.AsyncClient, email: str = "ann@example.org", name: str = "Ann", password: str = PASSWORD
) -> httpx.Response:
    token = await csrf_of(client, "/en/account/signup")
    form = {
        "csrf_token": token,
        "email": email,
        "display_name": name,
        "password": password,
        "password_again": password,
    }
    return await client.post("/en/account/signup", data=form)


async def sign_in(
    client: httpx.AsyncClient, email: str = "ann@example.org", password: str = PASSWORD, **extra: str
) -> httpx.Response:
    token = await csrf_of(client, "/en/account/signin")
    return await client.post(
        "/en/account/signin", data={"csrf_token": token, "email": email, "password": password, **extra}
    )


def session_cookie(client: httpx.AsyncClient) -> str | None:
    return client.cookies.get("tidings_session") or client.cookies.get("__Host-tidings_session")


def error_text(response: httpx.Response) -> str:
    match = re.search(r'<p class="form-error"[^>]*>(.*?)</p>', response.text, re.S)
    return " ".join(match.group(1).split()) if match else ""


async def signed_in_as(client: httpx.AsyncClient) -> str | None:
    page = await client.get("/en/account")
    match = re.search(r"<dt>Name</dt><dd>(.*?)</dd>", page.text)
    return match.group(1) if match else None


async def test_sign_up_signs_in_with_a_secure_host_cookie(settings: Settings) -> None:
    async with site(settings, https=True) as (_, client):
        response = await sign_up(client)
        assert response.status_code == 303
        assert response.headers["location"] == "/en/account?done=signed_up"
        assert response.headers["cache-control"] == "no-store"
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-tidings_session=")
        )
        flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "path", "max-age", "samesite"} <= flags
        assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower() and "domain" not in flags
        page = await client.get("/en/account?done=signed_up")
        assert page.headers["cache-control"] == "no-store"
        assert "Your account is ready" in page.text
        assert await signed_in_as(client) == "Ann"
        await client.aclose()


async def test_plain_http_set_ups_get_a_plain_cookie(settings: Settings) -> None:
    async with site(settings) as (_, client):
        response = await sign_up(client)
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("tidings_session="))
        assert "httponly" in cookie.lower() and "secure" not in cookie.lower()
        assert await signed_in_as(client) == "Ann"


async def test_sign_out_ends_the_session(settings: Settings) -> None:
    async with site(settings) as (app, client):
        await sign_up(client)
        token = session_cookie(client)
        assert token is not None
        csrf = await csrf_of(client, "/en/account")
        response = await client.post("/en/account/signout", data={"csrf_token": csrf})
        assert response.status_code == 303 and response.headers["location"] == "/en/account?done=signed_out"
        assert session_cookie(client) is None
        assert await accounts_of(app).resolve_session(token) is None
        page = await client.get("/en/account?done=signed_out")
        assert "You are signed out." in page.text and "/en/account/signin" in page.text


async def test_wrong_password_and_unknown_email_look_the_same(settings: Settings) -> None:
    async with site(settings) as (_, client):
        await sign_up(client)
        client.cookies.clear()
        wrong = await sign_in(client, password="not my password")
        unknown = await sign_in(client, email="nobody@example.org")
        malformed = await sign_in(client, email="nobody")
        for response in (wrong, unknown, malformed):
            assert response.status_code == 401
            assert error_text(response) == WRONG
        assert session_cookie(client) is None
        ok = await sign_in(client, email="ANN@example.org")
        assert ok.status_code == 303 and ok.headers["location"] == "/en/account?done=signed_in"


async def test_lockout_after_repeated_failures_says_when_to_retry(settings: Settings) -> None:
    async with site(settings) as (_, client):
        await sign_up(client)
        client.cookies.clear()
        for _ in range(settings.max_failed_logins - 1):
            assert (await sign_in(client, password="wrong password")).status_code == 401
        locked = await sign_in(client, password="wrong password")
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == str(settings.lockout_minutes * 60)
        assert error_text(locked) == (
            f"Too many failed sign-ins. Try again in {settings.lockout_minutes} minutes."
        )
        still = await sign_in(client)  # the right password waits too
        assert still.status_code == 429 and session_cookie(client) is None
        korean = await client.post(
            "/ko/account/signin",
            data={
                "csrf_token": await csrf_of(client, "/ko/account/signin"),
                "email": "ann@example.org",
                "password": "x",
            },
        )
        assert korean.status_code == 429 and "분 후에 다시 시도해 주세요" in korean.text


async def test_sign_in_attempts_are_rate_limited_per_client(settings: Settings) -> None:
    limited = settings.model_copy(update={"signins_per_minute": 3})
    async with site(limited) as (_, client):
        for email in ("a@example.org", "b@example.org", "c@example.org"):
            assert (await sign_in(client, email=email)).status_code == 401
        response = await sign_in(client, email="d@example.org")
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0
        assert "Too many attempts from your network. Try again in" in error_text(response)


async def test_sign_ups_are_rate_limited_per_client(settings: Settings) -> None:
    limited = settings.model_copy(update={"signups_per_hour": 1})
    async with site(limited) as (_, client):
        assert (await sign_up(client)).status_code == 303
        client.cookies.clear()
        response = await sign_up(client, email="bob@example.org")
        assert response.status_code == 429 and "Too many attempts" in error_text(response)


async def test_sign_in_gets_a_new_session_id(settings: Settings) -> None:
    """Session fixation: whatever session the browser held before signing in is not the one after."""
    async with site(settings) as (app, client):
        await sign_up(client)
        before = session_cookie(client)
        response = await sign_in(client)
        after = session_cookie(client)
        assert response.status_code == 303 and before and after and before != after
        assert await accounts_of(app).resolve_session(before) is None
        assert await signed_in_as(client) == "Ann"


async def test_changing_the_password_signs_out_other_devices(settings: Settings) -> None:
    async with site(settings) as (app, laptop):
        await sign_up(laptop)
        async with new_client(app) as phone:
            await sign_in(phone)
            assert await signed_in_as(phone) == "Ann"
            before = session_cookie(laptop)
            csrf = await csrf_of(laptop, "/en/account/password")
            form = {
                "csrf_token": csrf,
                "current_password": "wrong password",
                "new_password": "new password 1",
            }
            wrong = await laptop.post(
                "/en/account/password", data={**form, "new_password_again": "new password 1"}
            )
            assert wrong.status_code == 400 and error_text(wrong) == "The password is wrong."
            mismatch = await laptop.post("/en/account/password", data={**form, "new_password_again": "other"})
            assert mismatch.status_code == 422 and "not the same" in error_text(mismatch)
            form["current_password"] = PASSWORD
            done = await laptop.post(
                "/en/account/password", data={**form, "new_password_again": "new password 1"}
            )
            assert done.status_code == 303 and done.headers["location"] == "/en/account?done=password"
            assert session_cookie(laptop) != before  # rotated
            assert await signed_in_as(laptop) == "Ann"
            assert await signed_in_as(phone) is None
            assert (await sign_in(phone)).status_code == 401
            assert (await sign_in(phone, password="new password 1")).status_code == 303


async def _seed_for_csrf(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    """Signed in as Ann, with one API token: every POST route has something to act on."""
    await sign_up(client)
    user = await accounts_of(app).user_by_email("ann@example.org")
    assert user is not None
    _, token = await accounts_of(app).create_api_token(user, "phone")
    return {"token_id": str(token.id)}


POST_ROUTES = [
    (
        "/en/account/signup",
        {"email": "bob@example.org", "display_name": "Bob", "password": PASSWORD, "password_again": PASSWORD},
    ),
    ("/en/account/signin", {"email": "ann@example.org", "password": PASSWORD}),
    ("/en/account/signout", {}),
    (
        "/en/account/password",
        {"current_password": PASSWORD, "new_password": "x" * 12, "new_password_again": "x" * 12},
    ),
    ("/en/account/delete", {"password": PASSWORD}),
    ("/en/account/tokens", {"name": "laptop"}),
    ("/en/account/tokens/{token_id}/revoke", {}),
]


@pytest.mark.parametrize(("path", "form"), POST_ROUTES, ids=[path for path, _ in POST_ROUTES])
@pytest.mark.parametrize("token", ["missing", "wrong", "other session's", "anonymous cookie's"])
async def test_every_form_needs_its_csrf_token(
    settings: Settings, path: str, form: dict[str, str], token: str
) -> None:
    async with site(settings) as (app, client):
        ids = await _seed_for_csrf(app, client)
        async with new_client(app) as other:
            await sign_in(other)
            other_token = await csrf_of(other, "/en/account")
            anonymous_token = await csrf_of(other, "/en/account/signup")  # valid only with other's cookie
        data = dict(form)
        if token == "wrong":
            data["csrf_token"] = "0" * 64
        elif token == "other session's":
            data["csrf_token"] = other_token
        elif token == "anonymous cookie's":
            data["csrf_token"] = anonymous_token
        before = session_cookie(client)
        response = await client.post(path.format(**ids), data=data)
        assert response.status_code == 403, response.text[:300]
        assert "could not be handled" in response.text
        assert session_cookie(client) == before and await signed_in_as(client) == "Ann"
        assert [t.revoked_at for t in await accounts_of(app).api_tokens(1)] == [None]


async def test_csrf_tokens_also_work_from_a_header(settings: Settings) -> None:
    async with site(settings) as (_, client):
        await sign_up(client)
        csrf = await csrf_of(client, "/en/account/tokens")
        response = await client.post(
            "/en/account/tokens", data={"name": "cli"}, headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 200 and 'id="new-token"' in response.text


async def test_deleting_the_account_anonymises_it(settings: Settings) -> None:
    async with site(settings) as (app, client):
        await sign_up(client)
        csrf = await csrf_of(client, "/en/account/delete")
        wrong = await client.post("/en/account/delete", data={"csrf_token": csrf, "password": "nope nope"})
        assert wrong.status_code == 400 and error_text(wrong) == "The password is wrong."
        response = await client.post("/en/account/delete", data={"csrf_token": csrf, "password": PASSWORD})
        assert response.status_code == 303 and response.headers["location"] == "/en/account?done=deleted"
        assert session_cookie(client) is None
        async with app.state.runtime.db.session() as session:
            rows = (await session.execute(select(User))).scalars().all()
        assert [(u.email, u.display_name, u.password_hash, u.is_deleted) for u in rows] == [
            (None, "deleted user", None, True)
        ]
        assert (await sign_in(client)).status_code == 401


async def test_api_tokens_work_until_revoked(settings: Settings) -> None:
    async with site(settings) as (app, client):
        await sign_up(client)
        csrf = await csrf_of(client, "/en/account/tokens")
        created = await client.post("/en/account/tokens", data={"csrf_token": csrf, "name": "my phone"})
        assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
        token = re.search(r'<code class="token" id="new-token">([^<]+)</code>', created.text).group(1)  # type: ignore[union-attr]
        listing = await client.get("/en/account/tokens")
        assert "my phone" in listing.text and token not in listing.text  # shown once

        async with new_client(app) as api:
            me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200
            assert me.json() == {"id": 1, "display_name": "Ann", "role": "reader", "csrf_token": None}
            for header in ("Bearer tid_forged", "Basic YW5uOnB3", "Bearer ", token):
                refused = await api.get("/api/v1/me", headers={"Authorization": header})
                assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"
                assert refused.headers["www-authenticate"].startswith("Bearer")

            token_id = re.search(r"/en/account/tokens/(\d+)/revoke", listing.text).group(1)  # type: ignore[union-attr]
            csrf = await csrf_of(client, "/en/account/tokens")
            revoked = await client.post(f"/en/account/tokens/{token_id}/revoke", data={"csrf_token": csrf})
            assert revoked.status_code == 303
            assert "Revoked" in (await client.get("/en/account/tokens")).text
            after = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert after.status_code == 401

        cookie_me = await client.get("/api/v1/me")  # the site's own pages: the session cookie
        assert cookie_me.status_code == 200 and cookie_me.json()["csrf_token"]
        assert (
            await client.post("/en/account/tokens/9999/revoke", data={"csrf_token": csrf})
        ).status_code == 404
        assert (
            await client.post("/en/account/tokens/abc/revoke", data={"csrf_token": csrf})
        ).status_code == 422


async def test_roles_guard_the_moderation_page(settings: Settings) -> None:
    async with site(settings) as (app, client):
        anonymous = await client.get("/en/moderation")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/en/account/signin?next=%2Fen%2Fmoderation"
        await sign_up(client)
        reader = await client.get("/ko/moderation")
        assert reader.status_code == 403 and 'lang="ko"' in reader.text
        user = await accounts_of(app).user_by_email("ann@example.org")
        assert user is not None
        await accounts_of(app).set_role(user.id, "moderator")
        assert (await client.get("/en/moderation")).status_code == 303  # the role change ended the session
        back = await sign_in(client, next="/en/moderation")
        assert back.headers["location"] == "/en/moderation"
        page = await client.get("/en/moderation")
        assert page.status_code == 200 and "Nothing is waiting for moderation." in page.text
        assert "/en/moderation" in (await client.get("/en/account")).text


async def test_sign_in_never_redirects_off_site(settings: Settings) -> None:
    async with site(settings) as (_, client):
        await sign_up(client)
        for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            response = await sign_in(client, next=target)
            assert response.headers["location"] == "/en/account?done=signed_in"


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_values_in_every_field_never_cause_a_server_error(
    settings: Settings, value: str
) -> None:
    async with site(settings) as (app, client):
        await sign_up(client)
        routes = [
            (path.format(token_id=1), {name: value for name in form} | {"next": value})
            for path, form in POST_ROUTES
            if "signout" not in path and "delete" not in path
        ]
        routes.append(("/en/account/delete", {"password": value}))
        for path, form in routes:
            form["csrf_token"] = await csrf_of(
                client, "/en/account/signup" if "sign" in path else "/en/account"
            )
            response = await client.post(path, data=form)
            assert response.status_code < 500, (path, response.status_code)
            if value.startswith("<script>"):
                assert "<script>alert(1)" not in response.text
        # Only the value shaped like an email address made an account (which its own password then
        # deleted); Ann's is untouched.
        assert len(await accounts_of(app).list_users()) == (2 if "@" in value else 1)
        assert (await accounts_of(app).authenticate("ann@example.org", PASSWORD)).display_name == "Ann"


async def test_odd_form_bodies_are_refused_cleanly(settings: Settings) -> None:
    async with site(settings) as (_, client):
        csrf = await csrf_of(client, "/en/account/signin")
        as_json = await client.post("/en/account/signin", json={"csrf_token": csrf, "email": "a@b.c"})
        assert as_json.status_code == 403  # no form, so no token: refused before anything else
        multipart = await client.post(
            "/en/account/signin", files={"email": ("e", b"a@b.c")}, headers={"X-CSRF-Token": csrf}
        )
        assert multipart.status_code == 422
        huge = await client.post(
            "/en/account/signin",
            content=b"email=" + b"x" * 100_000,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf},
        )
        assert huge.status_code == 413


async def test_cached_pages_carry_nothing_personal(settings: Settings) -> None:
    async with site(settings) as (_, client):
        await sign_up(client, name="Very Unique Name")
        home = await client.get("/en/")
        assert home.status_code == 200
        assert 'href="/en/account"' in home.text
        assert "Very Unique Name" not in home.text and "csrf_token" not in home.text
        assert "set-cookie" not in home.headers


async def test_cookie_authenticated_api_writes_need_the_csrf_header(settings: Settings) -> None:
    """The sync APIs to come authenticate with `api_user`: a bearer token needs no CSRF token (no
    browser sends it by itself), the session cookie does."""
    async with site(settings) as (app, client):

        async def write(request: Request) -> dict[str, int | None]:
            user = await api_user(request)
            return {"user": user.id if user else None}

        app.router.add_api_route("/api/v1/test-write", write, methods=["POST"])
        await sign_up(client)
        refused = await client.post("/api/v1/test-write")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
        wrong = await client.post("/api/v1/test-write", headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403
        header = (await client.get("/api/v1/me")).json()["csrf_token"]
        allowed = await client.post("/api/v1/test-write", headers={"X-CSRF-Token": header})
        assert allowed.status_code == 200 and allowed.json() == {"user": 1}

        user = await accounts_of(app).user_by_email("ann@example.org")
        assert user is not None
        token, _ = await accounts_of(app).create_api_token(user, "sync")
        async with new_client(app) as api:
            by_token = await api.post("/api/v1/test-write", headers={"Authorization": f"Bearer {token}"})
            assert by_token.status_code == 200 and by_token.json() == {"user": 1}
            nobody = await api.post("/api/v1/test-write")
            assert nobody.json() == {"user": None}
