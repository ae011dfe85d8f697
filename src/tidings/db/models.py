"""Every domain's models, imported in one place so metadata is complete for Alembic."""

from tidings.accounts.models import ApiToken, Session, User
from tidings.ai.models import AIResult
from tidings.comments.models import Comment, CommentReport, CommentVote
from tidings.db.base import Base
from tidings.follows.models import Follow, Mute, ReadEvent, SavedArticle
from tidings.ingest.models import Article, ArticleURL, Feed, FetchLog, Source
from tidings.stories.models import ArticleFeatures, Story
from tidings.tags.models import ArticleTag, Tag

__all__ = [
    "AIResult",
    "ApiToken",
    "Article",
    "ArticleFeatures",
    "ArticleTag",
    "ArticleURL",
    "Base",
    "Comment",
    "CommentReport",
    "CommentVote",
    "Feed",
    "FetchLog",
    "Follow",
    "Mute",
    "ReadEvent",
    "SavedArticle",
    "Session",
    "Source",
    "Story",
    "Tag",
    "User",
]
