"""The admin pages through the ASGI app, on SQLite and PostgreSQL: the admin role on every route,
GET and POST; CSRF on every form; adding a source from the local publisher; feed actions; roles and
bans with the self-demotion guard; hostile form input; the SVG charts and the CSP they live under."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from benchmarks.publisher import Publisher, fixture_corpus
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select, update
from tests.conftest import base_settings
from tests.factories import make_article, make_source
from tests.web.test_accounts_pages import HOSTILE, PASSWORD, csrf_of, new_client, sign_in, site

from tidings.accounts.models import User
from tidings.admin.service import AdminService
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.ingest import repo
from tidings.ingest.models import Article, Feed, FetchLog
from tidings.web.app import create_app
from tidings.web.routes.admin import admin_service

# Every admin route: (method, path template, a valid form without its csrf_token).
ROUTES: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/{lang}/admin", {}),
    ("GET", "/{lang}/admin/sources", {}),
    ("POST", "/{lang}/admin/sources", {"url": "https://example.org/feed.xml"}),
    ("GET", "/{lang}/admin/sources/{slug}", {}),
    (
        "POST",
        "/{lang}/admin/sources/{slug}",
        {"name": "Renamed", "homepage": "", "country": "", "language": ""},
    ),
    ("POST", "/{lang}/admin/feeds/{feed_id}/disable", {"reason": "broken"}),
    ("POST", "/{lang}/admin/feeds/{feed_id}/enable", {}),
    ("POST", "/{lang}/admin/feeds/{feed_id}/poll", {}),
    ("GET", "/{lang}/admin/users", {}),
    ("POST", "/{lang}/admin/users/{user_id}/role", {"role": "moderator"}),
    ("POST", "/{lang}/admin/users/{user_id}/ban", {"reason": "spam"}),
    ("POST", "/{lang}/admin/users/{user_id}/unban", {}),
]
POSTS = [route for route in ROUTES if route[0] == "POST"]
NO_STYLE = re.compile(r"\sstyle\s*=", re.I)


# argon2 at its real cost would dominate these tests; tests/unit/test_passwords.py covers it.
pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture(scope="module")
def publisher() -> Iterator[Publisher]:
    with Publisher(fixture_corpus()) as pub:
        yield pub


@dataclass
class World:
    admin: User
    reader: User
    slug: str
    feed_id: int

    def ids(self, lang: str = "en") -> dict[str, object]:
        return {"lang": lang, "slug": self.slug, "feed_id": self.feed_id, "user_id": self.reader.id}


async def seed(app: FastAPI) -> World:
    """An admin, a reader and a moderator (all with PASSWORD), one source with one feed."""
    accounts = app.state.runtime.accounts
    admin = await accounts.create_user("root@example.org", PASSWORD, "Root", role="admin")
    reader = await accounts.create_user("ann@example.org", PASSWORD, "Ann")
    await accounts.create_user("mo@example.org", PASSWORD, "Mo", role="moderator")
    db = app.state.runtime.db
    source = await make_source(db, "Seoul Herald")
    async with db.transaction() as session:
        attached = await session.merge(source)
        feed = await repo.create_feed(
            session,
            source=attached,
            url="https://example1.org/rss.xml",
            title="Top stories",
            kind="rss",
            category=None,
            interval=1800,
            now=utcnow(),
        )
    return World(admin=admin, reader=reader, slug=source.slug, feed_id=feed.id)


@contextlib.asynccontextmanager
async def signed_in(app: FastAPI, email: str) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as client:
        response = await sign_in(client, email=email)
        assert response.status_code == 303, response.text[:300]
        yield client


async def feed_of(app: FastAPI, feed_id: int) -> Feed:
    async with app.state.runtime.db.session() as session:
        feed = await session.get(Feed, feed_id)
    assert feed is not None
    return feed


def every_route(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every endpoint, also inside included routers: this FastAPI keeps an
    included router as one entry (`original_router`, with its prefix) instead of copying its routes."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from every_route(inner.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, APIRoute):
            yield from ((method, prefix + route.path) for method in route.methods)


def test_the_route_list_covers_every_admin_route(tmp_path: Path) -> None:
    app = create_app(base_settings(tmp_path), run_scheduler=False)
    registered = {(m, path) for m, path in every_route(app.routes) if path.startswith("/{lang}/admin")}
    assert registered == {(method, path) for method, path, _ in ROUTES}
    assert len(registered) == len(ROUTES) > 10


@pytest.mark.parametrize(("method", "path", "form"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_every_route_needs_the_admin_role(
    settings: Settings, method: str, path: str, form: dict[str, str]
) -> None:
    async with site(settings) as (app, anonymous):
        world = await seed(app)
        url = path.format(**world.ids())
        before = await feed_of(app, world.feed_id)

        sent = await anonymous.request(method, url, data=form or None)
        assert sent.status_code == 303, (url, sent.status_code)
        assert sent.headers["location"].startswith("/en/account/signin?next=")

        for email in ("ann@example.org", "mo@example.org"):
            async with signed_in(app, email) as client:
                token = await csrf_of(client, "/en/account")
                data = {**form, "csrf_token": token} if method == "POST" else None
                refused = await client.request(method, url, data=data)
                assert refused.status_code == 403, (email, url, refused.status_code)

        async with signed_in(app, "root@example.org") as admin:
            if method == "POST":
                # CSRF: missing, then wrong; the admin's own token is accepted.
                assert (await admin.post(url, data=form)).status_code == 403
                assert (await admin.post(url, data={**form, "csrf_token": "0" * 64})).status_code == 403
            else:
                page = await admin.get(url)
                assert page.status_code == 200, (url, page.status_code)
                assert page.headers["cache-control"] == "no-store"
                assert "Content-Security-Policy" in page.headers
                assert not NO_STYLE.search(page.text)

        after = await feed_of(app, world.feed_id)
        assert (after.disabled, after.next_poll_at) == (before.disabled, before.next_poll_at)
        reader = await app.state.runtime.accounts.get_user(world.reader.id)
        assert (reader.role, reader.banned_at) == ("reader", None)


async def test_adding_a_source_from_the_local_publisher(settings: Settings, publisher: Publisher) -> None:
    async with site(settings) as (app, _):
        await seed(app)
        async with signed_in(app, "root@example.org") as admin:
            token = await csrf_of(admin, "/en/admin/sources")
            added = await admin.post(
                "/en/admin/sources", data={"csrf_token": token, "url": publisher.base_url + "/"}
            )
            assert added.status_code == 303, added.text[:500]
            assert added.headers["location"].endswith("?done=added")
            page = await admin.get(added.headers["location"])
            assert page.status_code == 200 and "The source was added." in page.text

            again = await admin.post(
                "/en/admin/sources", data={"csrf_token": token, "url": publisher.base_url + "/"}
            )
            assert again.status_code == 409 and "already been added" in again.text

            none = await admin.post(
                "/en/admin/sources", data={"csrf_token": token, "url": publisher.base_url + "/robots.txt"}
            )
            assert none.status_code == 422 and "No feed was found there" in none.text
            assert "robots.txt" in none.text  # the detail, and the URL kept in the field

            bad = await admin.post("/ko/admin/sources", data={"csrf_token": token, "url": "ftp://x"})
            assert bad.status_code == 422 and 'lang="ko"' in bad.text and 'role="alert"' in bad.text

            listing = await admin.get("/en/admin/sources")
            assert publisher.base_url in listing.text and "<svg" in listing.text


async def test_disabling_enabling_and_polling_a_feed(settings: Settings) -> None:
    async with site(settings) as (app, _):
        world = await seed(app)
        async with signed_in(app, "root@example.org") as admin:
            token = await csrf_of(admin, f"/en/admin/sources/{world.slug}")
            base = f"/en/admin/feeds/{world.feed_id}"
            off = await admin.post(f"{base}/disable", data={"csrf_token": token, "reason": "gone 404"})
            assert off.status_code == 303 and "done=disabled" in off.headers["location"]
            feed = await feed_of(app, world.feed_id)
            assert feed.disabled and feed.disabled_reason == "gone 404"
            page = await admin.get(f"/en/admin/sources/{world.slug}")
            assert "gone 404" in page.text and "/enable" in page.text and "/poll" not in page.text
            assert (await admin.post(f"{base}/poll", data={"csrf_token": token})).status_code == 409

            on = await admin.post(f"{base}/enable", data={"csrf_token": token})
            assert on.status_code == 303
            feed = await feed_of(app, world.feed_id)
            assert not feed.disabled and feed.disabled_reason is None and feed.error_count == 0

            async with app.state.runtime.db.transaction() as session:
                later = utcnow() + timedelta(hours=2)
                await session.execute(update(Feed).where(Feed.id == world.feed_id).values(next_poll_at=later))
            polled = await admin.post(f"{base}/poll", data={"csrf_token": token})
            assert polled.status_code == 303
            assert (await feed_of(app, world.feed_id)).next_poll_at <= utcnow()

            assert (
                await admin.post("/en/admin/feeds/999999/poll", data={"csrf_token": token})
            ).status_code == 404
            huge = await admin.post(f"/en/admin/feeds/{2**70}/poll", data={"csrf_token": token})
            assert huge.status_code == 404


async def test_editing_a_source(settings: Settings) -> None:
    async with site(settings) as (app, _):
        world = await seed(app)
        async with signed_in(app, "root@example.org") as admin:
            url = f"/en/admin/sources/{world.slug}"
            token = await csrf_of(admin, url)
            form = {
                "csrf_token": token,
                "name": "Seoul Daily",
                "homepage": "https://seoul.example/",
                "country": "kr",
                "language": "ko",
            }
            saved = await admin.post(url, data=form)
            assert saved.status_code == 303 and saved.headers["location"].endswith("?done=saved")
            page = await admin.get(saved.headers["location"])
            assert "Seoul Daily" in page.text and 'value="KR"' in page.text
            for field, value, message in [
                ("country", "KOR", "two letters"),
                ("language", "not a code", "a code like"),
                ("homepage", "javascript:alert(1)", "homepage must be"),
                ("name", "   ", "Enter a name."),
            ]:
                refused = await admin.post(url, data={**form, field: value})
                assert refused.status_code == 422 and message in refused.text, field
            assert (await admin.get("/en/admin/sources/no-such-source")).status_code == 404


async def test_roles_bans_and_the_self_guard(settings: Settings) -> None:
    async with site(settings) as (app, _):
        world = await seed(app)
        accounts = app.state.runtime.accounts
        async with signed_in(app, "root@example.org") as admin:
            token = await csrf_of(admin, "/en/admin/users")
            page = await admin.get("/en/admin/users")
            assert "ann@example.org" in page.text and "(you)" in page.text

            promoted = await admin.post(
                f"/en/admin/users/{world.reader.id}/role", data={"csrf_token": token, "role": "moderator"}
            )
            assert promoted.status_code == 303
            assert (await accounts.get_user(world.reader.id)).role == "moderator"
            bogus = await admin.post(
                f"/en/admin/users/{world.reader.id}/role", data={"csrf_token": token, "role": "god"}
            )
            assert bogus.status_code == 422 and "Choose one of the roles." in bogus.text

            own = f"/en/admin/users/{world.admin.id}"
            demoted = await admin.post(f"{own}/role", data={"csrf_token": token, "role": "reader"})
            assert demoted.status_code == 409 and "cannot change your own role" in demoted.text
            self_ban = await admin.post(f"{own}/ban", data={"csrf_token": token, "reason": "oops"})
            assert self_ban.status_code == 409
            me = await accounts.get_user(world.admin.id)
            assert (me.role, me.banned_at) == ("admin", None)

            banned = await admin.post(
                f"/en/admin/users/{world.reader.id}/ban", data={"csrf_token": token, "reason": "spam links"}
            )
            assert banned.status_code == 303
            assert (await accounts.get_user(world.reader.id)).banned_reason == "spam links"
            assert "spam links" in (await admin.get("/en/admin/users")).text
            lifted = await admin.post(f"/en/admin/users/{world.reader.id}/unban", data={"csrf_token": token})
            assert lifted.status_code == 303
            assert (await accounts.get_user(world.reader.id)).banned_at is None
            missing = await admin.post(
                "/en/admin/users/999999/ban", data={"csrf_token": token, "reason": "x"}
            )
            assert missing.status_code == 404


async def test_hostile_input_in_every_field_is_never_a_server_error(settings: Settings) -> None:
    async with site(settings) as (app, _):
        world = await seed(app)
        async with signed_in(app, "root@example.org") as admin:
            token = await csrf_of(admin, "/en/admin/users")
            for value in HOSTILE:
                for _, path, form in POSTS:
                    url = path.format(**world.ids())
                    data = {name: value for name in form} | {"csrf_token": token}
                    response = await admin.post(url, data=data)
                    assert response.status_code < 500, (url, value[:20], response.status_code)
                slug = await admin.get("/en/admin/sources/" + quote(value[:2000], safe=""))
                assert slug.status_code < 500
            # Still an admin, still signed in, and the pages still render.
            for path in ("/en/admin", "/en/admin/sources", "/en/admin/users"):
                assert (await admin.get(path)).status_code == 200


async def test_the_dashboard_counts_and_draws_without_inline_style(settings: Settings) -> None:
    async with site(settings) as (app, _):
        world = await seed(app)
        db = app.state.runtime.db
        source = await make_source(db, "Tokyo Times")
        for _ in range(3):
            await make_article(db, source)
        old = await make_article(db, source)
        now = utcnow()
        async with db.transaction() as session:
            await session.execute(
                update(Article).where(Article.id == old.id).values(fetched_at=now - timedelta(hours=2))
            )
            await session.execute(update(Article).values(feed_id=world.feed_id))
            for n, outcome in enumerate(["ok", "error", "not_modified", "error"]):
                session.add(
                    FetchLog(
                        feed_id=world.feed_id,
                        started_at=now - timedelta(seconds=n),  # same hour bucket, whatever the time
                        duration_ms=100 * (n + 1),
                        outcome=outcome,
                        status_code=500 if outcome == "error" else 200,
                        error="HTTP 500 <b>boom</b>" if outcome == "error" else None,
                    )
                )
            await session.execute(
                update(Feed).values(last_polled_at=now, error_count=2, last_error="HTTP 500")
            )

        board = await admin_service_of(app).dashboard(now=now)
        assert board.articles[-1].count == 3 and board.articles[-3].count == 1
        assert board.polls[-1].count == 4 and board.polls[-1].errors == 2 and board.error_rate == 0.5
        assert board.feeds == {"ok": 0, "failing": 1, "disabled": 0, "new": 0}
        assert board.queue_depth is None and board.understanding_backlog == 4

        async with signed_in(app, "root@example.org") as admin:
            for lang in ("en", "ko", "ja"):
                page = await admin.get(f"/{lang}/admin")
                assert page.status_code == 200 and page.text.count("<svg") == 3
                assert not NO_STYLE.search(page.text)
            page = await admin.get("/en/admin")
            assert "In-process (no queue)" in page.text and "50.0%" in page.text
            assert 'href="/en/moderation"' in page.text and "<table" in page.text
            detail = await admin.get(f"/en/admin/sources/{world.slug}")
            assert detail.text.count("<svg") == 2 and not NO_STYLE.search(detail.text)
            assert "HTTP 500 &lt;b&gt;boom&lt;/b&gt;" in detail.text and "<b>boom" not in detail.text
            listing = await admin.get("/en/admin/sources")
            assert "4 articles in the last 14 days" in listing.text


def admin_service_of(app: FastAPI) -> AdminService:
    class _Request:  # admin_service() needs only request.app
        pass

    request = _Request()
    request.app = app  # type: ignore[attr-defined]
    return admin_service(request)  # type: ignore[arg-type]


async def test_a_banned_or_demoted_admin_loses_access_at_once(settings: Settings) -> None:
    async with site(settings) as (app, _):
        world = await seed(app)
        async with signed_in(app, "root@example.org") as admin:
            assert (await admin.get("/en/admin")).status_code == 200
            await app.state.runtime.accounts.set_role(world.admin.id, "moderator")
            assert (await admin.get("/en/admin")).status_code == 303  # the session ended with the change
        async with app.state.runtime.db.session() as session:
            roles = dict((await session.execute(select(User.email, User.role))).all())
        assert roles["root@example.org"] == "moderator"
