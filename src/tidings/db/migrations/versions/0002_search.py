"""full-text search over article titles and bodies

SQLite: two external-content FTS5 tables over articles(title, text), kept in sync by triggers.
  - articles_fts_words    tokenize "unicode61 remove_diacritics 2": word-level matching and BM25 for
                          space-separated scripts (café = cafe, "AI" and "EU" are whole words).
  - articles_fts_trigram  tokenize "trigram": substring matching for Chinese, Japanese, Korean and other
                          scripts that unicode61 cannot segment (it would index a whole CJK run as a
                          single token, so "東京" would never match "東京都庁").
PostgreSQL: a stored generated tsvector ('simple' config, title weight A, body weight B) with a GIN index,
  and a pg_trgm GIN index on title || ' ' || text for CJK substring queries.

Both trigram indexes only cover articles containing at least one character of those scripts: only
queries with such a character use them (tidings.search.query.TermKind.SUBSTRING), and a trigram index
costs several times the text it indexes, so indexing English or French bodies would be pure waste.
SQLite reads the trigram table's content through a filtering view; PostgreSQL uses a partial index
whose predicate the search query repeats verbatim (tidings.search.query.substring_script_regex).

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

_WORDS = "articles_fts_words"
_TRIGRAM = "articles_fts_trigram"
_TRIGRAM_CONTENT_VIEW = "articles_fts_trigram_content"
_TRIGGERS = ("articles_fts_after_insert", "articles_fts_after_delete", "articles_fts_after_update")

# Frozen copy of tidings.search.query.SUBSTRING_SCRIPT_RANGES as of this revision (a migration must not
# import code that may change later); tests/integration/test_search.py checks that both still agree.
_SUBSTRING_SCRIPT_RANGES = (
    (0x0E00, 0x0EFF),
    (0x0F00, 0x0FFF),
    (0x1000, 0x109F),
    (0x1100, 0x11FF),
    (0x1780, 0x17FF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x30FF),
    (0x3130, 0x318F),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFF66, 0xFF9F),
    (0xFFA0, 0xFFDC),
    (0x20000, 0x3FFFF),
)
# The same bracket expression works for SQLite GLOB and PostgreSQL regular expressions (code points).
_CHARACTER_CLASS = "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _SUBSTRING_SCRIPT_RANGES) + "]"

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


# Every SQL string below is built from this module's constants, never from input (hence the S608 noqa).


def _has_substring_script(row: str) -> str:
    pattern = f"'*{_CHARACTER_CLASS}*'"
    return f"({row}.title GLOB {pattern} OR {row}.text GLOB {pattern})"


def _fts_insert(table: str, condition: str = "") -> str:
    return f"INSERT INTO {table}(rowid, title, text) SELECT new.rowid, new.title, new.text {condition}; "


def _fts_delete(table: str, condition: str = "") -> str:
    # External-content tables need the *old* values to remove a row; removing a row that was never
    # indexed would corrupt the index, hence the same condition on delete as on insert.
    return (
        f"INSERT INTO {table}({table}, rowid, title, text) "
        f"SELECT 'delete', old.rowid, old.title, old.text {condition}; "
    )


def _upgrade_sqlite() -> None:
    op.execute(
        f"CREATE VIEW {_TRIGRAM_CONTENT_VIEW} AS SELECT rowid AS article_rowid, title, text "  # noqa: S608
        f"FROM articles a WHERE {_has_substring_script('a')}"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE {_WORDS} USING fts5(title, text, content='articles', content_rowid='rowid', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE {_TRIGRAM} USING fts5(title, text, content='{_TRIGRAM_CONTENT_VIEW}', "
        "content_rowid='article_rowid', tokenize='trigram')"
    )
    inserts = _fts_insert(_WORDS) + _fts_insert(_TRIGRAM, f"WHERE {_has_substring_script('new')}")
    deletes = _fts_delete(_WORDS) + _fts_delete(_TRIGRAM, f"WHERE {_has_substring_script('old')}")
    insert_trigger, delete_trigger, update_trigger = _TRIGGERS
    op.execute(f"CREATE TRIGGER {insert_trigger} AFTER INSERT ON articles BEGIN {inserts}END")
    op.execute(f"CREATE TRIGGER {delete_trigger} AFTER DELETE ON articles BEGIN {deletes}END")
    # Only title/text edits touch the index: marking a duplicate or re-fetching metadata does not.
    op.execute(
        f"CREATE TRIGGER {update_trigger} AFTER UPDATE OF title, text ON articles BEGIN {deletes}{inserts}END"
    )
    for table in (_WORDS, _TRIGRAM):
        op.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")  # noqa: S608


def _downgrade_sqlite() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in (_WORDS, _TRIGRAM):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute(f"DROP VIEW IF EXISTS {_TRIGRAM_CONTENT_VIEW}")


def _upgrade_postgresql() -> None:
    # Trusted extension since PostgreSQL 13: the database owner may create it without superuser.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # Stored, so ranking reads positions from disk instead of re-parsing every candidate's body.
    op.execute(
        "ALTER TABLE articles ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({_PG_TSVECTOR_EXPRESSION}) STORED"
    )
    op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")
    op.execute(
        "CREATE INDEX ix_articles_search_trigram ON articles USING gin ((title || ' ' || text) gin_trgm_ops) "
        f"WHERE (title || ' ' || text) ~ '{_CHARACTER_CLASS}'"
    )


def _downgrade_postgresql() -> None:
    op.execute("DROP INDEX IF EXISTS ix_articles_search_trigram")
    op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
    op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
    # pg_trgm stays: other schemas or extensions in this database may rely on it.
