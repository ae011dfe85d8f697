"""Following through the HTML site, on SQLite and PostgreSQL: follow and mute buttons, the For you
page and its reasons, saving, the read beacon, CSRF on every POST and the anonymous local set."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from tests.factories import make_article, make_source
from tests.web.test_accounts_pages import CSRF_INPUT, sign_up, site

from tidings.config import Settings

# argon2 at its real cost would dominate these tests; tests/unit/test_passwords.py covers it.
pytestmark = pytest.mark.usefixtures("cheap_hashing")


def token_in(response: httpx.Response) -> str:
    match = CSRF_INPUT.search(response.text)
    assert match, "no csrf_token in the page"
    return match.group(1)


async def follow_form(client: httpx.AsyncClient, kind: str, target: str, nxt: str) -> str:
    page = await client.get(f"/en/follow?kind={kind}&target={quote(target)}&next={quote(nxt)}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    return token_in(page)


async def test_follow_from_tag_page_then_for_you_gives_the_reason(settings: Settings) -> None:
    async with site(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db, "Kyodo News")
        trade = await make_article(db, source, title="Tariffs rise", tags=["Trade"])
        await make_article(db, source, title="Rain tomorrow", tags=["Weather"])
        await sign_up(client)

        tag_page = await client.get("/en/tag/trade")
        # The shared tag page carries no per-reader state: a plain link, swapped in place by htmx.
        assert tag_page.status_code == 200 and "csrf_token" not in tag_page.text
        assert 'href="/en/follow?kind=tag&amp;target=trade&amp;next=%2Fen%2Ftag%2Ftrade"' in tag_page.text
        fragment = await client.get(
            "/en/follow?kind=tag&target=trade&next=/en/tag/trade", headers={"HX-Request": "true"}
        )
        assert (
            fragment.status_code == 200
            and "<html" not in fragment.text
            and 'action="/en/follow"' in fragment.text
        )

        token = await follow_form(client, "tag", "trade", "/en/tag/trade")
        done = await client.post(
            "/en/follow",
            data={"csrf_token": token, "kind": "tag", "target": "trade", "next": "/en/tag/trade"},
        )
        assert done.status_code == 303 and done.headers["location"] == "/en/tag/trade"
        assert "Following" in (await client.get("/en/follow?kind=tag&target=trade")).text

        for_you = await client.get("/en/for-you")
        assert for_you.status_code == 200 and for_you.headers["cache-control"] == "no-store"
        assert "Tariffs rise" in for_you.text and "Rain tomorrow" not in for_you.text
        assert "because you follow #Trade" in for_you.text
        assert trade.id in for_you.text

        ko = await client.get("/ko/for-you")
        assert "Tariffs rise" in ko.text and "because you follow" not in ko.text

        # Open redirects are refused: `next` must be a path on this site.
        evil = await client.post(
            "/en/unfollow",
            data={"csrf_token": token, "kind": "tag", "target": "trade", "next": "//evil.example/x"},
        )
        assert evil.status_code == 303 and evil.headers["location"] == "/en/account"
        assert "Tariffs rise" not in (await client.get("/en/for-you")).text


async def test_mute_hides_and_htmx_answers_with_the_buttons(settings: Settings) -> None:
    async with site(settings) as (app, client):
        db = app.state.runtime.db
        loud, quiet = await make_source(db, "Loud Paper"), await make_source(db, "Quiet Paper")
        await make_article(db, loud, title="Loud trade story", tags=["Trade"])
        await make_article(db, quiet, title="Quiet trade story", tags=["Trade"])
        await sign_up(client)
        token = await follow_form(client, "tag", "trade", "/en/for-you")
        await client.post("/en/follow", data={"csrf_token": token, "kind": "tag", "target": "trade"})
        assert "Loud trade story" in (await client.get("/en/for-you")).text

        muted = await client.post(
            "/en/mute",
            data={
                "csrf_token": token,
                "kind": "source",
                "target": loud.slug,
                "next": f"/en/source/{loud.slug}",
            },
            headers={"HX-Request": "true"},
        )
        assert muted.status_code == 200 and "Unmute" in muted.text and "<html" not in muted.text
        page = await client.get("/en/for-you")
        assert "Loud trade story" not in page.text and "Quiet trade story" in page.text

        following = await client.get("/en/following")
        assert following.status_code == 200 and "Loud Paper" in following.text and "#Trade" in following.text
        # A story cannot be muted.
        bad = await client.post("/en/mute", data={"csrf_token": token, "kind": "story", "target": "x"})
        assert bad.status_code == 422


async def test_every_post_needs_its_csrf_token(settings: Settings) -> None:
    async with site(settings) as (app, client):
        db = app.state.runtime.db
        article = await make_article(db, await make_source(db), tags=["Trade"])
        await sign_up(client)
        form = {"kind": "tag", "target": "trade"}
        for action in ("follow", "unfollow", "mute", "unmute"):
            response = await client.post(f"/en/{action}", data=form)
            assert response.status_code == 403, action
            wrong = await client.post(f"/en/{action}", data={**form, "csrf_token": "forged"})
            assert wrong.status_code == 403, action
        for action in ("save", "unsave"):
            response = await client.post(f"/en/article/{article.id}/{action}", data={})
            assert response.status_code == 403, action
        following = await client.get("/en/following")
        assert "You follow nothing yet." in following.text


async def test_signed_out_post_goes_to_sign_in(settings: Settings) -> None:
    async with site(settings) as (_, client):
        page = await client.get("/en/follow?kind=tag&target=trade")
        assert page.status_code == 200 and "Sign in to follow" in page.text
        token = token_in(await client.get("/en/account/signin"))
        response = await client.post(
            "/en/follow", data={"csrf_token": token, "kind": "tag", "target": "trade"}
        )
        assert response.status_code == 303 and response.headers["location"].startswith("/en/account/signin")


async def test_save_from_the_separate_page(settings: Settings) -> None:
    async with site(settings) as (app, client):
        db = app.state.runtime.db
        article = await make_article(db, await make_source(db), title="Worth keeping")
        page = await client.get(f"/en/article/{article.id}")
        # The cached article page links to the save page and carries nothing per reader.
        assert f'href="/en/article/{article.id}/save"' in page.text and "csrf_token" not in page.text
        anonymous = await client.get(f"/en/article/{article.id}/save")
        assert "Sign in to save articles" in anonymous.text
        await sign_up(client)
        save_page = await client.get(f"/en/article/{article.id}/save")
        assert save_page.headers["cache-control"] == "no-store"
        saved = await client.post(f"/en/article/{article.id}/save", data={"csrf_token": token_in(save_page)})
        assert saved.status_code == 303 and saved.headers["location"] == f"/en/article/{article.id}/save"
        again = await client.get(f"/en/article/{article.id}/save")
        assert "Saved" in again.text and f"/en/article/{article.id}/unsave" in again.text
        assert "Worth keeping" in (await client.get("/en/following")).text
        missing = await client.get(f"/en/article/{'0' * 32}/save")
        assert missing.status_code == 404


async def test_read_beacon_requires_the_header_and_feeds_for_you(settings: Settings) -> None:
    async with site(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db)
        read = await make_article(db, source, title="Read one", tags=["Japan"], age=timedelta(hours=2))
        await make_article(db, source, title="Unread Japan story", tags=["Japan"], age=timedelta(hours=1))
        beacon = f"/en/article/{read.id}/read"
        # Anonymous: accepted and dropped (the cached page cannot know who reads it).
        assert (await client.post(beacon, headers={"X-Requested-With": "tidings"})).status_code == 204
        await sign_up(client)
        assert (await client.post(beacon)).status_code == 403
        assert (await client.post(beacon, headers={"X-Requested-With": "XMLHttpRequest"})).status_code == 403
        assert "Unread Japan story" not in (await client.get("/en/for-you")).text
        response = await client.post(beacon, headers={"X-Requested-With": "tidings"})
        assert response.status_code == 204
        page = await client.get("/en/for-you")
        assert "Unread Japan story" in page.text and "because you read about #Japan" in page.text
        assert "Read one" not in page.text
        missing = await client.post(f"/en/article/{'0' * 32}/read", headers={"X-Requested-With": "tidings"})
        assert missing.status_code == 404


async def test_anonymous_for_you_works_without_an_account(settings: Settings) -> None:
    async with site(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db, "Kyodo News")
        await make_article(db, source, title="Tariffs rise", tags=["Trade"])
        other = await make_source(db, "Other Paper")
        await make_article(db, other, title="Rain tomorrow", tags=["Weather"])
        page = await client.get("/en/for-you")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert 'data-local-for-you="/en/for-you/local"' in page.text
        assert "set-cookie" not in page.headers  # nothing is stored for a visitor

        local = await client.get("/en/for-you/local?tags=trade,nonexistent&sources=")
        assert local.status_code == 200 and "<html" not in local.text
        assert "Tariffs rise" in local.text and "because you follow #Trade" in local.text
        assert "Rain tomorrow" not in local.text
        by_source = await client.get(f"/en/for-you/local?sources={other.slug}")
        assert "Rain tomorrow" in by_source.text and "because you follow Other Paper" in by_source.text
        empty = await client.get("/en/for-you/local")
        assert "Nothing new from what you follow yet." in empty.text
        hostile = await client.get("/en/for-you/local?tags=" + quote("<script>,%00," + "x" * 5000))
        assert hostile.status_code == 200 and "<script>" not in hostile.text

        # Signed out, the follow buttons keep the choice in the browser (app.js).
        fragment = await client.get("/en/follow?kind=tag&target=trade", headers={"HX-Request": "true"})
        assert re.search(r'data-local-follow data-kind="tag" data-target="trade"', fragment.text)


async def test_api_follows_and_for_you(settings: Settings) -> None:
    async with site(settings) as (app, client):
        db = app.state.runtime.db
        source = await make_source(db, "Kyodo News")
        article = await make_article(db, source, title="Tariffs rise", tags=["Trade"])
        accounts = app.state.runtime.accounts
        user = await accounts.sign_up("api@example.org", "correct horse battery", "Api")
        token, _ = await accounts.create_api_token(user, "sync")
        auth = {"Authorization": f"Bearer {token}"}

        assert (await client.get("/api/v1/me/follows")).status_code == 401
        added = await client.post("/api/v1/me/follows", json={"kind": "tag", "target": "trade"}, headers=auth)
        assert added.status_code == 200
        assert added.json()["follows"] == [{"kind": "tag", "target": "trade", "label": "Trade"}]
        muted = await client.post(
            "/api/v1/me/follows", json={"kind": "story", "target": "x", "mute": True}, headers=auth
        )
        assert muted.status_code == 422

        feed = (await client.get("/api/v1/me/for-you", headers=auth)).json()
        assert [item["article"]["id"] for item in feed["items"]] == [article.id]
        assert feed["items"][0]["reasons"] == [{"kind": "follow_tag", "label": "Trade", "slug": "trade"}]

        removed = await client.delete("/api/v1/me/follows?kind=tag&target=trade", headers=auth)
        assert removed.status_code == 200 and removed.json()["follows"] == []

        # A session cookie alone must come with X-CSRF-Token on writes.
        await sign_up(client)
        no_csrf = await client.post("/api/v1/me/follows", json={"kind": "tag", "target": "trade"})
        assert no_csrf.status_code == 403
        csrf = (await client.get("/api/v1/me")).json()["csrf_token"]
        with_csrf = await client.post(
            "/api/v1/me/follows", json={"kind": "tag", "target": "trade"}, headers={"X-CSRF-Token": csrf}
        )
        assert with_csrf.status_code == 200
