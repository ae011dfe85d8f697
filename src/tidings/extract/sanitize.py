"""Sanitising article HTML for display, and turning HTML into plain text.

The sanitiser is the security boundary between publisher markup and the reader's browser, so it is an
allow-list (nh3, i.e. Rust's ammonia, parsing like a browser does), never a block-list:

* Only a small set of reading tags survives (paragraphs, h2-h4, lists, quotes, figures, links, emphasis,
  basic tables, pre/code). `script`, `style`, `iframe`, `object`, `embed`, `svg`, `math`, `form`, `template`,
  `noscript` and friends are dropped *with their content*; other unknown tags are unwrapped (text kept).
* No `style`, `class`, `id` or event-handler attributes at all.
* Links: `href` must resolve to http(s) or mailto. Relative links are made absolute against `base_url`.
  Every link gets `rel="noopener nofollow"` and `target="_blank"` (noopener keeps the new tab from reaching
  back into the reader).
* Images: `src` must resolve to an absolute http(s) URL, otherwise the whole `<img>` goes. **No `data:` URLs,
  not even `data:image/*`**: SVG data images can carry script, base64 blobs bloat stored articles, and on
  news pages they are almost always 1x1 lazy-loading placeholders rather than content.
"""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import urljoin, urlsplit

import nh3
from lxml import etree
from lxml import html as lxml_html

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "figure", "figcaption", "img", "a",
        "em", "strong", "b", "i", "sub", "sup", "code", "pre", "hr", "table", "caption", "thead", "tbody",
        "tfoot", "tr", "th", "td",
    }
)
# Removed together with everything inside: executable, embedded or interactive content, none of it text.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
        "form", "button", "select", "textarea", "template", "noscript", "canvas", "audio", "video",
        "head", "title", "dialog", "nav",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
LINK_REL = "noopener nofollow"

# Browsers ignore ASCII tab/newline anywhere in a URL and leading C0 controls/spaces: "java\tscript:" runs.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
_EMPTY_LINK = re.compile(r"<a(?![^>]*\shref=)[^>]*>(.*?)</a>", re.DOTALL)
_HEADING_RENAMES = {"h1": "h2", "h5": "h4", "h6": "h4"}


def safe_url(value: str, *, base_url: str | None, schemes: frozenset[str], require_absolute: bool) -> str | None:
    """The URL resolved against `base_url` if its scheme is allowed, else None.

    A relative URL that cannot be resolved (no base) is kept only when `require_absolute` is false: it is
    harmless in a link, but an image must be absolute to be proxied or cached.
    """
    candidate = _URL_IGNORED.sub("", value)
    if not candidate:
        return None
    try:
        if base_url:
            candidate = urljoin(base_url, candidate)
        scheme = urlsplit(candidate).scheme.lower()
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    if not scheme:
        return None if require_absolute or candidate.startswith("//") else candidate
    return candidate if scheme in schemes else None


def _filter_attribute(tag: str, attribute: str, value: str, *, base_url: str | None) -> str | None:
    if tag == "a" and attribute == "href":
        return safe_url(value, base_url=base_url, schemes=LINK_SCHEMES, require_absolute=False)
    if tag == "img" and attribute == "src":
        return safe_url(value, base_url=base_url, schemes=IMAGE_SCHEMES, require_absolute=True)
    return value


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """Return display-safe HTML (see module docstring for the exact policy)."""
    if not html or not html.strip():
        return ""
    cleaned = nh3.clean(
        _rename_headings(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=partial(_filter_attribute, base_url=base_url),
        strip_comments=True,
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_schemes=set(LINK_SCHEMES),
    )
    # An <img> whose src was refused and an <a> whose href was refused carry nothing worth showing.
    cleaned = _IMG_WITHOUT_SRC.sub("", cleaned)
    return _EMPTY_LINK.sub(r"\1", cleaned).strip()


def _rename_headings(html: str) -> str:
    """h1 (the page title, shown separately) becomes h2 and h5/h6 become h4, so the outline survives."""
    for old, new in _HEADING_RENAMES.items():
        html = re.sub(rf"<(/?){old}(?=[\s>/])", rf"<\1{new}", html, flags=re.IGNORECASE)
    return html


# --- plain text -----------------------------------------------------------------------------------------

BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "h1", "h2", "h3", "h4", "h5",
        "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "figure", "figcaption", "pre", "table",
        "caption", "tr", "hr", "address", "details", "summary",
    }
)
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "head", "title", "svg", "math")
# A private-use character as paragraph marker: unlike U+2029 it is not whitespace, so str.strip() and \s
# leave it alone until it is turned into "\n\n" at the end.
_PARAGRAPH_BREAK = "\ue000"
_SPACES = re.compile(r"[^\S\n]+")
_BREAKS = re.compile(r"\s*\ue000[\s\ue000]*")


def html_to_text(html: str) -> str:
    """Readable plain text: one paragraph per block element, separated by a blank line ("\\n\\n").

    `<br>` becomes a single newline, table cells on a row are joined with " | "-free spaces, whitespace inside
    a paragraph is collapsed. Script/style content never leaks into the text.
    """
    if not html or not html.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    etree.strip_elements(root, *_INVISIBLE_TAGS, etree.Comment, with_tail=False)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif element.tag in ("td", "th"):
            element.tail = " " + (element.tail or "")
        elif element.tag in BLOCK_TAGS:
            element.text = _PARAGRAPH_BREAK + (element.text or "")
            element.tail = _PARAGRAPH_BREAK + (element.tail or "")
    text = _SPACES.sub(" ", root.text_content())
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BREAKS.sub("\n\n", text).strip()
