"""The site in a real browser: block order, localised times, proxied images, search, PWA, no-JS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import LiveSite

ARTICLE_BLOCKS = ["headline", "byline", "lead-image", "body", "hashtags", "ai-features", "comments", "related", "install"]
AGO = {"en": "ago", "ko": "전", "ja": "前"}


def _watch_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return errors


def _article_with_image(site: LiveSite) -> Any:
    return next(a for a in site.articles if a.image_url)


@pytest.mark.parametrize("lang", ["en", "ko", "ja"])
def test_article_page_blocks_in_order_and_localised(
    live_site: LiveSite, browser: Any, artifacts: Path, lang: str
) -> None:
    article = _article_with_image(live_site)
    page = browser.new_page()
    errors = _watch_errors(page)
    page.goto(f"{live_site.base_url}/{lang}/article/{article.id}")
    blocks = page.eval_on_selector_all("[data-block]", "els => els.map(e => e.dataset.block)")
    present = [b for b in blocks if b in ARTICLE_BLOCKS]
    assert present == [b for b in ARTICLE_BLOCKS if b in present]
    assert {"headline", "byline", "body", "comments", "related", "install"} <= set(present)
    assert page.get_attribute("html", "lang") == lang
    assert page.inner_text("h1").strip() == article.title.strip()
    byline_time = page.inner_text("[data-block=byline] time")
    assert AGO[lang] in byline_time, byline_time
    page.screenshot(path=str(artifacts / f"article-{lang}.png"), full_page=True)
    assert errors == []
    page.close()


def test_images_load_through_the_proxy(live_site: LiveSite, browser: Any) -> None:
    article = _article_with_image(live_site)
    page = browser.new_page()
    page.goto(f"{live_site.base_url}/en/article/{article.id}")
    image = page.locator("[data-block=lead-image] img").first
    assert (image.get_attribute("src") or "").startswith("/img?")
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    page.close()


def test_search_finds_an_article(live_site: LiveSite, browser: Any, artifacts: Path) -> None:
    article = next(a for a in live_site.articles if a.language == "en")
    word = max(article.title.split(), key=len).strip(".,:;!?\"'")
    page = browser.new_page()
    page.goto(f"{live_site.base_url}/en/")
    page.fill("input[name=q]", word)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?**")
    assert page.locator(f"a[href*='/article/{article.id}']").count() >= 1
    assert page.locator("mark").count() >= 1
    page.screenshot(path=str(artifacts / "search.png"), full_page=True)
    page.close()


def test_service_worker_registers(live_site: LiveSite, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors = _watch_errors(page)
    page.goto(f"{live_site.base_url}/en/")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{live_site.base_url}/"
    assert page.evaluate("fetch('/manifest.webmanifest').then(r => r.ok)")
    assert errors == []
    context.close()


def test_works_without_javascript(live_site: LiveSite, browser: Any, artifacts: Path) -> None:
    article = _article_with_image(live_site)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_site.base_url}/ja/article/{article.id}")
    assert page.inner_text("h1").strip() == article.title.strip()
    assert page.locator("[data-block=body]").inner_text().strip()
    assert "前" in page.inner_text("[data-block=byline] time")
    page.goto(f"{live_site.base_url}/en/")
    first = page.locator("a[href*='/article/']").first
    first.click()
    page.wait_for_url("**/article/**")
    page.screenshot(path=str(artifacts / "article-nojs.png"), full_page=True)
    context.close()


def test_home_page_in_each_language(live_site: LiveSite, browser: Any, artifacts: Path) -> None:
    page = browser.new_page()
    errors = _watch_errors(page)
    for lang in ("en", "ko", "ja"):
        page.goto(f"{live_site.base_url}/{lang}/")
        assert page.get_attribute("html", "lang") == lang
        assert page.locator("a[href*='/article/']").count() > 0
        page.screenshot(path=str(artifacts / f"home-{lang}.png"), full_page=True)
    assert errors == []
    page.close()


def test_a_read_article_opens_offline(live_site: LiveSite, browser: Any, artifacts: Path) -> None:
    article = _article_with_image(live_site)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_site.base_url}/en/")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # from now on the service worker controls the page
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    url = f"{live_site.base_url}/en/article/{article.id}"
    page.goto(url)  # read once online: the service worker keeps a copy
    page.wait_for_timeout(300)
    context.set_offline(True)
    page.goto(url)
    assert page.inner_text("h1").strip() == article.title.strip()
    page.goto(f"{live_site.base_url}/en/article/{'f' * 32}")  # never read: the offline page
    assert "offline" in page.inner_text("h1").lower()
    page.screenshot(path=str(artifacts / "offline.png"), full_page=True)
    context.close()


def test_keyboard_and_accessibility_basics(live_site: LiveSite, browser: Any) -> None:
    article = _article_with_image(live_site)
    page = browser.new_page()
    for path in ("/ko/", f"/ja/article/{article.id}"):
        page.goto(live_site.base_url + path)
        page.keyboard.press("Tab")  # the first stop is the skip link...
        assert page.evaluate("document.activeElement.classList.contains('skip-link')")
        page.keyboard.press("Enter")  # ...which jumps past the header
        assert page.evaluate("location.hash") == "#main"
        page.keyboard.press("Tab")  # and keeps going through the content
        assert page.evaluate("document.activeElement !== document.body")
        assert page.locator("h1").count() == 1
        assert page.locator("img:not([alt])").count() == 0  # decorative images carry alt=""
        assert page.get_attribute("meta[name=viewport]", "content")
    page.close()
