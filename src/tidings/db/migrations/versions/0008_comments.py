"""comments: comments, votes and reports (threads, spam holds, moderation)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 06:12:33.172766
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tidings.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("moderated_by", sa.Integer(), nullable=True),
        sa.Column("moderated_at", tidings.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tidings.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", tidings.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", tidings.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ups", sa.Integer(), nullable=False),
        sa.Column("downs", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("client_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_comments_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["moderated_by"], ["users.id"], name=op.f("fk_comments_moderated_by_users")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["comments.id"], name=op.f("fk_comments_parent_id_comments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_comments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint("user_id", "client_token", name="uq_comments_user_id_client_token"),
    )
    op.create_index(
        "ix_comments_article_status_created", "comments", ["article_id", "status", "created_at"], unique=False
    )
    op.create_index(
        "ix_comments_article_status_score", "comments", ["article_id", "status", "score"], unique=False
    )
    op.create_index("ix_comments_body_hash_created", "comments", ["body_hash", "created_at"], unique=False)
    op.create_index(op.f("ix_comments_parent_id"), "comments", ["parent_id"], unique=False)
    op.create_index("ix_comments_status_created", "comments", ["status", "created_at"], unique=False)
    op.create_index("ix_comments_user_created", "comments", ["user_id", "created_at"], unique=False)

    op.create_table(
        "comment_reports",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", tidings.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", tidings.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_reports_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_comment_reports_user_id_users")),
        sa.PrimaryKeyConstraint("comment_id", "user_id", name=op.f("pk_comment_reports")),
    )
    op.create_index("ix_comment_reports_open", "comment_reports", ["resolved_at", "created_at"], unique=False)

    op.create_table(
        "comment_votes",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", tidings.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_votes_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_comment_votes_user_id_users")),
        sa.PrimaryKeyConstraint("comment_id", "user_id", name=op.f("pk_comment_votes")),
    )


def downgrade() -> None:
    op.drop_table("comment_votes")
    op.drop_index("ix_comment_reports_open", table_name="comment_reports")

    op.drop_table("comment_reports")
    op.drop_index("ix_comments_user_created", table_name="comments")
    op.drop_index("ix_comments_status_created", table_name="comments")
    op.drop_index(op.f("ix_comments_parent_id"), table_name="comments")
    op.drop_index("ix_comments_body_hash_created", table_name="comments")
    op.drop_index("ix_comments_article_status_score", table_name="comments")
    op.drop_index("ix_comments_article_status_created", table_name="comments")

    op.drop_table("comments")
