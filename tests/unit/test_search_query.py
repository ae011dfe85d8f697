"""Query parsing, FTS5 quoting, LIKE escaping, cursors and HTML-safe highlighting (no database)."""

from __future__ import annotations

import pytest

from tidings.errors import InvalidInput
from tidings.search.highlight import highlight_all, highlight_snippet
from tidings.search.query import (
    MAX_QUERY_CHARS,
    MAX_TERMS,
    CursorState,
    Term,
    TermKind,
    decode_cursor,
    encode_cursor,
    fts5_match_expression,
    like_contains_pattern,
    parse_query,
)
from tidings.search.service import recency_boosted_score

W, S = TermKind.WORD, TermKind.SUBSTRING


def terms(raw: str) -> list[tuple[str, TermKind]]:
    return [(term.text, term.kind) for term in parse_query(raw).terms]


def test_words_are_lowercased_and_split_like_the_engines() -> None:
    assert terms("Budget  VOTE") == [("budget", W), ("vote", W)]
    assert terms("covid-19 U.S.") == [("covid 19", W), ("u s", W)]
    assert terms("Café") == [("café", W)]


def test_quoted_phrases_stay_together() -> None:
    assert terms('"New York" times') == [("new york", W), ("times", W)]
    assert terms('"東京 タワー"') == [("東京 タワー", S)]


def test_unbalanced_quotes_are_dropped() -> None:
    assert terms('"new york') == [("new", W), ("york", W)]
    assert terms('say "') == [("say", W)]


def test_operators_and_sql_are_plain_words() -> None:
    assert terms("a AND b OR NOT c") == [("a", W), ("and", W), ("b", W), ("or", W), ("not", W), ("c", W)]
    assert terms("'); DROP TABLE articles; --") == [("drop", W), ("table", W), ("articles", W)]
    assert terms("title:budget NEAR(x y) budget*") == [("title budget", W), ("near x", W), ("y", W), ("budget", W)]


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", '""', '"   "', "*", "-- ; ()", "\x00\x01", None])
def test_queries_without_searchable_text_are_empty(raw: str | None) -> None:
    assert parse_query(raw).is_empty


def test_cjk_and_korean_are_substring_terms() -> None:
    assert terms("서울시 東京 北京市 กรุงเทพ") == [
        ("서울시", S),
        ("東京", S),
        ("北京市", S),
        ("กรุงเทพ", S),
    ]
    assert terms("「東京」") == [("東京", S)]  # edge punctuation stripped
    assert terms("BTS의") == [("BTS의", S)]  # mixed token: Hangul decides


def test_short_substrings_need_a_scan() -> None:
    query = parse_query("서울 서울시 budget")
    assert [t.text for t in query.scan_terms] == ["서울"]
    assert [t.text for t in query.indexed_substring_terms] == ["서울시"]
    assert [t.text for t in query.word_terms] == ["budget"]
    assert not query.scan_only
    assert parse_query("서울 東京").scan_only


def test_full_width_and_half_width_forms_are_normalized() -> None:
    assert terms("ＡＢＣ ｶﾀｶﾅ") == [("abc", W), ("カタカナ", S)]


def test_limits() -> None:
    assert len(parse_query("x" * 10_000).terms[0].text) == MAX_QUERY_CHARS
    assert len(parse_query(" ".join(f"w{n}" for n in range(50))).terms) == MAX_TERMS
    assert terms("budget Budget BUDGET") == [("budget", W)]  # duplicates collapse


def test_fts5_expression_quotes_every_term() -> None:
    query = parse_query('"new york" 東京都')
    assert fts5_match_expression(query.terms) == '"new york" "東京都"'
    # Defence in depth: a quote that reached a term would be doubled, never close the string.
    assert fts5_match_expression((Term('a"b', S),)) == '"a""b"'


def test_like_pattern_escapes_wildcards() -> None:
    assert like_contains_pattern("100%_\\") == "%100\\%\\_\\\\%"


def test_cursor_round_trip_and_rejections() -> None:
    fingerprint = parse_query("budget").fingerprint(None)
    state = CursorState(offset=40, now_epoch=1_800_000_000)
    cursor = encode_cursor(state, fingerprint)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor, fingerprint) == state
    other = parse_query("budget").fingerprint("fr")
    for bad, expected in [(cursor, other), ("!!", fingerprint), ("", fingerprint)]:
        with pytest.raises(InvalidInput):
            decode_cursor(bad, expected)
    with pytest.raises(InvalidInput):
        decode_cursor(encode_cursor(CursorState(10**9, 0), fingerprint), fingerprint)


def test_highlight_escapes_everything_but_marks() -> None:
    query = parse_query("script budget")
    html = highlight_all("<script>alert('budget')</script> & co", query.terms)
    assert html == (
        "&lt;<mark>script</mark>&gt;alert(&#x27;<mark>budget</mark>&#x27;)"
        "&lt;/<mark>script</mark>&gt; &amp; co"
    )


def test_highlight_whole_words_phrases_and_accents() -> None:
    assert highlight_all("Budgetary budget", parse_query("budget").terms) == "Budgetary <mark>budget</mark>"
    assert highlight_all("New  York, new plan", parse_query('"new york"').terms) == (
        "<mark>New York</mark>, new plan"  # whitespace runs collapse
    )
    assert highlight_all("Le Café de Flore", parse_query("cafe").terms) == "Le <mark>Café</mark> de Flore"
    assert highlight_all("cafe\u0301 noir", parse_query("café").terms) == "<mark>cafe</mark>\u0301 noir"


def test_highlight_cjk_substrings() -> None:
    assert highlight_all("서울시청에서", parse_query("서울").terms) == "<mark>서울</mark>시청에서"


def test_snippet_window_and_ellipses() -> None:
    text = ("lorem ipsum " * 40) + "the needle is here " + ("dolor sit " * 40)
    snippet = highlight_snippet(text, parse_query("needle").terms, max_chars=120)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>needle</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) <= 122


def test_snippet_without_match_starts_at_the_beginning() -> None:
    assert highlight_snippet("a <b> c", parse_query("zzz").terms) == "a &lt;b&gt; c"


def test_recency_formula() -> None:
    assert recency_boosted_score(2.0, 0) == 2.0
    assert recency_boosted_score(2.0, 21) == pytest.approx(1.0)
    assert recency_boosted_score(2.0, -5) == 2.0  # future dates get no bonus
