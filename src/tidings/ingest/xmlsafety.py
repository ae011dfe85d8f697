"""Refuse hostile XML before any parser sees it, and sniff what kind of XML document we have.

Why a byte-level pre-scan instead of trusting the parsers: feedparser's strict mode hands the document to
expat, which expands internal entities (billion laughs, quadratic blowup), and its loose mode re-injects
"safe-looking" entity declarations itself. Checking the prolog first means nothing is ever expanded.
The scan only looks at the prolog (everything before the root element), so it costs microseconds.

Policy:
- a DOCTYPE whose internal subset declares an entity (general or parameter) is refused;
- a DOCTYPE internal subset that is unterminated or absurdly large is refused (it could hide declarations);
- a DOCTYPE external id pointing at a non-http(s) URI (``file:///etc/passwd``, ``php://``…) is refused;
- plain DOCTYPEs (RSS 0.91's Netscape DTD, XHTML) are allowed — they are common and never fetched.
Plain HTML entities such as ``&nbsp;`` without any DTD are not our concern: feedparser's loose mode
decodes them from its own table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from tidings.errors import FeedParseError

# The prolog of any sane document fits in this; a larger prolog is itself suspicious.
PROLOG_SCAN_BYTES = 256 * 1024

_ROOT_TAG = re.compile(r"<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)")
_EXTERNAL_ID = re.compile(
    r"""\b(?:SYSTEM\s*(?P<sys>"[^"]*"|'[^']*')|PUBLIC\s*(?:"[^"]*"|'[^']*')\s*(?P<pubsys>"[^"]*"|'[^']*')?)""",
    re.IGNORECASE,
)
_ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)
_SAFE_DTD_SCHEMES = ("http://", "https://")


@dataclass(slots=True, frozen=True)
class Prolog:
    """What precedes the root element, decoded far enough to reason about it."""

    root_tag: str | None  # qualified name as written, e.g. "rss", "rdf:RDF", "html"; None if not found
    doctype: str | None  # the full <!DOCTYPE …> declaration, if any
    head_text: str  # the decoded first bytes of the document, for cheap content sniffing

    @property
    def root_local_name(self) -> str | None:
        if self.root_tag is None:
            return None
        return self.root_tag.rsplit(":", 1)[-1].lower()


def decode_head(content: bytes, limit: int = PROLOG_SCAN_BYTES) -> str:
    """Decode the start of a document just well enough to read ASCII markup.

    Markup characters are ASCII in every encoding feeds use except UTF-16/32 and EBCDIC, so latin-1
    (which never fails) is correct for the prolog of UTF-8, ISO-8859-*, Shift_JIS, EUC-KR, GB2312….
    """
    head = content[:limit]
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        codec = "utf-32"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    elif head.startswith(b"<\x00\x00\x00"):
        codec = "utf-32-le"
    elif head.startswith(b"\x00\x00\x00<"):
        codec = "utf-32-be"
    elif head.startswith(b"<\x00"):
        codec = "utf-16-le"
    elif head.startswith(b"\x00<"):
        codec = "utf-16-be"
    elif head.startswith(b"\x4c\x6f\xa7\x94"):  # "<?xm" in EBCDIC
        codec = "cp037"
    else:
        return head.decode("latin-1")
    return head.decode(codec, errors="replace").lstrip("\ufeff")


def read_prolog(content: bytes) -> Prolog:
    """Walk XML declaration, processing instructions, comments and DOCTYPE up to the root element."""
    text = decode_head(content)
    position = 1 if text.startswith("\ufeff") else 0
    if text.startswith("ï»¿"):  # UTF-8 BOM seen through latin-1
        position = 3
    doctype: str | None = None
    length = len(text)
    while position < length:
        lt = text.find("<", position)
        if lt < 0:
            break
        if text.startswith("<?", lt):
            end = text.find("?>", lt + 2)
            position = length if end < 0 else end + 2
        elif text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            position = length if end < 0 else end + 3
        elif text[lt : lt + 9].upper() == "<!DOCTYPE":
            end = _doctype_end(text, lt)
            if end is None:
                _refuse_unterminated_doctype(text[lt:])
                return Prolog(root_tag=None, doctype=text[lt:], head_text=text)
            doctype = text[lt:end]
            position = end
        elif text.startswith("<![CDATA[", lt):
            break
        else:
            match = _ROOT_TAG.match(text, lt)
            if match:
                return Prolog(root_tag=match.group(1), doctype=doctype, head_text=text)
            position = lt + 1
    return Prolog(root_tag=None, doctype=doctype, head_text=text)


def _doctype_end(text: str, start: int) -> int | None:
    """Index just past the DOCTYPE's closing '>', honouring an internal subset in brackets and quotes."""
    in_subset = False
    quote: str | None = None
    for index in range(start + 9, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "[":
            in_subset = True
        elif char == "]":
            in_subset = False
        elif char == ">" and not in_subset:
            return index + 1
    return None


def _refuse_unterminated_doctype(fragment: str) -> None:
    if "[" in fragment:
        raise FeedParseError(
            "unsafe XML: DOCTYPE internal subset is unterminated or larger than "
            f"{PROLOG_SCAN_BYTES // 1024} KiB; refusing to parse it",
            code="unsafe_xml",
        )


def ensure_safe_xml(content: bytes) -> Prolog:
    """Raise FeedParseError if the document declares entities or points its DTD at a local resource.

    Returns the prolog so callers can sniff the root element without scanning twice.
    """
    prolog = read_prolog(content)
    doctype = prolog.doctype
    if doctype is None:
        # Entity declarations are only legal inside a DOCTYPE, but a sloppy (or hostile) prolog that our
        # scanner could not walk might still carry one; refuse rather than guess.
        if prolog.root_tag is None and _ENTITY_DECL.search(prolog.head_text):
            raise FeedParseError("unsafe XML: entity declaration outside a DOCTYPE", code="unsafe_xml")
        return prolog
    if _ENTITY_DECL.search(doctype):
        raise FeedParseError(
            "unsafe XML: the DOCTYPE declares entities (possible billion-laughs/XXE attack); "
            "refusing to parse",
            code="unsafe_xml",
        )
    for match in _EXTERNAL_ID.finditer(doctype.split("[", 1)[0]):
        system_id = (match.group("sys") or match.group("pubsys") or "").strip("\"'").strip()
        if ":" in system_id.split("/", 1)[0] and not system_id.lower().startswith(_SAFE_DTD_SCHEMES):
            raise FeedParseError(
                f"unsafe XML: DOCTYPE references a non-web resource ({system_id[:80]!r}); refusing to parse",
                code="unsafe_xml",
            )
    return prolog


def safe_lxml_parser(*, recover: bool = False) -> etree.XMLParser:
    """An lxml parser that never expands entities, never touches the network or DTDs, and caps tree size."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
    )


def parse_xml_safely(content: bytes, *, recover: bool = False) -> etree._Element:
    """Pre-scan, then parse with a locked-down lxml parser. Raises FeedParseError on any failure."""
    ensure_safe_xml(content)
    try:
        root = etree.fromstring(content, parser=safe_lxml_parser(recover=recover))
    except etree.XMLSyntaxError as error:
        raise FeedParseError(describe_xml_error(error)) from error
    except (ValueError, etree.LxmlError) as error:
        raise FeedParseError(f"XML could not be parsed: {error}") from error
    if root is None:
        raise FeedParseError("XML could not be parsed: no root element")
    return root


def describe_xml_error(error: Exception) -> str:
    """Turn a parser exception into 'XML syntax error at line N: …'."""
    line = getattr(error, "lineno", None)
    if line is None:
        get_line = getattr(error, "getLineNumber", None)
        line = get_line() if callable(get_line) else None
    message = getattr(error, "msg", None) or getattr(error, "getMessage", lambda: str(error))()
    message = str(message).strip() or error.__class__.__name__
    where = f" at line {line}" if line else ""
    return f"XML syntax error{where}: {message}"[:300]
