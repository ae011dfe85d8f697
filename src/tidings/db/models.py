"""Every domain's models, imported in one place so metadata is complete for Alembic."""

from tidings.ai.models import AIResult
from tidings.db.base import Base
from tidings.ingest.models import Article, ArticleURL, Feed, FetchLog, Source
from tidings.stories.models import ArticleFeatures, Story
from tidings.tags.models import ArticleTag, Tag

__all__ = [
    "AIResult",
    "Article",
    "ArticleFeatures",
    "ArticleTag",
    "ArticleURL",
    "Base",
    "Feed",
    "FetchLog",
    "Source",
    "Story",
    "Tag",
]
