"""Which news agency wrote an article, from its dateline, closing credit or byline.

A reprinted wire story is the agency's reporting, not the outlet's: saying "Kyodo News via The
Mainichi" tells the reader that ten outlets carrying it are one source, not ten. Agencies sign
their copy in a few fixed places -- the dateline ("SEOUL, Nov. 23 (Yonhap) --", "(서울=연합뉴스)",
"【ワシントン共同】"), a closing credit ("(Reporting by ...; Editing by ...)", "— Kyodo",
"(共同)", a copyright line) and the byline -- and only there is a name read as a credit. An
agency named anywhere else ("Reuters reported on Monday", "according to Kyodo News", a photo
credit) is a source being cited, not a wire copy. When one agency relays another's copy
("(AFP=연합뉴스)", "AFP-Jiji"), the original, named first, is the credit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class WireCredit:
    agency: str  # display name, e.g. "Kyodo News"
    slug: str  # stable id, e.g. "kyodo"
    dateline: str | None  # the city, e.g. "Washington", when the copy has a dateline
    evidence: str  # the snippet that names the agency


# slug, display name, names matched regardless of case, names matched only as written (short
# ones: "AP", "PA", "AA" must be capitals to be an agency). Local-language names included.
_AGENCIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "kyodo",
        "Kyodo News",
        ("Kyodo News", "Kyodo", "共同通信社", "共同通信", "共同", "교도통신", "교도"),
        (),
    ),
    (
        "yonhap",
        "Yonhap News Agency",
        ("Yonhap News Agency", "Yonhap News", "Yonhap", "연합뉴스", "聯合ニュース", "聯合"),
        (),
    ),
    ("ap", "Associated Press", ("The Associated Press", "Associated Press", "AP News"), ("AP", "AP通信")),
    (
        "reuters",
        "Reuters",
        ("Thomson Reuters", "Reuters", "Reuter", "ロイター", "로이터", "路透社"),
        ("rtr",),
    ),
    (
        "afp",
        "Agence France-Presse",
        ("Agence France-Presse", "Agence France Presse", "AFPBB News", "AFP通信"),
        ("AFP",),
    ),
    ("jiji", "Jiji Press", ("Jiji Press", "Jiji", "時事通信社", "時事通信", "時事", "지지통신"), ()),
    ("xinhua", "Xinhua", ("Xinhua News Agency", "Xinhua", "新华社", "新華社", "신화통신", "신화"), ()),
    ("dpa", "dpa", ("Deutsche Presse-Agentur",), ("dpa-AFX", "dpa", "DPA")),
    ("efe", "EFE", ("Agencia EFE",), ("EFE",)),
    ("ansa", "ANSA", (), ("ANSA",)),
    ("bloomberg", "Bloomberg", ("Bloomberg News", "Bloomberg", "ブルームバーグ", "블룸버그"), ()),
    ("upi", "UPI", ("United Press International",), ("UPI",)),
    ("pa", "Press Association", ("Press Association", "PA Media"), ("PA",)),
    ("anadolu", "Anadolu", ("Anadolu Agency", "Anadolu"), ("AA",)),
    ("bernama", "Bernama", ("Bernama",), ()),
    ("aap", "AAP", ("Australian Associated Press",), ("AAP",)),
    ("cp", "The Canadian Press", ("The Canadian Press", "Canadian Press"), ("CP",)),
    ("tass", "TASS", ("ITAR-TASS", "타스"), ("TASS",)),
    ("ria", "RIA Novosti", ("RIA Novosti",), ()),
    ("pti", "Press Trust of India", ("Press Trust of India",), ("PTI",)),
    ("ani", "ANI", ("Asian News International",), ("ANI",)),
    ("ians", "IANS", (), ("IANS",)),
    ("cna", "Central News Agency", ("Central News Agency", "中央社"), ("CNA",)),
    ("antara", "Antara", ("Antara",), ()),
    ("newsis", "Newsis", ("Newsis", "뉴시스"), ()),
    ("news1", "News1", ("News1", "뉴스1"), ()),
)
_BY_SLUG = {slug: (name, ci, cs) for slug, name, ci, cs in _AGENCIES}
_CI = {alias.casefold(): slug for slug, _, ci, _ in _AGENCIES for alias in ci}
_CS = {alias: slug for slug, _, _, cs in _AGENCIES for alias in cs}
# Korean and Japanese relays: the agency whose copy a dateline like "(워싱턴 AP=연합뉴스)" carries.
_RELAYS = {
    "연합뉴스": "yonhap",
    "뉴시스": "newsis",
    "뉴스1": "news1",
    "News1": "news1",
    "時事": "jiji",
    "共同": "kyodo",
}

HEAD = 300  # datelines sit in the first lines
TAIL = 400  # closing credits in the last ones


@lru_cache(maxsize=1)
def _alias_pattern() -> str:
    """One alternation of every agency name, longest first, case rule per name."""
    names = [(alias, True) for alias in _CI] + [(alias, False) for alias in _CS]
    names.sort(key=lambda item: -len(item[0]))
    parts = []
    for alias, insensitive in names:
        escaped = re.escape(alias).replace(r"\ ", r"\s+")
        # Latin names must stand alone as words; CJK/Hangul ones run into neighbours by design.
        if alias[0].isascii():
            escaped = rf"(?<![\w]){escaped}(?![\w])"
        parts.append(f"(?i:{escaped})" if insensitive else escaped)
    return "|".join(parts)


_ALIAS = re.compile(_alias_pattern())
# Agencies joined by relay marks: "AFP-Jiji", "AP/Yonhap", "AFP=時事", "Reuters & AFP".
_ALIASES = rf"(?:{_alias_pattern()})(?:\s*(?:[=/+&,]|-|–|\band\b)\s*(?:{_alias_pattern()}))*"
# Datelines are written in capitals, in any alphabet ("WASHINGTON", "MÜNCHEN", "ДЖУНО").
_UPPER = "A-ZÀ-ÖØ-ÞА-ЯЁΑ-Ω"
_CITY = (
    rf"[{_UPPER}][\w.'’\-]*(?:[ /]+(?:[{_UPPER}][\w.'’\-]*|de|da|do|del|des|du|es|el|la|le|al|am|upon|of))*"
)
_CAPS_CITY = rf"[{_UPPER}][{_UPPER}.'’\-]+(?:[ /][{_UPPER}][{_UPPER}.'’\-]+)*"
# "PORTLAND, Ore.", "KYIV, Ukraine", "SAN JUAN, Puerto Rico": AP names the state or country.
_REGION = rf"(?:,\s*[{_UPPER}][\w.]{{1,12}}(?: [{_UPPER}][\w.]{{1,12}})?)?"
_DATE = r"(?:,\s*(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}|\d{1,2}\s+[A-Z][a-z]{2,8}\.?)(?:,?\s*\d{4})?)?"
_DASH = r"(?:-{1,2}|–|—|_|:)"
_AGENCIES_DASH = rf"\((?P<agencies>{_ALIASES})\)[ \t]*\.?[ \t]*{_DASH}"

# "WASHINGTON (Kyodo) --", "SEOUL, Nov. 23 (Yonhap) --", "(Bloomberg) --", "Madrid, 5 Jan (EFE).-",
# at a line's start; or, where a byline runs into it, an all-capitals one after a space.
_DATELINE = re.compile(
    rf"(?:^|\n)[ \t]*(?:(?P<city>{_CITY}){_REGION}{_DATE}[ \t]*)?{_AGENCIES_DASH}"
    rf"|(?<=\s)(?P<caps>{_CAPS_CITY}){_REGION}{_DATE}[ \t]*{_AGENCIES_DASH.replace('agencies', 'agencies2')}"
)
# ANSA puts its name first: "(ANSA) - ROME, JAN 5 - ".
_CITY_AFTER = re.compile(r"\s*(?P<city>[A-Z]{2,}(?: [A-Z]{2,})*)\b")
# Korean: "(서울=연합뉴스)", "(워싱턴 AP=연합뉴스)", "(AFP=연합뉴스)", "(도쿄 교도=연합뉴스)".
_KO_DATELINE = re.compile(r"\((?P<inner>[^()=\n]{1,30}?)\s*=\s*(?P<relay>연합뉴스|뉴시스|뉴스1|News1)\)")
# "(사진=연합뉴스)", "(그래픽=뉴시스)": picture credits, not datelines.
_KO_NOT_PLACE = re.compile(r"사진|그래픽|영상|자료|제공|이미지|캡처|편집|일러스트|디자인")
# Japanese: "【ワシントン共同】", "【ソウル時事】", "【AFP=時事】", "〔北京共同〕".
_JA_DATELINE = re.compile(
    r"[【〔](?P<city>[^】〕=\n]{0,15}?)\s*(?:(?P<origin>AFP|AP|EFE|dpa|DPA|UPI|ロイター|新華社|聯合|ブルームバーグ)\s*=\s*)?"
    r"(?P<agency>共同|時事|ロイター|聯合)(?:通信)?[】〕]"
)
# Reuters in Japanese: "[東京 5日 ロイター] -".
_JA_REUTERS = re.compile(r"\[(?P<city>[^\]\d\n]{1,15}?)\s*(?:\d{1,2}日\s*)?ロイター\]")
# Xinhua: "新华社北京1月5日电"; Taiwan's CNA: "(中央社記者...台北5日電)".
_ZH_DATELINE = re.compile(r"(?P<agency>新[华華]社)(?P<city>[^\s\d，,。]{1,10}?)\d{1,2}月\d{1,2}日[电電]")
_CNA_DATELINE = re.compile(r"\(中央社[^()\n]{0,40}?[电電]\)")

# Reuters' closing line: "(Reporting by X in Y; Editing by Z)", the last thing in the text (but
# for "Our Standards: ..."). "(Additional reporting by AFP)" is a contribution, not a byline.
_REUTERS_CREDIT = re.compile(
    r"\(\s*(?:additional\s+)?(?:reporting|writing|editing)\s+by\s+(?P<by>[^()]{1,400})\)"
    r"|\b(?:additional\s+)?reporting\s+by\s+(?P<by2>[^\n]{1,300}?);\s*(?:writing|editing)\s+by\b[^\n]*",
    re.IGNORECASE,
)
_REUTERS_AFTER = re.compile(r"\s*(?:our standards\b.*)?$", re.IGNORECASE | re.DOTALL)
# AP's closing line names its own staff: "Associated Press writers X and Y contributed".
_AP_CREDIT = re.compile(
    r"\bAssociated Press (?:staff )?(?:writers?|reporters?|correspondents?|journalists?|videojournalists?|"
    r"photographers?|researchers?)\b[^\n]{1,300}?\bcontributed\b"
)
# A line or sentence of its own ("© 2024 Kyodo News", "<저작권자(c) 연합뉴스 ...>", "... said.
# Copyright 2020 The Associated Press. All rights reserved."); "Photo: © AFP" is a photo credit.
_COPYRIGHT = re.compile(
    rf"(?:^|\n|(?<=[.!?\"”]) )[ \t<(\[]*(?i:©|\(c\)|copyright|저작권자)(?:\s*(?i:©|\(c\)|copyright|c\b))*"
    rf"\s*(?:\d{{4}}\s*)?(?P<agencies>{_ALIASES})"
)
# Credits that end the text, after the last sentence: "— Kyodo", "==Kyodo", "/AFP", "(共同)",
# "(AFP=時事)", "(Kyodo)", "... des WDR. dpa", "Fuente: AFP"; and the editors' initials that
# German outlets put before theirs: "hb/sti (dpa, rtr)", "rei/dpa/Reuter".
# A space (or a dash) must follow a Latin sentence's end: "à l’AFP" is French for "to AFP".
_SENTENCE_END = r"(?<=[.!?\"”’)])"
_END_CREDIT = re.compile(
    rf"(?:(?:^|\n|{_SENTENCE_END}\s|{_SENTENCE_END}(?=[-–—/=(])|(?<=[。」』]))\s*(?:(?:-{{1,2}}|={{1,2}}|–|—|/)\s*)?"
    rf"|{_SENTENCE_END}\s*(?i:source|fuente|quelle|fonte)\s*:\s*"
    rf"|(?:^|\s)[a-z]{{1,4}}(?:(?:/[a-z]{{1,4}})+\s+|/)"
    rf")(?P<agencies>\((?:{_ALIASES})\)|{_ALIASES})\.?\s*$"
)
_EMAIL_CREDIT = {"yna.co.kr": "yonhap", "newsis.com": "newsis", "news1.kr": "news1"}
_EMAIL = re.compile(r"@(yna\.co\.kr|newsis\.com|news1\.kr)\b")
# Bylines: "By KYODO NEWS", "The Associated Press", "Reuters Staff", "Mari Yamaguchi, Associated Press".
_BYLINE = re.compile(
    rf"^(?i:by\s+)?(?P<agencies>{_ALIASES})(?:\s+(?i:staff|reporters?|wire|news\s+service))?\.?$"
    rf"|[,|/(]\s*(?P<suffix>{_ALIASES})\)?\.?$"
)
# Titles from aggregated feeds: "... - Reuters", "... | AP News", "... - Kyodo News+".
_TITLE_SUFFIX = re.compile(r"\s[-|–—]\s*(?P<agencies>[^-|–—]{2,40}?)\+?\s*$")


def _slug_of(name: str) -> str | None:
    name = re.sub(r"\s+", " ", name.strip())
    return _CS.get(name) or _CI.get(name.casefold())


def _first_agency(names: str) -> str | None:
    """The first agency named in a relay ("AFP-Jiji" -> afp): the original author of the copy."""
    match = _ALIAS.search(names)
    return _slug_of(match.group(0)) if match else None


def _city(raw: str | None) -> str | None:
    if not raw:
        return None
    city = raw.strip(" ,")
    if not city:
        return None
    # "WASHINGTON" -> "Washington"; cities already in mixed case or in other scripts are kept.
    return city.title() if city.isupper() else city


def _credit(slug: str | None, evidence: str, city: str | None = None) -> WireCredit | None:
    if slug is None:
        return None
    return WireCredit(
        agency=_BY_SLUG[slug][0], slug=slug, dateline=_city(city), evidence=evidence.strip()[:120]
    )


def _from_dateline(head: str) -> WireCredit | None:
    match = _DATELINE.search(head)
    if match:
        city = match.group("city") or match.group("caps")
        if not city:
            after = _CITY_AFTER.match(head, match.end())
            city = after.group("city") if after else None
        agencies = match.group("agencies") or match.group("agencies2")
        return _credit(_first_agency(agencies), match.group(0), city)
    for match in _KO_DATELINE.finditer(head):
        if _KO_NOT_PLACE.search(match.group("inner")):
            continue
        inner = match.group("inner").split()
        origin = _slug_of(inner[-1]) if inner else None
        if origin:
            return _credit(origin, match.group(0), " ".join(inner[:-1]))
        return _credit(_RELAYS[match.group("relay")], match.group(0), " ".join(inner))
    match = _JA_DATELINE.search(head)
    if match:
        origin = match.group("origin")
        slug = _slug_of(origin) if origin else _slug_of(match.group("agency"))
        return _credit(slug, match.group(0), match.group("city"))
    match = _JA_REUTERS.search(head)
    if match:
        return _credit("reuters", match.group(0), match.group("city"))
    match = _ZH_DATELINE.search(head)
    if match:
        return _credit("xinhua", match.group(0), match.group("city"))
    match = _CNA_DATELINE.search(head)
    if match:
        return _credit("cna", match.group(0))
    return None


def _from_credit(tail: str) -> WireCredit | None:
    match = _END_CREDIT.search(tail)
    if match:
        return _credit(_first_agency(match.group("agencies")), match.group(0))
    for match in _REUTERS_CREDIT.finditer(tail):
        by = (match.group("by") or match.group("by2") or "").strip()
        # Names follow "by"; so must nothing else but Reuters' standards line.
        if by[:1].isupper() and not _ALIAS.match(by) and _REUTERS_AFTER.match(tail, match.end()):
            return _credit("reuters", match.group(0))
    match = _AP_CREDIT.search(tail)
    if match:
        return _credit("ap", match.group(0))
    match = _COPYRIGHT.search(tail)
    if match:
        return _credit(_first_agency(match.group("agencies")), match.group(0))
    match = _EMAIL.search(tail[-200:])
    if match:
        return _credit(_EMAIL_CREDIT[match.group(1)], match.group(0))
    return None


def _from_author(author: str) -> WireCredit | None:
    match = _BYLINE.search(author.strip())
    if not match:
        return None
    return _credit(_first_agency(match.group("agencies") or match.group("suffix")), author)


def _from_title(title: str) -> WireCredit | None:
    match = _TITLE_SUFFIX.search(title)
    if not match:
        return None
    name = match.group("agencies").strip()
    short = re.sub(r"\s+news$", "", name, flags=re.IGNORECASE)
    slug = _slug_of(name) or (_slug_of(short) if short not in _CS else None)
    # Short names ("AP", "PA") end too many headlines to count here; full names only.
    if slug is None or name in _CS:
        return None
    return _credit(slug, match.group(0))


def detect_wire(text: str, *, title: str | None = None, author: str | None = None) -> WireCredit | None:
    """The agency an article's copy comes from, or None for the outlet's own reporting.

    Checked in order of reliability: the dateline, the closing credit, the byline, a feed title's
    "- Reuters" suffix. Only those places count: a name in the running text is a citation.
    """
    text = unicodedata.normalize("NFKC", text or "").strip()
    if text:
        credit = _from_dateline(text[:HEAD]) or _from_credit(text[-TAIL:])
        if credit:
            return credit
    if author:
        credit = _from_author(unicodedata.normalize("NFKC", author))
        if credit:
            return credit
    if title:
        return _from_title(unicodedata.normalize("NFKC", title).strip())
    return None
