"""extract_article on small hand-written pages, plus an F1 gate on a fixed sample of the shared eval set."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from tidings.errors import ExtractionError
from tidings.extract.article import ExtractedArticle, clean_author, clean_title, count_words, extract_article
from tidings.extract.cleanup import clean_body, is_boilerplate_block

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
EVAL_DIR = SHARED / "data" / "extraction" / "trafilatura-eval"
NEWS_URL = "https://www.harbour-gazette.example/news/2024/03/flood-barrier?utm_source=rss"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


@pytest.fixture(scope="module")
def news() -> ExtractedArticle:
    return extract_article(page("news_article.html"), url=NEWS_URL)


def test_news_article_text_has_no_page_furniture(news: ExtractedArticle) -> None:
    assert "The city council voted on Wednesday evening" in news.text
    assert "People in the harbour district have waited long enough" in news.text
    assert "insurers now refused to cover ground-floor premises" in news.text
    for furniture in ("cookie", "Share on", "Subscribe", "newsletter", "Related articles", "Floods force",
                      "All rights reserved", "Privacy policy", "Home", "trackPageView"):
        assert furniture not in news.text, furniture
        assert furniture not in news.html, furniture


def test_news_article_paragraphs(news: ExtractedArticle) -> None:
    # the headline is ArticleExtracted.title, not repeated as the first paragraph
    assert news.text.startswith("The city council voted")
    assert news.html.startswith("<p>The city council voted")
    paragraphs = news.text.split("\n\n")
    assert len(paragraphs) >= 6
    assert all(paragraph == paragraph.strip() and paragraph for paragraph in paragraphs)


def test_news_article_metadata(news: ExtractedArticle) -> None:
    assert news.title == "City council approves riverside flood barrier"
    assert news.author == "Maria Okafor"
    assert news.published == datetime(2024, 3, 14, 8, 30, tzinfo=UTC)
    assert news.language == "en"
    assert news.image == "https://www.harbour-gazette.example/images/2024/flood-barrier-lead.jpg"
    assert news.canonical_url == "https://www.harbour-gazette.example/news/2024/03/flood-barrier?id=4471"
    assert news.site_name == "The Harbour Gazette"
    assert news.description and news.description.startswith("Councillors voted 31 to 9")
    assert 200 < news.word_count < 300


def test_news_article_html_is_sanitised_structure(news: ExtractedArticle) -> None:
    assert "<p>" in news.html and "<h2>Construction to start next spring</h2>" in news.html
    assert "<blockquote>" in news.html
    assert not re.search(r"<(script|style|form|button|nav|footer|aside)\b|\son\w+=", news.html)


def test_to_json_dict(news: ExtractedArticle) -> None:
    data = news.to_json_dict()
    assert data["published"] == "2024-03-14T08:30:00+00:00"
    assert {"title", "author", "published", "language", "image", "text", "html", "canonical_url",
            "site_name", "description", "word_count"} <= data.keys()
    json.dumps(data)  # serialisable as is


def test_json_ld_metadata() -> None:
    article = extract_article(page("jsonld_article.html"), url="https://alpine-courier.example/science/x")
    assert article.title == "Glacier retreat accelerates in the eastern Alps"
    assert article.author == "Lena Hofer, Paul Gruber"
    assert article.published == datetime(2023, 8, 2, 6, 15, tzinfo=UTC)
    assert article.image == "https://cdn.alpine-courier.example/glacier.jpg"
    assert article.site_name == "Alpine Courier"
    assert article.description == "Measurements show the fastest melt since records began."
    assert article.canonical_url == "https://alpine-courier.example/science/glacier-retreat"  # mainEntityOfPage
    assert article.language == "en"
    assert "Ötztal range" in article.text


def test_korean_article() -> None:
    article = extract_article(page("korean_article.html"), url="https://hanbit.example/society/1")
    assert article.language == "ko"
    assert "야외 도서관을 연다고" in article.text
    assert "무단 전재" not in article.text
    assert article.title == "서울시, 한강 공원에 야간 도서관 문 연다"
    assert article.published == datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
    assert article.word_count == len(article.text.split())  # Korean separates words with spaces


def test_lead_image_falls_back_to_first_real_article_picture() -> None:
    html = page("korean_article.html").decode().replace(
        "<h1>", '<img src="/icons/share.png" width="16"><img src="data:image/gif;base64,R0lGOD">'
        '<img data-src="/photo/library.jpg" src="/blank.gif" width="800"><h1>'
    )
    assert extract_article(html, url="https://hanbit.example/society/1").image == "https://hanbit.example/photo/library.jpg"


def test_japanese_article() -> None:
    article = extract_article(page("japanese_article.html"), url="https://koto.example/news/1")
    assert article.language == "ja"
    assert "急行バスを六月から新たに運行する" in article.text
    assert "無断転載" not in article.text
    assert article.published == datetime(2024, 4, 9, 22, 0, tzinfo=UTC)
    # no spaces in Japanese: characters / 2
    assert article.word_count > 100


def test_lead_paragraph_outside_the_article_body_is_recovered() -> None:
    article = extract_article(page("lead_article.html"), url="https://see.example/faehre")
    # the visible lead, complete, although the meta description that points to it is truncated
    assert article.text.startswith("Ab Mai fährt eine elektrische Fähre im Stundentakt zwischen Lindau und Bregenz. "
                                   "Die Überfahrt dauert zwanzig Minuten und kostet für Erwachsene sechs Euro.\n\n")
    assert article.html.startswith("<p>Ab Mai fährt")
    assert article.text.count("Ab Mai") == 1
    assert article.language == "de"


def test_description_not_shown_on_the_page_is_not_added(news: ExtractedArticle) -> None:
    assert news.description and news.description not in news.text


def test_empty_page_raises() -> None:
    with pytest.raises(ExtractionError):
        extract_article(page("empty_page.html"), url="https://x.example/")


@pytest.mark.parametrize("html", ["", "   ", b"", "<html></html>", b"\x00\x01\x02"])
def test_nothing_usable_raises(html: str | bytes) -> None:
    with pytest.raises(ExtractionError):
        extract_article(html)


def test_fallback_html_used_when_page_yields_nothing() -> None:
    fallback = "<p>The feed carried the whole story.</p><p>Second <a href='/more'>paragraph</a>.</p><script>x</script>"
    article = extract_article(page("empty_page.html"), url="https://x.example/a/b", fallback_html=fallback)
    assert article.text == "The feed carried the whole story.\n\nSecond paragraph."
    assert 'href="https://x.example/more"' in article.html and "<script" not in article.html
    assert article.title == "Loading…"


def test_fallback_html_used_when_page_is_only_a_teaser() -> None:
    teaser = "<html><body><article><p>Only subscribers can read this story.</p></article></body></html>"
    full = "".join(f"<p>Paragraph {n} of the full story as the feed delivered it, with enough words.</p>"
                   for n in range(10))
    assert "Paragraph 9" in extract_article(teaser, fallback_html=full).text


def test_fallback_not_used_when_page_is_richer(news: ExtractedArticle) -> None:
    article = extract_article(page("news_article.html"), url=NEWS_URL, fallback_html="<p>Short summary.</p>")
    assert article.text == news.text


def test_fallback_alone_without_page() -> None:
    assert extract_article("", fallback_html="<p>Feed text only.</p>").text == "Feed text only."


def test_count_words() -> None:
    assert count_words("one two  three\n\nfour") == 4
    assert count_words("東京都知事") == 3  # 5 characters -> ceil(5 / 2)
    assert count_words("서울시는 오늘 발표했다") == 3


def test_clean_title() -> None:
    assert clean_title("Flood barrier approved | The Harbour Gazette", "The Harbour Gazette") == "Flood barrier approved"
    assert clean_title("Flood barrier approved - Gazette", "gazette") == "Flood barrier approved"
    assert clean_title("Left - Right", "Other") == "Left - Right"
    assert clean_title(None, "x") is None


@pytest.mark.parametrize(
    ("raw", "site", "expected"),
    [("By Maria Okafor", None, "Maria Okafor"), ("Vom Support Team", None, "Support Team"),
     ("Author Andreas Kalt", None, "Andreas Kalt"), ("Von: Jana Berg", "Zeitung", "Jana Berg"),
     ("BRIGITTE.de", "BRIGITTE", None), ("Luxurious", "Luxurious Magazine", None), ("", None, None),
     ("Byron Katie", None, "Byron Katie")],
)
def test_clean_author(raw: str, site: str | None, expected: str | None) -> None:
    assert clean_author(raw, site) == expected


@pytest.mark.parametrize(
    "text",
    ["Read more: Floods force hundreds from their homes", "Lesen Sie auch:", "Lea más: Otro artículo",
     "Photo: Jane Doe/Reuters", "Foto: dpa", "© 2024 The Harbour Gazette", "Copyright 2023 Corp. All rights reserved.",
     "Share this article", "Sign up for our newsletter", "Advertisement", "Anzeige", "Please enable JavaScript.",
     "Related articles", "Mehr zum Thema", "Loading...", "Czytaj też: Inny artykuł", "Schon gelesen?",
     "Fot. Jan Kowalski / Agencja", "*Werbung. Dieser Beitrag enthält Werbung.", "Lesezeit: 2 Minuten",
     "Kategorien: Politik, Wirtschaft", "Mehr zum Thema auf example.de", "Abonnieren Sie unseren Newsletter"],
)
def test_boilerplate_blocks(text: str) -> None:
    assert is_boilerplate_block(text)


@pytest.mark.parametrize(
    "text",
    ["The photo agency said it would appeal.", "Read the full report on the council's website before Friday, "
     "when the consultation closes, and compare it with the 2019 plan that was rejected by the same council.",
     "Anzeige gegen Unbekannt erstattet", "Related to the vote, the mayor resigned on Monday.",
     "Kategorie: Kinder- & Jugendbuch", "Melde dich bitte in deinem Kundenkonto an.",
     "The newsletter was first printed in 1962 by the parish."],
)
def test_prose_is_not_boilerplate(text: str) -> None:
    assert not is_boilerplate_block(text)


def test_clean_body_drops_related_section_but_keeps_prose() -> None:
    prose = "A long paragraph of the article itself, well over the length of a teaser headline. " * 3
    body = etree.fromstring(
        f"<body><p>{prose}</p><head>Related articles</head><list><item>Teaser one</item>"
        f"<item>Teaser two</item></list><p>{prose}</p><quote><p>Advertisement</p></quote></body>"
    )
    cleaned = etree.tostring(clean_body(body), encoding="unicode")
    assert cleaned.count("<p>A long paragraph") == 2
    assert "Teaser" not in cleaned and "Related" not in cleaned
    assert "<list" not in cleaned and "<quote" not in cleaned


# --- the eval gate ---------------------------------------------------------------------------------------

SAMPLE_EVERY = 12  # every 12th page of the URL-sorted set: 83 pages, fixed
# Measured on this sample: 0.951 (bare trafilatura 0.910); pinned lower to absorb library updates and noise.
F1_FLOOR = 0.93


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.shared_data
@pytest.mark.skipif(not (EVAL_DIR / "evaldata.json").exists(), reason="../shared eval data not available")
def test_eval_sample_f1_floor() -> None:
    annotations = json.loads((EVAL_DIR / "evaldata.json").read_text(encoding="utf-8"))
    true_positives = false_negatives = false_positives = 0
    for url in sorted(annotations)[::SAMPLE_EVERY]:
        entry = annotations[url]
        path = next(p for folder in ("cache", "eval") if (p := EVAL_DIR / "html" / folder / f"{entry['file']}.gz").exists())
        try:
            output = _normalise(extract_article(gzip.decompress(path.read_bytes()), url=url).text)
        except ExtractionError:
            output = ""
        found = sum(_normalise(segment) in output for segment in entry["with"])
        true_positives += found
        false_negatives += len(entry["with"]) - found
        false_positives += sum(_normalise(segment) in output for segment in entry["without"])
    f1 = 2 * true_positives / (2 * true_positives + false_positives + false_negatives)
    assert f1 >= F1_FLOOR, f"F1 {f1:.4f} (TP {true_positives}, FN {false_negatives}, FP {false_positives})"
