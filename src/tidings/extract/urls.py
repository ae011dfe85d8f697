"""Canonical URLs, public article ids and content hashes.

One article reached through a feed link, a newsletter link and a social share must end up as one row, so
every URL is canonicalised before it is stored or hashed: the parts that never change which document the
server returns (scheme/host case, default port, fragment, analytics parameters, parameter order, percent-
encoding spelling) are normalised; everything else, including path case, is kept as the publisher wrote it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Exact parameter names (lowercase) that only identify a campaign, a click or a referrer.
# Deliberately NOT here: id, p, page, article, story, v, q, s, t, src, source, feed, share, amp: each selects
# content (or a different document, e.g. WordPress ?feed=rss2) on some site.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "mkt_tok", "_ga", "_gl", "_hsenc", "_hsmi",
        "__hstc", "__hssc", "__hsfp", "hsctatracking", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv",
        "wickedid", "ref", "ref_src", "ref_url", "referrer", "cmpid", "ocid", "rss", "rss_id", "feedname",
        "sr_share", "smid", "smtyp", "soc_src",
        "soc_trk", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "icid", "intcmp",
        "cid_source", "xtor", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3",
        "at_custom4", "at_link", "at_ptr_name", "at_format", "at_bbc_team", "s_cid", "s_kwcid", "spm",
        "scm", "trk", "trkcampaign", "trackingid", "ito", "ftag", "guccounter", "guce_referrer",
        "guce_referrer_sig", "dicbo", "rb_clickid", "ncid", "sc_cid",
    }
)
# Parameter name prefixes that are analytics namespaces (utm_source, pk_campaign, mtm_kwd, ...).
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "piwik_", "hmb_", "stm_", "at_", "ga_", "oly_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 unreserved characters never need percent-encoding; everything else keeps (upper-case) escapes.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/:@!$'()*+,;-._~?"
_MULTISPACE = re.compile(r"\s+")


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Return the canonical spelling of an absolute http(s) URL (other schemes: only trimmed/lowercased).

    Lowercases scheme and host (IDNA-encoded), drops the default port, the fragment, tracking parameters (see `TRACKING_PARAMS`/`TRACKING_PREFIXES`), sorts the remaining query
    parameters (stable for repeated names) and re-encodes path and query with upper-case escapes, decoding
    the ones that never needed escaping. An empty path becomes "/"; path case is kept.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return urlunsplit((scheme, parts.netloc.lower(), parts.path, parts.query, ""))
    netloc = _canonical_netloc(scheme, parts)
    path = _normalise_encoding(parts.path, _PATH_SAFE) or "/"
    query = _canonical_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _canonical_netloc(scheme: str, parts: SplitResult) -> str:
    host = (parts.hostname or "").rstrip(".")
    host = _idna_host(host)
    try:
        port = parts.port
    except ValueError:  # a non-numeric port: keep the URL usable instead of failing the whole article
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{userinfo}@{netloc}"
    return netloc


def _idna_host(host: str) -> str:
    host = host.lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not encodable (e.g. an over-long label): keep the readable form
        return host


def _normalise_encoding(component: str, safe: str) -> str:
    """Decode then re-encode so %7E/~, %2f/%2F, é/%C3%A9 spellings compare equal.

    Reserved characters that arrive escaped (%2F, %3F, %26, %3D, %23) keep their escape because decoding
    them would change the meaning of the URL.
    """
    pieces = re.split(r"(%2[fF]|%3[fF]|%2[36]|%3[dD]|%25)", component)
    out = []
    for index, piece in enumerate(pieces):
        if index % 2:  # a protected escape: just upper-case it
            out.append(piece.upper())
        else:
            out.append(quote(unquote(piece), safe=safe))
    return "".join(out)


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name and not is_tracking_param(name)
    ]
    # sorted() is stable: repeated names keep their relative order (a=2&a=1 stays distinct from a=1&a=2)
    pairs.sort(key=lambda pair: pair[0])
    return urlencode(pairs, quote_via=quote, safe=_QUERY_SAFE)


# The shape of a public article id (see article_id): URL routes, API schemas and cursors check it.
ARTICLE_ID_PATTERN = "[0-9a-f]{32}"
ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)


def article_id(canonical_url: str) -> str:
    """Stable 32-hex public id of an article: the first 128 bits of sha256(canonical URL)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def content_hash(text: str) -> str:
    """sha256 hex of the text after NFKC, case folding and whitespace collapsing (exact-duplicate test).

    Two copies of one wire story that differ only in line wrapping, letter case or full-width characters
    hash alike; any change of wording does not (near-duplicates are a different, fuzzier problem).
    """
    normalised = _MULTISPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
