"""News-specific boilerplate rules, applied to trafilatura's XML body before it is serialised.

Trafilatura removes page furniture by structure (nav, footer, link density). What slips through is
furniture *inside* the article container, written as ordinary paragraphs: "Read more: <other headline>",
"Photo: Agency", "© 2024 Publisher", "Sign up for our newsletter", "Loading…". These rules recognise such
blocks by their wording. Rules only ever look at short blocks (at most 160 characters) and most are anchored at
the block's start, so article prose that merely mentions a newsletter or a photo is not touched. Each rule earned its place by raising F1 on
the trafilatura evaluation set (see benchmarks/extraction.py) without losing a single expected segment;
rules that did not were dropped or narrowed. One deliberate exception: a first block repeating the title is
removed for readers' sake although it costs ~0.001 F1 (a few annotated pages count the headline as text).
"""

from __future__ import annotations

import html
import re

from lxml.etree import _Element

# Blocks longer than this are article prose, whatever words they start with.
MAX_BOILERPLATE_CHARS = 160
# The body's text-bearing block elements (trafilatura's XML vocabulary).
TEXT_BLOCKS = ("p", "head", "item", "quote")
CONTAINERS = ("list", "quote")


def _alternation(phrases: str) -> str:
    return "|".join(phrase.strip() for phrase in phrases.strip().split("\n") if phrase.strip())


# "Read more: <headline of another article>" and its equivalents (en, de, es, fr, it, pt, pl, nl).
_TEASER_PREFIXES = _alternation(
    r"""
    read more
    read also
    also read
    see also
    related
    more on this
    recommended
    lesen sie auch
    lesen sie mehr
    lies auch
    mehr zum thema
    auch interessant
    das könnte sie auch interessieren
    zum weiterlesen
    weiterlesen
    lea más
    lea también
    lee también
    le puede interesar
    te puede interesar
    puede interesarte
    mire
    vea también
    lire aussi
    à lire aussi
    a lire aussi
    lire la suite
    pour lire la suite
    leggi anche
    leia também
    veja também
    leia mais
    czytaj też
    czytaj także
    czytaj więcej
    zobacz też
    zobacz także
    lees ook
    lea
    mira
    puedes ver
    schon gelesen
    """
)
_TEASER = re.compile(rf"^(?:{_TEASER_PREFIXES})\b\s*(?:[:>»|–?-]|\.\.\.|…|$)", re.IGNORECASE)

# Credits for the pictures trafilatura dropped, left behind as their own paragraph.
_PHOTO_CREDIT = re.compile(
    r"^(?:fot\.\s|(?:photo|photos|foto|fotos|bild|bilder|image|picture|pic|credit|crédit|crédito|"
    r"bildquelle|fotocredit|quelle bild|beitragsbild|titelbild|symbolbild|headerbild)\s*(?:[:/©]|by\b))",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright\b)|all rights reserved|alle rechte vorbehalten|todos los derechos reservados|"
    r"tous droits réservés|wszelkie prawa zastrzeżone",
    re.IGNORECASE,
)
# Calls to action and widget residue: share/follow/subscribe/newsletter/cookie/JavaScript/loading lines.
_CALL_TO_ACTION = re.compile(
    r"^(?:share (?:this|on)|teilen\b|artikel teilen|follow us|folgen sie uns|síguenos|suivez-nous|"
    r"subscribe\b|sign up\b|abonnieren\b|jetzt abonnieren|newsletter\b|melde dich (?:jetzt |hier )?(?:an|für)\b|"
    r"suscríbete|"
    r"(?:please )?enable javascript|javascript (?:is )?(?:disabled|required)|bitte aktivieren sie javascript|"
    r"we use cookies|wir verwenden cookies|diese website verwendet cookies|this (?:web)?site uses cookies|"
    r"wird geladen|loading\s*(?:\.\.\.|…)|lädt\s*(?:\.\.\.|…)|bild anzeigen|"
    r"advertisement$|publicidad$|publicité$|reklama$|\*?(?:anzeige|werbung)(?:$|\s*[.:,–-])|"
    # plural only: "Kategorie: Kinderbuch" heads award lists and the like, "Kategorien: a, b" is a tag line
    r"(?:kategorien|categories|tags|schlagwörter|schlagworte)\s*:|kommentare insgesamt|"
    r"lesezeit\b|reading time\b|ten tekst przeczytasz|\d+\s*min(?:ute)?s? read$|"
    r"keine kommentare|no comments|leave a (?:comment|reply)|kommentar schreiben|"
    r"klicken sie auf den (?:unteren )?button|click (?:the button )?below to load)",
    re.IGNORECASE,
)

# Headers of "more articles" sections: the whole block is the header, optionally naming the site.
_RELATED_HEADER = re.compile(
    r"^(?:related(?: articles| stories| posts| content)?|more (?:stories|articles|news)|you may also like|"
    r"recommended(?: for you)?|most read|most popular|trending|"
    r"mehr zum thema|weitere artikel|weitere beiträge|weitere aktuelle themen|ähnliche artikel|ähnliche beiträge|"
    r"empfohlene beiträge|beiträge aus dem forum|meistgelesen|das könnte sie auch interessieren|"
    r"contenido relacionado|notas relacionadas|noticias relacionadas|artículos relacionados|lo más leído|"
    r"articles similaires|à lire aussi|sur le même sujet|articoli correlati|leia também|zobacz również|"
    r"polecane artykuły|najczęściej czytane)\b[^!?]{0,40}:?$",
    re.IGNORECASE,
)
# Short blocks that talk to the reader about the site rather than about the story.
_SITE_PITCH = re.compile(
    r"(?:subscribe|sign up|abonnier|abonnez|anmelden|angemeldet|suscr|inscri)\w*[^.!?]{0,60}\bnewsletter\b|"
    r"\bnewsletter\b[^.!?]{0,60}\b(?:subscribe|sign up|abonnier|abonnez|anmelden|suscr|inscri)|"
    r"\b(?:download|descarga|lade) (?:the |our |die |unsere )?\S+ app|"
    r"\b(?:support|unterstütze|unterstützen sie) (?:our|us|uns|unsere)\b|hazte miembro|"
    r"\bcanal de (?:youtube|telegram|whatsapp)\b|\bfollow (?:us|the \S+|\S+) on (?:twitter|facebook|instagram)|"
    r"\bsupport(?:ing)? (?:our|us)\b|\bsign up (?:here|now|today)\b|\bplease subscribe\b|"
    r"already a subscriber|log in for (?:immediate )?access|pour accéder en illimité|abonnez-vous",
    re.IGNORECASE,
)

BOILERPLATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    _TEASER, _PHOTO_CREDIT, _COPYRIGHT, _CALL_TO_ACTION, _RELATED_HEADER, _SITE_PITCH,
)


def is_boilerplate_block(text: str) -> bool:
    """Whether a short block of text is page furniture rather than article prose."""
    stripped = " ".join(text.split())
    if not stripped or len(stripped) > MAX_BOILERPLATE_CHARS:
        return False
    return any(pattern.search(stripped) for pattern in BOILERPLATE_PATTERNS)


def clean_body(body: _Element, *, title: str | None = None) -> _Element:
    """Remove boilerplate blocks in place and return the body.

    After a "Related articles"-style header, the short blocks that follow (the teaser headlines and their
    dates) go too, up to the next block long enough to be prose again. A first block that repeats the
    article's title goes as well: the title is shown on its own, above the body.
    """
    blocks = _leaf_blocks(body)
    if blocks and title and _same_text(blocks[0], title):
        _remove_keeping_tail(blocks.pop(0))
    in_related_section = False
    for block in blocks:
        text = " ".join("".join(block.itertext()).split())
        if is_boilerplate_block(text):
            in_related_section = bool(_RELATED_HEADER.search(text))
            _remove_keeping_tail(block)
        elif in_related_section and len(text) < MAX_BOILERPLATE_CHARS:
            _remove_keeping_tail(block)
        else:
            in_related_section = False
    _drop_empty_containers(body)
    return body


def _same_text(block: _Element, title: str) -> bool:
    return " ".join("".join(block.itertext()).split()).casefold() == " ".join(title.split()).casefold()


def _leaf_blocks(body: _Element) -> list[_Element]:
    """Text blocks without nested text blocks (a <p> inside a <quote> is judged on its own), in order."""
    return [
        element
        for element in body.iter(*TEXT_BLOCKS)
        if next(element.iterdescendants(*TEXT_BLOCKS), None) is None
    ]


def _drop_empty_containers(body: _Element) -> None:
    # innermost first, so a list emptied of its items empties its parent quote too
    for element in reversed(list(body.iter(*CONTAINERS))):
        if not "".join(element.itertext()).strip() and next(element.iter("graphic"), None) is None:
            _remove_keeping_tail(element)


def _remove_keeping_tail(element: _Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


# --- the lead paragraph ------------------------------------------------------------------------------------

MIN_LEAD_CHARS = 50
LEAD_PROBE_CHARS = 80  # enough to identify the paragraph, short enough to survive a truncated description
MAX_LEAD_GROWTH = 3  # the page element may be the full lead of a truncated description, not a whole section
_LEAD_CANDIDATE_TAGS = ("p", "div", "span", "strong", "h2", "h3", "header", "section")
_BLOCK_CHILDREN = frozenset({"p", "div", "section", "article", "ul", "ol", "table", "header", "footer", "aside"})
_TRAILING_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…|\[…\]|\[\.\.\.\])\s*$")
_TAG = re.compile(r"<[^>]+>")


def find_missing_lead(tree: _Element, description: str | None, text: str) -> str | None:
    """The page's lead paragraph (standfirst) when the extraction left it out, else None.

    News pages often put the lead in the article header, next to the headline, where main-text extraction
    does not look; the publisher also declares it as the meta description. The lead is taken only when that
    description is shown on the page itself (a description that exists only in <head> is not article text),
    and the visible element's text is used, since descriptions are often truncated.
    """
    probe = _lead_probe(description)
    if probe is None or probe in " ".join(text.split()):
        return None
    body = tree.find("body")
    if body is None:
        return None
    for element in body.iter(*_LEAD_CANDIDATE_TAGS):
        if any(child.tag in _BLOCK_CHILDREN for child in element):
            continue  # judged through its children: the lead is a leaf block
        visible = " ".join(" ".join(element.itertext()).split())
        if probe in visible and len(visible) <= MAX_LEAD_GROWTH * len(probe) + 200:
            return visible
    return None


def _lead_probe(description: str | None) -> str | None:
    if not description:
        return None
    cleaned = " ".join(html.unescape(_TAG.sub(" ", description)).split())
    cleaned = _TRAILING_ELLIPSIS.sub("", cleaned)
    if len(cleaned) < MIN_LEAD_CHARS:
        return None
    return cleaned[:LEAD_PROBE_CHARS].rstrip()
