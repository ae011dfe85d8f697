"""The page languages: gettext catalogs read from `.po` files at start-up, and Babel formatting.

The `.po` files are compiled in memory (no `.mo` build step, nothing generated to commit). English is
the source language: its msgids are the English text, so it needs no catalog.
"""

from __future__ import annotations

import functools
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LANGUAGES: tuple[str, ...] = ("en", "ko", "ja")
DEFAULT_LANGUAGE = "en"
# Each language's name in that language: the switcher must be readable by someone who can't read the page.
LANGUAGE_NAMES = {"en": "English", "ko": "한국어", "ja": "日本語"}
# OpenGraph wants a territory; these are the audiences the UI is written for.
OG_LOCALES = {"en": "en_US", "ko": "ko_KR", "ja": "ja_JP"}
LOCALES_DIR = Path(__file__).resolve().parent / "locales"

_LANGUAGE_RANGE = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*$")


def is_supported(lang: str) -> bool:
    return lang in LANGUAGES


def language_of_path(path: str) -> str:
    """The page language named by a path's first segment, the default when it names none we have."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if is_supported(first) else DEFAULT_LANGUAGE


def negotiate_language(accept_language: str | None) -> str:
    """The supported language the client prefers most (RFC 9110 q-values), else the default."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.partition(";")
        match = _LANGUAGE_RANGE.match(tag)
        if not match:
            continue
        primary = match.group(1).lower()
        q = _quality(params)
        # Earlier entries win ties: subtract a hair per position so ordering breaks equal q-values.
        score = q - position * 1e-6
        if primary in LANGUAGES and q > 0 and score > best_q:
            best, best_q = primary, score
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The catalog of `lang`, compiled from its `.po` file once per process."""
    po_path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANGUAGE or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def relative_time(moment: datetime, lang: str, *, now: datetime | None = None) -> str:
    """ "2 hours ago" / "2시간 전" / "2時間前". Future times (publisher clock skew) read as a second ago:
    Babel would write a zero delta as "in 0 seconds"."""
    delta = min(moment - (now or datetime.now(UTC)), timedelta(seconds=-1))
    return format_timedelta(delta, add_direction=True, locale=lang)


def absolute_time(moment: datetime, lang: str) -> str:
    """The full date and time in UTC, written the way the page's language writes it."""
    return format_datetime(moment, "long", tzinfo=UTC, locale=lang)


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


def language_name(code: str | None, lang: str) -> str:
    """A content language's name in the page language ("ko" on a Japanese page: 韓国語)."""
    if not code:
        return ""
    return Locale.parse(lang).languages.get(code.split("-")[0].lower(), code)


def country_name(code: str | None, lang: str) -> str:
    if not code:
        return ""
    return Locale.parse(lang).territories.get(code.upper(), code)
