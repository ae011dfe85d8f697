"""Names of the search objects created by migration 0002, and the Alembic filter that hides them.

None of them is an ORM model (an FTS5 virtual table or a generated tsvector column cannot be described
portably in one MetaData), so autogenerate would otherwise propose dropping them. The migrations' env.py
passes `include_object` below to Alembic: add any new search object's name here.
"""

from __future__ import annotations

from typing import Any

SQLITE_WORDS_TABLE = "articles_fts_words"
SQLITE_TRIGRAM_TABLE = "articles_fts_trigram"
SQLITE_FTS_TABLES = (SQLITE_WORDS_TABLE, SQLITE_TRIGRAM_TABLE)

PG_VECTOR_COLUMN = "search_vector"
PG_INDEXES = ("ix_articles_search_vector", "ix_articles_search_trigram")


def is_search_object(name: str | None, type_: str) -> bool:
    """True for the FTS5 tables (and their shadow tables: _data, _idx, _docsize, _config) and the
    PostgreSQL tsvector column and indexes."""
    if name is None:
        return False
    if type_ == "table":
        return any(name == table or name.startswith(f"{table}_") for table in SQLITE_FTS_TABLES)
    if type_ == "column":
        return name == PG_VECTOR_COLUMN
    if type_ == "index":
        return name in PG_INDEXES
    return False


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic `include_object` hook: skip reflected search objects that have no model on purpose."""
    return not (reflected and compare_to is None and is_search_object(name, type_))
