"""Article extraction, HTML sanitising, canonical URLs and language identification."""

from tidings.extract.article import ExtractedArticle, extract_article
from tidings.extract.language import detect_language
from tidings.extract.sanitize import html_to_text, sanitize_html
from tidings.extract.urls import article_id, canonicalize_url, content_hash

__all__ = [
    "ExtractedArticle",
    "article_id",
    "canonicalize_url",
    "content_hash",
    "detect_language",
    "extract_article",
    "html_to_text",
    "sanitize_html",
]
