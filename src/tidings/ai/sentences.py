"""Sentence segmentation for news text in the languages Tidings reads, without a model.

Everything extractive (summaries, key points, story briefs, cited answers) works on sentences, and a
sentence's index is how a summary, an embedding row and a citation point back into the article, so
segmentation must be deterministic and fast (regex candidates plus a few cheap checks per candidate;
a 1,000-word article takes well under 2 ms). Rules:

- Paragraph breaks are always boundaries. A single newline is one too, unless it merely wraps a
  sentence (the line ends without punctuation and the next starts in lowercase).
- Latin-script text ends a sentence at . ! ? or an ellipsis followed by space and a non-lowercase
  character, with closing quotes/brackets (including French `»` after a space) kept on the sentence.
  A period after an abbreviation is not a boundary: titles (Mr., Dr., M.) never end a sentence;
  ambiguous ones (U.S., Jan., etc., initials, German ordinals "3.") end it only when the next word is
  a typical sentence opener ("The", "Die", "Il" ...). "No. 5" and decimals ("3.5") never split.
- Hindi (।), Arabic (؟) and Urdu (۔) terminals behave like "!" and "?".
- Chinese and Japanese end at 。！？ with no space needed; a closing 」』 after 。 stays on the
  sentence, and a quote followed by a quotative particle (と, って) continues it. Korean ends at
  periods (also without a following space, as in "했다.그는") and at ?/!.
- Bullet markers are stripped; fragments with no letters or digits are dropped; one-word fragments
  ("Yes.", "1.") merge into a neighbour in the same paragraph.
"""

from __future__ import annotations

import re

# Sentence terminals, then closing quotes/brackets that belong to the sentence they close. French puts
# a space before », and some styles before ”, so those two may follow one whitespace character.
_CANDIDATE = re.compile(
    r"(?P<term>\.{2,}|…+|[.!?‼⁇।؟۔]+|[。！？｡]+)(?P<close>(?:[\"'”’»」』）)\]】〕〉》]|[ \u00a0\u202f][»”])*)"
)
_PARAGRAPH = re.compile(r"\n[ \t\u00a0\u3000]*\n\s*")
_SPACE = re.compile(r"\s+")
_BULLET = re.compile(r"^(?:[•●▪◦‣∙·*–—-]|\d{1,2}[)\]])\s+")
_NUMBERING = re.compile(r"^(?:\d{1,3}|[a-zA-Z])[.)]$")  # "1." or "a)" opens the next piece
_HAS_WORD = re.compile(r"[^\W_]")
_NEXT_WORD = re.compile(r"[\"'“‘«„¿¡(\[]*([^\W\d_]+)")
_LAST_TOKEN = re.compile(r"(\S+)$")
_LEADING_PUNCT = "\"'“‘«„¿¡([{"
_CJK_TERMS = frozenset("。！？｡")
_QUOTE_OPEN = "「『"
_QUOTE_CLOSE = "」』"
_QUOTATIVE = ("と", "って", "とい", "など", "、")  # Japanese: 「…。」と述べた continues the sentence
_DOTTED = re.compile(r"^(?:[^\W\d_]{1,3}\.)+[^\W\d_]{0,3}$")  # U.S, e.g, z.B, EE.UU, a.m
_ORDINAL = re.compile(r"^\d{1,2}$")
_ORDINAL_LANGUAGES = frozenset(
    {"de", "da", "no", "nb", "fi", "cs", "sk", "sl", "hr", "sr", "pl", "hu", "et", "lv"}
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Titles before a name: a period after them never ends a sentence.
_TITLES = _wordset(
    """mr mrs ms mx dr prof st sr jr gen col lt sgt capt cmdr adm gov sen rep rev hon pres supt insp messrs
    mme mlle mm pr me hr fr frau herr dipl ing dott sig avv sra srta dra ud uds dhr mevr drs ir
    """
)
# Abbreviations that may also end a sentence: a boundary only if a typical opener follows.
_AMBIGUOUS = _wordset(
    """inc ltd co corp plc llc bros jan feb mar apr jun jul aug sep sept oct nov dec vs etc approx dept est
    fig vol ed eds al ave blvd rd mt ft cf ca bzw usw vgl evtl ggf inkl sog ecc env av bd pág aprox enz
    bijv nl resp min max mio mrd tel
    """
)
# Abbreviations used before a number ("No. 5", "Art. 3", "S. 12").
_BEFORE_NUMBER = _wordset("no nos nr nº art p pp s sec ch para op")

# Words that typically open a sentence, lowercase; after an ambiguous abbreviation, one of these
# means the abbreviation did end the sentence ("in the U.S. The next day" vs "the U.S. Army").
_OPENERS = _wordset(
    """the a an this that these those it its he she they we i you his her their our there here but and
    yet so or in on at after before when while as if although though however meanwhile also then still
    now today yesterday last next some many most all no not one two three for with by from to of what
    who why how where which mr mrs ms dr
    der die das den dem des ein eine er sie es wir ich ihr und aber doch auch im am zum zur nach vor bei
    mit seit wenn als dass so nun dann noch
    le la les un une il elle ils elles nous on ce cette ces mais et en au aux dans pour selon
    el los las uno una ella ellos pero y es en del según este esta
    lo gli uno una lui lei loro ma ed è nel nella per secondo questo questa
    de het een hij zij ze wij maar en ook in op
    """
)


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """The sentences of `text`, in order, whitespace-normalised, fragments merged or dropped."""
    if not text or not text.strip():
        return []
    lang = (language or "").lower()[:2] or None
    sentences: list[str] = []
    for paragraph in _paragraphs(text):
        sentences.extend(_merge_fragments([_clean(p) for p in _split_paragraph(paragraph, lang)]))
    return [s for s in sentences if s]


def _paragraphs(text: str) -> list[str]:
    """Blank lines always separate paragraphs; a single newline does unless it wraps a sentence."""
    paragraphs: list[str] = []
    for block in _PARAGRAPH.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        current = ""
        for raw in block.split("\n"):
            line = raw.strip()
            if not line:
                continue
            if current and _wraps(current, line):
                current = f"{current} {line}"
            else:
                if current:
                    paragraphs.append(current)
                current = line
        if current:
            paragraphs.append(current)
    return paragraphs


def _wraps(previous: str, line: str) -> bool:
    # A hard-wrapped sentence: no terminal punctuation before the break, lowercase after it.
    return previous[-1] not in '.!?…。！？:;"”»」』)' and line[0].islower() and not _BULLET.match(line)


def _split_paragraph(paragraph: str, lang: str | None) -> list[str]:
    # Quote depth matters only for Japanese-style brackets, and only when they balance: an unclosed
    # 「 (truncated text) must not swallow the rest of the paragraph.
    track_quotes = any(q in paragraph for q in _QUOTE_OPEN) and sum(
        paragraph.count(q) for q in _QUOTE_OPEN
    ) == sum(paragraph.count(q) for q in _QUOTE_CLOSE)
    pieces: list[str] = []
    start = 0
    depth = 0
    scanned = 0
    for match in _CANDIDATE.finditer(paragraph):
        end = match.end()
        if track_quotes:
            segment = paragraph[scanned:end]
            depth += sum(segment.count(q) for q in _QUOTE_OPEN) - sum(segment.count(q) for q in _QUOTE_CLOSE)
            scanned = end
            if depth > 0:
                continue
        if end >= len(paragraph):
            break  # the paragraph's end is a boundary anyway
        if _is_boundary(paragraph, match, lang):
            pieces.append(paragraph[start:end])
            start = end
    pieces.append(paragraph[start:])
    return pieces


def _is_boundary(text: str, match: re.Match[str], lang: str | None) -> bool:
    term = match.group("term")
    end = match.end()
    following = text[end]
    if term[0] in _CJK_TERMS:
        # 「…。」と言った: the quote closes inside a longer sentence.
        return not (match.group("close") and text.startswith(_QUOTATIVE, end))
    before = text[match.start() - 1] if match.start() else ""
    if not following.isspace():
        # No space after the terminal: Korean "했다.그는" and CJK text with ASCII punctuation split;
        # "3.5", "U.S.-led", "example.com" and "Yahoo!'s" do not.
        return _is_cjk(before) and (_is_cjk(following) or following in "\"'“「『(")
    rest = text[end:].lstrip()
    if not rest:
        return False
    first = rest[0]
    if first.islower():
        return False  # "e.g. this", 'asked "why?" and left', "« Quoi ? » dit-il"
    if term[0] != "." or len(term) > 1:
        return True  # ! ? and ellipses before a capital
    token_match = _LAST_TOKEN.search(text, max(0, match.start() - 40), match.start())
    token = token_match.group(1).lstrip(_LEADING_PUNCT) if token_match else ""
    if not token:
        return True
    lowered = token.lower()
    if lowered in _TITLES:
        return False
    if first.isdigit() and (lowered in _BEFORE_NUMBER or lowered in _AMBIGUOUS):
        return False  # "No. 5", "Jan. 5"
    ambiguous = (
        lowered in _AMBIGUOUS
        or (len(token) == 1 and token.isalpha() and token.isupper())  # initials: "J. K. Rowling"
        or bool(_DOTTED.match(token))
        or (lang in _ORDINAL_LANGUAGES and bool(_ORDINAL.match(token)))  # "am 3. Oktober"
    )
    if not ambiguous:
        return True
    word = _NEXT_WORD.match(rest)
    return word is not None and word.group(1).lower() in _OPENERS


def _is_cjk(char: str) -> bool:
    return bool(char) and (
        "\u3040" <= char <= "\u30ff"  # kana
        or "\u3400" <= char <= "\u9fff"  # CJK ideographs
        or "\uac00" <= char <= "\ud7af"  # Hangul syllables
        or "\uf900" <= char <= "\ufaff"
    )


def _clean(piece: str) -> str:
    return _BULLET.sub("", _SPACE.sub(" ", piece).strip())


def _is_fragment(sentence: str) -> bool:
    if any(_is_cjk(c) for c in sentence[:8]):
        return sum(1 for c in sentence if c.isalnum()) < 3
    return " " not in sentence and len(sentence) < 15


def _merge_fragments(pieces: list[str]) -> list[str]:
    """Drop pieces with no words; glue one-word fragments to a neighbour in the same paragraph."""
    pieces = [p for p in pieces if p and _HAS_WORD.search(p)]
    if len(pieces) < 2:
        return pieces
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        if carry:
            piece = _join(carry, piece)
            carry = ""
        if _is_fragment(piece):
            if merged and not _NUMBERING.match(piece):
                merged[-1] = _join(merged[-1], piece)
            else:
                carry = piece  # leading fragment ("1.", "Update:"): glue to the next piece
            continue
        merged.append(piece)
    if carry:
        merged.append(carry)
    return merged


def _join(left: str, right: str) -> str:
    # CJK text has no spaces between sentences; adding one would make the sentence non-verbatim.
    return left + right if _is_cjk(left[-1]) or _is_cjk(right[0]) else f"{left} {right}"
