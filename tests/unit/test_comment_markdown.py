"""Comment Markdown: the supported subset renders, and every OWASP-style vector comes out inert.

The inertness check parses the output with lxml and inspects real elements and attributes: a vector
shown as escaped *text* ("&lt;script&gt;...") is harmless and expected.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tidings.comments.markdown import ALLOWED_TAGS, link_count, render

VECTORS_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "xss_vectors.txt"
XSS_VECTORS = [line for line in VECTORS_FILE.read_text(encoding="utf-8").split("\n") if line.strip()]
FORBIDDEN_ELEMENTS = {
    "script",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "style",
    "img",
    "form",
    "meta",
    "link",
}
BAD_URL = re.compile(r"^\s*(javascript|vbscript|data)\s*:", re.IGNORECASE)


def elements(output: str) -> list[lxml_html.HtmlElement]:
    if not output:
        return []
    root = lxml_html.fragment_fromstring(output, create_parent="div")
    return [e for e in root.iter() if isinstance(e.tag, str)][1:]


def assert_inert(output: str) -> None:
    assert "<script" not in output.lower()
    for element in elements(output):
        assert element.tag in ALLOWED_TAGS, (element.tag, output)
        assert element.tag not in FORBIDDEN_ELEMENTS
        for name, value in element.attrib.items():
            assert not re.fullmatch(r"on\w+", name, re.IGNORECASE), output
            assert name in {"href", "rel"}, (name, output)
            if name == "href":
                assert re.match(r"^(https?://|mailto:)", value), output
                assert not BAD_URL.match(value), output
            if name == "rel":
                assert value == "nofollow ugc noopener"


def test_fixture_has_enough_distinct_vectors() -> None:
    assert len(set(XSS_VECTORS)) >= 80 and len(set(XSS_VECTORS)) == len(XSS_VECTORS)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_vector_is_neutralised(vector: str) -> None:
    assert_inert(render(vector))


@pytest.mark.parametrize("vector", XSS_VECTORS[:40])
def test_vector_inside_markdown_structures_is_neutralised(vector: str) -> None:
    for wrapped in (
        f"> {vector}",
        f"- {vector}",
        f"**{vector}**",
        f"[{vector}](https://ok.example/)",
        f"a\n{vector}\nb",
    ):
        assert_inert(render(wrapped))


def test_paragraphs_and_line_breaks() -> None:
    assert render("one\ntwo\n\nthree") == "<p>one<br>two</p><p>three</p>"
    assert render("   \n\n") == ""


def test_emphasis_and_code() -> None:
    assert render("**bold** *it* __b2__ _i2_") == (
        "<p><strong>bold</strong> <em>it</em> <strong>b2</strong> <em>i2</em></p>"
    )
    assert render("snake_case_name stays") == "<p>snake_case_name stays</p>"
    assert render("`a <b> **c**`") == "<p><code>a &lt;b&gt; **c**</code></p>"
    assert render(r"\*not italic\*") == "<p>*not italic*</p>"


def test_fenced_code_keeps_text_verbatim() -> None:
    out = render("```python\nif a < b:\n    print('**x**')\n```\nafter")
    assert out == "<pre><code>if a &lt; b:\n    print('**x**')</code></pre><p>after</p>"


def test_quotes_and_lists() -> None:
    assert render("> quoted\n> > nested\n\nreply") == (
        "<blockquote><p>quoted</p><blockquote><p>nested</p></blockquote></blockquote><p>reply</p>"
    )
    assert render("- a\n- b\n  more\n\n1. x\n2. y") == (
        "<ul><li>a</li><li>b<br>more</li></ul><ol><li>x</li><li>y</li></ol>"
    )


def test_links_get_rel_and_only_safe_schemes() -> None:
    out = render(
        "[site](https://ok.example/a?b=1&c=2) and https://bare.example/x_(y). [m](mailto:a@b.example)"
    )
    assert '<a href="https://ok.example/a?b=1&amp;c=2" rel="nofollow ugc noopener">site</a>' in out
    assert (
        '<a href="https://bare.example/x_(y)" rel="nofollow ugc noopener">https://bare.example/x_(y)</a>.'
        in out
    )
    assert '<a href="mailto:a@b.example" rel="nofollow ugc noopener">m</a>' in out
    assert render("[rel](/relative/path)") == "<p>rel</p>"
    assert render("[ftp](ftp://files.example/)") == "<p>ftp</p>"


def test_html_and_entities_are_escaped_not_interpreted() -> None:
    assert render("<b>hi</b> &amp;") == "<p>&lt;b&gt;hi&lt;/b&gt; &amp;amp;</p>"
    assert render("Robert'); DROP TABLE comments;--") == "<p>Robert'); DROP TABLE comments;--</p>"


def test_placeholder_markers_in_input_cannot_be_forged() -> None:
    assert render("\ue0000\ue001 [x](https://ok.example/)").startswith("<p>0 <a ")


def test_adversarial_input_renders_quickly() -> None:
    import time

    start = time.perf_counter()
    for attack in (
        "*" * 10_000,
        "**a" * 3000,
        "_a" * 5000,
        "[" * 5000 + "](" * 2000,
        "`" * 10_000,
        "> " * 5000,
    ):
        render(attack)
    assert time.perf_counter() - start < 2.0


def test_link_count() -> None:
    assert link_count("a https://x.example [b](https://y.example) [c](javascript:x) `https://in.code`") == 2
