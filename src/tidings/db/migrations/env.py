"""Alembic environment: async engines for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from tidings.config import Settings
from tidings.db.engine import create_engine
from tidings.db.models import Base

config = context.config
target_metadata = Base.metadata

# Objects created by raw SQL in migrations that have no ORM model (SQLite FTS5 virtual tables and
# their shadow tables, PostgreSQL search columns/indexes): autogenerate must not try to drop them.
UNMANAGED_PREFIXES = ("articles_fts", "ix_articles_search_", "search_")


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    managed_type = type_ in ("table", "index", "column")
    return not (managed_type and name is not None and name.startswith(UNMANAGED_PREFIXES))


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    if settings is None:  # plain `alembic` CLI: read the environment like the app does
        settings = Settings()
    return settings


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_name=_include_name,
        # SQLite cannot ALTER most things; batch mode recreates tables the portable way.
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes starting at once must not migrate concurrently.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7302514)")
            connection.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_settings())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(url=_settings().database_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
