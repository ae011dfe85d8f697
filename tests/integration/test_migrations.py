"""Schema changes only through Alembic: up, down and up again, with no drift from the models."""

from __future__ import annotations

import pytest
from alembic import command

from tidings.config import Settings
from tidings.db.migrate import alembic_config, downgrade, upgrade


def test_migrations_round_trip_without_drift(settings: Settings) -> None:
    config = alembic_config(settings)
    command.check(config)  # models and migrations agree (raises on drift)
    downgrade(settings, "base")
    upgrade(settings)
    command.check(config)


def test_plain_alembic_reads_the_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`alembic` run by hand has no Settings attached: env.py must build them from TIDINGS_*."""
    from alembic.config import Config

    from tidings.db.migrate import MIGRATIONS_DIR

    monkeypatch.setenv("TIDINGS_DATABASE_URL", settings.database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    command.upgrade(config, "head")
    command.check(config)
