"""Schema changes only through Alembic: up, down and up again, with no drift from the models."""

from __future__ import annotations

from alembic import command

from tidings.config import Settings
from tidings.db.migrate import alembic_config, downgrade, upgrade


def test_migrations_round_trip_without_drift(settings: Settings) -> None:
    config = alembic_config(settings)
    command.check(config)  # models and migrations agree (raises on drift)
    downgrade(settings, "base")
    upgrade(settings)
    command.check(config)
