"""The comment pages and the moderation queue through the ASGI app, on SQLite and PostgreSQL: the
cached article page stays user-agnostic, threads render per reader, every form checks CSRF and the
account, domain errors become pages with the right status, and hostile comments render inert."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx
import lxml.html
import pytest
from fastapi import FastAPI
from tests.conftest import FIXTURES
from tests.factories import make_article, make_source
from tests.web.test_accounts_pages import PASSWORD, accounts_of, new_client, sign_in, sign_up
from tests.web.test_pages import running

from tidings.config import Settings

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')
CLIENT_TOKEN = re.compile(r'name="client_token" value="([0-9a-f]{32})"')
HTMX = {"HX-Request": "true"}


# argon2 at its real cost would dominate these tests; tests/unit/test_passwords.py covers it.
pytestmark = pytest.mark.usefixtures("cheap_hashing")


async def seed_article(app: FastAPI) -> str:
    db = app.state.runtime.db
    source = await make_source(db, "Seoul Herald")
    return (await make_article(db, source, title="City council passes the budget")).id


def thread_path(article_id: str) -> str:
    return f"/en/article/{article_id}/comments"


async def thread(client: httpx.AsyncClient, article_id: str, **params: str) -> httpx.Response:
    response = await client.get(thread_path(article_id), params=params)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["cache-control"] == "no-store"
    return response


async def tokens(client: httpx.AsyncClient, article_id: str) -> tuple[str, str]:
    page = (await thread(client, article_id)).text
    csrf, client_token = CSRF_INPUT.search(page), CLIENT_TOKEN.search(page)
    assert csrf and client_token, "no comment form for a signed-in reader"
    return csrf.group(1), client_token.group(1)


async def post(client: httpx.AsyncClient, article_id: str, body: str, **extra: str) -> httpx.Response:
    csrf, client_token = await tokens(client, article_id)
    form = {"csrf_token": csrf, "client_token": client_token, "body": body, **extra}
    return await client.post(thread_path(article_id), data=form)


async def act(
    client: httpx.AsyncClient, article_id: str, comment_id: int, action: str, **extra: str
) -> httpx.Response:
    csrf, _ = await tokens(client, article_id)
    form = {"csrf_token": csrf, "thread": thread_path(article_id), **extra}
    return await client.post(f"/en/comments/{comment_id}/{action}", data=form)


def comment_id_of(response: httpx.Response) -> int:
    assert response.status_code == 303, (response.status_code, response.text[:500])
    match = re.search(r"#c(\d+)$", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def doc_of(response: httpx.Response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.text)


def comment(doc: lxml.html.HtmlElement, comment_id: int) -> lxml.html.HtmlElement:
    found = doc.xpath(f'//li[@id="c{comment_id}"]')
    assert found, f"comment {comment_id} not on the page"
    return found[0]


def score_of(doc: lxml.html.HtmlElement, comment_id: int) -> int:
    return int(comment(doc, comment_id).xpath(".//*[@data-score]")[0].get("data-score"))


@contextlib.asynccontextmanager
async def new_reader(app: FastAPI, email: str, name: str) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as client:
        assert (await sign_up(client, email=email, name=name)).status_code == 303
        yield client


@contextlib.asynccontextmanager
async def new_moderator(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    accounts = accounts_of(app)
    user = await accounts.sign_up("mod@example.org", PASSWORD, "Mod")
    await accounts.set_role(user.id, "moderator")
    async with new_client(app) as client:
        assert (await sign_in(client, email="mod@example.org")).status_code == 303
        yield client


async def test_empty_state_is_user_agnostic_on_the_cached_article_page(settings: Settings) -> None:
    async with running(settings) as (app, client):
        article_id = await seed_article(app)
        page = await client.get(f"/en/article/{article_id}")
        live = doc_of(page).xpath('//*[@id="comments"]//*[@hx-get]')[0]
        assert "No comments yet." in page.text and "csrf_token" not in page.text
        assert live.get("hx-get") == thread_path(article_id) and live.get("hx-trigger") == "load"
        assert doc_of(page).xpath(f'//*[@id="comments"]//a[@href="{thread_path(article_id)}"]')
        empty = await thread(client, article_id)
        assert "No comments yet." in empty.text and "csrf_token" not in empty.text
        assert f"/en/account/signin?next=%2Fen%2Farticle%2F{article_id}%2Fcomments" in empty.text
        fragment = await client.get(thread_path(article_id), headers=HTMX)
        assert "<html" not in fragment.text and "No comments yet." in fragment.text
        count = await client.get(f"{thread_path(article_id)}/count")
        assert count.text.strip() == "No comments yet." and count.headers["cache-control"] == "no-store"
        assert (await client.get("/en/article/0123/comments")).status_code == 404


async def test_post_reply_edit_vote_and_delete(settings: Settings) -> None:
    async with running(settings) as (app, ann):
        article_id = await seed_article(app)
        await sign_up(ann)
        first = comment_id_of(await post(ann, article_id, "The budget is **too small**."))
        page = doc_of(await thread(ann, article_id))
        assert comment(page, first).xpath('.//div[@class="comment-body"]//strong/text()') == ["too small"]
        assert (await ann.get(f"{thread_path(article_id)}/count")).text.strip() == "1 comment"
        assert "1 comment" in (await ann.get(f"/en/article/{article_id}")).text

        async with new_reader(app, "bob@example.org", "Bob") as bob:
            reply = comment_id_of(await post(bob, article_id, "I disagree.", parent_id=str(first)))
            page = doc_of(await thread(bob, article_id))
            nested = page.xpath(f'//li[@id="c{first}"]/ol[@class="comment-replies"]/li[@id="c{reply}"]')
            assert nested and "I disagree." in nested[0].text_content()

            # Bob's vote (htmx: the thread comes back in place) moves Ann's score; Ann cannot vote.
            csrf, _ = await tokens(bob, article_id)
            voted = await bob.post(
                f"/en/comments/{first}/vote",
                data={"csrf_token": csrf, "thread": thread_path(article_id), "value": "1"},
                headers=HTMX,
            )
            assert voted.status_code == 200 and "<html" not in voted.text
            assert score_of(doc_of(voted), first) == 1
            own = await act(ann, article_id, first, "vote", value="1")
            assert own.status_code == 403 and "You cannot vote on or report your own comment." in own.text
            # Not the author: 403 with a message, never a 500.
            stolen = await act(bob, article_id, first, "edit", body="Bob was here")
            assert stolen.status_code == 403 and "Only its author can change this comment." in stolen.text

        edited = await act(ann, article_id, first, "edit", body="The budget is fine.")
        assert edited.status_code == 303
        mine = comment(doc_of(await thread(ann, article_id)), first)
        assert "The budget is fine." in mine.text_content() and mine.xpath('.//*[@class="comment-edited"]')
        empty = await post(ann, article_id, "   ")
        assert empty.status_code == 422 and "A comment cannot be empty." in empty.text

        assert (await act(ann, article_id, first, "delete")).status_code == 303
        page = doc_of(await thread(ann, article_id))
        assert "[deleted]" in comment(page, first).text_content()
        assert "I disagree." in comment(page, reply).text_content()
        assert score_of(page, reply) == 0


async def test_report_appears_in_the_queue_and_a_moderator_hides_it(settings: Settings) -> None:
    async with running(settings) as (app, ann):
        article_id = await seed_article(app)
        await sign_up(ann)
        target = comment_id_of(await post(ann, article_id, "Buy cheap watches"))
        async with (
            new_reader(app, "bob@example.org", "Bob") as bob,
            new_moderator(app) as mod,
        ):
            comment_id_of(await post(bob, article_id, "Is this spam?", parent_id=str(target)))
            assert (await act(bob, article_id, target, "report", reason="spam")).status_code == 303
            queue = await mod.get("/en/moderation")
            assert queue.status_code == 200 and queue.headers["cache-control"] == "no-store"
            item = doc_of(queue).xpath(f'//li[@data-comment="{target}"]')[0]
            assert "Buy cheap watches" in item.text_content() and "1 open report" in item.text_content()
            assert "spam" in item.xpath('.//ul[@class="reports"]')[0].text_content()

            csrf = CSRF_INPUT.search(queue.text)
            assert csrf
            hidden = await mod.post(
                f"/en/moderation/comments/{target}/hide", data={"csrf_token": csrf.group(1), "reason": "ads"}
            )
            assert hidden.status_code == 303 and hidden.headers["location"] == "/en/moderation?done=hidden"
            assert "Nothing is waiting for moderation." in (await mod.get("/en/moderation")).text
            as_moderator = comment(doc_of(await thread(mod, article_id)), target)
            assert "Hidden by a moderator: ads" in " ".join(as_moderator.text_content().split())

            for reader in (bob, new_client(app)):
                page = await thread(reader, article_id)
                assert "Buy cheap watches" not in page.text
                assert "[removed]" in comment(doc_of(page), target).text_content()
        # The author sees the state of their comment in its place: removed by the moderators.
        own = await thread(ann, article_id)
        assert "Buy cheap watches" not in own.text
        assert "[removed]" in comment(doc_of(own), target).text_content()


async def test_held_comments_show_to_their_author_and_to_moderators_with_reasons(settings: Settings) -> None:
    async with running(settings) as (app, ann):
        article_id = await seed_article(app)
        await sign_up(ann)
        links = " ".join(f"https://spam{n}.example.org" for n in range(5))
        held = comment_id_of(await post(ann, article_id, f"Look at {links}"))
        assert "Awaiting moderation" in comment(doc_of(await thread(ann, article_id)), held).text_content()
        assert f'id="c{held}"' not in (await thread(new_client(app), article_id)).text
        async with new_moderator(app) as mod:
            seen = comment(doc_of(await thread(mod, article_id)), held)
            assert "Awaiting moderation" in seen.text_content() and seen.xpath(
                './/li[@data-reason="links_many"]'
            )
            queue = doc_of(await mod.get("/en/moderation"))
            assert queue.xpath(f'//li[@data-comment="{held}"]//li[@data-reason="links_many"]')


async def test_readers_get_403_on_every_moderation_route(settings: Settings) -> None:
    async with running(settings) as (app, ann):
        article_id = await seed_article(app)
        await sign_up(ann)
        target = comment_id_of(await post(ann, article_id, "A fine comment"))
        assert (await ann.get("/en/moderation")).status_code == 403
        csrf, _ = await tokens(ann, article_id)
        for path in (
            f"/en/moderation/comments/{target}/hide",
            f"/en/moderation/comments/{target}/restore",
            "/en/moderation/users/1/ban",
            "/en/moderation/users/1/unban",
        ):
            response = await ann.post(path, data={"csrf_token": csrf})
            assert response.status_code == 403, path
        assert "A fine comment" in (await thread(new_client(app), article_id)).text


@pytest.mark.parametrize("action", ["post", "edit", "delete", "vote", "report"])
async def test_every_comment_form_needs_its_csrf_token(settings: Settings, action: str) -> None:
    async with running(settings) as (app, ann):
        article_id = await seed_article(app)
        await sign_up(ann)
        target = comment_id_of(await post(ann, article_id, "Original text"))
        path = thread_path(article_id) if action == "post" else f"/en/comments/{target}/{action}"
        form = {"body": "Forged", "value": "1", "reason": "x", "thread": thread_path(article_id)}
        for forged in (form, {**form, "csrf_token": "forged"}):
            response = await ann.post(path, data=forged)
            assert response.status_code == 403, (action, response.status_code)
        page = await thread(ann, article_id)
        assert "Original text" in page.text and "Forged" not in page.text


async def test_anonymous_posts_are_sent_to_sign_in(settings: Settings) -> None:
    async with running(settings) as (app, client):
        article_id = await seed_article(app)
        signin = await client.get("/en/account/signin")
        csrf = CSRF_INPUT.search(signin.text)
        assert csrf
        form = {"csrf_token": csrf.group(1), "body": "Hello", "thread": thread_path(article_id)}
        expected = f"/en/account/signin?next=%2Fen%2Farticle%2F{article_id}%2Fcomments"
        for path in (thread_path(article_id), "/en/comments/1/vote"):
            plain = await client.post(path, data=form)
            assert plain.status_code == 303 and plain.headers["location"] == expected, path
            htmx = await client.post(path, data=form, headers=HTMX)
            assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == expected, path
        assert "No comments yet." in (await thread(client, article_id)).text


async def test_a_double_submit_stores_one_comment(settings: Settings) -> None:
    async with running(settings) as (app, ann):
        article_id = await seed_article(app)
        await sign_up(ann)
        csrf, client_token = await tokens(ann, article_id)
        form = {"csrf_token": csrf, "client_token": client_token, "body": "Only once"}
        first = await ann.post(thread_path(article_id), data=form)
        again = await ann.post(thread_path(article_id), data=form)
        assert comment_id_of(first) == comment_id_of(again)
        assert len(doc_of(await thread(ann, article_id)).xpath("//li[@data-status]")) == 1
        assert (await ann.get(f"{thread_path(article_id)}/count")).text.strip() == "1 comment"


async def test_hostile_comments_render_inert(settings: Settings) -> None:
    vectors = (FIXTURES / "xss_vectors.txt").read_text(encoding="utf-8").splitlines()
    async with running(settings) as (app, ann):
        article_id = await seed_article(app)
        await sign_up(ann)
        for start in range(0, 40, 10):
            body = "\n\n".join(vectors[start : start + 10])
            response = await post(ann, article_id, body)
            assert response.status_code == 303, response.text[:300]
        for page in (await thread(ann, article_id), await ann.get(thread_path(article_id), headers=HTMX)):
            doc = doc_of(page)
            live = doc.xpath('//*[@id="comment-thread"]') or [doc]
            assert live[0].xpath(".//li[starts-with(@id, 'c')]")
            assert not live[0].xpath(".//script | .//iframe | .//object | .//embed")
            for element in live[0].iter():
                if not isinstance(element.tag, str):
                    continue
                for name, value in element.attrib.items():
                    assert not name.lower().startswith("on"), (element.tag, name)
                    assert not value.strip().lower().startswith(("javascript:", "data:text")), (name, value)
