"""Security tests over the whole app (issue 6), on SQLite and PostgreSQL.

Every check enumerates the routes from `app.routes` rather than naming them, so a route added later is
covered without touching this file (or fails here, saying what it needs):

- CSRF: every state-changing route refuses a signed-in request that carries no CSRF token, neither in
  the form nor in the header. The signed-in user is an admin and every path parameter names a row that
  exists, so neither a role check nor a 404 can answer first; a test-only exception handler marks the
  refusals that CsrfFailed produced, so the test knows which check answered.
- Session fixation: a session cookie planted before signing in (made up, or the attacker's own real
  session) is never the one after it, and never resolves to the victim.
- Privilege escalation: a reader gets 403 from every moderation and admin route (with a valid CSRF
  token, so that the role check is what answers), and cannot edit or delete another's comment.
- SQL injection: classic strings in every query parameter of every GET route, in every path parameter,
  and in every form field of every POST route: never a 500, and the tables are intact afterwards.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.routing import _IncludedRouter
from sqlalchemy import func, select
from starlette.routing import Route
from tests.factories import make_article, make_source
from tests.web.test_accounts_pages import CSRF_INPUT, PASSWORD, new_client, session_cookie, signed_in_as
from tests.web.test_pages import running

from tidings.accounts.models import User
from tidings.comments.service import CommentService
from tidings.config import Settings
from tidings.errors import Forbidden
from tidings.ingest.models import Article, Feed, Source
from tidings.stories.repo import assign_story, ensure_stories, refresh_stories
from tidings.web.auth import CsrfFailed
from tidings.web.errors import error_response

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
REFUSED_BY = "X-Test-Refused-By"

# State-changing routes that need no CSRF token, and why. A route authenticated only by an
# `Authorization: Bearer` header carries no ambient authority (a browser never adds that header by
# itself), so a cross-site form cannot use it; a route that also accepts the session cookie is NOT
# exempt (tidings.web.auth.api_user checks the X-CSRF-Token header for cookie callers).
CSRF_EXEMPT: dict[tuple[str, str], str] = {}
# Routes defended against CSRF by something other than the token, and what: they must still refuse
# (403) a request that lacks it.
OTHER_CSRF_DEFENCE: dict[tuple[str, str], str] = {
    ("/{lang}/article/{article_id}/read", "POST"): (
        "the read beacon needs the X-Requested-With: tidings header, which no cross-site form can send "
        "and a cross-site fetch cannot without a CORS preflight the site never grants; it only records "
        "a read for the signed-in reader"
    ),
}

# Routes a reader may use on someone else's comment: voting and reporting are what readers do.
OTHERS_COMMENT_ALLOWED = re.compile(r"/(vote|report|reply|replies)\b")

# Query parameters any GET route might read; each is sent on every GET route.
QUERY_PARAMS = [
    "q", "cursor", "language", "sort", "next", "done", "page", "limit", "offset", "lang", "tag", "source",
    "since", "until", "before", "after", "w", "s", "url", "format", "id", "parent", "comment", "story",
]  # fmt: skip
# Form fields any POST route might read; each is sent to every POST route.
FORM_FIELDS = [
    "email", "display_name", "password", "password_again", "current_password", "new_password",
    "new_password_again", "name", "next", "body", "reason", "parent_id", "value", "sort", "q", "role",
    "client_token", "language", "url", "action", "comment_id", "article_id", "user_id", "note",
]  # fmt: skip
SQL_INJECTION = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DROP TABLE articles; --',
    "'; DROP TABLE users; --",
    "1' UNION SELECT id, email, password_hash FROM users --",
    "1 UNION ALL SELECT NULL,NULL,NULL--",
    "%' AND '1'='1",
    "%_%",
    "\\'; SELECT pg_sleep(5); --",
    "1; SELECT sqlite_version();",
    "admin'/*",
    "\x00",
    "a\x00b' OR 1=1 --",
    "x" * 20_000,
    "' OR 1=1 -- " * 300,
    "😀' OR '😀'='😀",
    "\u202e' OR 1=1 --",
    "-1",
    "99999999999999999999999999",
]


# argon2 at its real cost would dominate these tests; tests/unit/test_passwords.py covers it.
pytestmark = pytest.mark.usefixtures("cheap_hashing")


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient  # signed in as `signed_in`
    signed_in: User
    other: User
    article_id: str
    story_id: str
    source_slug: str
    tag_slug: str
    token_id: int
    own_comment_id: int
    others_comment_id: int
    comments: CommentService
    feed_id: int
    extra: dict[str, str] = field(default_factory=dict)

    def path_value(self, route: Endpoint, name: str) -> str:
        path = route.path
        values: dict[str, str] = {
            "lang": "en",
            "article_id": self.article_id,
            "story_id": self.story_id,
            "token_id": str(self.token_id),
            "comment_id": str(self.own_comment_id),
            "user_id": str(self.other.id),
            "feed_id": str(self.feed_id),
            "page": "1",
            "name": "missing.css",
            **self.extra,
        }
        if name == "slug":
            return self.tag_slug if "/tag/" in path else self.source_slug
        if name not in values:
            pytest.fail(
                f"{sorted(route.methods or [])} {path}: no value for path parameter {{{name}}}: "
                "add a row that exists to World.path_value in tests/web/test_security.py"
            )
        return values[name]

    def url(self, route: Endpoint, **override: str) -> str:
        names = list(route.param_convertors)
        values = {name: override.get(name) or self.path_value(route, name) for name in names}
        return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: values[m.group(1)], route.path)


def _mark_csrf_refusals(app: FastAPI) -> None:
    """Tag the answers CsrfFailed produced (the page itself does not say which 403 it is)."""

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CsrfFailed)
        response = error_response(request, status=exc.status, code=exc.code, message=exc.message)
        response.headers[REFUSED_BY] = "csrf"
        return response

    app.add_exception_handler(CsrfFailed, refused)


async def _sign_in(client: httpx.AsyncClient, email: str) -> None:
    page = await client.get("/en/account/signin")
    token = CSRF_INPUT.search(page.text)
    assert token, "no csrf_token on the sign-in form"
    response = await client.post(
        "/en/account/signin", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text[:300]


async def session_csrf(client: httpx.AsyncClient) -> str:
    me = await client.get("/api/v1/me")
    token = me.json().get("csrf_token")
    assert token, me.text
    return str(token)


async def anonymous_csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/en/account/signup")
    match = CSRF_INPUT.search(page.text)
    assert match
    return match.group(1)


@pytest.fixture
async def world(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    role = getattr(request, "param", "admin")
    generous = settings.model_copy(update={"signins_per_minute": 100_000, "signups_per_hour": 100_000})
    async with running(generous) as (app, client):
        _mark_csrf_refusals(app)
        rt = app.state.runtime
        me = await rt.accounts.create_user("me@example.org", PASSWORD, "Me", role=role)
        other = await rt.accounts.create_user("other@example.org", PASSWORD, "Other")
        source = await make_source(rt.db, "Security Daily")
        article = await make_article(rt.db, source, title="Council passes the budget", tags=["Budget"])
        second = await make_article(rt.db, source, title="Budget reactions", tags=["Budget"])
        async with rt.db.transaction() as session:
            await ensure_stories(session, {article.id: article.published_at})
            await assign_story(session, [article.id, second.id], article.id)
            await refresh_stories(session, [article.id], lead_articles={article.id: article.id})
        async with rt.db.transaction() as session:
            # Port 9 (discard) refuses at once: an admin's "poll now" fails fast instead of waiting.
            feed = Feed(source_id=source.id, url="http://127.0.0.1:9/rss", title="Main feed")
            session.add(feed)
        _, token = await rt.accounts.create_api_token(me, "phone")
        comments = CommentService(rt.db, rt.settings)
        own = await comments.post(me, article.id, "My own comment")
        others = await comments.post(other, article.id, "Someone else's comment")
        await _sign_in(client, "me@example.org")
        yield World(
            app=app,
            client=client,
            signed_in=me,
            other=other,
            article_id=article.id,
            story_id=article.id,
            source_slug=source.slug,
            tag_slug="budget",
            token_id=token.id,
            own_comment_id=own.id,
            others_comment_id=others.id,
            comments=comments,
            feed_id=feed.id,
        )


@dataclass(frozen=True)
class Endpoint:
    """A route with its full path: FastAPI keeps included routers' routes under their own prefix."""

    path: str
    methods: frozenset[str]
    param_convertors: tuple[str, ...]


def routes_of(app: FastAPI) -> list[Endpoint]:
    def walk(routes: list[Any], prefix: str) -> Iterator[Endpoint]:
        for route in routes:
            if isinstance(route, _IncludedRouter):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif isinstance(route, Route):
                yield Endpoint(
                    prefix + route.path, frozenset(route.methods or ()), tuple(route.param_convertors)
                )

    return list(walk(app.routes, ""))


def unsafe_routes(app: FastAPI) -> list[tuple[Endpoint, str]]:
    return sorted(
        ((route, method) for route in routes_of(app) for method in (route.methods or set()) & UNSAFE),
        key=lambda pair: (pair[0].path, pair[1]),
    )


def get_routes(app: FastAPI) -> list[Endpoint]:
    return [route for route in routes_of(app) if "GET" in (route.methods or set())]


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def refused_by_csrf(response: httpx.Response) -> bool:
    if response.status_code != 403:
        return False
    if response.headers.get(REFUSED_BY) == "csrf":
        return True
    # The JSON API may turn the exception into its own answer: its error code says which check it was.
    return response.headers.get("content-type", "").startswith("application/json") and (
        response.json().get("error", {}).get("code") == "csrf_failed"
    )


def valid_query(app: FastAPI, path: str, method: str) -> dict[str, Any]:
    """Values for the operation's required query parameters, so their validation cannot answer first."""
    document = app.openapi()
    operation = document["paths"].get(path, {}).get(method.lower(), {})
    return {
        parameter["name"]: _example(document, parameter.get("schema", {}))
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "query" and parameter.get("required")
    }


def valid_json_body(app: FastAPI, path: str, method: str) -> Any:
    """A small body that satisfies the operation's documented request schema (None: it takes none)."""
    document = app.openapi()
    operation = document["paths"].get(path, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return None if schema is None else _example(document, schema)


def _example(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return _example(document, document["components"]["schemas"][name])
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            return _example(document, next(s for s in schema[combined] if s.get("type") != "null"))
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _example(document, properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    return "hello there"


# --- CSRF


async def test_every_state_changing_route_needs_a_csrf_token(world: World) -> None:
    """Signed in as an admin, on rows that exist: a request without a token, sent as a form, as
    JSON and with no body at all, is refused by the CSRF check, and changes nothing."""
    client = world.client
    checked, problems = [], []
    before = session_cookie(client)
    for route, method in unsafe_routes(world.app):
        if (route.path, method) in CSRF_EXEMPT:
            continue
        url = world.url(route)
        attempts: list[tuple[str, dict[str, Any]]] = [
            (
                "form",
                {"data": {name: "1" for name in FORM_FIELDS} | {"body": "hi", "email": "me@example.org"}},
            ),
            ("wrong token", {"data": {"csrf_token": "0" * 64}, "headers": {"X-CSRF-Token": "0" * 64}}),
            ("empty", {}),
        ]
        if _is_api(route.path):  # a valid body, so that the body's validation cannot answer first
            body = valid_json_body(world.app, route.path, method)
            query = valid_query(world.app, route.path, method)
            attempts = [
                ("json", {"json": body, "params": query}),
                ("json, wrong token", {"json": body, "params": query, "headers": {"X-CSRF-Token": "0" * 64}}),
            ]
            if body is None:
                attempts.append(("empty", {"params": query}))
        for kind, kwargs in attempts:
            response = await client.request(method, url, **kwargs)
            if (route.path, method) in OTHER_CSRF_DEFENCE and response.status_code == 403:
                continue
            if not refused_by_csrf(response):
                problems.append(
                    f"{method} {route.path} ({kind}): {response.status_code} {response.text[:200]!r}"
                )
        checked.append(f"{method} {route.path}")
    assert not problems, "state-changing requests without a CSRF token were not refused:\n" + "\n".join(
        problems
    )
    assert checked, "no state-changing route found"
    # Nothing happened: still signed in, on the same session, the token and comments still there.
    assert session_cookie(client) == before and await signed_in_as(client) == "Me"
    accounts = world.app.state.runtime.accounts
    assert [t.revoked_at for t in await accounts.api_tokens(world.signed_in.id)] == [None]
    thread = await world.comments.thread(world.article_id, viewer=world.signed_in)
    assert {c.id for c in _flatten(thread)} >= {world.own_comment_id, world.others_comment_id}


def test_the_exempt_list_names_only_routes_that_exist() -> None:
    for (path, method), reason in CSRF_EXEMPT.items():
        assert reason and path.startswith("/api/") and method in UNSAFE


async def test_every_form_route_accepts_its_token(world: World) -> None:
    """The other half of the CSRF test: with the right token the same requests pass the CSRF check,
    so the refusals above came from the missing token and nothing else."""
    session_token = await session_csrf(world.client)
    anonymous_token = await anonymous_csrf(world.client)
    for route, method in unsafe_routes(world.app):
        if "signout" in route.path or "/delete" in route.path:
            continue  # these would end the session the loop uses; their refusals are checked above
        for token in (session_token, anonymous_token):
            response = await world.client.request(
                method,
                world.url(route),
                data={"csrf_token": token, "name": "x"},
                headers={"X-CSRF-Token": token},
            )
            if not refused_by_csrf(response):
                break
        assert not refused_by_csrf(response), f"{method} {route.path} refuses a valid token"
        if session_cookie(world.client) is None or await signed_in_as(world.client) != "Me":
            await _sign_in(world.client, "me@example.org")
            session_token = await session_csrf(world.client)


# --- session fixation


async def test_a_session_cookie_planted_before_sign_in_is_replaced(world: World) -> None:
    accounts = world.app.state.runtime.accounts
    async with new_client(world.app) as attacker:
        await _sign_in(attacker, "other@example.org")
        attackers_session = session_cookie(attacker)
    assert attackers_session
    for planted in ("attacker-chosen-value", attackers_session):
        async with new_client(world.app) as victim:
            victim.cookies.set("tidings_session", planted, domain="test.local")
            await _sign_in(victim, "me@example.org")
            after = session_cookie(victim)
            assert after and after != planted
            assert await signed_in_as(victim) == "Me"
            found = await accounts.resolve_session(planted)
            assert found is None or found[0].id != world.signed_in.id, (
                "the planted session became the victim's"
            )


async def test_sign_up_with_a_planted_cookie_gets_a_new_session(world: World) -> None:
    async with new_client(world.app) as victim:
        victim.cookies.set("tidings_session", "attacker-chosen-value", domain="test.local")
        token = await anonymous_csrf(victim)
        response = await victim.post(
            "/en/account/signup",
            data={
                "csrf_token": token,
                "email": "new@example.org",
                "display_name": "Newcomer",
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )
        assert response.status_code == 303
        assert session_cookie(victim) not in (None, "attacker-chosen-value")
        assert await signed_in_as(victim) == "Newcomer"


async def test_the_session_changes_with_the_password(world: World) -> None:
    before = session_cookie(world.client)
    token = await session_csrf(world.client)
    response = await world.client.post(
        "/en/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "another long password",
            "new_password_again": "another long password",
        },
    )
    assert response.status_code == 303
    assert session_cookie(world.client) != before
    assert await world.app.state.runtime.accounts.resolve_session(before) is None


# --- privilege escalation


def _privileged(route: Endpoint) -> bool:
    return bool(re.match(r"^(/\{lang\}|/api/v\d+)/(moderation|admin)\b", route.path))


@pytest.mark.parametrize("world", ["reader"], indirect=True)
async def test_a_reader_gets_403_from_every_moderator_and_admin_route(world: World) -> None:
    token = await session_csrf(world.client)
    api_token, _ = await world.app.state.runtime.accounts.create_api_token(world.signed_in, "cli")
    checked, problems = [], []
    for route in routes_of(world.app):
        if not _privileged(route):
            continue
        for method in sorted(route.methods or []):
            if method == "HEAD":
                continue
            url = world.url(route)
            kwargs: dict[str, Any] = {}
            if method in UNSAFE:
                kwargs = {
                    "data": {"csrf_token": token, "reason": "x", "role": "admin"},
                    "headers": {"X-CSRF-Token": token},
                }
            responses = [await world.client.request(method, url, **kwargs)]
            if _is_api(route.path):
                async with new_client(world.app) as api:
                    headers = {"Authorization": f"Bearer {api_token}"}
                    responses.append(await api.request(method, url, headers=headers, json={}))
            for response in responses:
                if response.status_code != 403 or refused_by_csrf(response):
                    problems.append(f"{method} {route.path}: {response.status_code}")
            checked.append(f"{method} {route.path}")
    assert "GET /{lang}/moderation" in checked
    assert not problems, "a reader reached privileged routes:\n" + "\n".join(problems)
    # And the reader is still a reader.
    assert (await world.app.state.runtime.accounts.get_user(world.signed_in.id)).role == "reader"


@pytest.mark.parametrize("world", ["reader"], indirect=True)
async def test_a_reader_cannot_edit_or_delete_anothers_comment(world: World) -> None:
    with pytest.raises(Forbidden):
        await world.comments.edit(world.signed_in, world.others_comment_id, "Taken over")
    with pytest.raises(Forbidden):
        await world.comments.delete(world.signed_in, world.others_comment_id)
    # Through every route that acts on a comment by its id (if the pages and API have them yet).
    token = await session_csrf(world.client)
    api_token, _ = await world.app.state.runtime.accounts.create_api_token(world.signed_in, "cli")
    problems = []
    for route, method in unsafe_routes(world.app):
        if "comment_id" not in route.param_convertors or _privileged(route):
            continue
        if OTHERS_COMMENT_ALLOWED.search(route.path):
            continue
        url = world.url(route, comment_id=str(world.others_comment_id))
        body = {"body": "Taken over", "csrf_token": token}
        if _is_api(route.path):
            async with new_client(world.app) as api:
                response = await api.request(
                    method, url, headers={"Authorization": f"Bearer {api_token}"}, json={"body": "Taken over"}
                )
        else:
            response = await world.client.request(method, url, data=body, headers={"X-CSRF-Token": token})
        if response.status_code != 403 or refused_by_csrf(response):
            problems.append(f"{method} {route.path}: {response.status_code} {response.text[:200]!r}")
    assert not problems, "a reader changed someone else's comment:\n" + "\n".join(problems)
    thread = await world.comments.thread(world.article_id, viewer=world.other)
    theirs = next(c for c in _flatten(thread) if c.id == world.others_comment_id)
    assert "Someone else" in theirs.body_html and "Taken over" not in theirs.body_html


def _flatten(thread: Any) -> list[Any]:
    items = getattr(thread, "comments", thread)
    out: list[Any] = []
    for item in items:
        out.append(item)
        out.extend(_flatten(getattr(item, "replies", [])))
    return out


# --- SQL injection


async def _tables(world: World) -> tuple[int, int, int, list[str]]:
    async with world.app.state.runtime.db.session() as session:
        articles = await session.scalar(select(func.count()).select_from(Article))
        users = await session.scalar(select(func.count()).select_from(User))
        sources = await session.scalar(select(func.count()).select_from(Source))
        emails = list((await session.scalars(select(User.email).order_by(User.id))).all())
    return int(articles or 0), int(users or 0), int(sources or 0), emails


async def test_sql_injection_in_query_and_path_parameters_never_breaks_anything(world: World) -> None:
    before = await _tables(world)
    problems = []
    for route in get_routes(world.app):
        for value in SQL_INJECTION:
            url = world.url(route)
            # Every parameter at once (cut to keep the URL within what clients send), then the
            # whole value in each parameter the site's pages and API actually read.
            queries = [{name: value[:500] for name in QUERY_PARAMS}]
            if len(value) > 500:
                queries.append({"q": value})
            for params in queries:
                response = await world.client.get(url, params=params)
                if response.status_code >= 500:
                    problems.append(
                        f"GET {route.path} ?{sorted(params)[:3]}={value[:40]!r}: {response.status_code}"
                    )
            for name in route.param_convertors:
                if name == "name":  # /static/{name:path}: a file name, not a query
                    continue
                response = await world.client.get(world.url(route, **{name: quote(value, safe="")}))
                if response.status_code >= 500:
                    problems.append(f"GET {route.path} {{{name}}}={value[:40]!r}: {response.status_code}")
    assert not problems, "server errors:\n" + "\n".join(problems)
    assert await _tables(world) == before
    assert await signed_in_as(world.client) == "Me"


async def test_sql_injection_in_every_form_field_never_breaks_anything(world: World) -> None:
    before = await _tables(world)
    problems = []
    token, anonymous = await session_csrf(world.client), await anonymous_csrf(world.client)
    for value in SQL_INJECTION:
        for route, method in unsafe_routes(world.app):
            if "signout" in route.path:
                continue  # no fields; it would only end the session
            form = {name: value for name in FORM_FIELDS}
            form["csrf_token"] = anonymous if re.search(r"/sign(in|up)$", route.path) else token
            response = await world.client.request(method, world.url(route), data=form)
            if response.status_code >= 500:
                problems.append(f"{method} {route.path} {value[:40]!r}: {response.status_code}")
            if _is_api(route.path):
                response = await world.client.request(
                    method, world.url(route), json=form, headers={"X-CSRF-Token": token}
                )
                if response.status_code >= 500:
                    problems.append(f"{method} {route.path} json {value[:40]!r}: {response.status_code}")
        if await signed_in_as(world.client) != "Me":
            await _sign_in(world.client, "me@example.org")
            token, anonymous = await session_csrf(world.client), await anonymous_csrf(world.client)
    assert not problems, "server errors:\n" + "\n".join(problems)
    after = await _tables(world)
    # No injected value is an email address, so no account was made; none was lost either.
    assert after == before
