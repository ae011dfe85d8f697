"""Shared fixtures: every storage test runs on SQLite and on the PostgreSQL server on localhost.

PostgreSQL: one throw-away database per test session (created here, dropped at the end), migrated
with Alembic, tables truncated between tests. SQLite: a migrated template file copied per test.
When no PostgreSQL server answers, its tests are skipped and the run says so loudly at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings.config import Settings
from tidings.db.engine import create_engine, create_sessionmaker
from tidings.db.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_ADMIN_URL = os.environ.get("TIDINGS_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")

_pg_unavailable_reason: str | None = None


def _pg_answers() -> bool:
    try:
        with socket.create_connection(
            ("127.0.0.1", int(os.environ.get("TIDINGS_TEST_PG_PORT", "5432"))), timeout=1
        ):
            return True
    except OSError:
        return False


def base_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for tests: localhost allowed through the SSRF guard, no politeness delay."""
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "allow_hosts": ["127.0.0.1", "localhost"],
        "per_host_delay": 0.0,
        "extract_processes": 0,
        # Tests that want the understanding step run it themselves, with one shared embedder.
        "understanding_enabled": False,
        "analysis_processes": 0,
        "load_default_sources": False,
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
        "total_timeout": 10.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-template")
    settings = Settings(data_dir=directory)
    upgrade(settings)
    return directory / "tidings.db"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str | None]:
    """Create tidings_test_<random>, migrate it, drop it afterwards. None when no server answers."""
    global _pg_unavailable_reason
    if not _pg_answers():
        _pg_unavailable_reason = f"no PostgreSQL server answers at {PG_ADMIN_URL}"
        yield None
        return
    name = f"tidings_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.rsplit("/", 1)[0]

    async def admin_exec(sql: str) -> None:
        engine = create_engine(Settings(database_url=PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    try:
        asyncio.run(admin_exec(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _pg_unavailable_reason = f"PostgreSQL at {PG_ADMIN_URL} refused to create a database: {exc}"
        yield None
        return
    url = f"{admin}/{name}"
    upgrade(Settings(database_url=url))
    yield url
    asyncio.run(admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_pg(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.begin() as conn:
            tables = (
                (
                    await conn.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"
                        )
                    )
                )
                .scalars()
                .all()
            )
            if tables:
                await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Test settings on a fresh, migrated database of the parametrised backend."""
    if db_backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "tidings.db")
        return base_settings(tmp_path)
    url = request.getfixturevalue("pg_database_url")
    if url is None:
        pytest.skip(_pg_unavailable_reason or "PostgreSQL unavailable")
    asyncio.run(_truncate_pg(url))
    return base_settings(tmp_path, database_url=url)


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"../shared/data not found at {SHARED_DATA}")
    return SHARED_DATA


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _pg_unavailable_reason:
        bar = "!" * 78
        for line in (bar, f"POSTGRESQL TESTS WERE SKIPPED: {_pg_unavailable_reason}", bar):
            terminalreporter.write_line(line, red=True, bold=True)


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2id at the cheapest parameters, for tests that sign many people up and in."""
    from argon2 import PasswordHasher, Type

    from tidings.accounts import passwords

    monkeypatch.setattr(
        passwords,
        "default_hasher",
        lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID),
    )
    yield
