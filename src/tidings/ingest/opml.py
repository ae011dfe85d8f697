"""OPML 1.0/2.0 subscription lists: import (flattened) and export (grouped by category).

Import rules: every `<outline>` with an xmlUrl is a feed; its category is the text of the nearest
enclosing outline (folders nest arbitrarily in the wild, we keep the innermost), falling back to the
OPML 2.0 `category` attribute. Attribute names are matched case-insensitively because exporters disagree
(`xmlUrl`, `xmlurl`, `XMLURL`). Duplicate feed URLs keep their first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree

from tidings.errors import FeedParseError
from tidings.ingest.entries import MAX_FEED_TITLE_CHARS, absolute_http_url, normalise_language, plain_text
from tidings.ingest.xmlsafety import parse_xml_safely

MAX_OUTLINES = 10_000


@dataclass(slots=True)
class OpmlOutline:
    xml_url: str
    title: str | None = None
    html_url: str | None = None
    category: str | None = None
    language: str | None = None
    country: str | None = None


def parse_opml(content: bytes) -> list[OpmlOutline]:
    """Feeds listed in an OPML document. Raises FeedParseError when the document is not OPML."""
    if not content or not content.strip():
        raise FeedParseError("empty document", code="empty_document")
    root = _parse_tolerantly(content)
    if etree.QName(root).localname.lower() != "opml":
        raise FeedParseError(f"not OPML: root element is <{etree.QName(root).localname}>", code="not_opml")
    body = next((child for child in root if _local(child) == "body"), None)
    if body is None:
        raise FeedParseError("not OPML: no <body> element", code="not_opml")
    outlines: dict[str, OpmlOutline] = {}
    for element, category in _walk(body):
        outline = _outline(element, category)
        if outline is not None and outline.xml_url not in outlines:
            outlines[outline.xml_url] = outline
            if len(outlines) >= MAX_OUTLINES:
                break
    return list(outlines.values())


def render_opml(outlines: Iterable[OpmlOutline], *, title: str) -> str:
    """OPML 2.0, feeds grouped under one folder outline per category, in first-seen order."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for outline in outlines:
        parent = body
        if outline.category:
            if outline.category not in folders:
                folders[outline.category] = etree.SubElement(
                    body, "outline", text=outline.category, title=outline.category
                )
            parent = folders[outline.category]
        etree.SubElement(parent, "outline", _attributes(outline))
    xml = etree.tostring(root, encoding="unicode", pretty_print=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml


def _attributes(outline: OpmlOutline) -> dict[str, str]:
    label = outline.title or outline.xml_url
    attributes = {"type": "rss", "text": label, "title": label, "xmlUrl": outline.xml_url}
    optional = {"htmlUrl": outline.html_url, "language": outline.language, "country": outline.country}
    attributes.update({name: value for name, value in optional.items() if value})
    return attributes


def _parse_tolerantly(content: bytes) -> etree._Element:
    """Strict first; OPML exporters often emit bare '&' in titles, so retry in recovery mode."""
    try:
        return parse_xml_safely(content)
    except FeedParseError as strict_error:
        if strict_error.code == "unsafe_xml":
            raise
        try:
            root = parse_xml_safely(content, recover=True)
        except FeedParseError:
            raise strict_error from None
        if _local(root) != "opml":
            raise strict_error from None
        return root


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def _outline_children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if _local(child) == "outline"]


def _walk(body: etree._Element) -> Iterator[tuple[etree._Element, str | None]]:
    """Outlines in document order, each with the label of its nearest labelled ancestor outline."""
    stack: list[tuple[etree._Element, str | None]] = [
        (child, None) for child in reversed(_outline_children(body))
    ]
    while stack:
        node, ancestor_label = stack.pop()
        yield node, ancestor_label
        label_for_children = _label(node) or ancestor_label
        stack.extend((child, label_for_children) for child in reversed(_outline_children(node)))


def _label(element: etree._Element) -> str | None:
    attributes = _lower_attributes(element)
    return plain_text(attributes.get("text") or attributes.get("title"), limit=MAX_FEED_TITLE_CHARS)


def _lower_attributes(element: etree._Element) -> dict[str, str]:
    return {str(name).lower(): value for name, value in element.attrib.items()}


def _outline(element: etree._Element, parent_label: str | None) -> OpmlOutline | None:
    attributes = _lower_attributes(element)
    xml_url = _feed_url(attributes.get("xmlurl"))
    if xml_url is None:
        return None
    return OpmlOutline(
        xml_url=xml_url,
        title=_label(element),
        html_url=absolute_http_url(attributes.get("htmlurl"), None),
        category=parent_label or _category_attribute(attributes.get("category")),
        language=normalise_language(attributes.get("language")),
        country=_country(attributes.get("country")),
    )


def _feed_url(value: str | None) -> str | None:
    if value and value.strip().lower().startswith("feed://"):
        value = "http://" + value.strip()[7:]
    return absolute_http_url(value, None)


def _category_attribute(value: str | None) -> str | None:
    """OPML 2.0 `category="/News/World,/tag"`: take the last segment of the first path."""
    if not value:
        return None
    first = value.split(",")[0].strip().strip("/")
    return plain_text(first.rsplit("/", 1)[-1], limit=MAX_FEED_TITLE_CHARS) if first else None


def _country(value: str | None) -> str | None:
    if value and len(value.strip()) == 2 and value.strip().isalpha():
        return value.strip().upper()
    return None
