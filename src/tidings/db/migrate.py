"""Run Alembic migrations from code (`tidings db upgrade`, tests, first start)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

from tidings.config import Settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's ini interpolation treats % specially; URLs may contain percent-encoded passwords.
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    _outside_running_loop(command.upgrade, alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    _outside_running_loop(command.downgrade, alembic_config(settings), revision)



def _outside_running_loop(fn: Callable[..., None], *args: object) -> None:
    """env.py drives its own event loop with asyncio.run(), which refuses to run inside another
    one: when this thread already runs a loop, migrate from a short-lived thread instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn(*args)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(fn, *args).result()
