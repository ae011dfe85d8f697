"""Every domain's models, imported in one place so metadata is complete for Alembic."""

from tidings.db.base import Base
from tidings.ingest.models import Article, ArticleURL, Feed, FetchLog, Source
from tidings.tags.models import ArticleTag, Tag

__all__ = ["Article", "ArticleTag", "ArticleURL", "Base", "Feed", "FetchLog", "Source", "Tag"]
