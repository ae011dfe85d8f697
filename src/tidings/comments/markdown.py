"""A small, safe Markdown subset for reader comments, rendered to HTML once, at write time.

Why not a full CommonMark library: comments need a handful of constructs, and every extra one (raw HTML,
images, headings, reference links, entity decoding) is either an XSS surface or a layout hazard inside a
comment box. So the renderer *escapes everything* and only ever emits tags it wrote itself:

* blocks: paragraphs (a single newline is a `<br>`, as people type comments), fenced code blocks
  (```` ``` ```` or `~~~`), `>` quotes (nesting bounded), `-`/`*`/`+` and `1.` lists;
* inline: `**bold**`/`__bold__`, `*italic*`/`_italic_`, `` `code` ``, `[text](url)` and bare
  `http(s)://` URLs, backslash escapes.

Links must be absolute http(s) or mailto *as written*: the URL is never entity-decoded, so
`[x](&#106;avascript:...)` is simply not a link. The result then goes through nh3 (ammonia) with a tiny
allow-list anyway, which enforces `rel="nofollow ugc noopener"` and re-checks every `href`: the renderer is
the first line of defence, the sanitiser the boundary.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3

from tidings.extract.sanitize import safe_url

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# nofollow + ugc: search engines must not credit links readers posted; noopener: no window.opener.
LINK_REL = "nofollow ugc noopener"
# Never legitimately produced by the renderer; dropped with their content should they ever appear.
_DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "template",
    "noscript",
}
MAX_QUOTE_DEPTH = 4

# Private-use characters frame placeholders for already-rendered inline fragments; any in the input are
# removed first so a comment cannot forge one.
_STASH_OPEN, _STASH_CLOSE = "\ue000", "\ue001"
_STASH_REF = re.compile(f"{_STASH_OPEN}(\\d+){_STASH_CLOSE}")
# C0 controls other than tab/newline, DEL and the private-use stash markers.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ue000\ue001]")

_FENCE = re.compile(r"^ {0,3}(```+|~~~+)")
_QUOTE = re.compile(r"^ {0,3}> ?")
_BULLET = re.compile(r"^ {0,3}[-*+][ \t]+(.*)$")
_ORDERED = re.compile(r"^ {0,3}\d{1,9}[.)][ \t]+(.*)$")
_BLANK = re.compile(r"^\s*$")

_ESCAPABLE = r"\\`*_{}\[\]()#+\-.!>~|"
_INLINE = re.compile(
    rf"\\(?P<esc>[{_ESCAPABLE}])"
    r"|(?P<ticks>`+)(?P<code>.+?)(?P=ticks)"
    r"|\[(?P<label>[^\[\]\n]{1,1000})\]\((?P<url>[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\)"
    r"|(?P<bare>(?<![\w/])https?://[^\s<>\"'`]+)",
    re.IGNORECASE,
)
# Only URLs that are absolute and allowed exactly as typed become links.
_LINK_URL = re.compile(r"^(?:https?://[^\s/?#]+|mailto:[^\s@]+@[^\s@]+)", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,:;!?*_~'\""

# Emphasis runs on already-escaped text (html.escape leaves * and _ alone). Inner parts exclude the
# delimiter run itself, which keeps every pattern linear on adversarial input.
_STRONG_STAR = re.compile(r"\*\*(?=\S)((?:[^*]|\*(?!\*))+?)(?<=\S)\*\*")
_STRONG_UNDER = re.compile(r"(?<!\w)__(?=\S)((?:[^_]|_(?!_))+?)(?<=\S)__(?!\w)")
_EM_STAR = re.compile(r"\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*")
_EM_UNDER = re.compile(r"(?<!\w)_(?=[^\s_])([^_]+?)(?<=[^\s_])_(?!\w)")


def render(markdown: str) -> str:
    """Comment Markdown to display-safe HTML (empty string for an empty comment)."""
    text = _CONTROL.sub("", markdown.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        return ""
    return sanitize(_render_blocks(text.split("\n"), quote_depth=0))


def sanitize(fragment: str) -> str:
    """The boundary: whatever produced `fragment`, only the comment allow-list survives."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={"a": {"href"}},
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(LINK_SCHEMES),
    ).strip()


def link_count(markdown: str) -> int:
    """How many links a comment would render (explicit and bare), for the spam heuristics."""
    return sum(
        1
        for m in _INLINE.finditer(markdown)
        if m.group("bare") or (m.group("url") and _link_target(m.group("url")))
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return safe_url(value, base_url=None, schemes=LINK_SCHEMES, require_absolute=True)
    return value


# --- blocks -----------------------------------------------------------------------------------------


def _render_blocks(lines: list[str], *, quote_depth: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _BLANK.match(line):
            i += 1
        elif fence := _FENCE.match(line):
            i = _code_block(lines, i, fence.group(1), out)
        elif _QUOTE.match(line) and quote_depth < MAX_QUOTE_DEPTH:
            quoted: list[str] = []
            while i < len(lines) and (m := _QUOTE.match(lines[i])):
                quoted.append(lines[i][m.end() :])
                i += 1
            out.append(f"<blockquote>{_render_blocks(quoted, quote_depth=quote_depth + 1)}</blockquote>")
        elif _BULLET.match(line) or _ORDERED.match(line):
            i = _list(lines, i, out)
        else:
            paragraph: list[str] = []
            while i < len(lines) and not _BLANK.match(lines[i]) and not _starts_block(lines[i], quote_depth):
                paragraph.append(lines[i].strip())
                i += 1
            out.append("<p>" + "<br>".join(_inline(part) for part in paragraph) + "</p>")
    return "".join(out)


def _starts_block(line: str, quote_depth: int) -> bool:
    return bool(
        _FENCE.match(line)
        or (_QUOTE.match(line) and quote_depth < MAX_QUOTE_DEPTH)
        or _BULLET.match(line)
        or _ORDERED.match(line)
    )


def _code_block(lines: list[str], start: int, fence: str, out: list[str]) -> int:
    """A fenced block runs to a closing fence of the same kind and length or more, or to the end."""
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    body: list[str] = []
    i = start + 1
    while i < len(lines) and not closing.match(lines[i]):
        body.append(lines[i])
        i += 1
    out.append(f"<pre><code>{html.escape(chr(10).join(body), quote=False)}</code></pre>")
    return i + 1


def _list(lines: list[str], start: int, out: list[str]) -> int:
    """One flat list; indented lines continue the current item, a different marker kind ends it."""
    pattern = _BULLET if _BULLET.match(lines[start]) else _ORDERED
    items: list[list[str]] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if m := pattern.match(line):
            items.append([m.group(1).strip()])
        elif items and line[:1] in (" ", "\t") and line.strip() and not _starts_block(line, 0):
            items[-1].append(line.strip())
        else:
            break
        i += 1
    tag = "ul" if pattern is _BULLET else "ol"
    rendered = "".join("<li>" + "<br>".join(_inline(part) for part in item) + "</li>" for item in items)
    out.append(f"<{tag}>{rendered}</{tag}>")
    return i


# --- inline -----------------------------------------------------------------------------------------


def _inline(text: str, *, links: bool = True) -> str:
    """Escape a line and apply inline markup. Code, links and escapes are rendered first and stashed
    behind placeholders, so emphasis never reaches into them and nothing is processed twice."""
    stash: list[str] = []

    def keep(fragment: str) -> str:
        stash.append(fragment)
        return f"{_STASH_OPEN}{len(stash) - 1}{_STASH_CLOSE}"

    def replace(match: re.Match[str]) -> str:
        if match.group("esc") is not None:
            return keep(html.escape(match.group("esc")))
        if match.group("code") is not None:
            return keep(f"<code>{html.escape(match.group('code').strip(), quote=False)}</code>")
        if match.group("label") is not None:
            target = _link_target(match.group("url")) if links else None
            label = _inline(match.group("label"), links=False)
            if target is None:  # not a link we allow: keep the words, drop the destination
                return keep(label)
            return keep(f'<a href="{html.escape(target)}">{label}</a>')
        url, trailing = _trim_url(match.group("bare"))
        if not links:
            return keep(html.escape(match.group("bare")))
        return keep(f'<a href="{html.escape(url)}">{html.escape(url)}</a>') + trailing

    pieces: list[str] = []
    last = 0
    for match in _INLINE.finditer(text):
        pieces.append(html.escape(text[last : match.start()]))
        pieces.append(replace(match))
        last = match.end()
    pieces.append(html.escape(text[last:]))
    rendered = _emphasis("".join(pieces))
    return _unstash(rendered, stash)


def _unstash(rendered: str, stash: list[str]) -> str:
    # Trailing text of a bare URL may itself hold placeholders, hence a substitution, not a loop of replaces.
    return _STASH_REF.sub(lambda m: stash[int(m.group(1))], rendered)


def _emphasis(escaped: str) -> str:
    steps: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
        (_STRONG_STAR, lambda m: f"<strong>{m.group(1)}</strong>"),
        (_STRONG_UNDER, lambda m: f"<strong>{m.group(1)}</strong>"),
        (_EM_STAR, lambda m: f"<em>{m.group(1)}</em>"),
        (_EM_UNDER, lambda m: f"<em>{m.group(1)}</em>"),
    ]
    for pattern, build in steps:
        escaped = pattern.sub(build, escaped)
    return escaped


def _link_target(url: str) -> str | None:
    """The URL if it is an absolute http(s)/mailto URL exactly as written, else None."""
    url = url.strip("<>")
    if not _LINK_URL.match(url):
        return None
    # A quote is legal in a URL only percent-encoded; encoding it keeps the attribute tidy.
    url = url.replace('"', "%22")
    return safe_url(url, base_url=None, schemes=LINK_SCHEMES, require_absolute=True)


def _trim_url(url: str) -> tuple[str, str]:
    """Split trailing punctuation (and unbalanced closing brackets) off a bare URL."""
    end = len(url)
    while end > 0:
        char = url[end - 1]
        if char in _TRAILING_PUNCTUATION or (char == ")" and url.count("(", 0, end) < url.count(")", 0, end)):
            end -= 1
            continue
        break
    return url[:end], html.escape(url[end:])
