"""The comments API (/api/v1/articles/{id}/comments, /api/v1/comments/{id}/...) on both backends:
bearer and cookie authentication, idempotent posting, votes, reports, deletion and the error shape."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from tests.factories import make_article, make_source

from tidings.accounts.models import User
from tidings.comments.models import Comment, CommentReport
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.engine import Database, create_engine
from tidings.web.app import create_app

_names = itertools.count(1)


@dataclass
class Site:
    app: FastAPI
    client: httpx.AsyncClient
    db: Database
    article_id: str
    other_article_id: str

    async def user_with_token(self, role: str = "reader") -> tuple[User, dict[str, str]]:
        """An account a month old (so the new-account spam rules stay out of the way) and its token."""
        n = next(_names)
        user = User(
            email=f"api{n}@example.org",
            display_name=f"Api Reader {n}",
            password_hash=None,
            role=role,
            created_at=utcnow() - timedelta(days=30),
        )
        async with self.db.transaction() as session:
            session.add(user)
        token, _ = await self.app.state.runtime.accounts.create_api_token(user, "tests")
        return user, {"Authorization": f"Bearer {token}"}

    async def stored(self, **where: Any) -> int:
        async with self.db.session() as session:
            statement = select(func.count()).select_from(Comment).filter_by(**where)
            return int((await session.execute(statement)).scalar_one())


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    db = Database(create_engine(settings))
    try:
        source = await make_source(db)
        article = await make_article(db, source)
        other = await make_article(db, source, title="Another story entirely")
        app = create_app(settings, run_scheduler=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Site(app, client, db, article.id, other.id)
    finally:
        await db.dispose()


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status
    if code is not None:
        assert body["error"]["code"] == code


def comments_url(article_id: str) -> str:
    return f"/api/v1/articles/{article_id}/comments"


async def test_post_with_token_then_read_the_thread(site: Site) -> None:
    user, auth = await site.user_with_token()
    posted = await site.client.post(
        comments_url(site.article_id), json={"body": "Good *point*."}, headers=auth
    )
    assert posted.status_code == 201, posted.text
    comment = posted.json()
    assert comment["body_html"] == "<p>Good <em>point</em>.</p>"
    assert comment["author"] == {"id": user.id, "name": user.display_name, "deleted": False}
    assert comment["status"] == "visible" and comment["can_delete"] and not comment["can_vote"]
    assert posted.headers["cache-control"] == "private, no-store"

    reply = await site.client.post(
        comments_url(site.article_id), json={"body": "Agreed.", "parent_id": comment["id"]}, headers=auth
    )
    assert reply.status_code == 201 and reply.json()["depth"] == 1

    thread = await site.client.get(comments_url(site.article_id))  # anonymous reader
    assert thread.status_code == 200
    items = thread.json()["items"]
    assert [c["id"] for c in items] == [comment["id"]]
    assert [r["id"] for r in items[0]["replies"]] == [reply.json()["id"]]
    assert items[0]["body_markdown"] == ""  # the source is for its author only
    assert thread.json()["next_cursor"] is None

    newest = await site.client.get(comments_url(site.article_id), params={"sort": "new"}, headers=auth)
    assert newest.json()["items"][0]["body_markdown"] == "Good *point*."


async def test_retry_with_the_same_key_returns_the_same_comment(site: Site) -> None:
    user, auth = await site.user_with_token()
    headers = {**auth, "Idempotency-Key": "phone-1:abc"}
    first = await site.client.post(comments_url(site.article_id), json={"body": "Once."}, headers=headers)
    again = await site.client.post(comments_url(site.article_id), json={"body": "Once."}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    # The body's client_token is the same key by another name.
    by_body = await site.client.post(
        comments_url(site.article_id), json={"body": "Once.", "client_token": "phone-1:abc"}, headers=auth
    )
    assert by_body.status_code == 200 and by_body.json()["id"] == first.json()["id"]
    assert await site.stored(user_id=user.id) == 1

    elsewhere = await site.client.post(
        comments_url(site.other_article_id), json={"body": "Once."}, headers=headers
    )
    assert_error(elsewhere, 409, "client_token_reused")
    differing = await site.client.post(
        comments_url(site.article_id), json={"body": "x", "client_token": "other"}, headers=headers
    )
    assert_error(differing, 422, "invalid_client_token")
    bad_key = await site.client.post(
        comments_url(site.article_id), json={"body": "x"}, headers={**auth, "Idempotency-Key": "no spaces"}
    )
    assert_error(bad_key, 422)


async def test_writing_without_an_account_is_401(site: Site) -> None:
    _, auth = await site.user_with_token()
    comment = (
        await site.client.post(comments_url(site.article_id), json={"body": "Mine."}, headers=auth)
    ).json()
    for method, url, payload in [
        ("POST", comments_url(site.article_id), {"body": "Hello"}),
        ("POST", f"/api/v1/comments/{comment['id']}/vote", {"value": 1}),
        ("POST", f"/api/v1/comments/{comment['id']}/report", {"reason": "spam"}),
        ("DELETE", f"/api/v1/comments/{comment['id']}", None),
    ]:
        response = await site.client.request(method, url, json=payload)
        assert_error(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")
        wrong = await site.client.request(
            method, url, json=payload, headers={"Authorization": "Bearer tid_nope"}
        )
        assert_error(wrong, 401, "unauthenticated")
    assert await site.stored() == 1


async def test_cookie_authentication_needs_the_csrf_header(site: Site) -> None:
    user, _ = await site.user_with_token()
    signed = await site.app.state.runtime.accounts.create_session(user)
    cookies = {"tidings_session": signed.token}
    site.client.cookies.update(cookies)
    refused = await site.client.post(comments_url(site.article_id), json={"body": "From the page."})
    assert_error(refused, 403, "csrf_failed")
    csrf = (await site.client.get("/api/v1/me")).json()["csrf_token"]
    accepted = await site.client.post(
        comments_url(site.article_id), json={"body": "From the page."}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 201, accepted.text
    assert await site.stored(user_id=user.id) == 1


async def test_vote_report_and_delete(site: Site) -> None:
    _author, author_auth = await site.user_with_token()
    reader, reader_auth = await site.user_with_token()
    comment_id = (
        await site.client.post(comments_url(site.article_id), json={"body": "Vote me."}, headers=author_auth)
    ).json()["id"]

    voted = await site.client.post(
        f"/api/v1/comments/{comment_id}/vote", json={"value": 1}, headers=reader_auth
    )
    assert voted.status_code == 200
    assert voted.json() == {"comment_id": comment_id, "score": 1, "ups": 1, "downs": 0, "viewer_vote": 1}
    own = await site.client.post(
        f"/api/v1/comments/{comment_id}/vote", json={"value": 1}, headers=author_auth
    )
    assert_error(own, 403, "own_comment")
    taken_back = await site.client.post(
        f"/api/v1/comments/{comment_id}/vote", json={"value": 0}, headers=reader_auth
    )
    assert taken_back.json()["score"] == 0 and taken_back.json()["viewer_vote"] == 0

    for _ in range(2):  # reporting twice changes nothing
        reported = await site.client.post(
            f"/api/v1/comments/{comment_id}/report", json={"reason": "off topic"}, headers=reader_auth
        )
        assert reported.status_code == 204 and reported.content == b""
    async with site.db.session() as session:
        reports = (await session.execute(select(CommentReport))).scalars().all()
    assert [(r.user_id, r.reason) for r in reports] == [(reader.id, "off topic")]

    not_yours = await site.client.delete(f"/api/v1/comments/{comment_id}", headers=reader_auth)
    assert_error(not_yours, 403, "not_author")
    deleted = await site.client.delete(f"/api/v1/comments/{comment_id}", headers=author_auth)
    assert deleted.status_code == 204
    assert (
        await site.client.delete(f"/api/v1/comments/{comment_id}", headers=author_auth)
    ).status_code == 204
    thread = (await site.client.get(comments_url(site.article_id))).json()
    assert thread["items"] == []  # a deleted comment without replies leaves no placeholder
    assert await site.stored(status="deleted") == 1


async def test_missing_articles_and_comments_are_404(site: Site) -> None:
    _, auth = await site.user_with_token()
    missing_article = "0" * 32
    assert_error(await site.client.get(comments_url(missing_article)), 404, "not_found")
    assert_error(
        await site.client.post(comments_url(missing_article), json={"body": "Hi"}, headers=auth),
        404,
        "not_found",
    )
    for method, url, payload in [
        ("POST", "/api/v1/comments/999999/vote", {"value": 1}),
        ("POST", "/api/v1/comments/999999/report", {"reason": ""}),
        ("DELETE", "/api/v1/comments/999999", None),
    ]:
        assert_error(await site.client.request(method, url, json=payload, headers=auth), 404, "not_found")
    reply_to_nothing = await site.client.post(
        comments_url(site.article_id), json={"body": "Hi", "parent_id": 999999}, headers=auth
    )
    assert_error(reply_to_nothing, 404, "not_found")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ('{"body": ', "invalid_input"),  # not JSON
        ('{"body": "x", "colour": "red"}', "invalid_input"),  # unknown field
        ('{"parent_id": 1}', "invalid_input"),  # no body
        ('{"body": "   "}', "comment_empty"),
        ('{"body": "' + "x" * 10_001 + '"}', "comment_too_long"),
        ('{"body": "x", "parent_id": 99999999999}', "invalid_input"),  # beyond an integer column
    ],
)
async def test_malformed_posts_are_422(site: Site, payload: str, code: str) -> None:
    _, auth = await site.user_with_token()
    response = await site.client.post(
        comments_url(site.article_id),
        content=payload.encode(),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert_error(response, 422, code)
    assert await site.stored() == 0


async def test_malformed_votes_and_ids_are_422(site: Site) -> None:
    _, auth = await site.user_with_token()
    assert_error(await site.client.post("/api/v1/comments/1/vote", json={"value": 2}, headers=auth), 422)
    assert_error(await site.client.post("/api/v1/comments/0/vote", json={"value": 1}, headers=auth), 422)
    assert_error(await site.client.delete(f"/api/v1/comments/{2**40}", headers=auth), 422)
    assert_error(await site.client.get(comments_url(site.article_id), params={"sort": "top"}), 422)
    long_reason = {"reason": "x" * 1001}
    assert_error(await site.client.post("/api/v1/comments/1/report", json=long_reason, headers=auth), 422)


async def test_a_body_that_is_not_utf8_is_422(site: Site) -> None:
    _, auth = await site.user_with_token()
    response = await site.client.post(
        comments_url(site.article_id),
        content=b'{"body": "\xff\xfe"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert_error(response, 422, "invalid_input")
