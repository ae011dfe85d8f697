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

import codecs
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
    prolog_text: str  # everything before the root element (all of head_text when no root was found)
    doctype_unterminated: bool = False

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
    codec = _sniff_ascii_incompatible_codec(head)
    if codec is None:
        return head.decode("latin-1")
    return head.decode(codec, errors="replace").lstrip("\ufeff")


def _sniff_ascii_incompatible_codec(head: bytes) -> str | None:
    """BOMs and the XML spec's appendix-F byte patterns for "<" / "<?xm"."""
    signatures = (
        ((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"), "utf-32"),
        ((b"\xff\xfe", b"\xfe\xff"), "utf-16"),
        ((b"<\x00\x00\x00",), "utf-32-le"),
        ((b"\x00\x00\x00<",), "utf-32-be"),
        ((b"<\x00",), "utf-16-le"),
        ((b"\x00<",), "utf-16-be"),
        ((b"\x4c\x6f\xa7\x94",), "cp037"),  # "<?xm" in EBCDIC
    )
    for prefixes, codec in signatures:
        if head.startswith(prefixes):
            return codec
    return None


def read_prolog(content: bytes) -> Prolog:
    return _scan_prolog(decode_head(content))


def _scan_prolog(text: str) -> Prolog:
    """Walk XML declaration, processing instructions, comments and DOCTYPE up to the root element."""
    position = 3 if text.startswith("ï»¿") else 0  # UTF-8 BOM seen through latin-1
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
            doctype_end = _doctype_end(text, lt)
            if doctype_end is None:
                # Unterminated: everything from here on counts as DOCTYPE for checking purposes.
                return Prolog(
                    root_tag=None,
                    doctype=text[lt:],
                    head_text=text,
                    prolog_text=text,
                    doctype_unterminated=True,
                )
            doctype = text[lt:doctype_end]
            position = doctype_end
        elif (match := _ROOT_TAG.match(text, lt)) is not None:
            return Prolog(root_tag=match.group(1), doctype=doctype, head_text=text, prolog_text=text[:lt])
        else:
            position = lt + 1
    return Prolog(root_tag=None, doctype=doctype, head_text=text, prolog_text=text)


def _doctype_end(text: str, start: int) -> int | None:
    """Index just past the DOCTYPE's closing '>', honouring the internal subset, quotes and comments."""
    in_subset = False
    index = start + 9
    length = len(text)
    while index < length:
        char = text[index]
        if char in "\"'":
            close = text.find(char, index + 1)
            if close < 0:
                return None
            index = close + 1
            continue
        if in_subset and text.startswith("<!--", index):
            close = text.find("-->", index + 4)
            if close < 0:
                return None
            index = close + 3
            continue
        if char == "[":
            in_subset = True
        elif char == "]":
            in_subset = False
        elif char == ">" and not in_subset:
            return index + 1
        index += 1
    return None


def ensure_safe_xml(content: bytes, *, charset: str | None = None) -> Prolog:
    """Raise FeedParseError if the document declares entities or points its DTD at a local resource.

    `charset` is the HTTP content-type charset, which parsers let override the XML declaration; the
    prolog is re-read in any ASCII-incompatible encoding either of them names, so an entity declaration
    cannot hide in an encoding our latin-1 view does not see. Returns the prolog for root sniffing.
    """
    prolog = read_prolog(content)
    truncated = len(content) > PROLOG_SCAN_BYTES
    _check_prolog(prolog, truncated=truncated)
    for codec in _declared_codecs(prolog.head_text, charset):
        if codec == "utf-7":
            # UTF-7 can spell "<!ENTITY" as "+ADwAIQ-ENTITY"; no real feed uses it, so refuse outright.
            raise FeedParseError("unsafe XML: UTF-7 encoded documents are refused", code="unsafe_xml")
        if "<!ENTITY".encode(codec, errors="replace") != b"<!ENTITY":
            reread = _scan_prolog(content[:PROLOG_SCAN_BYTES].decode(codec, errors="replace"))
            # truncated=False: a mislabelled charset makes this view garbage, which is no reason to refuse.
            _check_prolog(reread, truncated=False)
    return prolog


_ENCODING_DECLARATION = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def _declared_codecs(head_text: str, charset: str | None) -> list[str]:
    names = [charset] if charset else []
    if match := _ENCODING_DECLARATION.match(head_text.lstrip("ï»¿\ufeff")):
        names.append(match.group(1))
    codecs_found: list[str] = []
    for name in names:
        try:
            codec = codecs.lookup(name.strip().strip("\"'")).name
        except (LookupError, ValueError):
            continue
        if codec not in codecs_found:
            codecs_found.append(codec)
    return codecs_found


def _check_prolog(prolog: Prolog, *, truncated: bool) -> None:
    if prolog.root_tag is None and truncated:
        # The prolog is longer than we are willing to read; a parser would read on and might find a
        # DOCTYPE there. No legitimate feed starts with hundreds of KiB of preamble.
        raise FeedParseError(f"not a feed: no root element within the first {PROLOG_SCAN_BYTES // 1024} KiB")
    # The whole prolog, not just the DOCTYPE we delimited: a malformed subset must not let a declaration
    # slip past our delimiting while a lenient parser still honours it.
    if _ENTITY_DECL.search(prolog.prolog_text):
        raise FeedParseError(
            "unsafe XML: the DOCTYPE declares entities (possible billion-laughs/XXE attack); "
            "refusing to parse",
            code="unsafe_xml",
        )
    if prolog.doctype is None:
        return
    if prolog.doctype_unterminated and "[" in prolog.doctype:
        raise FeedParseError("unsafe XML: DOCTYPE internal subset is unterminated", code="unsafe_xml")
    for match in _EXTERNAL_ID.finditer(prolog.doctype.split("[", 1)[0]):
        system_id = (match.group("sys") or match.group("pubsys") or "").strip("\"'").strip()
        if ":" in system_id.split("/", 1)[0] and not system_id.lower().startswith(_SAFE_DTD_SCHEMES):
            raise FeedParseError(
                f"unsafe XML: DOCTYPE references a non-web resource ({system_id[:80]!r}); refusing to parse",
                code="unsafe_xml",
            )


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
