"""Catalogs cover every string the templates use; language negotiation and Babel formatting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po

from tidings.web import i18n
from tidings.web.rendering import TEMPLATES_DIR

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def template_messages() -> dict[str | tuple[str, ...], str]:
    """Every msgid in the templates (`_()` calls and `{% trans %}` blocks), with where it is used."""
    found: dict[str | tuple[str, ...], str] = {}
    for path in sorted(TEMPLATES_DIR.glob("*.html")):
        with path.open("rb") as template:
            for lineno, message, _, _ in extract(
                "jinja2.ext:babel_extract",  # babel imports it by name
                template,
                keywords=DEFAULT_KEYWORDS,
                options={"extensions": "jinja2.ext.i18n"},
            ):
                found.setdefault(message, f"{path.name}:{lineno}")
    return found


def test_templates_use_translatable_strings() -> None:
    messages = template_messages()
    assert len(messages) > 40
    assert "No comments yet." in messages


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_every_template_message_has_a_translation(lang: str) -> None:
    po_path = i18n.LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    with Path(po_path).open("rb") as po_file:
        catalog = read_po(po_file, locale=lang)
    for msgid, where in template_messages().items():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(key)
        assert entry is not None, f"{lang}: no entry for {msgid!r} ({where})"
        translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(translations), f"{lang}: {msgid!r} is untranslated ({where})"
        assert not entry.fuzzy, f"{lang}: {msgid!r} is fuzzy"
        expected = set(PLACEHOLDER.findall(key))
        for text in translations:
            assert set(PLACEHOLDER.findall(str(text))) == expected, (
                f"{lang}: placeholders differ for {msgid!r}"
            )


def test_catalogs_compile_and_translate() -> None:
    assert i18n.translations("ko").gettext("No comments yet.") == "아직 댓글이 없습니다."
    assert i18n.translations("ja").gettext("No comments yet.") == "まだコメントはありません。"
    assert i18n.translations("en").gettext("No comments yet.") == "No comments yet."
    assert i18n.translations("ja").ngettext("%(num)s article", "%(num)s articles", 5) == "%(num)s件の記事"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ko-KR,ko;q=0.9", "ko"),
        ("ja-JP", "ja"),
        ("en-GB,en;q=0.9,ko;q=0.8", "en"),
        ("fr;q=1, ja;q=0.4, ko;q=0.5", "ko"),
        ("ko;q=0, ja;q=0.1", "ja"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("garbage;;;,,", "en"),
    ],
)
def test_negotiate_language(header: str | None, expected: str) -> None:
    assert i18n.negotiate_language(header) == expected


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "2 hours ago"), ("ko", "2시간 전"), ("ja", "2 時間前")]
)
def test_relative_time_is_written_in_the_page_language(lang: str, expected: str) -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert i18n.relative_time(now - timedelta(hours=2), lang, now=now) == expected


def test_future_times_read_as_now_and_names_are_localised() -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert "ago" in i18n.relative_time(now + timedelta(hours=3), "en", now=now)
    assert i18n.language_name("ko", "ja") == "韓国語"
    assert i18n.country_name("jp", "ko") == "일본"
    assert i18n.number(12345, "en") == "12,345"
    assert i18n.language_of_path("/ko/article/x") == "ko"
    assert i18n.language_of_path("/fr/article/x") == "en"
