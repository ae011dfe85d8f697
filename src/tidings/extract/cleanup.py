"""News-specific boilerplate rules, applied to trafilatura's XML body before it is serialised.

Trafilatura removes page furniture by structure (nav, footer, link density). What slips through is
furniture *inside* the article container, written as ordinary paragraphs: "Read more: <other headline>",
"Photo: Agency", "© 2024 Publisher", "Sign up for our newsletter", "Loading…". These rules recognise such
blocks by their wording. Every rule is anchored at the start of a short block, so a sentence of the article
that merely mentions a newsletter or a photo is never touched. Each rule earned its place by raising F1 on
the trafilatura evaluation set (see benchmarks/extraction.py); rules that did not were dropped.
"""

from __future__ import annotations

import re

from lxml.etree import _Element

# Blocks longer than this are article prose, whatever words they start with.
MAX_BOILERPLATE_CHARS = 160
# The body's text-bearing block elements (trafilatura's XML vocabulary).
TEXT_BLOCKS = ("p", "head", "item", "quote")


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
    """
)
_TEASER = re.compile(rf"^(?:{_TEASER_PREFIXES})\b\s*(?:[:>»|–-]|\.\.\.|…|$)", re.IGNORECASE)

# Credits for the pictures trafilatura dropped, left behind as their own paragraph.
_PHOTO_CREDIT = re.compile(
    r"^(?:photo|photos|foto|fotos|fot\.|bild|bilder|image|picture|pic|credit|crédit|crédito|"
    r"bildquelle|fotocredit|quelle bild)\s*(?:[:/©]|by\b)",
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
    r"subscribe\b|sign up\b|abonnieren\b|jetzt abonnieren|newsletter\b|melde dich|suscríbete|"
    r"(?:please )?enable javascript|javascript (?:is )?(?:disabled|required)|bitte aktivieren sie javascript|"
    r"we use cookies|wir verwenden cookies|diese website verwendet cookies|this (?:web)?site uses cookies|"
    r"wird geladen|loading\s*(?:\.\.\.|…)|lädt\s*(?:\.\.\.|…)|bild anzeigen|"
    r"advertisement$|anzeige$|werbung$|publicidad$|publicité$|reklama$|"
    r"keine kommentare|no comments|leave a (?:comment|reply)|kommentar schreiben|"
    r"klicken sie auf den (?:unteren )?button|click (?:the button )?below to load)",
    re.IGNORECASE,
)

BOILERPLATE_PATTERNS: tuple[re.Pattern[str], ...] = (_TEASER, _PHOTO_CREDIT, _COPYRIGHT, _CALL_TO_ACTION)


def is_boilerplate_block(text: str) -> bool:
    """Whether a short block of text is page furniture rather than article prose."""
    stripped = " ".join(text.split())
    if not stripped or len(stripped) > MAX_BOILERPLATE_CHARS:
        return False
    return any(pattern.search(stripped) for pattern in BOILERPLATE_PATTERNS)


def clean_body(body: _Element) -> _Element:
    """Remove boilerplate blocks (in place) and return the body."""
    for element in list(body.iter(*TEXT_BLOCKS)):
        if body not in element.iterancestors():  # already removed together with an ancestor
            continue
        if is_boilerplate_block("".join(element.itertext())):
            _remove_keeping_tail(element)
    return body


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
