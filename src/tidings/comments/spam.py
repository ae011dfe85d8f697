"""Automatic holds for likely spam: cheap, explainable heuristics, never a silent drop.

A held comment is stored and shown to its author and to moderators, with the reasons below, until a
moderator restores or hides it. Being wrong therefore costs a delay, not a lost comment, which is why the
rules can be simple. Each reason is a stable code (stored, filterable) with a sentence for moderators.

The function is pure: the service gathers the numbers (account age, recent activity, identical text
elsewhere) and passes them in, so the rules are unit-tested without a database.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from tidings.comments.markdown import link_count

NEW_ACCOUNT_AGE = timedelta(days=1)
MAX_LINKS = 3
# Comments an account younger than NEW_ACCOUNT_AGE may post in RATE_WINDOW before being held.
NEW_ACCOUNT_RATE = 5
RATE_WINDOW = timedelta(minutes=10)
DUPLICATE_WINDOW = timedelta(hours=24)
# The same text on this many *other* articles within DUPLICATE_WINDOW is a copy-paste campaign.
DUPLICATE_ARTICLES = 2
# Below this many normalised characters, identical comments ("Thanks!", "+1") are just common.
DUPLICATE_MIN_CHARS = 20
# Long runs of one character: "!!!!!!!!!!!!!!!!", "aaaaaaaa...". Generous, because "ㅋㅋㅋㅋ", "www" and
# "哈哈哈" are ordinary laughter in Korean, Japanese and Chinese comments.
CHAR_RUN = 16
WORD_RUN = 5
SHOUTING_MIN_LETTERS = 20
SHOUTING_RATIO = 0.7

REASONS: dict[str, str] = {
    "links_many": f"More than {MAX_LINKS} links.",
    "links_new_account": "Links from an account less than a day old.",
    "repetition": "Repeated characters or words.",
    "shouting": "Mostly capital letters.",
    "new_account_rate": f"More than {NEW_ACCOUNT_RATE} comments in {int(RATE_WINDOW.total_seconds() // 60)} "
    "minutes from an account less than a day old.",
    "duplicate_elsewhere": f"The same text was posted on {DUPLICATE_ARTICLES} or more other articles "
    "in the last 24 hours.",
    "duplicate_self": "The author posted this same text several times in the last 24 hours.",
}


@dataclass(frozen=True, slots=True)
class HoldDecision:
    hold: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [describe(code) for code in self.reasons]


def describe(code: str) -> str:
    """The moderator-facing sentence of a reason code (unknown codes are shown as they are)."""
    return REASONS.get(code, code)


_WORD = re.compile(r"\w+", re.UNICODE)
_CHAR_RUN = re.compile(rf"([^\W_]|[!?])\1{{{CHAR_RUN - 1},}}", re.UNICODE)
_SPACES = re.compile(r"\s+")
_MARKUP = re.compile(r"[*_`>#~\[\]()\\-]+")


def normalise(body: str) -> str:
    """What two comments must share to count as 'the same text': case, width, spacing, markup aside."""
    text = unicodedata.normalize("NFKC", body).casefold()
    text = _MARKUP.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def body_hash(body: str) -> str | None:
    """Hash of the normalised body for duplicate look-ups; None when too short to be telling."""
    normal = normalise(body)
    if len(normal) < DUPLICATE_MIN_CHARS:
        return None
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()


def assess(
    body: str,
    *,
    account_age: timedelta,
    recent_comment_count: int,
    recent_bodies_same_user: Sequence[str] = (),
    recent_identical_elsewhere: int = 0,
) -> HoldDecision:
    """Decide whether a new (or edited) comment waits for a moderator.

    `recent_comment_count`: the author's comments in the last RATE_WINDOW, this one excluded.
    `recent_bodies_same_user`: the author's other comments of the last 24 hours.
    `recent_identical_elsewhere`: other articles where the same normalised text appeared in 24 hours.
    """
    reasons: list[str] = []
    new_account = account_age < NEW_ACCOUNT_AGE
    links = link_count(body)
    if links > MAX_LINKS:
        reasons.append("links_many")
    elif links and new_account:
        reasons.append("links_new_account")
    if _repetitive(body):
        reasons.append("repetition")
    if _shouting(body):
        reasons.append("shouting")
    if new_account and recent_comment_count >= NEW_ACCOUNT_RATE:
        reasons.append("new_account_rate")
    if recent_identical_elsewhere >= DUPLICATE_ARTICLES:
        reasons.append("duplicate_elsewhere")
    if _repeats_self(body, recent_bodies_same_user):
        reasons.append("duplicate_self")
    return HoldDecision(hold=bool(reasons), reasons=reasons)


def _repetitive(body: str) -> bool:
    if _CHAR_RUN.search(body):
        return True
    words = [w.casefold() for w in _WORD.findall(body)]
    run = 1
    for previous, word in itertools.pairwise(words):
        run = run + 1 if word == previous else 1
        if run >= WORD_RUN:
            return True
    if len(words) >= 12:
        # A long comment made of very few distinct words ("buy now buy cheap buy now ...").
        top = Counter(words).most_common(1)[0][1]
        if len(set(words)) / len(words) < 0.3 or top / len(words) > 0.5:
            return True
    return False


def _shouting(body: str) -> bool:
    # Only letters that have case count: CJK text is neither upper nor lower.
    cased = [c for c in body if c.isupper() or c.islower()]
    if len(cased) < SHOUTING_MIN_LETTERS:
        return False
    return sum(1 for c in cased if c.isupper()) / len(cased) > SHOUTING_RATIO


def _repeats_self(body: str, recent: Sequence[str]) -> bool:
    normal = normalise(body)
    if len(normal) < DUPLICATE_MIN_CHARS:
        return False
    return sum(1 for other in recent if normalise(other) == normal) >= 2
