"""detect_language: ISO 639-1 codes from text, with the declared language as tie-breaker."""

from __future__ import annotations

import pytest

from tidings.extract.language import detect_language, normalize_language_code

SAMPLES = {
    "en": "The city council voted on Wednesday evening to build a two-kilometre flood barrier along the river, "
    "ending a debate that has divided the harbour district for almost a decade.",
    "de": "Der Stadtrat hat am Mittwochabend beschlossen, entlang des Flusses eine zwei Kilometer lange "
    "Hochwasserschutzmauer zu bauen, und damit eine jahrelange Debatte beendet.",
    "es": "El ayuntamiento aprobó el miércoles por la noche la construcción de un muro de contención de dos "
    "kilómetros a lo largo del río, poniendo fin a un debate que duraba casi una década.",
    "fr": "Le conseil municipal a voté mercredi soir la construction d'une digue de deux kilomètres le long "
    "de la rivière, mettant fin à un débat qui divisait le quartier du port depuis près de dix ans.",
    "ko": "서울시는 다음 달부터 여의도와 뚝섬 한강 공원에 밤늦게까지 운영하는 야외 도서관을 연다고 밝혔다. "
    "도서관은 매주 금요일과 토요일 오후 여섯 시부터 밤 열 시까지 문을 연다.",
    "ja": "京都市は、観光客の増加で市バスが混雑している問題を受けて、主要な観光地を結ぶ急行バスを"
    "六月から新たに運行すると発表した。",
    "zh": "北京市政府今天宣布，将在明年春季开始修建一条沿河防洪堤，以保护低洼地区的居民和商铺。",
}


@pytest.mark.parametrize(("expected", "text"), SAMPLES.items())
def test_detects_language(expected: str, text: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(("expected", "text"), SAMPLES.items())
def test_confident_text_overrides_a_wrong_hint(expected: str, text: str) -> None:
    # themes ship <html lang="en-US"> on pages in every language
    hint = "en-US" if expected != "en" else "de"
    assert detect_language(text, hint=hint) == expected


def test_japanese_with_mostly_kanji_is_not_chinese() -> None:
    assert detect_language("東京都知事選挙の投票率は前回を上回る見通しと発表された") == "ja"


def test_short_text_falls_back_to_hint() -> None:
    assert detect_language("OK 2024", hint="pt-BR") == "pt"
    assert detect_language("", hint="de") == "de"
    assert detect_language("") is None


def test_urls_and_numbers_are_not_language() -> None:
    assert detect_language("https://example.com/a/b 2024-05-01 12:00 +49 30 1234567", hint="fr") == "fr"


@pytest.mark.parametrize(
    ("code", "normalised"),
    [("en-US", "en"), ("EN_gb", "en"), ("zh-Hant-TW", "zh"), ("iw", "he"), ("deu", "de"), ("jpn", "ja"),
     ("x-default", None), ("", None), (None, None), ("english", None)],
)
def test_normalize_language_code(code: str | None, normalised: str | None) -> None:
    assert normalize_language_code(code) == normalised
