"""Every domain's models, imported in one place so metadata is complete for Alembic."""

from tidings.db.base import Base
from tidings.ingest.models import Article, ArticleURL, Feed, FetchLog, Source

__all__ = ["Article", "ArticleURL", "Base", "Feed", "FetchLog", "Source"]
