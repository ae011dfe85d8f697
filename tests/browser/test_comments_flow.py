"""Comments in a real browser, with htmx: sign up, comment, reply, vote, report; a moderator hides the
comment from the queue; its author sees the new state. No dialogs, no console errors on the way."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from tests.browser.conftest import LiveSite

from tidings.accounts.service import AccountService
from tidings.db.engine import Database, create_engine

PASSWORD = "correct horse battery"


def _watch_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return errors


def _make_moderator(site: LiveSite, email: str) -> None:
    """Create the account with the accounts service, as `tidings users set-role` does. In a thread:
    Playwright's sync API keeps an event loop running in this one."""
    assert site.settings is not None

    settings = site.settings

    async def create() -> None:
        db = Database(create_engine(settings))
        try:
            accounts = AccountService(db, settings)
            user = await accounts.sign_up(email, PASSWORD, "Mia")
            await accounts.set_role(user.id, "moderator")
        finally:
            await db.dispose()

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(create())
        except BaseException as exc:  # handed to the test's thread, which fails with it
            failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive() and not failures, failures


def _sign_up(page: Any, base: str, email: str, name: str) -> None:
    page.goto(f"{base}/en/account/signup")
    page.fill("input[name=email]", email)
    page.fill("input[name=display_name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    page.click("form.account-form button[type=submit]")
    page.wait_for_url("**/en/account?done=signed_up")


def _comment_id(page: Any, text: str) -> str:
    body = page.locator(".comment-body", has_text=text).first
    body.wait_for()
    return str(body.locator("xpath=ancestor::li[1]").get_attribute("id"))


def test_comment_reply_vote_report_and_moderate(live_site: LiveSite, browser: Any, artifacts: Path) -> None:
    base = live_site.base_url
    article = live_site.articles[0]
    article_url = f"{base}/en/article/{article.id}"

    ann_context = browser.new_context()
    ann = ann_context.new_page()
    ann_errors = _watch_errors(ann)
    _sign_up(ann, base, "ann.browser@example.org", "Ann")
    ann.goto(article_url)
    # The cached page loads Ann's own thread (with her form) in place.
    ann.wait_for_selector("#comments-live form.comment-new")
    ann.fill("#comment-body", "A first comment from the browser")
    ann.click("form.comment-new button[type=submit]")
    ann_comment = _comment_id(ann, "A first comment from the browser")
    assert ann.url == article_url  # htmx posted in place
    assert ann.locator("#comment-body").input_value() == ""

    bob_context = browser.new_context()
    bob = bob_context.new_page()
    bob_errors = _watch_errors(bob)
    _sign_up(bob, base, "bob.browser@example.org", "Bob")
    bob.goto(article_url)
    bob.wait_for_selector(f"#{ann_comment}")
    item = bob.locator(f"#{ann_comment}")
    item.locator("details.comment-reply > summary").first.click()
    item.locator("details.comment-reply textarea").first.fill("A reply from Bob")
    item.locator("details.comment-reply button[type=submit]").first.click()
    reply = _comment_id(bob, "A reply from Bob")
    assert bob.locator(f"#{ann_comment} .comment-replies #{reply}").count() == 1

    bob.locator(f"#{ann_comment} > article [data-vote=up]").click()
    bob.wait_for_selector(f"#{ann_comment} > article [data-score='1']")
    item = bob.locator(f"#{ann_comment} > article")
    item.locator("details.comment-report > summary").click()
    item.locator("details.comment-report input[name=reason]").fill("off-topic")
    item.locator("details.comment-report button[type=submit]").click()
    # A report is sent once: afterwards the thread comes back and the comment is still there.
    bob.wait_for_selector(f"#{ann_comment} > article details.comment-report:not([open])")

    _make_moderator(live_site, "mod.browser@example.org")
    mod_context = browser.new_context()
    mod = mod_context.new_page()
    mod_errors = _watch_errors(mod)
    mod.goto(f"{base}/en/account/signin?next=/en/moderation")
    mod.fill("input[name=email]", "mod.browser@example.org")
    mod.fill("input[name=password]", PASSWORD)
    mod.click("form.account-form button[type=submit]")
    mod.wait_for_url("**/en/moderation")
    queued = mod.locator(f"li.queue-item[data-comment='{ann_comment[1:]}']")
    assert "off-topic" in queued.inner_text()
    mod.screenshot(path=str(artifacts / "moderation-queue.png"), full_page=True)
    queued.locator("form.moderate-hide input[name=reason]").fill("not about the article")
    queued.locator("form.moderate-hide button[type=submit]").click()
    mod.wait_for_url("**/en/moderation?done=hidden")
    assert mod.locator(f"li.queue-item[data-comment='{ann_comment[1:]}']").count() == 0

    ann.goto(article_url)
    ann.wait_for_selector(f"#{ann_comment} .comment-placeholder")
    assert "[removed]" in ann.inner_text(f"#{ann_comment} .comment-placeholder")
    assert "A first comment from the browser" not in ann.inner_text("#comments")
    assert "A reply from Bob" in ann.inner_text("#comments")
    ann.screenshot(path=str(artifacts / "comments-after-moderation.png"), full_page=True)

    assert ann_errors == [] and bob_errors == [] and mod_errors == []
    for context in (ann_context, bob_context, mod_context):
        context.close()
