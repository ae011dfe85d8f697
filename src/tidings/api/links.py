"""Absolute URLs of this instance's pages and proxied images, shared by the JSON API, feeds and sitemaps.

The page URL scheme lives here only, so that API responses, feeds and sitemaps cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request

from tidings.config import Settings
from tidings.web.i18n import DEFAULT_LANGUAGE, LANGUAGES
from tidings.web.imageproxy import sign_image_url

# The interface languages the HTML pages are served in (/{lang}/...), from the pages' own list:
# sitemaps name every page in each of them.
PAGE_LANGUAGES: tuple[str, ...] = LANGUAGES
DEFAULT_PAGE_LANGUAGE = DEFAULT_LANGUAGE
# Wide enough for a card or a feed reader's preview, small enough to keep mobile data cheap.
PROXY_IMAGE_WIDTH = 640


@dataclass(frozen=True, slots=True)
class PublicLinks:
    base: str  # scheme://host[/prefix], no trailing slash
    signing_key: bytes

    @classmethod
    def for_request(cls, request: Request, settings: Settings) -> PublicLinks:
        # The configured public URL wins: behind a proxy the request's own host may be an internal one.
        base = settings.base_url or str(request.base_url)
        return cls(base=base.rstrip("/"), signing_key=settings.signing_key())

    def absolute(self, path: str) -> str:
        return self.base + path

    def home_page(self, lang: str = DEFAULT_PAGE_LANGUAGE) -> str:
        return self.absolute(f"/{lang}/")

    def article_page(self, article_id: str, lang: str = DEFAULT_PAGE_LANGUAGE) -> str:
        return self.absolute(f"/{lang}/article/{article_id}")

    def story_page(self, story_id: str, lang: str = DEFAULT_PAGE_LANGUAGE) -> str:
        return self.absolute(f"/{lang}/story/{story_id}")

    def source_page(self, slug: str, lang: str = DEFAULT_PAGE_LANGUAGE) -> str:
        return self.absolute(f"/{lang}/source/{quote(slug)}")

    def tag_page(self, slug: str, lang: str = DEFAULT_PAGE_LANGUAGE) -> str:
        return self.absolute(f"/{lang}/tag/{quote(slug)}")

    def image_proxy(self, image_url: str | None) -> str | None:
        if not image_url:
            return None
        return self.absolute(sign_image_url(self.signing_key, image_url, PROXY_IMAGE_WIDTH))
