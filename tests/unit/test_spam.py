"""Spam holds: each rule fires on its pattern and stays quiet on ordinary multilingual comments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tidings.comments.spam import REASONS, assess, body_hash, describe, normalise

OLD = timedelta(days=30)
NEW = timedelta(hours=2)


def reasons(body: str, **kwargs: object) -> list[str]:
    values: dict[str, object] = {"account_age": OLD, "recent_comment_count": 0}
    values.update(kwargs)
    return assess(body, **values).reasons  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        "I think the council should publish the budget before the vote, not after.",
        "See https://example.org/report for the figures.",
        "서울시는 화요일 새로운 버스 노선을 발표했다. ㅋㅋㅋㅋㅋ 좋네요",
        "これは良い記事ですね。wwwww",
        "这个消息很重要，哈哈哈哈。",
        "The NHS and the BBC reported on it: OK.",
        "Thanks!",
        "```\n================================\ncode block\n```",
    ],
)
def test_ordinary_comments_pass(body: str) -> None:
    decision = assess(body, account_age=OLD, recent_comment_count=2)
    assert not decision.hold and decision.reasons == []


def test_link_rules() -> None:
    assert reasons("a https://a.example b https://b.example c https://c.example") == []
    four = "https://a.example https://b.example [c](https://c.example) https://d.example"
    assert reasons(four) == ["links_many"]
    assert reasons("see https://a.example", account_age=NEW) == ["links_new_account"]
    assert reasons("[x](javascript:alert(1)) plain", account_age=NEW) == []  # not a link at all


def test_repetition_and_shouting() -> None:
    assert "repetition" in reasons("Wow" + "!" * 20)
    assert "repetition" in reasons("buy buy buy buy buy now")
    assert "repetition" in reasons("cheap pills cheap pills cheap pills cheap pills cheap pills cheap pills")
    assert reasons("THIS IS OUTRAGEOUS AND EVERYONE SHOULD KNOW IT") == ["shouting"]
    assert reasons("NASA and ESA launched it") == []


def test_new_account_rate() -> None:
    assert reasons("a fine comment", account_age=NEW, recent_comment_count=4) == []
    assert reasons("a fine comment", account_age=NEW, recent_comment_count=5) == ["new_account_rate"]
    assert reasons("a fine comment", account_age=OLD, recent_comment_count=50) == []


def test_duplicates() -> None:
    body = "Visit my channel for the real story behind this"
    assert reasons(body, recent_identical_elsewhere=1) == []
    assert reasons(body, recent_identical_elsewhere=2) == ["duplicate_elsewhere"]
    same = ["VISIT my   channel for the **real** story behind this", body]
    assert reasons(body, recent_bodies_same_user=same[:1]) == []
    assert reasons(body, recent_bodies_same_user=same) == ["duplicate_self"]
    assert reasons("Thanks!", recent_bodies_same_user=["thanks!"] * 5) == []


def test_normalise_and_hash() -> None:
    assert normalise("  **Hello**\n\nWORLD ") == "hello world"
    assert normalise("ｆｕｌｌｗｉｄｔｈ") == "fullwidth"
    assert body_hash("short") is None
    assert body_hash("The same text, posted twice") == body_hash("the SAME text,  posted *twice*")


def test_reasons_have_moderator_text() -> None:
    decision = assess("https://a.example " * 5, account_age=NEW, recent_comment_count=9)
    assert decision.hold and set(decision.reasons) <= set(REASONS)
    assert all(message and message[0].isupper() for message in decision.messages)
    assert describe("unknown_code") == "unknown_code"
