"""full-text search over article titles and bodies

SQLite: two external-content FTS5 tables over articles(title, text), kept in sync by triggers.
  - articles_fts_words    tokenize "unicode61 remove_diacritics 2": word-level matching and BM25 for
                          space-separated scripts (café = cafe, "AI" and "EU" are whole words).
  - articles_fts_trigram  tokenize "trigram": substring matching for Chinese, Japanese, Korean and other
                          scripts that unicode61 cannot segment (it would index a whole CJK run as a
                          single token, so "東京" would never match "東京都庁").
PostgreSQL: a stored generated tsvector ('simple' config, title weight A, body weight B) with a GIN index,
  and a pg_trgm GIN index on title || ' ' || text for CJK substring queries.

The SQLite tables key on articles' implicit rowid (articles has a text primary key). Anything that
renumbers rowids or recreates the table (VACUUM may; Alembic batch mode on `articles` does) must be
followed by a rebuild (tidings.search.rebuild_index), and a batch migration on `articles` must recreate
the triggers below, which SQLite drops together with the old table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_FTS_TABLES = {
    "articles_fts_words": "unicode61 remove_diacritics 2",
    "articles_fts_trigram": "trigram",
}

# The body fed to to_tsvector is capped: a tsvector is limited to 1 MB, and one oversized page must not
# make its INSERT fail. 100k characters is far beyond any real news article.
_PG_TSVECTOR_EXPRESSION = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, left(coalesce(text, ''), 100000)), 'B')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _downgrade_sqlite()
    else:
        _downgrade_postgresql()


# Every SQL string below is built from the constant table names above, never from input: hence S608 noqa.
def _upgrade_sqlite() -> None:
    for table, tokenizer in _SQLITE_FTS_TABLES.items():
        op.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5("
            f"title, text, content='articles', content_rowid='rowid', tokenize='{tokenizer}')"
        )
    inserts = "".join(
        f"INSERT INTO {table}(rowid, title, text) VALUES (new.rowid, new.title, new.text); "  # noqa: S608
        for table in _SQLITE_FTS_TABLES
    )
    # External-content tables need the *old* values to remove a row from the index.
    deletes = "".join(
        f"INSERT INTO {table}({table}, rowid, title, text) "  # noqa: S608
        "VALUES ('delete', old.rowid, old.title, old.text); "
        for table in _SQLITE_FTS_TABLES
    )
    op.execute(f"CREATE TRIGGER articles_fts_after_insert AFTER INSERT ON articles BEGIN {inserts}END")
    op.execute(f"CREATE TRIGGER articles_fts_after_delete AFTER DELETE ON articles BEGIN {deletes}END")
    # Only title/text edits touch the index: marking a duplicate or re-fetching metadata does not.
    op.execute(
        "CREATE TRIGGER articles_fts_after_update AFTER UPDATE OF title, text ON articles "
        f"BEGIN {deletes}{inserts}END"
    )
    for table in _SQLITE_FTS_TABLES:
        op.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")  # noqa: S608


def _downgrade_sqlite() -> None:
    for trigger in ("articles_fts_after_update", "articles_fts_after_delete", "articles_fts_after_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in _SQLITE_FTS_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")


def _upgrade_postgresql() -> None:
    # Trusted extension since PostgreSQL 13: the database owner may create it without superuser.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # Stored, so ranking reads positions from disk instead of re-parsing every candidate's body.
    op.execute(
        f"ALTER TABLE articles ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({_PG_TSVECTOR_EXPRESSION}) STORED"
    )
    op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")
    op.execute(
        "CREATE INDEX ix_articles_search_trigram ON articles USING gin ((title || ' ' || text) gin_trgm_ops)"
    )


def _downgrade_postgresql() -> None:
    op.execute("DROP INDEX IF EXISTS ix_articles_search_trigram")
    op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
    op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
    # pg_trgm stays: other schemas or extensions in this database may rely on it.
