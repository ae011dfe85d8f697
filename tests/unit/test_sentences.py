"""Sentence segmentation: abbreviations, quotes, European punctuation, CJK and Korean, fragments, speed."""

from __future__ import annotations

import time

import pytest

from tidings.ai.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Jones at 3 p.m. The meeting lasted 3.5 hours.",
            ["Mr. Smith met Dr. Jones at 3 p.m.", "The meeting lasted 3.5 hours."],
        ),
        (
            "The U.S. Army said it would act. It moved to the U.S. The next day, it left.",
            ["The U.S. Army said it would act.", "It moved to the U.S.", "The next day, it left."],
        ),
        (
            "J. K. Rowling wrote it. On Jan. 5 she spoke. He is No. 1 in the world.",
            ["J. K. Rowling wrote it.", "On Jan. 5 she spoke.", "He is No. 1 in the world."],
        ),
        (
            'He said "Go home." Then she went. "Why?" she asked. It cost $1.13bn, i.e. a lot.',
            ['He said "Go home."', "Then she went.", '"Why?" she asked.', "It cost $1.13bn, i.e. a lot."],
        ),
        (
            "We waited... Nothing happened. Prices rose (again.) Analysts were surprised!",
            ["We waited...", "Nothing happened.", "Prices rose (again.)", "Analysts were surprised!"],
        ),
    ],
)
def test_english(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "en") == expected


def test_european_languages() -> None:
    assert split_sentences(
        "Am 3. Oktober feiern wir. Das ist z.B. schön. Die Aktie fiel um 5. Die Börse schloss.", "de"
    ) == [
        "Am 3. Oktober feiern wir.",
        "Das ist z.B. schön.",
        "Die Aktie fiel um 5.",
        "Die Börse schloss.",
    ]
    assert split_sentences(
        "« Nous allons gagner. » Il a dit cela. M. Macron a parlé. « Quoi ? » dit-il.", "fr"
    ) == [
        "« Nous allons gagner. »",
        "Il a dit cela.",
        "M. Macron a parlé.",
        "« Quoi ? » dit-il.",
    ]
    assert split_sentences("¿Qué pasa en el país? El Sr. García llegó a EE.UU. ayer.", "es") == [
        "¿Qué pasa en el país?",
        "El Sr. García llegó a EE.UU. ayer.",
    ]


def test_korean() -> None:
    text = "정부는 오늘 새 정책을 발표했다. 시민들은 대체로 환영했어요. 왜 그랬을까? 그는 모른다고 했다.다음 날 떠났다."
    assert split_sentences(text, "ko") == [
        "정부는 오늘 새 정책을 발표했다.",
        "시민들은 대체로 환영했어요.",
        "왜 그랬을까?",
        "그는 모른다고 했다.",
        "다음 날 떠났다.",
    ]


def test_japanese_and_chinese() -> None:
    text = (
        "東京で地震があった。「大丈夫です。安全です。」と市長は述べた。被害は確認されていない！本当だろうか？"
    )
    assert split_sentences(text, "ja") == [
        "東京で地震があった。",
        "「大丈夫です。安全です。」と市長は述べた。",
        "被害は確認されていない！",
        "本当だろうか？",
    ]
    assert split_sentences("今天北京下雨。「我们很高兴。」明天会晴。", "zh") == [
        "今天北京下雨。",
        "「我们很高兴。」",
        "明天会晴。",
    ]


def test_paragraphs_bullets_and_fragments() -> None:
    text = (
        "Storm hits coast\n\n"
        "The storm made landfall overnight. Yes.\n"
        "• Thousands lost power\n"
        "• Schools are closed\n"
        "A hard-wrapped line\ncontinues here. 1. The first lesson is clear.\n\n"
        "***\n\n"
        "Photo: Reuters"
    )
    assert split_sentences(text, "en") == [
        "Storm hits coast",  # a paragraph break ends even an unpunctuated heading
        "The storm made landfall overnight. Yes.",  # one-word fragments merge
        "Thousands lost power",
        "Schools are closed",
        "A hard-wrapped line continues here.",
        "1. The first lesson is clear.",
        "Photo: Reuters",
    ]


def test_empty_and_language_agnostic() -> None:
    assert split_sentences("", "en") == []
    assert split_sentences("   \n\n ", None) == []
    assert split_sentences("One sentence. Another one here.") == ["One sentence.", "Another one here."]


def test_thousand_words_under_two_milliseconds() -> None:
    paragraph = (
        "The central bank raised rates by 0.25 points on Jan. 5, Mr. Powell said. "
        '"We are watching inflation closely," he told reporters in Washington. '
        "Markets in the U.S. rose 1.2% after the announcement... Analysts had expected it. "
    )
    text = "\n\n".join([paragraph] * 27)  # ~1,000 words
    assert 950 <= len(text.split()) <= 1100
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sentences = split_sentences(text, "en")
        best = min(best, time.perf_counter() - started)
    assert len(sentences) == 108
    assert best < 0.004  # the budget is 2 ms; slack for a busy test machine
