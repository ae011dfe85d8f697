"""Wire credits: the agency is named where agencies sign their copy, and nowhere else."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tidings.stories.wire import WireCredit, detect_wire

BODY = "The government said on Monday it would review the plan.\n\nOfficials gave no timetable."


@pytest.mark.parametrize(
    ("text", "slug", "dateline"),
    [
        # Datelines.
        ("WASHINGTON (Kyodo) -- The United States and Japan agreed on Tuesday.", "kyodo", "Washington"),
        ("SEOUL, Nov. 23 (Yonhap) -- South Korea's exports rose 5 percent.", "yonhap", "Seoul"),
        ("TOKYO (AP) — Japan's prime minister said on Friday.", "ap", "Tokyo"),
        ("LONDON, Jan 5 (Reuters) - British house prices fell.", "reuters", "London"),
        ("PARIS (AFP) - France's president said.", "afp", "Paris"),
        ("(Bloomberg) -- Treasuries rallied on Monday.", "bloomberg", None),
        ("By JOSH BOAK\n\nWASHINGTON (AP) — President Biden said.", "ap", "Washington"),
        ("PORTLAND, Ore. (AP) — A man was arrested.", "ap", "Portland"),
        ("NEW YORK, N.Y. (AP) — Stocks rose.", "ap", "New York"),
        ("BEIJING, Jan. 5 (Xinhua) -- China's economy grew.", "xinhua", "Beijing"),
        ("TOKYO, Jan. 5 (Jiji Press)--Japan's cabinet approved.", "jiji", "Tokyo"),
        ("Madrid, 5 Jan (EFE).- El Gobierno aprobó.", "efe", "Madrid"),
        ("(ANSA) - ROME, JAN 5 - Italy's premier said.", "ansa", "Rome"),
        ("Berlin (dpa) - Die Bundesregierung hat.", "dpa", "Berlin"),
        ("PARIS (dpa-AFX) - Die französische Großbank.", "dpa", "Paris"),
        ("ANKARA (AA) - Turkey's president said.", "anadolu", "Ankara"),
        ("NEW DELHI (PTI) - The Supreme Court said.", "pti", "New Delhi"),
        ("BECKY BOHRER, Associated Press ДЖУНО, Аляска (AP) — В течение года", "ap", "Джуно"),
        # Relays: the original agency is the credit.
        ("PARIS (AFP-Jiji) — The French government said.", "afp", "Paris"),
        ("(AFP=연합뉴스) 프랑스 정부는 5일 발표했다.", "afp", None),
        ("(워싱턴 AP=연합뉴스) 김철수 특파원 = 미국 정부는 발표했다.", "ap", "워싱턴"),
        ("(도쿄 교도=연합뉴스) 일본 정부는 발표했다.", "kyodo", "도쿄"),
        ("パリで5日、会見した。（ＡＦＰ＝時事）", "afp", None),
        ("【パリAFP=時事】フランス政府は5日、発表した。", "afp", "パリ"),
        # Korean, Japanese, Chinese datelines.
        ("(서울=연합뉴스) 홍길동 기자 = 정부는 23일 발표했다.", "yonhap", "서울"),
        ("(서울=뉴시스) 홍길동 기자 = 정부는 23일 발표했다.", "newsis", "서울"),
        ("(서울=뉴스1) 홍길동 기자 = 정부는 23일 발표했다.", "news1", "서울"),
        ("【ワシントン共同】米政府は5日、発表した。", "kyodo", "ワシントン"),
        ("〔北京共同〕中国政府は5日、発表した。", "kyodo", "北京"),
        ("【ソウル時事】韓国政府は5日、発表した。", "jiji", "ソウル"),
        ("［東京 ５日 ロイター］ - 日経平均は反発した。", "reuters", "東京"),
        ("新华社北京1月5日电 国务院总理主持召开会议。", "xinhua", "北京"),
        # Closing credits.
        (BODY + " — Kyodo", "kyodo", None),
        (BODY + "\n\n==Kyodo", "kyodo", None),
        (BODY + "\n\n(Reporting by Kantaro Komiya; Editing by Christopher Cushing)", "reuters", None),
        (
            BODY + "\n\n(Reporting by Jane Doe)\n\nOur Standards: The Thomson Reuters Trust Principles.",
            "reuters",
            None,
        ),
        (
            BODY + "\n\nReporting by Cate Cadell; Additional reporting by Kevin Yao; Editing by Jo Lee",
            "reuters",
            None,
        ),
        (BODY + "\n\nAssociated Press writers Jane Doe in Tokyo and John Roe contributed.", "ap", None),
        (
            BODY + " Copyright 2024 The Associated Press. All rights reserved. This material may not "
            "be published, broadcast, rewritten or redistributed.",
            "ap",
            None,
        ),
        (BODY + "\n\n© 2024 Kyodo News", "kyodo", None),
        (BODY + " - AFP", "afp", None),
        (BODY + "/AFP", "afp", None),
        (BODY + " (Kyodo)", "kyodo", None),
        (BODY + "\n\nAFP", "afp", None),
        (BODY + " Fuente: AFP", "afp", None),
        (BODY + " hb/sti (dpa, rtr)", "dpa", None),
        (BODY + " rei/dpa/Reuter", "dpa", None),
        (BODY + " mm/aw (AFP, Reuters)", "afp", None),
        ("政府は5日、発表した。（共同）", "kyodo", None),
        ("政府は5日、発表した。(時事)", "jiji", None),
        ("정부는 23일 발표했다.\n<저작권자(c) 연합뉴스, 무단 전재-재배포 금지>", "yonhap", None),
        ("정부는 23일 발표했다.\n홍길동 기자 hong@yna.co.kr", "yonhap", None),
    ],
)
def test_credit_found(text: str, slug: str, dateline: str | None) -> None:
    credit = detect_wire(text)
    assert credit is not None, text
    assert (credit.slug, credit.dateline) == (slug, dateline)
    assert credit.evidence


@pytest.mark.parametrize(
    "text",
    [
        # Agencies cited in the running text.
        BODY + "\n\nThe figures were released on Monday, Reuters reported, citing two sources.",
        "According to Kyodo News, the prime minister will visit Seoul next week.\n\n" + BODY,
        BODY + "\n\nThe ministry confirmed the figures to the AP.",
        BODY + "\n\nThe ministry confirmed the figures to Reuters.",
        BODY + "\n\nIt was first reported by Kyodo News.",
        BODY + "\n\nThe news was first reported by Bloomberg News, which cited people familiar.",
        BODY + " « Il est décédé », a indiqué M. Durepaire à l’AFP",
        "In an interview with AFP, the minister said (AFP) had misquoted him earlier.\n\n" + BODY,
        # Contributions and photo credits are not bylines.
        BODY + "\n\nThe Associated Press contributed to this report.",
        BODY + "\n\n(Additional reporting by Reuters)",
        BODY + "\n\nReuters contributed to this report.",
        "(AP Photo/Evan Vucci) President Biden speaks at the White House.\n\n" + BODY,
        BODY + "\n\nPhoto: © AFP",
        BODY + "\n\nThe minister at the summit. Getty Images/AFP",
        "(사진=연합뉴스) 정부는 23일 발표했다.",
        "정부는 23일 발표했다. (그래픽=뉴시스)",
        "연합뉴스에 따르면 정부는 23일 새 정책을 발표했다.",
        "共同通信の世論調査によると、内閣支持率は低下した。",
        "時事通信社の調査で内閣支持率が下落した。",
        "記者会見する首相＝東京都千代田区で2024年1月5日、共同\n\n首相は5日、年頭の会見に臨んだ。",
        # Outlets' own datelines and credits.
        "LONDON — The Bank of England held interest rates on Thursday.",
        "WASHINGTON (CNN) — The Senate passed the bill.",
        "TOKYO -- Japan's Cabinet approved the budget on Friday.",
        BODY + "\n\nCopyright 2024 The New York Times Company",
        BODY + "\n\nMr Smith told the BBC he was happy.\n\nBBC",
        BODY + "\n\n(Reporting by the BBC suggested otherwise, she said.) The debate continues today.",
        "",
    ],
)
def test_no_credit(text: str) -> None:
    assert detect_wire(text) is None


@pytest.mark.parametrize(
    ("author", "slug"),
    [
        ("By KYODO NEWS", "kyodo"),
        ("Kyodo", "kyodo"),
        ("The Associated Press", "ap"),
        ("Associated Press", "ap"),
        ("AP", "ap"),
        ("AFP", "afp"),
        ("AFP-JIJI", "afp"),
        ("Reuters", "reuters"),
        ("Reuters Staff", "reuters"),
        ("Yonhap", "yonhap"),
        ("Mari Yamaguchi, Associated Press", "ap"),
        ("Jane Doe | Reuters", "reuters"),
        ("연합뉴스", "yonhap"),
        ("共同通信", "kyodo"),
        ("時事通信", "jiji"),
    ],
)
def test_credit_from_author(author: str, slug: str) -> None:
    credit = detect_wire(BODY, author=author)
    assert credit is not None
    assert credit.slug == slug


@pytest.mark.parametrize("author", ["John Smith", "ap", "Anna Reuter", "The Mainichi", "BBC News", "Staff"])
def test_no_credit_from_author(author: str) -> None:
    assert detect_wire(BODY, author=author) is None


def test_credit_from_a_feed_title_suffix_only_for_full_names() -> None:
    assert detect_wire(BODY, title="Japan PM to resign - Reuters") == WireCredit(
        agency="Reuters", slug="reuters", dateline=None, evidence="- Reuters"
    )
    credit = detect_wire(BODY, title="Stocks rise | AP News")
    assert credit is not None and credit.slug == "ap"
    credit = detect_wire(BODY, title="Quake hits Noto - Kyodo News+")
    assert credit is not None and credit.slug == "kyodo"
    assert detect_wire(BODY, title="UK heading wrong way - Howard") is None
    assert detect_wire(BODY, title="Deal agreed - PA") is None
    assert detect_wire(BODY, title="How AP counts the vote") is None


def test_dateline_wins_over_later_signals() -> None:
    text = "SEOUL, Nov. 23 (Yonhap) -- Exports rose.\n\n" + BODY + " - AFP"
    credit = detect_wire(text, author="Reuters")
    assert credit is not None and credit.slug == "yonhap"


def test_dateline_must_open_the_text() -> None:
    text = (
        BODY + "\n\n" + "Officials spoke at length about the matter. " * 10 + "\nTOKYO (Kyodo) -- x\n\nMore."
    )
    assert detect_wire(text) is None


def test_display_names() -> None:
    names = {
        "WASHINGTON (Kyodo) -- x": "Kyodo News",
        "SEOUL (Yonhap) -- x": "Yonhap News Agency",
        "TOKYO (AP) — x": "Associated Press",
        "PARIS (AFP) - x": "Agence France-Presse",
        "TOKYO (Jiji Press) -- x": "Jiji Press",
    }
    for text, agency in names.items():
        credit = detect_wire(text)
        assert credit is not None and credit.agency == agency


def test_bbc_articles_are_not_wire_copy(shared_data: Path) -> None:
    # The BBC corpus is the BBC's own reporting, though it cites agencies often.
    path = shared_data / "summaries" / "bbc-news-summary" / "bbc_news_summary.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        credited = [row["id"] for row in map(json.loads, lines) if detect_wire(row["article"])]
    assert credited == []
