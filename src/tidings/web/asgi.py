"""Entry point for ASGI servers: `uvicorn tidings.web.asgi:app_from_env --factory`.

Reads Settings from the environment (TIDINGS_*), as `tidings serve` does. Migrations are not run
here: run `tidings db upgrade` first (several server processes must not migrate at once).
"""

from fastapi import FastAPI

from tidings.config import Settings
from tidings.web.app import create_app


def app_from_env() -> FastAPI:
    return create_app(Settings())
