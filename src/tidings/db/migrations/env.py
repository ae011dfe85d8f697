"""Alembic environment: async engines for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from tidings.config import Settings
from tidings.db.engine import create_engine
from tidings.db.models import Base
from tidings.search import schema as search_schema

config = context.config
target_metadata = Base.metadata


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
        # Search objects (FTS5 tables, tsvector column and indexes) have no model on purpose; the
        # search domain, which creates them, says which they are.
        include_object=search_schema.include_object,
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
